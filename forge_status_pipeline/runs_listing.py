"""Workflow runs gathered page by page from ``GET /repos/{owner}/{repo}/actions/runs``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunsListing:
    """The raw runs of one repo, newest first, de-duplicated by run id."""

    runs: list[dict[str, Any]]
    pages: int
    total_count: int | None
    complete: bool
    renamed_to: str | None = None
    warnings: list[str] = field(default_factory=list)


class RunsCollector:
    """Runs of one repo collected across pages.

    Runs are de-duplicated by id, keeping the newest attempt, since a run that appears while
    paging shifts older runs onto the next page.
    """

    def __init__(self, full_name: str) -> None:
        self.full_name = full_name
        self.pages = 0
        self.total_count: int | None = None
        self._by_id: dict[int, dict[str, Any]] = {}

    def add_page(self, body: dict[str, Any]) -> None:
        self.pages += 1
        self.total_count = body.get("total_count", self.total_count)
        for run in body.get("workflow_runs") or []:
            previous = self._by_id.get(run["id"])
            if previous is None or _attempt_key(run) > _attempt_key(previous):
                self._by_id[run["id"]] = run

    def runs(self) -> list[dict[str, Any]]:
        return list(self._by_id.values())

    def finish(self, *, covered: bool, complete: bool, renamed_to: str | None) -> RunsListing:
        """Build the listing; ``covered`` is True when the look-back was reached."""
        warnings = []
        if not complete and not covered:
            warnings.append(
                f"{self.full_name}: stopped after {self.pages} pages of runs before the "
                "look-back was covered"
            )
        if complete and self.total_count is not None and self.total_count != len(self._by_id):
            warnings.append(
                f"{self.full_name}: GitHub reported total_count {self.total_count} "
                f"but {len(self._by_id)} distinct runs were read"
            )
        runs = sorted(self._by_id.values(), key=_newest_first_key, reverse=True)
        return RunsListing(runs, self.pages, self.total_count, complete, renamed_to, warnings)


def full_name_from_runs(body: dict[str, Any]) -> str | None:
    """Return the ``owner/name`` that the first run of a page names as its repository."""
    runs = body.get("workflow_runs") or []
    if runs and isinstance(runs[0].get("repository"), dict):
        full_name = runs[0]["repository"].get("full_name")
        return str(full_name) if full_name else None
    return None


def _attempt_key(run: dict[str, Any]) -> tuple[int, str]:
    return (int(run.get("run_attempt") or 1), str(run.get("updated_at") or ""))


def _newest_first_key(run: dict[str, Any]) -> tuple[str, int]:
    return (str(run.get("created_at") or ""), int(run["id"]))
