"""The pipeline with one asset for every repo's runs instead of one asset per repo.

It does the same work as the pipeline: every repo fetched concurrently, the report, the site,
the history and the checks. A run stores events for one runs asset instead of one per repo, and
no single repo can be rerun on its own. ``dagster_vs_cli.py`` times it beside the real run to
show what the per-repo assets cost.

    dagster asset materialize -f benchmarks/dagster_one_key.py --select '*'
"""

from collections.abc import Iterator

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Definitions,
    MaterializeResult,
    in_process_executor,
    multi_asset,
)

from forge_status_pipeline.config import load_config
from forge_status_pipeline.defs.assets import CONFIG_KEY, build_site_output_assets
from forge_status_pipeline.defs.checks import build_report_checks
from forge_status_pipeline.defs.operations import (
    status_history_and_changes,
    webhooks_resource_from_env,
)
from forge_status_pipeline.defs.report_assets import build_report_assets
from forge_status_pipeline.defs.resources import (
    ForgeStatusPaths,
    GitHubResource,
    github_resource_from_env,
)
from forge_status_pipeline.fetch import iter_repo_runs

ALL_RUNS_KEY = AssetKey("downstream_runs")
config = load_config()


@multi_asset(
    name="downstream_runs",
    specs=[AssetSpec(CONFIG_KEY, skippable=True), AssetSpec(ALL_RUNS_KEY, deps=[CONFIG_KEY])],
    can_subset=True,
)
def downstream_runs(
    context: AssetExecutionContext, github: GitHubResource, paths: ForgeStatusPaths
) -> Iterator[MaterializeResult]:  # type: ignore[type-arg]
    if CONFIG_KEY in context.selected_asset_keys:
        yield MaterializeResult(asset_key=CONFIG_KEY)
    if ALL_RUNS_KEY in context.selected_asset_keys:
        store = paths.store()
        for result in iter_repo_runs(github.client(), config, concurrency=github.concurrency):
            store.save_repo_runs(result)
        yield MaterializeResult(asset_key=ALL_RUNS_KEY)


defs = Definitions(
    assets=[
        downstream_runs,
        build_report_assets(config, runs_keys=[ALL_RUNS_KEY]),
        *build_site_output_assets(),
        status_history_and_changes,
    ],
    asset_checks=build_report_checks(),
    resources={
        "github": github_resource_from_env(),
        "paths": ForgeStatusPaths(),
        "webhooks": webhooks_resource_from_env(),
    },
    executor=in_process_executor,
)
