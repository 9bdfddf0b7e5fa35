"""Injected responses, delays and dropped connections of the GitHub replay server."""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus

from forge_status_pipeline.testing.replay_messages import (
    DOCUMENTATION_URL,
    HOST,
    JSONObject,
    _encode_json,
    _Response,
)


@dataclass
class _Rule:
    """An injected behaviour for requests whose path matches ``pattern``."""

    pattern: re.Pattern[str]
    # Requests left that the rule applies to. None means no limit.
    remaining: int | None
    response: _Response | None = None
    delay_seconds: float = 0.0


def _take_rule_locked(rules: list[_Rule], path: str) -> _Rule | None:
    for rule in rules:
        if rule.pattern.search(path) is None:
            continue
        if rule.remaining is not None:
            rule.remaining -= 1
            if rule.remaining == 0:
                rules.remove(rule)
        return rule
    return None


def _injected_body(status: int, headers: dict[str, str], body: JSONObject | str | None) -> bytes:
    """Encode an injected body, or write a GitHub-style error body when none was given."""
    if isinstance(body, str):
        return body.encode("utf-8")
    if body is not None:
        return _encode_json(body)
    if status < 400:
        return b""
    lower_headers = {name.lower(): value for name, value in headers.items()}
    if lower_headers.get("x-ratelimit-remaining") == "0":
        message = f"API rate limit exceeded for {HOST}. Wait until X-RateLimit-Reset."
    elif "retry-after" in lower_headers:
        message = "You have exceeded a secondary rate limit. Wait for Retry-After seconds."
    else:
        try:
            message = HTTPStatus(status).phrase
        except ValueError:
            message = f"HTTP {status}"
    return _encode_json(
        {"message": message, "documentation_url": DOCUMENTATION_URL, "status": str(status)}
    )


def _check_times(times: int | None) -> int | None:
    if times is not None and times < 1:
        raise ValueError(f"times must be >= 1 or None for no limit, got {times}")
    return times
