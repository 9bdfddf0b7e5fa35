"""Query filters and pagination of ``GET .../actions/runs`` in the GitHub replay server."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from urllib.parse import parse_qsl, urlencode

from forge_status_pipeline.testing.replay_messages import _error_response, _Request, _Response
from forge_status_pipeline.testing.replay_store import _parse_instant, _StoredRun

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class _Bound:
    instant: datetime
    inclusive: bool


def _runs_page(runs: list[_StoredRun], request: _Request, base_url: str) -> _Response:
    """Filter, then paginate runs as ``GET .../actions/runs`` does."""
    try:
        selected = _filter_runs(runs, request.query)
    except ValueError as error:
        return _error_response(HTTPStatus.UNPROCESSABLE_ENTITY, str(error))
    per_page = _int_parameter(request.query, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    page = _int_parameter(request.query, "page", 1, None)
    start = (page - 1) * per_page
    exclude = request.query.get("exclude_pull_requests", "").lower() == "true"
    encoded_runs = [
        run.encoded_without_pull_requests if exclude else run.encoded
        for run in selected[start : start + per_page]
    ]
    body = b'{"total_count":%d,"workflow_runs":[%s]}' % (len(selected), b",".join(encoded_runs))
    response = _Response(HTTPStatus.OK, body)
    link = _link_header(request, page, per_page, len(selected), base_url)
    if link is not None:
        response.headers["Link"] = link
    return response


def _link_header(
    request: _Request, page: int, per_page: int, total: int, base_url: str
) -> str | None:
    """Build the RFC 8288 ``Link`` header in GitHub's rel order: prev, next, last, first."""
    last = max(1, math.ceil(total / per_page))
    if last == 1:
        return None
    links: list[tuple[int, str]] = []
    if page > 1:
        links.append((page - 1, "prev"))
    if page < last:
        links.append((page + 1, "next"))
        links.append((last, "last"))
    if page > 1:
        links.append((1, "first"))
    return ", ".join(
        f'<{_page_url(request, number, base_url)}>; rel="{rel}"' for number, rel in links
    )


def _page_url(request: _Request, page: int, base_url: str) -> str:
    """Return the request's URL with ``page`` set and every other query parameter kept."""
    pairs = parse_qsl(request.raw_query, keep_blank_values=True)
    if any(name == "page" for name, _ in pairs):
        pairs = [(name, str(page) if name == "page" else value) for name, value in pairs]
    else:
        pairs.append(("page", str(page)))
    return f"{base_url}{request.path}?{urlencode(pairs)}"


def _filter_runs(runs: list[_StoredRun], query: dict[str, str]) -> list[_StoredRun]:
    """Keep the runs that match every filter in ``query``, in their stored order.

    Raise ValueError for a ``created`` value that cannot be parsed.
    """
    selected = runs
    exact_filters: list[tuple[str, Callable[[_StoredRun], str | None]]] = [
        ("actor", lambda run: run.actor_login),
        ("branch", lambda run: run.head_branch),
        ("event", lambda run: run.event),
        ("check_suite_id", lambda run: run.check_suite_id),
        ("head_sha", lambda run: run.head_sha),
    ]
    for parameter, read_field in exact_filters:
        if parameter in query:
            expected = query[parameter]
            selected = [run for run in selected if read_field(run) == expected]
    if "status" in query:
        status = query["status"]
        selected = [run for run in selected if status in (run.status, run.conclusion)]
    if "created" in query:
        lower, upper = _parse_created(query["created"])
        selected = [run for run in selected if _created_within(run.created_at, lower, upper)]
    return selected


def _created_within(
    created_at: datetime | None, lower: _Bound | None, upper: _Bound | None
) -> bool:
    if created_at is None:
        return False
    if lower is not None:
        if created_at < lower.instant or (created_at == lower.instant and not lower.inclusive):
            return False
    if upper is not None:
        if created_at > upper.instant or (created_at == upper.instant and not upper.inclusive):
            return False
    return True


def _parse_created(text: str) -> tuple[_Bound | None, _Bound | None]:
    """Parse a ``created`` filter into lower and upper bounds, either of which may be open.

    Accepted forms: ``D``, ``>=D``, ``>D``, ``<=D``, ``<D`` and ``A..B`` (``*`` for an open end),
    where each value is ``YYYY-MM-DD`` (a whole UTC day) or an ISO 8601 date-time.
    """
    value = text.strip()
    try:
        for operator, is_lower, inclusive in (
            (">=", True, True),
            ("<=", False, True),
            (">", True, False),
            ("<", False, False),
        ):
            if value.startswith(operator):
                operand = value[len(operator) :].strip()
                if is_lower:
                    return _lower_bound(operand, inclusive), None
                return None, _upper_bound(operand, inclusive)
        if ".." in value:
            start, _, end = value.partition("..")
            lower = None if start.strip() == "*" else _lower_bound(start.strip(), True)
            upper = None if end.strip() == "*" else _upper_bound(end.strip(), True)
            return lower, upper
        return _lower_bound(value, True), _upper_bound(value, True)
    except ValueError as error:
        raise ValueError(
            f"Invalid created filter {text!r}: expected YYYY-MM-DD or an ISO 8601 date-time, "
            "optionally prefixed by >=, >, <= or <, or a range A..B"
        ) from error


def _lower_bound(operand: str, inclusive: bool) -> _Bound:
    if _DATE.fullmatch(operand):
        day_start = _parse_instant(f"{operand}T00:00:00Z")
        # "> day" means from the start of the next day on.
        return _Bound(day_start if inclusive else day_start + timedelta(days=1), True)
    return _Bound(_parse_instant(operand), inclusive)


def _upper_bound(operand: str, inclusive: bool) -> _Bound:
    if _DATE.fullmatch(operand):
        day_start = _parse_instant(f"{operand}T00:00:00Z")
        # "<= day" includes the whole day, so it ends before the start of the next day.
        return _Bound(day_start + timedelta(days=1) if inclusive else day_start, False)
    return _Bound(_parse_instant(operand), inclusive)


def _int_parameter(query: dict[str, str], name: str, default: int, maximum: int | None) -> int:
    """Read a positive integer parameter, using ``default`` when it is missing or invalid."""
    text = query.get(name, "").strip()
    if not text.isdigit():
        return default
    value = max(1, int(text))
    return min(value, maximum) if maximum is not None else value
