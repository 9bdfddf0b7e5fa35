"""Render the report for a terminal, at any width, with or without colour or emoji fonts."""

from __future__ import annotations

from wcwidth import wcswidth, wcwidth

from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.render.text import (
    STATE_MARKS,
    STATE_WORDS,
    format_age,
    format_utc,
    plain,
    revision_summary,
)

_COLOURS = {"passing": "32", "failing": "31;1", "pending": "33", "unavailable": "35"}
MIN_WIDTH = 30


def display_width(text: str) -> int:
    width = wcswidth(text)
    return width if width >= 0 else len(text)


def fit(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` terminal columns with an ellipsis, then pad it to exactly that."""
    if display_width(text) > width:
        kept = ""
        used = 0
        for char in text:
            char_width = max(wcwidth(char), 0)
            if used + char_width > width - 1:
                break
            kept += char
            used += char_width
        text = kept + "…"
    return text + " " * (width - display_width(text))


def _paint(text: str, state: str, colour: bool) -> str:
    code = _COLOURS.get(state)
    return f"\x1b[{code}m{text}\x1b[0m" if colour and code else text


def render_terminal(
    report: StatusReport, *, width: int = 80, colour: bool = False, max_revisions: int = 10
) -> str:
    """Render the newest ``max_revisions`` revisions; every line is exactly ``width`` columns."""
    width = max(width, MIN_WIDTH)
    now = report.generated_at
    lines: list[str] = []

    def add(text: str, state: str = "") -> None:
        lines.append(_paint(fit(text, width), state, colour))

    title = "Downstream build status"
    if report.generator:
        title += f" for {plain(report.generator)}"
    add(title)
    add("=" * min(width, display_width(title)))
    add(f"Last updated: {format_utc(report.generated_at)}")
    for item in report.unavailable:
        add(f"! {plain(item.repo)} unavailable: {item.reason.replace('_', ' ')}", "unavailable")
    for repo_status in report.repos:
        if repo_status.stale and repo_status.available:
            add(
                f"! {plain(repo_status.repo)} stale: no run since {format_utc(repo_status.newest_run_at)}"
            )
    add("")

    sram_width = max([len("repo")] + [display_width(plain(r.sram)) for r in report.repos])
    sram_width = min(sram_width, max(8, width // 3))
    for revision in report.revisions[:max_revisions]:
        state = (
            "failing"
            if any(c.state == "failing" for c in revision.cells)
            else ("pending" if revision.pending else ("passing" if revision.all_passing else ""))
        )
        summary = revision_summary(revision.passing, revision.total, revision.pending)
        heading = f"{revision.short_sha} ({format_age(revision.timestamp, now)})"
        gap = width - display_width(heading) - display_width(summary)
        add(heading + " " * max(1, gap) + summary, state)
        if revision.subject:
            add(f"  {plain(revision.subject)}")
        srams = {r.repo: r for r in report.repos}
        for cell in revision.cells:
            info = srams.get(cell.repo)
            name = plain(info.sram if info else cell.repo)
            word = STATE_WORDS[cell.state]
            mark = STATE_MARKS[cell.state]
            extra = " REGRESSION" if cell.regression else ""
            add(f"  {mark} {fit(name, sram_width)}  {word}{extra}", cell.state)
        add("")

    if report.unattributed:
        add(f"{len(report.unattributed)} runs name no generator commit (unattributed)")
    latest = report.latest
    verdict = {
        "passing": "Summary: newest revision passing everywhere it was rebuilt",
        "failing": "Summary: newest revision FAILING",
        "pending": "Summary: newest revision not finished",
        "unknown": "Summary: newest revision inconclusive",
    }[report.overall_state]
    if latest is None:
        verdict = "Summary: no generator revision found"
    add(verdict, report.overall_state)
    return "\n".join(lines) + "\n"
