"""The Dagster code location: ``dagster asset materialize -m forge_status_pipeline.definitions``."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    ScheduleDefinition,
    define_asset_job,
    in_process_executor,
)

from forge_status_pipeline.config import load_config
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
        executor=in_process_executor,
    )


defs = build_definitions()
