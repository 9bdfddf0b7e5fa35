"""The status page's view of a report: what each block of the page shows, worked out in Python.

The template only lays these records out. Times are relative to ``report.generated_at``, so the
same report always renders the same page; the page's script refreshes them against the viewer's
clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from forge_status_pipeline.models import (
    ForgeRevision,
    RepoStatus,
    RevisionCell,
    StatusReport,
    WorkflowRun,
)
from forge_status_pipeline.render.page_trend import Trend, duration_trend
from forge_status_pipeline.render.text import (
    STATE_MARKS,
    STATE_WORDS,
    format_age,
    format_utc,
    revision_summary,
    safe_url,
    state_word,
)

FilterGroup = Literal["passing", "failing", "other"]

# Above this many repos, a revision's summary row names only the repos that need attention and
# counts the rest. The expanded details and the grid still show every repo.
MAX_CHIPS = 24
# The unattributed section lists the newest runs only; status.json keeps all of them.
MAX_UNATTRIBUTED_ROWS = 200
# Builds per repo in the duration trend.
TREND_BUILDS = 12

# Order in which a revision's repos are listed: what needs attention first.
ATTENTION_ORDER = ("failing", "pending", "inconclusive", "unavailable", "passing", "not_rebuilt")

PAGE_WORDS = {**STATE_WORDS, "unknown": "unknown", "stale": "stale"}
# The terminal's marks, except where a browser font has a clearer symbol: a part-filled circle
# for a build in progress, a clock face for a repo that stopped building.
PAGE_MARKS = {**STATE_MARKS, "pending": "◔", "unknown": "?", "stale": "◷"}


@dataclass(frozen=True)
class Moment:
    """An instant as the page shows it: relative text, with ISO and UTC forms for the markup."""

    iso: str
    utc: str
    age: str


@dataclass(frozen=True)
class RepoRef:
    name: str
    label: str
    slot: str
    actions_url: str | None


@dataclass(frozen=True)
class Chip:
    """One repo's mark in a revision's summary row."""

    repo: RepoRef
    state: str
    word: str
    regression: bool

    @property
    def note(self) -> str | None:
        """Return the words shown after the repo's name: GitHub's word where it is more specific."""
        if self.state in ("pending", "inconclusive"):
            return self.word
        if self.state == "failing" and self.word != STATE_WORDS["failing"]:
            return self.word.removeprefix("failing (").removesuffix(")")
        return None


@dataclass(frozen=True)
class Breakage:
    """A repo failing at a revision, with the newest older revision where it passed."""

    repo: RepoRef
    word: str
    regression: bool
    last_passing_short: str | None


@dataclass(frozen=True)
class RevisionView:
    sha: str
    short_sha: str
    commit_url: str | None
    subject: str | None
    forge_run_url: str | None
    forge_run_id: int | None
    when: Moment
    state: str
    group: FilterGroup
    summary: str
    chips: list[Chip]
    hidden_counts: list[tuple[str, int]]
    breakages: list[Breakage]
    waiting: list[Chip]


@dataclass(frozen=True)
class RepoRow:
    """One configured repo in the repos view, judged by its newest build."""

    repo: RepoRef
    state: str
    word: str
    group: FilterGroup
    stale: bool
    available: bool
    reason: str | None
    detail: str | None
    latest_short: str | None
    newest_run: Moment | None
    passed: int
    decided: int
    trend: Trend | None
    last_duration: float | None


@dataclass(frozen=True)
class Notice:
    kind: Literal["stale", "unavailable", "warning"]
    subject: str
    text: str


@dataclass(frozen=True)
class UnattributedRow:
    repo: RepoRef
    workflow: str
    branch: str | None
    event: str
    state: str
    word: str
    when: Moment
    run_url: str | None
    subject: str | None


@dataclass(frozen=True)
class PageView:
    generator: str | None
    generator_url: str | None
    generated: Moment
    overall_state: str
    newest: RevisionView | None
    last_green: RevisionView | None
    revisions: list[RevisionView]
    group_counts: dict[str, int]
    repos: list[RepoRow]
    repo_group_counts: dict[str, int]
    notices: list[Notice]
    unattributed: list[UnattributedRow]
    unattributed_total: int
    many_repos: bool


def moment(value: datetime, now: datetime) -> Moment:
    return Moment(iso=value.isoformat(), utc=format_utc(value), age=format_age(value, now))


def repo_refs(report: StatusReport) -> dict[str, RepoRef]:
    """Map every repo the report names to its display record, configured repos first."""
    refs = {
        status.repo: RepoRef(status.repo, status.sram, status.slot, safe_url(status.actions_url))
        for status in report.repos
    }
    names = [cell.repo for revision in report.revisions for cell in revision.cells]
    names += [run.repo for run in report.unattributed]
    for name in names:
        if name not in refs:
            refs[name] = RepoRef(name, name, "", None)
    return refs


def generator_commit_url(report: StatusReport, revision: ForgeRevision) -> str | None:
    """Link a revision to its generator commit, from the fetched commit or the generator's name."""
    if revision.commit_url:
        return safe_url(revision.commit_url)
    if report.generator:
        return safe_url(f"https://github.com/{report.generator}/commit/{revision.forge_sha}")
    return None


def revision_state(revision: ForgeRevision) -> str:
    """Name a revision's worst cell, for its badge; ``not_rebuilt`` when nothing was built."""
    states = {cell.state for cell in revision.cells}
    for state in ("failing", "pending", "inconclusive", "passing"):
        if state in states:
            return state
    if "unavailable" in states:
        return "unavailable"
    return "not_rebuilt"


def revision_group(revision: ForgeRevision) -> FilterGroup:
    """Sort a revision under a filter: failing if any repo fails, passing if every built one passes."""
    if any(cell.state == "failing" for cell in revision.cells):
        return "failing"
    if revision.all_passing:
        return "passing"
    return "other"


def attention_sorted(cells: Sequence[RevisionCell]) -> list[RevisionCell]:
    """Order cells by ATTENTION_ORDER, regressions first among the failing, else as configured."""
    return sorted(cells, key=lambda cell: (ATTENTION_ORDER.index(cell.state), not cell.regression))


def _revision_view(
    report: StatusReport, revision: ForgeRevision, refs: dict[str, RepoRef], many: bool
) -> RevisionView:
    breakages = [
        Breakage(
            refs[cell.repo],
            state_word(cell.state, cell.label),
            cell.regression,
            cell.last_passing_sha[:7] if cell.last_passing_sha else None,
        )
        for cell in attention_sorted(revision.cells)
        if cell.state == "failing"
    ]
    if many:
        needs_attention = [
            cell for cell in revision.cells if cell.state not in ("passing", "not_rebuilt")
        ]
        chip_cells = attention_sorted(needs_attention)[:MAX_CHIPS]
    else:
        chip_cells = list(revision.cells)
    chip_repos = {cell.repo for cell in chip_cells}
    hidden: dict[str, int] = {}
    for cell in revision.cells:
        if cell.repo not in chip_repos:
            hidden[cell.state] = hidden.get(cell.state, 0) + 1
    return RevisionView(
        sha=revision.forge_sha,
        short_sha=revision.short_sha,
        commit_url=generator_commit_url(report, revision),
        subject=revision.subject,
        forge_run_url=safe_url(revision.forge_run_url),
        forge_run_id=revision.forge_run_id,
        when=moment(revision.timestamp, report.generated_at),
        state=revision_state(revision),
        group=revision_group(revision),
        summary=revision_summary(revision.passing, revision.total, revision.pending),
        chips=[
            Chip(refs[cell.repo], cell.state, state_word(cell.state, cell.label), cell.regression)
            for cell in chip_cells
        ],
        hidden_counts=[(state, hidden[state]) for state in ATTENTION_ORDER if state in hidden],
        breakages=breakages,
        waiting=[
            Chip(refs[cell.repo], cell.state, state_word(cell.state, cell.label), False)
            for cell in revision.cells
            if cell.state == "pending"
        ],
    )


def _built_cells(report: StatusReport) -> dict[str, list[tuple[ForgeRevision, RevisionCell]]]:
    """Map each repo to the revisions that built it, newest first, with its cell there."""
    built: dict[str, list[tuple[ForgeRevision, RevisionCell]]] = {}
    for revision in report.revisions:
        for cell in revision.cells:
            if cell.state not in ("not_rebuilt", "unavailable"):
                built.setdefault(cell.repo, []).append((revision, cell))
    return built


def _repo_row(
    report: StatusReport,
    status: RepoStatus,
    ref: RepoRef,
    built: list[tuple[ForgeRevision, RevisionCell]],
) -> RepoRow:
    decided = [cell for _, cell in built if cell.state in ("passing", "failing")]
    newest = built[0][1] if built else None
    state = newest.state if newest else "not_rebuilt"
    if not status.available:
        state = "unavailable"
    group: FilterGroup = "other"
    if state in ("passing", "failing") and not status.stale:
        group = "passing" if state == "passing" else "failing"
    samples = [
        (revision.short_sha, cell.state, cell.duration_seconds)
        for revision, cell in reversed(built[:TREND_BUILDS])
        if cell.duration_seconds is not None
    ]
    return RepoRow(
        repo=ref,
        state=state,
        word=state_word(state, newest.label if newest and status.available else None),
        group=group,
        stale=status.stale and status.available,
        available=status.available,
        reason=status.reason,
        detail=status.detail,
        latest_short=built[0][0].short_sha if built else None,
        newest_run=moment(status.newest_run_at, report.generated_at)
        if status.newest_run_at
        else None,
        passed=sum(cell.state == "passing" for cell in decided),
        decided=len(decided),
        trend=duration_trend(samples),
        last_duration=built[0][1].duration_seconds if built else None,
    )


def _notices(report: StatusReport, refs: dict[str, RepoRef]) -> list[Notice]:
    notices = [
        Notice(
            "unavailable",
            refs[item.repo].label,
            f"could not be read ({item.reason}): {item.detail}",
        )
        for item in report.unavailable
    ]
    for status in report.repos:
        if not (status.stale and status.available):
            continue
        if status.newest_run_at is None:
            text = "has no run on its default branch in the fetched history"
        else:
            age = format_age(status.newest_run_at, report.generated_at)
            text = (
                f"has not built for more than {report.stale_after_hours:g} hours "
                f"(newest run {age}, {format_utc(status.newest_run_at)})"
            )
        notices.append(Notice("stale", refs[status.repo].label, text))
    notices += [Notice("warning", "", warning) for warning in report.warnings]
    return notices


def _unattributed_row(run: WorkflowRun, ref: RepoRef, now: datetime) -> UnattributedRow:
    return UnattributedRow(
        repo=ref,
        workflow=run.workflow_name,
        branch=run.head_branch,
        event=run.event,
        state=run.outcome,
        word=run.label.replace("_", " "),
        when=moment(run.created_at or run.updated_at, now),
        run_url=safe_url(run.html_url),
        subject=run.commit_subject,
    )


def _count_groups(groups: Sequence[str]) -> dict[str, int]:
    return {
        "all": len(groups),
        "passing": groups.count("passing"),
        "failing": groups.count("failing"),
    }


def build_page_view(report: StatusReport) -> PageView:
    """Work out everything the page shows for ``report``."""
    refs = repo_refs(report)
    many = len(report.repos) > MAX_CHIPS
    revisions = [_revision_view(report, revision, refs, many) for revision in report.revisions]
    built = _built_cells(report)
    repos = [
        _repo_row(report, status, refs[status.repo], built.get(status.repo, []))
        for status in report.repos
    ]
    unattributed = [
        _unattributed_row(run, refs[run.repo], report.generated_at)
        for run in report.unattributed[:MAX_UNATTRIBUTED_ROWS]
    ]
    generator_url = safe_url(f"https://github.com/{report.generator}") if report.generator else None
    return PageView(
        generator=report.generator,
        generator_url=generator_url,
        generated=moment(report.generated_at, report.generated_at),
        overall_state=report.overall_state,
        newest=revisions[0] if revisions else None,
        last_green=next((view for view in revisions if view.group == "passing"), None),
        revisions=revisions,
        group_counts=_count_groups([view.group for view in revisions]),
        repos=repos,
        repo_group_counts=_count_groups([row.group for row in repos]),
        notices=_notices(report, refs),
        unattributed=unattributed,
        unattributed_total=len(report.unattributed),
        many_repos=many,
    )
