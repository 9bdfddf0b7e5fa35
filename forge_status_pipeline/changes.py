"""The change list: repos newly broken, still broken or fixed, and revisions newly green, since
the previous report.

Only decided cells (passing or failing) make changes. A build that is still running, was
cancelled or was skipped proves nothing, so it never produces a change, and neither does a cell
whose repo or revision the earlier reports never saw (that is a first sighting, a baseline).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from forge_status_pipeline.history import (
    HISTORY_FILE,
    HistoryEntry,
    RecordedReport,
    baseline_message,
    record_report,
)
from forge_status_pipeline.models import (
    CellState,
    ForgeRevision,
    RevisionCell,
    StatusReport,
    UtcDatetime,
)
from forge_status_pipeline.site import write_atomic

CHANGES_FILE = "changes.json"
ChangeKind = Literal["broken", "still_broken", "fixed", "green"]
DECIDED_STATES = frozenset({"passing", "failing"})


class RunLink(BaseModel):
    """A workflow run a change points to."""

    workflow_name: str
    label: str = Field(description="The run's state in one word, for example failure.")
    url: str


class Change(BaseModel):
    """One change between two reports, with what a notification needs to describe it."""

    id: str = Field(description="Stable id: kind:repo:sha, or green:sha.")
    kind: ChangeKind
    forge_sha: str = Field(description="Generator commit the change happened at.")
    subject: str | None = Field(default=None, description="Generator commit's subject line.")
    repo: str | None = Field(default=None, description="Downstream repo; None for green.")
    sram: str | None = None
    previous_sha: str | None = Field(
        default=None,
        description=(
            "broken: the newest revision where the repo passed before. still_broken: the one "
            "where it failed before. fixed: the one where it failed. None when unknown."
        ),
    )
    runs: list[RunLink] = Field(
        default_factory=list, description="Failing runs, or the passing runs for fixed."
    )
    passing: int = 0
    total: int = 0
    detected_at: UtcDatetime


class ChangeList(BaseModel):
    """The contents of ``changes.json``: the changes one report made, oldest revision first."""

    schema_version: int = 1
    generated_at: UtcDatetime
    previous_generated_at: UtcDatetime | None = None
    first_sighting: bool = Field(
        description="True when no earlier report existed, so this report is only a baseline."
    )
    baseline_note: str | None = Field(
        default=None, description="Why there was nothing to compare with, if so."
    )
    new_repos: list[str] = Field(
        default_factory=list,
        description="Repos no earlier report had read; their states are a baseline, not changes.",
    )
    generator: str | None = None
    site_url: str | None = None
    changes: list[Change] = Field(default_factory=list)

    def count(self, kind: ChangeKind) -> int:
        return sum(1 for change in self.changes if change.kind == kind)


@dataclass
class _Earlier:
    """The earlier reports merged: each cell's last decided state and the revisions they listed."""

    states: dict[tuple[str, str], CellState] = field(default_factory=dict)
    green_shas: set[str] = field(default_factory=set)
    known_shas: set[str] = field(default_factory=set)
    seen_repos: set[str] = field(default_factory=set)
    window_start: datetime | None = None

    @classmethod
    def from_entries(cls, entries: Sequence[HistoryEntry]) -> _Earlier:
        """Merge entries oldest first; a newer decided state replaces an older one.

        A cell that is pending now (a re-run, say) keeps its last decided state, so the re-run's
        result is compared with what it was before the re-run.
        """
        earlier = cls()
        for entry in sorted(entries, key=lambda item: item.generated_at):
            earlier.seen_repos.update(entry.available_repos)
            for revision in entry.revisions:
                earlier.known_shas.add(revision.sha)
                if revision.all_passing:
                    earlier.green_shas.add(revision.sha)
                for repo, state in revision.cells.items():
                    key = (revision.sha, repo)
                    if state in DECIDED_STATES or earlier.states.get(key) not in DECIDED_STATES:
                        earlier.states[key] = state
        newest = max(entries, key=lambda item: item.generated_at, default=None)
        if newest is not None and newest.revisions:
            earlier.window_start = min(revision.timestamp for revision in newest.revisions)
        return earlier

    def covers(self, revision: ForgeRevision) -> bool:
        """Tell whether the earlier reports could have seen ``revision``.

        A revision they never listed counts only if it is no older than the oldest one the
        newest earlier report listed. Older ones come into view when the look-back grows or a
        repo becomes readable again, and announcing them would repeat old news.
        """
        if revision.forge_sha in self.known_shas or self.window_start is None:
            return True
        return revision.timestamp >= self.window_start


def compute_changes(
    report: StatusReport,
    previous: Sequence[HistoryEntry],
    *,
    baseline_note: str | None = None,
) -> ChangeList:
    """List the changes ``report`` makes against the earlier history entries ``previous``.

    With no earlier entry the report is a baseline: the list is empty and marked first sighting.
    """
    change_list = ChangeList(
        generated_at=report.generated_at,
        first_sighting=not previous,
        generator=report.generator,
        site_url=report.site_url,
    )
    if not previous:
        change_list.baseline_note = baseline_note or "no earlier report in the history"
        return change_list

    earlier = _Earlier.from_entries(previous)
    change_list.previous_generated_at = max(entry.generated_at for entry in previous)
    change_list.new_repos = [
        status.repo
        for status in report.repos
        if status.available and status.repo not in earlier.seen_repos
    ]

    sram_by_repo = {status.repo: status.sram for status in report.repos}
    for index in reversed(range(len(report.revisions))):
        revision = report.revisions[index]
        if not earlier.covers(revision):
            continue
        older = report.revisions[index + 1 :]
        for cell in revision.cells:
            if cell.repo not in earlier.seen_repos:
                continue
            change = _cell_change(report, revision, cell, older, earlier)
            if change is not None:
                change.sram = sram_by_repo.get(cell.repo)
                change_list.changes.append(change)
        if revision.all_passing and revision.forge_sha not in earlier.green_shas:
            change_list.changes.append(
                Change(
                    id=f"green:{revision.forge_sha}",
                    kind="green",
                    forge_sha=revision.forge_sha,
                    subject=revision.subject,
                    passing=revision.passing,
                    total=revision.total,
                    detected_at=report.generated_at,
                )
            )
    return change_list


def _cell_change(
    report: StatusReport,
    revision: ForgeRevision,
    cell: RevisionCell,
    older: Sequence[ForgeRevision],
    earlier: _Earlier,
) -> Change | None:
    """Classify one cell that is decided now and was not decided the same way before."""
    if cell.state not in DECIDED_STATES:
        return None
    before = earlier.states.get((revision.forge_sha, cell.repo))
    if before == cell.state:
        return None

    kind: ChangeKind | None
    if before in DECIDED_STATES:
        # A re-run at the same revision flipped the outcome.
        kind = "broken" if cell.state == "failing" else "fixed"
        previous_sha: str | None = revision.forge_sha
    else:
        previous_state, previous_sha = _last_decided(cell.repo, older)
        if cell.state == "failing":
            kind = "still_broken" if previous_state == "failing" else "broken"
        else:
            kind = "fixed" if previous_state == "failing" else None
    if kind is None:
        return None

    linked_outcome = "passing" if kind == "fixed" else "failing"
    by_id = {run.run_id: run for run in revision.runs}
    runs: list[RunLink] = []
    for run_id in cell.run_ids:
        run = by_id.get(run_id)
        if run is not None and run.outcome == linked_outcome:
            runs.append(RunLink(workflow_name=run.workflow_name, label=run.label, url=run.html_url))
    return Change(
        id=f"{kind}:{cell.repo}:{revision.forge_sha}",
        kind=kind,
        forge_sha=revision.forge_sha,
        subject=revision.subject,
        repo=cell.repo,
        previous_sha=previous_sha,
        runs=runs,
        detected_at=report.generated_at,
    )


def _last_decided(repo: str, older: Sequence[ForgeRevision]) -> tuple[CellState | None, str | None]:
    """Return the repo's newest decided state among ``older`` revisions (newest first)."""
    for revision in older:
        cell = revision.cell(repo)
        if cell is not None and cell.state in DECIDED_STATES:
            return cell.state, revision.forge_sha
    return None, None


def write_changes(path: Path, change_list: ChangeList) -> None:
    write_atomic(path, change_list.model_dump_json(indent=2) + "\n")


def load_changes(path: Path) -> ChangeList | None:
    """Read ``changes.json``; None when it is missing."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return ChangeList.model_validate_json(text)


def record_and_compare(site_dir: Path, report: StatusReport) -> tuple[ChangeList, RecordedReport]:
    """Add ``report`` to the site's history.json and write its changes.json.

    Running it again for the same report writes the same files, so it is safe after the Dagster
    assets already did the same.
    """
    recorded = record_report(site_dir / HISTORY_FILE, report)
    note = baseline_message(recorded.problem) if recorded.problem else None
    change_list = compute_changes(report, recorded.previous, baseline_note=note)
    write_changes(site_dir / CHANGES_FILE, change_list)
    return change_list, recorded
