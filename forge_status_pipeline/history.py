"""``history.json``: the append-only record of past reports, kept beside ``status.json``.

Each refresh adds one entry: every revision's cell states at that moment. The change list compares
a report with the entries before it, and the page can draw trends from it. The file travels with
the published site, so a fresh CI runner that restores the site also restores the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from forge_status_pipeline.models import CellState, StatusReport, UtcDatetime
from forge_status_pipeline.site import write_atomic

HISTORY_FILE = "history.json"
# One entry per refresh: at the default schedule of every 4 hours, 500 entries cover 83 days.
MAX_ENTRIES = 500
# A cell in one of these states carries no information on the repo's health, so entries omit it.
_OMITTED_STATES = frozenset({"not_rebuilt", "unavailable"})


class HistoryRevision(BaseModel):
    """One generator revision as a past report saw it."""

    sha: str
    timestamp: UtcDatetime = Field(description="Earliest downstream commit made from this sha.")
    passing: int
    total: int
    pending: int
    cells: dict[str, CellState] = Field(
        description="State per repo (owner/name); repos not rebuilt or unreadable are left out."
    )

    @property
    def all_passing(self) -> bool:
        return self.total > 0 and self.passing == self.total


class HistoryEntry(BaseModel):
    """The summary of one report."""

    generated_at: UtcDatetime
    overall: str = Field(description="The report's overall state: passing, failing, pending...")
    newest_sha: str | None = None
    available_repos: list[str] = Field(description="Repos that were read in this refresh.")
    revisions: list[HistoryRevision]


class History(BaseModel):
    """The contents of ``history.json``: entries oldest first."""

    schema_version: int = 1
    entries: list[HistoryEntry] = Field(default_factory=list)


@dataclass(frozen=True)
class LoadedHistory:
    """The entries read from ``history.json``, and why none could be read if so."""

    entries: list[HistoryEntry]
    problem: str | None = None


def entry_from_report(report: StatusReport) -> HistoryEntry:
    """Summarise ``report`` as a history entry."""
    revisions = [
        HistoryRevision(
            sha=revision.forge_sha,
            timestamp=revision.timestamp,
            passing=revision.passing,
            total=revision.total,
            pending=revision.pending,
            cells={
                cell.repo: cell.state
                for cell in revision.cells
                if cell.state not in _OMITTED_STATES
            },
        )
        for revision in report.revisions
    ]
    latest = report.latest
    return HistoryEntry(
        generated_at=report.generated_at,
        overall=report.overall_state,
        newest_sha=latest.forge_sha if latest else None,
        available_repos=[status.repo for status in report.repos if status.available],
        revisions=revisions,
    )


def load_history(path: Path) -> LoadedHistory:
    """Read ``path``; a missing or unreadable file gives no entries and names the problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LoadedHistory([], f"{path} not found")
    except (OSError, UnicodeDecodeError) as error:
        return LoadedHistory([], f"{path} could not be read: {error}")

    try:
        history = History.model_validate_json(text)
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "file"
        return LoadedHistory([], f"{path} is invalid at {location}: {first['msg']}")
    entries = sorted(history.entries, key=lambda entry: entry.generated_at)
    return LoadedHistory(entries)


def baseline_message(problem: str) -> str:
    """Explain to an operator why this report has nothing to compare with."""
    return (
        f"no earlier report to compare with ({problem}); this report is the baseline "
        "(first sighting), so no changes are reported"
    )


def entries_before(entries: Sequence[HistoryEntry], moment: datetime) -> list[HistoryEntry]:
    """Return the entries generated strictly before ``moment``, oldest first."""
    return [entry for entry in entries if entry.generated_at < moment]


def add_entry(
    entries: Sequence[HistoryEntry], entry: HistoryEntry, *, limit: int = MAX_ENTRIES
) -> list[HistoryEntry]:
    """Add ``entry`` (replacing one from the same instant) and keep the newest ``limit`` entries.

    Replacing makes recording the same report twice harmless, which lets both the Dagster asset
    and ``forge-status notify`` record it.
    """
    kept = [existing for existing in entries if existing.generated_at != entry.generated_at]
    kept.append(entry)
    kept.sort(key=lambda item: item.generated_at)
    return kept[-limit:]


def write_history(path: Path, entries: Sequence[HistoryEntry]) -> None:
    write_atomic(path, History(entries=list(entries)).model_dump_json() + "\n")


@dataclass(frozen=True)
class RecordedReport:
    """The result of adding a report to ``history.json``."""

    previous: list[HistoryEntry]
    entries: int
    problem: str | None


def record_report(path: Path, report: StatusReport, *, limit: int = MAX_ENTRIES) -> RecordedReport:
    """Add ``report`` to the history at ``path`` and return the entries that came before it.

    An unreadable file is replaced by a new history that starts with this report. ``problem``
    then describes what was wrong, for the caller to log once.
    """
    loaded = load_history(path)
    entries = add_entry(loaded.entries, entry_from_report(report), limit=limit)
    write_history(path, entries)
    return RecordedReport(
        previous=entries_before(loaded.entries, report.generated_at),
        entries=len(entries),
        problem=loaded.problem,
    )
