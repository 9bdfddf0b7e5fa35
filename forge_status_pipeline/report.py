"""Group correlated runs into generator revisions and decide each repo's state at each revision."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from forge_status_pipeline.config import DownstreamRepo, ForgeConfig
from forge_status_pipeline.fetch import GeneratorCommit, RepoRuns
from forge_status_pipeline.models import (
    OUTCOME_SEVERITY,
    CellState,
    ForgeRevision,
    RepoStatus,
    RevisionCell,
    StatusReport,
    WorkflowRun,
)

# Pull-request runs build someone's proposal, not what the bot pushed, so they never decide a cell.
DECIDING_EVENTS = frozenset({"push", "workflow_dispatch", "schedule"})
BUILT_STATES = frozenset({"passing", "failing", "pending", "inconclusive"})


def deciding_runs(runs: Sequence[WorkflowRun], repo: DownstreamRepo) -> list[WorkflowRun]:
    """Pick the runs that decide ``repo``'s cell: the newest run of each counted workflow.

    Only runs on the repo's default branch from a push, a manual dispatch or a schedule count.
    Workflows are distinguished by id or file path, since GitHub replaces a workflow's display name
    with its path when it fails to start.
    """
    newest: dict[str, WorkflowRun] = {}
    for run in runs:
        if run.repo != repo.full_name or run.head_branch != repo.branch:
            continue
        if run.event not in DECIDING_EVENTS or not repo.counts_workflow(run.workflow_path):
            continue
        key = run.workflow_key
        current = newest.get(key)
        if current is None or _recency(run) > _recency(current):
            newest[key] = run
    return sorted(newest.values(), key=lambda run: run.run_id)


def _recency(run: WorkflowRun) -> tuple[datetime, int, int]:
    return (run.created_at or run.updated_at, run.run_id, run.run_attempt)


def decide_cell(runs: Sequence[WorkflowRun], repo: DownstreamRepo) -> RevisionCell:
    """Decide one repo's state at one revision: the worst of its deciding runs."""
    deciding = deciding_runs(runs, repo)
    if not deciding:
        return RevisionCell(repo=repo.full_name, state="not_rebuilt")
    worst = max(deciding, key=lambda run: OUTCOME_SEVERITY[run.outcome])
    durations = [run.duration_seconds for run in deciding if run.duration_seconds is not None]
    return RevisionCell(
        repo=repo.full_name,
        state=worst.outcome,
        label=worst.label,
        run_ids=[run.run_id for run in deciding],
        duration_seconds=max(durations) if durations else None,
    )


def _revision_timestamp(runs: Sequence[WorkflowRun]) -> datetime:
    return min(run.commit_timestamp or run.created_at or run.updated_at for run in runs)


def _mark_regressions(revisions: list[ForgeRevision], repos: Sequence[DownstreamRepo]) -> None:
    """Flag cells that fail where the repo passed the last time a build of it was conclusive.

    Walks oldest to newest. Cancelled, skipped and unfinished builds prove nothing either way, so
    they neither break nor reset the comparison.
    """
    # Looked up once, so the walk stays linear in repos × revisions.
    cells_by_repo = [{cell.repo: cell for cell in revision.cells} for revision in revisions]
    for repo in repos:
        last_conclusive: CellState | None = None
        last_passing_sha: str | None = None
        for revision, cells in zip(reversed(revisions), reversed(cells_by_repo), strict=True):
            cell = cells.get(repo.full_name)
            if cell is None:
                continue
            if cell.state == "failing":
                cell.last_passing_sha = last_passing_sha
                if last_conclusive == "passing":
                    cell.regression = True
                    revision.regressions.append(repo.full_name)
            if cell.state in ("passing", "failing"):
                last_conclusive = cell.state
            if cell.state == "passing":
                last_passing_sha = revision.forge_sha


def build_report(
    config: ForgeConfig,
    results: Sequence[RepoRuns],
    *,
    generated_at: datetime,
    generator_commits: Mapping[str, GeneratorCommit] | None = None,
    extra_warnings: Sequence[str] = (),
) -> StatusReport:
    """Build the status report from every repo's fetch result (one per configured repo)."""
    by_repo = {result.repo.full_name: result for result in results}
    unavailable_names = {name for name, result in by_repo.items() if not result.available}
    all_runs = [run for result in results for run in result.runs]

    runs_by_sha: dict[str, list[WorkflowRun]] = defaultdict(list)
    unattributed: list[WorkflowRun] = []
    for run in all_runs:
        if run.forge_sha:
            runs_by_sha[run.forge_sha].append(run)
        else:
            unattributed.append(run)

    revisions = [
        _build_revision(sha, runs, config.repos, unavailable_names, generator_commits or {})
        for sha, runs in runs_by_sha.items()
    ]
    revisions.sort(key=lambda revision: (revision.timestamp, revision.forge_sha), reverse=True)
    _mark_regressions(revisions, config.repos)

    warnings = [warning for result in results for warning in result.warnings]
    warnings.extend(extra_warnings)
    for result in results:
        if result.renamed_to:
            warnings.append(
                f"{result.repo.full_name} was renamed to {result.renamed_to}; update the config"
            )
    repo_statuses = [
        _repo_status(repo, by_repo.get(repo.full_name), config, generated_at)
        for repo in config.repos
    ]
    unavailable = [result.error for result in results if result.error is not None]
    unattributed.sort(key=lambda run: (run.created_at or run.updated_at, run.run_id), reverse=True)
    return StatusReport(
        generated_at=generated_at,
        generator=config.generator.full_name if config.generator else None,
        site_url=config.site_url,
        stale_after_hours=config.stale_after_hours,
        repos=repo_statuses,
        revisions=revisions,
        unattributed=unattributed,
        unavailable=unavailable,
        warnings=warnings,
    )


def _build_revision(
    sha: str,
    runs: list[WorkflowRun],
    repos: Sequence[DownstreamRepo],
    unavailable: set[str],
    generator_commits: Mapping[str, GeneratorCommit],
) -> ForgeRevision:
    runs = sorted(runs, key=lambda run: (run.repo, run.created_at or run.updated_at, run.run_id))
    # Grouped first, so deciding each repo's cell looks only at that repo's runs.
    runs_by_repo: dict[str, list[WorkflowRun]] = defaultdict(list)
    for run in runs:
        runs_by_repo[run.repo].append(run)
    cells = [
        RevisionCell(repo=repo.full_name, state="unavailable")
        if repo.full_name in unavailable
        else decide_cell(runs_by_repo.get(repo.full_name, []), repo)
        for repo in repos
    ]
    forge_run = next((run for run in runs if run.forge_run_url), None)
    commit = generator_commits.get(sha)
    return ForgeRevision(
        forge_sha=sha,
        forge_run_url=forge_run.forge_run_url if forge_run else None,
        forge_run_id=forge_run.forge_run_id if forge_run else None,
        timestamp=_revision_timestamp(runs),
        runs=runs,
        cells=cells,
        passing=sum(cell.state == "passing" for cell in cells),
        total=sum(cell.state in BUILT_STATES for cell in cells),
        pending=sum(cell.state == "pending" for cell in cells),
        subject=commit.subject if commit else None,
        commit_url=commit.html_url if commit and commit.html_url else None,
    )


def _repo_status(
    repo: DownstreamRepo, result: RepoRuns | None, config: ForgeConfig, now: datetime
) -> RepoStatus:
    status = RepoStatus(
        repo=repo.full_name, sram=repo.sram, slot=repo.slot, actions_url=repo.actions_url
    )
    if result is None:
        return status.model_copy(
            update={"available": False, "reason": "error", "detail": "not fetched in this run"}
        )
    if result.error is not None:
        return status.model_copy(
            update={
                "available": False,
                "reason": result.error.reason,
                "detail": result.error.detail,
            }
        )
    on_branch = [run for run in result.runs if run.head_branch == repo.branch]
    newest = max((run.created_at or run.updated_at for run in on_branch), default=None)
    stale = newest is None or now - newest > timedelta(hours=config.stale_after_hours)
    return status.model_copy(
        update={
            "renamed_to": result.renamed_to,
            "runs_fetched": len(result.runs),
            "pages_fetched": result.pages,
            "newest_run_at": newest,
            "stale": stale,
        }
    )
