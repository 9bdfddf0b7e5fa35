"""Render the report for a terminal, at any width, with or without colour or emoji fonts."""

from __future__ import annotations

from wcwidth import iter_graphemes, wcswidth

from forge_status_pipeline.models import ForgeRevision, RevisionCell, StatusReport
from forge_status_pipeline.render.text import (
    STATE_MARKS,
    format_age,
    format_utc,
    plain,
    revision_summary,
    state_word,
)

_COLOURS = {"passing": "32", "failing": "31;1", "pending": "33", "unavailable": "35"}
MIN_WIDTH = 30


def _grapheme_width(grapheme: str) -> int:
    width = wcswidth(grapheme)
    return width if width >= 0 else len(grapheme)


def display_width(text: str) -> int:
    """Count the terminal columns ``text`` takes, one user-perceived character at a time."""
    # Printable ASCII, most of any report, takes one column per character.
    if text.isascii() and text.isprintable():
        return len(text)
    return sum(_grapheme_width(grapheme) for grapheme in iter_graphemes(text))


def fit(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` terminal columns with an ellipsis, then pad it to exactly that.

    Text is cut between grapheme clusters, so an emoji sequence or a letter with its accent is
    kept whole or dropped whole, never split into parts of another width.
    """
    if display_width(text) > width:
        kept = ""
        used = 0
        for grapheme in iter_graphemes(text):
            grapheme_width = _grapheme_width(grapheme)
            if used + grapheme_width > width - 1:
                break
            kept += grapheme
            used += grapheme_width
        text = kept + "…"
    return text + " " * (width - display_width(text))


def _paint(text: str, state: str, colour: bool) -> str:
    code = _COLOURS.get(state)
    return f"\x1b[{code}m{text}\x1b[0m" if colour and code else text


def _cell_words(cell: RevisionCell) -> str:
    words = state_word(cell.state, cell.label)
    return f"{words} REGRESSION" if cell.regression else words


def _revision_colour_state(revision: ForgeRevision) -> str:
    """Pick the state whose colour a revision's heading gets; "" leaves it uncoloured."""
    if any(cell.state == "failing" for cell in revision.cells):
        return "failing"
    if revision.pending:
        return "pending"
    if revision.all_passing:
        return "passing"
    return ""


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

    shown_revisions = report.revisions[:max_revisions]
    srams = {r.repo: r for r in report.repos}
    words_width = max(
        (
            display_width(_cell_words(cell))
            for revision in shown_revisions
            for cell in revision.cells
        ),
        default=0,
    )
    sram_width = max([len("repo")] + [display_width(plain(r.sram)) for r in report.repos])
    # Names shrink first, down to 4 columns, so the state words fit. 6 columns go to the indent
    # and the mark.
    sram_width = max(4, min(sram_width, max(8, width // 3), width - 6 - words_width))
    for revision in shown_revisions:
        state = _revision_colour_state(revision)
        summary = revision_summary(revision.passing, revision.total, revision.pending)
        heading = f"{revision.short_sha} ({format_age(revision.timestamp, now)})"
        gap = width - display_width(heading) - display_width(summary)
        if gap >= 1:
            add(heading + " " * gap + summary, state)
        else:
            # Too narrow for both on one line: the summary gets a line of its own, uncut.
            add(heading, state)
            add(f"  {summary}", state)
        if revision.subject:
            add(f"  {plain(revision.subject)}")
        for cell in revision.cells:
            info = srams.get(cell.repo)
            name = plain(info.sram if info else cell.repo)
            mark = STATE_MARKS[cell.state]
            add(f"  {mark} {fit(name, sram_width)}  {_cell_words(cell)}", cell.state)
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
