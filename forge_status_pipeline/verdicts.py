"""Health verdicts on one report, behind the Dagster asset checks and ``forge-status checks``.

Each verdict reads only the report, so a Dagster deployment and a fresh CI runner reach the same
verdict for the same report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from forge_status_pipeline.models import RevisionCell, StatusReport
from forge_status_pipeline.render.text import format_utc

Severity = Literal["WARN", "ERROR"]


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check, with the repos and revisions it concerns."""

    name: str
    passed: bool
    severity: Severity
    summary: str
    repos: list[str] = field(default_factory=list)
    revisions: list[str] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)


def newest_revision_passing(report: StatusReport) -> Verdict:
    """Check that the newest revision passes in every repo rebuilt from it.

    Builds that have not finished do not fail it; they are listed as pending.
    """
    name = "newest_revision_passing"
    latest = report.latest
    if latest is None:
        return Verdict(name, True, "WARN", "no revision to check yet")

    not_passing = [cell for cell in latest.cells if cell.state in ("failing", "inconclusive")]
    pending = [cell.repo for cell in latest.cells if cell.state == "pending"]
    details: dict[str, str] = {cell.repo: cell.state for cell in not_passing}
    details.update({repo: "pending" for repo in pending})
    if not_passing:
        summary = f"{len(not_passing)} of {latest.total} repos do not pass at {latest.short_sha}"
    else:
        summary = f"{latest.passing} of {latest.total} repos pass at {latest.short_sha}"
    if pending:
        summary += f"; {len(pending)} still running"
    return Verdict(
        name,
        not not_passing,
        "WARN",
        summary,
        repos=[cell.repo for cell in not_passing],
        revisions=[latest.forge_sha],
        details=details,
    )


def newest_built_cell(report: StatusReport, repo: str) -> tuple[str, RevisionCell] | None:
    """Return the repo's cell at the newest revision it was rebuilt from, with that sha."""
    for revision in report.revisions:
        cell = revision.cell(repo)
        if cell is not None and cell.state not in ("not_rebuilt", "unavailable"):
            return revision.forge_sha, cell
    return None


def no_new_regressions(report: StatusReport) -> Verdict:
    """Check that no repo's newest build fails where its previous decided build passed.

    A repo whose newest build is still running or was cancelled has no verdict yet.
    """
    regressed: dict[str, str] = {}
    shas: list[str] = []
    for status in report.repos:
        newest = newest_built_cell(report, status.repo)
        if newest is None:
            continue
        sha, cell = newest
        if cell.state == "failing" and cell.regression:
            last_passing = cell.last_passing_sha[:7] if cell.last_passing_sha else "unknown"
            regressed[status.repo] = f"fails at {sha[:7]}, passed at {last_passing}"
            if sha not in shas:
                shas.append(sha)
    if regressed:
        summary = f"{len(regressed)} repos regressed: " + ", ".join(
            f"{repo} ({detail})" for repo, detail in regressed.items()
        )
    else:
        summary = "no repo regressed at its newest build"
    return Verdict(
        "no_new_regressions",
        not regressed,
        "ERROR",
        summary,
        repos=list(regressed),
        revisions=shas,
        details=regressed,
    )


def all_repos_read(report: StatusReport) -> Verdict:
    """Check that GitHub returned every configured repo's runs in this refresh."""
    unreadable = {item.repo: f"{item.reason}: {item.detail}" for item in report.unavailable}
    for status in report.repos:
        if not status.available and status.repo not in unreadable:
            unreadable[status.repo] = f"{status.reason}: {status.detail}"
    if unreadable:
        summary = f"{len(unreadable)} of {len(report.repos)} repos could not be read"
    else:
        summary = f"all {len(report.repos)} repos were read"
    return Verdict(
        "all_repos_read",
        not unreadable,
        "WARN",
        summary,
        repos=list(unreadable),
        details=unreadable,
    )


def no_stale_repos(report: StatusReport) -> Verdict:
    """Check that every readable repo ran a build within ``stale_after_hours`` of the report."""
    stale = {
        status.repo: f"newest run {format_utc(status.newest_run_at)}"
        for status in report.repos
        if status.available and status.stale
    }
    bound = f"{report.stale_after_hours:g} hours"
    if stale:
        summary = f"{len(stale)} repos have no run in the last {bound}"
    else:
        summary = f"every readable repo ran in the last {bound}"
    return Verdict("no_stale_repos", not stale, "WARN", summary, repos=list(stale), details=stale)


VERDICTS: dict[str, Callable[[StatusReport], Verdict]] = {
    "newest_revision_passing": newest_revision_passing,
    "no_new_regressions": no_new_regressions,
    "all_repos_read": all_repos_read,
    "no_stale_repos": no_stale_repos,
}


def report_verdicts(report: StatusReport) -> list[Verdict]:
    return [verdict(report) for verdict in VERDICTS.values()]
