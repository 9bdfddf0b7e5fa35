"""The Dagster code location: ``dagster asset materialize -m forge_status_pipeline.definitions``."""

from __future__ import annotations

import os

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    ExecutorDefinition,
    ScheduleDefinition,
    define_asset_job,
    in_process_executor,
    multiprocess_executor,
)

from forge_status_pipeline.config import InvalidSettingError, load_config
from forge_status_pipeline.defs.assets import (
    build_repo_runs_assets,
    build_site_output_assets,
)
from forge_status_pipeline.defs.checks import build_report_checks
from forge_status_pipeline.defs.operations import (
    forge_status_notify_job,
    status_history_and_changes,
    webhooks_resource_from_env,
)
from forge_status_pipeline.defs.report_assets import build_report_assets
from forge_status_pipeline.defs.resources import ForgeStatusPaths, github_resource_from_env
from forge_status_pipeline.defs.sensors import status_change_notification_sensor

EXECUTOR_ENV_VAR = "FORGE_STATUS_EXECUTOR"
# In-process by default: a run of this pipeline is a chain of short steps, and each step in a
# process of its own would first spend seconds importing Dagster and the project again.
EXECUTORS: dict[str, ExecutorDefinition] = {
    "in_process": in_process_executor,
    "multiprocess": multiprocess_executor,
}


def executor_from_env() -> ExecutorDefinition:
    """Return the executor named by ``$FORGE_STATUS_EXECUTOR`` (default ``in_process``)."""
    name = os.environ.get(EXECUTOR_ENV_VAR) or "in_process"
    if name not in EXECUTORS:
        raise InvalidSettingError(
            f"{EXECUTOR_ENV_VAR}={name!r} is invalid; use one of {', '.join(EXECUTORS)}"
        )
    return EXECUTORS[name]


def build_definitions() -> Definitions:
    """Build the definitions for the repos in the config file (``$FORGE_STATUS_CONFIG``)."""
    config = load_config()
    forge_status_job = define_asset_job(
        "forge_status_job",
        selection=AssetSelection.all(),
        description="Refresh every downstream repo's runs, the report and the status site.",
    )
    forge_status_schedule = ScheduleDefinition(
        name="forge_status_schedule",
        job=forge_status_job,
        cron_schedule="0 */4 * * *",
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
        description="Every 4 hours, UTC: often enough to see a chip build finish the same day.",
    )
    return Definitions(
        assets=[
            build_repo_runs_assets(config),
            build_report_assets(config),
            *build_site_output_assets(),
            status_history_and_changes,
        ],
        asset_checks=build_report_checks(),
        jobs=[forge_status_job, forge_status_notify_job],
        schedules=[forge_status_schedule],
        sensors=[status_change_notification_sensor],
        resources={
            "github": github_resource_from_env(),
            "paths": ForgeStatusPaths(),
            "webhooks": webhooks_resource_from_env(),
        },
        executor=executor_from_env(),
    )


defs = build_definitions()
