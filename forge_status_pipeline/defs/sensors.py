"""The sensor that sends notifications after each new change list."""

from dagster import (
    DefaultSensorStatus,
    EventLogEntry,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    asset_sensor,
)

from forge_status_pipeline.changes import CHANGES_FILE, load_changes
from forge_status_pipeline.defs.operations import (
    CHANGES_KEY,
    WebhooksResource,
    forge_status_notify_job,
)
from forge_status_pipeline.defs.resources import ForgeStatusPaths
from forge_status_pipeline.notify_state import STATE_FILE, load_state, unsent_changes


@asset_sensor(
    asset_key=CHANGES_KEY,
    job=forge_status_notify_job,
    name="status_change_notification_sensor",
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "After each materialization of status_changes, launch forge_status_notify_job if a "
        "webhook is configured and some change (new, or queued after a failed post) has not "
        "been sent. Skips without a run otherwise, so the run list shows only runs that send."
    ),
)
def status_change_notification_sensor(
    context: SensorEvaluationContext,
    asset_event: EventLogEntry,
    paths: ForgeStatusPaths,
    webhooks: WebhooksResource,
) -> RunRequest | SkipReason:
    configured = webhooks.webhooks()
    if not configured:
        return SkipReason("no webhook configured; set SLACK_WEBHOOK_URL or DISCORD_WEBHOOK_URL")

    site_dir = paths.site()
    change_list = load_changes(site_dir / CHANGES_FILE)
    changes = change_list.changes if change_list is not None else []
    state, problem = load_state(site_dir / STATE_FILE)
    unsent = unsent_changes(state, changes, [webhook.channel for webhook in configured])
    # An unreadable state is repaired by the notify job, so it still gets a run.
    if not unsent and problem is None:
        return SkipReason(f"all {len(changes)} changes were already sent")

    context.log.info("%d changes to send", len(unsent))
    # One notify run per materialization: the run that wrote the change list names it.
    return RunRequest(run_key=f"status_changes:{asset_event.run_id}")
