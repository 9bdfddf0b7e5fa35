"""Helpers shared by the renderers: safe text from GitHub data, relative times, marks."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# C0 and C1 control characters (ESC included) would let data from GitHub move the cursor or
# recolour a terminal, so they never reach one. Unicode bidirectional overrides and isolates
# are stripped too, because they make text display in a different order than it is stored.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")

STATE_WORDS = {
    "passing": "passing",
    "failing": "failing",
    "pending": "not finished",
    "inconclusive": "inconclusive",
    "not_rebuilt": "not rebuilt",
    "unavailable": "unavailable",
}
STATE_MARKS = {
    "passing": "✔",
    "failing": "✘",
    "pending": "…",
    "inconclusive": "?",
    "not_rebuilt": "–",
    "unavailable": "!",
}


def plain(text: str | None) -> str:
    """Strip ANSI escapes and control characters from ``text`` and fold whitespace runs."""
    if not text:
        return ""
    text = _ANSI.sub("", text)
    text = _CONTROL.sub(" ", text)
    return " ".join(text.split())


def safe_url(url: str | None) -> str | None:
    """Return ``url`` if it is an https URL, so only those ever become links."""
    if url and url.startswith("https://") and not _CONTROL.search(url):
        return url
    return None


def format_utc(moment: datetime | None) -> str:
    """Format an aware instant as ``2026-12-04 23:59 UTC``, whatever the machine's time zone."""
    if moment is None:
        return "unknown"
    if moment.tzinfo is None:
        raise ValueError(f"{moment.isoformat()} has no time zone, so its UTC time is unknown")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_age(moment: datetime | None, now: datetime) -> str:
    """Describe how long before ``now`` ``moment`` was, coarsely: 45s, 12m, 5h, 3d."""
    if moment is None:
        return "unknown"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return f"{seconds}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86400:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 86400}d ago"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def state_word(state: str, label: str | None = None) -> str:
    """Name a cell's state for people, using GitHub's word where it is more specific.

    ``label`` is the deciding run's conclusion or status (see ``RevisionCell.label``). A cancelled
    or stale build reads as "cancelled" or "stale", a timed-out one as "failing (timed out)".
    """
    base = STATE_WORDS[state]
    word = plain(label).replace("_", " ")
    if not word or word == "unknown" or state in ("passing", "not_rebuilt", "unavailable"):
        return base
    if state == "failing":
        return base if word == "failure" else f"{base} ({word})"
    return word


def revision_summary(passing: int, total: int, pending: int) -> str:
    """Summarise a revision: ``3/4 passing`` or ``1/5 passing, 4 not finished``."""
    text = f"{passing}/{total} passing"
    if pending:
        text += f", {pending} not finished"
    return text
