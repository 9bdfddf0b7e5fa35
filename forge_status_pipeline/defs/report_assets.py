"""The correlated runs and the status report, computed in one step from each repo's latest runs."""

from collections.abc import Iterator, Sequence
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from forge_status_pipeline.config import DownstreamRepo, ForgeConfig
from forge_status_pipeline.defs.assets import CORRELATED_KEY, REPORT_KEY, repo_asset_keys
from forge_status_pipeline.defs.resources import ForgeStatusPaths, GitHubResource
from forge_status_pipeline.fetch import RepoRuns, fetch_generator_commits
from forge_status_pipeline.models import StatusReport, UnavailableRepo
from forge_status_pipeline.pipeline import current_time
from forge_status_pipeline.render import render_markdown
from forge_status_pipeline.render.text import revision_summary
from forge_status_pipeline.report import build_report
from forge_status_pipeline.store import StateStore


def load_or_missing(store: StateStore, repo: DownstreamRepo) -> RepoRuns:
    """Return the repo's latest fetch result, or an unavailable one if it was never fetched."""
    loaded = store.load_repo_runs(repo)
    if loaded is not None:
        return loaded
    return RepoRuns(
        repo=repo,
        error=UnavailableRepo(
            repo=repo.full_name, reason="error", detail="never fetched; materialize its runs asset"
        ),
    )


def build_report_assets(
    config: ForgeConfig, runs_keys: Sequence[AssetKey] | None = None
) -> AssetsDefinition:
    """Two assets, one step: a Dagster step has a fixed cost, and the report needs both anyway.

    They read the runs that the assets ``runs_keys`` stored (default: each repo's runs asset).
    """
    specs = [
        AssetSpec(
            key=CORRELATED_KEY,
            deps=list(runs_keys or repo_asset_keys(config.repos).values()),
            group_name="report",
            kinds={"python"},
            description=(
                "Every repo's latest runs side by side, each tied to the generator commit its "
                "commit message names, with each generator commit's subject line. Commits never "
                "change, so the cache answers repeated subject lookups without a request."
            ),
            skippable=True,
        ),
        AssetSpec(
            key=REPORT_KEY,
            deps=[CORRELATED_KEY],
            group_name="report",
            kinds={"python"},
            description=(
                "Runs grouped by generator commit, newest first, with passing/total per revision "
                "and the repos that regressed. The page, the checks and the notifications read it."
            ),
            skippable=True,
        ),
    ]

    @multi_asset(name="status_report_step", specs=specs, can_subset=True)
    def report_step(
        context: AssetExecutionContext, github: GitHubResource, paths: ForgeStatusPaths
    ) -> Iterator[MaterializeResult]:  # type: ignore[type-arg]
        store = paths.store()
        results = [load_or_missing(store, repo) for repo in config.repos]
        if CORRELATED_KEY in context.selected_asset_keys:
            yield _correlate(config, results, github, store)
        if REPORT_KEY in context.selected_asset_keys:
            report = build_report(
                config,
                results,
                generated_at=current_time(),
                generator_commits=store.load_generator_commits(),
                extra_warnings=store.load_generator_commit_failures(),
            )
            store.save_report(report)
            yield MaterializeResult(asset_key=REPORT_KEY, metadata=_report_metadata(report))

    return report_step


def _correlate(
    config: ForgeConfig, results: list[RepoRuns], github: GitHubResource, store: StateStore
) -> MaterializeResult:  # type: ignore[type-arg]
    commits = {}
    failures: list[str] = []
    if config.generator is not None:
        shas = {run.forge_sha for result in results for run in result.runs if run.forge_sha}
        commits = fetch_generator_commits(
            github.client(),
            config.generator,
            shas,
            concurrency=github.concurrency,
            failures=failures,
        )
    store.save_generator_commits(commits, sorted(failures))
    runs = [run for result in results for run in result.runs]
    return MaterializeResult(
        asset_key=CORRELATED_KEY,
        metadata={
            "runs": len(runs),
            "attributed_runs": sum(1 for run in runs if run.forge_sha),
            "generator_commits": len({run.forge_sha for run in runs if run.forge_sha}),
            "unavailable_repos": sum(1 for result in results if not result.available),
        },
    )


def _report_metadata(report: StatusReport) -> dict[str, Any]:
    latest = report.latest
    metadata: dict[str, Any] = {
        "revisions": len(report.revisions),
        "unattributed_runs": len(report.unattributed),
        "unavailable_repos": len(report.unavailable),
        "overall": report.overall_state,
        "report": MetadataValue.md(render_markdown(report, max_revisions=5)),
    }
    if latest is not None:
        metadata["newest_revision"] = latest.forge_sha
        metadata["summary"] = revision_summary(latest.passing, latest.total, latest.pending)
    if report.site_url:
        metadata["page"] = MetadataValue.url(report.site_url)
    return metadata
