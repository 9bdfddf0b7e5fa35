"""The pipeline's Dagster definitions with every step's body replaced by one that does nothing.

Each step keeps its asset keys, dependencies and checks, so materializing these costs what
Dagster itself costs for a run of the pipeline's shape: start-up, loading the definitions,
planning and storing the events. ``dagster_vs_cli.py`` times it beside the real run.

    dagster asset materialize -f benchmarks/dagster_floor.py --select '*'
"""

from collections.abc import Iterator

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetExecutionContext,
    AssetsDefinition,
    Definitions,
    MaterializeResult,
    in_process_executor,
    multi_asset,
    multi_asset_check,
)

from forge_status_pipeline import definitions as pipeline


def idle_assets(assets_def: AssetsDefinition) -> AssetsDefinition:
    specs = list(assets_def.specs)
    # Dagster expects a step's assets in dependency order, as the pipeline's steps yield them.
    step_deps = {spec.key: {dep.asset_key for dep in spec.deps} for spec in specs}

    @multi_asset(name=assets_def.node_def.name, specs=specs, can_subset=True)
    def idle(context: AssetExecutionContext) -> Iterator[MaterializeResult]:  # type: ignore[type-arg]
        pending = [spec.key for spec in specs if spec.key in context.selected_asset_keys]
        while pending:
            ready = [key for key in pending if not step_deps[key] & set(pending)]
            for key in ready:
                yield MaterializeResult(asset_key=key)
            pending = [key for key in pending if key not in ready]

    return idle


def idle_checks(checks_def: AssetChecksDefinition) -> AssetChecksDefinition:
    @multi_asset_check(
        name=checks_def.node_def.name, specs=list(checks_def.check_specs), can_subset=True
    )
    def idle(context: AssetCheckExecutionContext) -> Iterator[AssetCheckResult]:
        for key in context.selected_asset_check_keys:
            yield AssetCheckResult(asset_key=key.asset_key, check_name=key.name, passed=True)

    return idle


defs = Definitions(
    assets=[idle_assets(assets_def) for assets_def in pipeline.defs.assets or []],  # type: ignore[arg-type]
    asset_checks=[idle_checks(checks_def) for checks_def in pipeline.defs.asset_checks or []],  # type: ignore[arg-type]
    executor=in_process_executor,
)
