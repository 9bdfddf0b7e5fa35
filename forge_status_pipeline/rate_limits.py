"""When to retry a GitHub request, how long to wait first, and when to stop sending altogether.

GitHub's "Best practices for using the REST API" (docs.github.com/rest/guides/
best-practices-for-using-the-rest-api) recommends, after a rate-limit error: wait ``retry-after``
seconds when that header is present. When ``x-ratelimit-remaining`` is 0, send nothing until the
epoch second in ``x-ratelimit-reset``. Otherwise wait at least a minute, and longer each time the
limit is hit again.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

RateLimitKind = Literal["primary", "secondary"]

# GitHub recommends waiting at least a minute after a secondary rate limit without retry-after,
# then backing off exponentially.
SECONDARY_LIMIT_MIN_WAIT = 60.0
# x-ratelimit-reset is a whole epoch second, so waiting one second past it absorbs the rounding
# and a small clock difference between this machine and GitHub.
RESET_MARGIN = 1.0


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a client retries; all durations in seconds."""

    max_retries: int
    max_rate_limit_wait: float
    backoff_base: float

    def backoff(self, attempt: int) -> float:
        """Return the wait before retry ``attempt + 1`` after a server or connection error."""
        return self.backoff_base * 2**attempt


@dataclass(frozen=True)
class RetryPlan:
    """The outcome of a failed response: wait ``wait`` seconds and retry, or give up.

    ``shared`` is True for rate limits, which apply to the token, so every request of the client
    waits. ``blocked_until`` is set when giving up on a rate limit: no request should be sent
    before that instant (epoch seconds, ``inf`` when unknown).
    """

    wait: float | None
    kind: RateLimitKind | None
    shared: bool = False
    blocked_until: float | None = None


def parse_seconds(value: str | None) -> float | None:
    """Parse a header holding a number of seconds; None when missing or not a number."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) else None


def rate_limit_kind(status: int, headers: Mapping[str, str], message: str) -> RateLimitKind | None:
    """Tell a rate-limit error from any other 403 or 429: primary, secondary, or None.

    A 403 with budget left, no retry-after and no mention of a secondary limit is a permission
    error, which no wait would fix.
    """
    if status not in (403, 429):
        return None
    if headers.get("x-ratelimit-remaining") == "0":
        return "primary"
    if status == 429 or "retry-after" in headers or "secondary rate limit" in message.lower():
        return "secondary"
    return None


def plan_retry(
    status: int,
    headers: Mapping[str, str],
    message: str,
    attempt: int,
    policy: RetryPolicy,
    now: float,
) -> RetryPlan:
    """Decide what to do after an error response, given ``attempt`` retries already made.

    Server errors (5xx) back off exponentially from ``policy.backoff_base``. Rate limits wait as
    GitHub recommends, but never longer than ``policy.max_rate_limit_wait``: a longer wait gives up.
    """
    kind = rate_limit_kind(status, headers, message)
    if kind is None and status < 500:
        return RetryPlan(wait=None, kind=None)

    retry_after = parse_seconds(headers.get("retry-after"))
    if retry_after is not None:
        wait = max(0.0, retry_after)
    elif kind == "primary":
        reset = parse_seconds(headers.get("x-ratelimit-reset"))
        wait = math.inf if reset is None else max(0.0, reset - now) + RESET_MARGIN
    elif kind == "secondary":
        wait = SECONDARY_LIMIT_MIN_WAIT * 2**attempt
    else:
        wait = policy.backoff(attempt)

    if attempt >= policy.max_retries or wait > policy.max_rate_limit_wait:
        blocked_until = now + wait if kind is not None else None
        return RetryPlan(wait=None, kind=kind, blocked_until=blocked_until)
    return RetryPlan(wait=wait, kind=kind, shared=kind is not None)


def budget_spent_until(headers: Mapping[str, str]) -> float | None:
    """Return the reset instant when a successful response shows the budget is now spent."""
    if headers.get("x-ratelimit-remaining") != "0":
        return None
    reset = parse_seconds(headers.get("x-ratelimit-reset"))
    return math.inf if reset is None else reset


class RequestGate:
    """The pause and stop that a rate limit puts on every thread of one client.

    A pause delays the next request of each thread until an instant. A block makes every request
    fail at once, without being sent, until an instant. Both instants only ever move later.
    """

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._paused_until = -math.inf
        self._blocked_until = -math.inf
        self._block_reason = ""

    def pause_until(self, instant: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, instant)

    def block_until(self, instant: float, reason: str) -> bool:
        """Stop all requests until ``instant``; return True when this extends an earlier block."""
        with self._lock:
            if instant <= self._blocked_until:
                return False
            self._blocked_until = instant
            self._block_reason = reason
            return True

    def blocked(self) -> str | None:
        """Return why requests are stopped right now, or None when they may be sent."""
        with self._lock:
            until, reason = self._blocked_until, self._block_reason
        if self._clock() >= until:
            return None
        return f"{reason}; no request is sent until {describe_instant(until)}"

    def wait_turn(self) -> None:
        """Sleep until the shared pause, if any, is over."""
        with self._lock:
            until = self._paused_until
        remaining = until - self._clock()
        if remaining > 0:
            self._sleep(remaining)


def describe_instant(instant: float) -> str:
    """Format an epoch instant as ``YYYY-MM-DD HH:MM:SS UTC``, or describe an unknown one."""
    if not math.isfinite(instant):
        return "GitHub reports a reset time"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(instant))
