"""The report's history, the change list and the job that sends notifications about it."""

import os
from collections.abc import Iterator
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    ConfigurableResource,
    EnvVar,
    MaterializeResult,
    MetadataValue,
    OpExecutionContext,
    job,
    multi_asset,
    op,
)
from pydantic import Field

from forge_status_pipeline.changes import CHANGES_FILE, ChangeList, compute_changes, write_changes
from forge_status_pipeline.defs.assets import REPORT_KEY
from forge_status_pipeline.defs.resources import ForgeStatusPaths
from forge_status_pipeline.history import (
    HISTORY_FILE,
    MAX_ENTRIES,
    baseline_message,
    entries_before,
    load_history,
    record_report,
)
from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.notify import (
    WEBHOOK_ENV_VARS,
    Webhook,
    deliver_change_list,
    webhooks_from_urls,
)
from forge_status_pipeline.notify_messages import message_spans, render_discord
from forge_status_pipeline.notify_state import STATE_FILE
from forge_status_pipeline.site import check_publishable

HISTORY_KEY = AssetKey("status_history")
CHANGES_KEY = AssetKey("status_changes")


class WebhooksResource(ConfigurableResource):  # type: ignore[type-arg]
    """Slack and Discord incoming webhook URLs, each optional.

    Set them with EnvVar so the Dagster UI shows the variable's name and never the URL, which
    contains the webhook's secret.
    """

    slack_webhook_url: str | None = Field(default=None, description="Slack incoming webhook.")
    discord_webhook_url: str | None = Field(default=None, description="Discord webhook.")

    def webhooks(self) -> list[Webhook]:
        return webhooks_from_urls(
            {"slack": self.slack_webhook_url, "discord": self.discord_webhook_url}
        )


def webhooks_resource_from_env() -> WebhooksResource:
    """Point the resource at SLACK_WEBHOOK_URL and DISCORD_WEBHOOK_URL if they are set now."""
    urls = {
        channel: EnvVar(name) if os.environ.get(name) else None
        for channel, name in WEBHOOK_ENV_VARS.items()
    }
    return WebhooksResource(slack_webhook_url=urls["slack"], discord_webhook_url=urls["discord"])


HISTORY_DESCRIPTION = (
    f"Every refresh's cell states, appended to history.json in the site folder (the newest "
    f"{MAX_ENTRIES} entries are kept). The change list compares each report with the entries "
    "before it. The file is published with the site, so a fresh CI runner restores it with "
    "the site. When it is missing or unreadable, this report starts a new history and is "
    "marked as the first sighting."
)
CHANGES_DESCRIPTION = (
    "The changes since the previous report: repos newly broken (with the generator commit that "
    "broke them), still broken at a new revision, fixed, and revisions newly passing everywhere. "
    "Written to changes.json in the site folder. Builds that have not finished never count as a "
    "change. With no earlier report this one is the baseline and the list is empty. The "
    "notification sensor sends each new change to Slack and Discord."
)


@multi_asset(
    name="status_history_and_changes",
    specs=[
        AssetSpec(
            key=HISTORY_KEY,
            deps=[REPORT_KEY],
            group_name="changes",
            kinds={"json"},
            description=HISTORY_DESCRIPTION,
            skippable=True,
        ),
        AssetSpec(
            key=CHANGES_KEY,
            deps=[HISTORY_KEY],
            group_name="changes",
            kinds={"json"},
            description=CHANGES_DESCRIPTION,
            skippable=True,
        ),
    ],
    can_subset=True,
)
def status_history_and_changes(
    context: AssetExecutionContext, paths: ForgeStatusPaths
) -> Iterator[MaterializeResult]:  # type: ignore[type-arg]
    """Both in one step, since a Dagster step has a fixed cost and the two read the same files."""
    report = paths.store().load_report()
    if HISTORY_KEY in context.selected_asset_keys:
        yield _record_history(context, paths, report)
    if CHANGES_KEY in context.selected_asset_keys:
        yield _list_changes(context, paths, report)


def _record_history(
    context: AssetExecutionContext, paths: ForgeStatusPaths, report: StatusReport
) -> MaterializeResult:  # type: ignore[type-arg]
    check_publishable(report)
    path = paths.site() / HISTORY_FILE
    recorded = record_report(path, report)
    if recorded.problem is not None:
        context.log.warning(baseline_message(recorded.problem))
    context.log.info(
        "recorded the report of %s; history has %d entries (max %d)",
        report.generated_at,
        recorded.entries,
        MAX_ENTRIES,
    )
    return MaterializeResult(
        asset_key=HISTORY_KEY,
        metadata={
            "path": MetadataValue.path(str(path.resolve())),
            "entries": recorded.entries,
            "first_sighting": not recorded.previous,
            "history_problem": recorded.problem or "none",
        },
    )


def _list_changes(
    context: AssetExecutionContext, paths: ForgeStatusPaths, report: StatusReport
) -> MaterializeResult:  # type: ignore[type-arg]
    site_dir = paths.site()
    loaded = load_history(site_dir / HISTORY_FILE)
    previous = entries_before(loaded.entries, report.generated_at)
    note = baseline_message(loaded.problem) if loaded.problem else None
    change_list = compute_changes(report, previous, baseline_note=note)
    path = site_dir / CHANGES_FILE
    write_changes(path, change_list)
    context.log.info(
        "%d changes since %s%s",
        len(change_list.changes),
        change_list.previous_generated_at or "no earlier report",
        " (first sighting)" if change_list.first_sighting else "",
    )
    return MaterializeResult(
        asset_key=CHANGES_KEY, metadata=_changes_metadata(change_list, str(path.resolve()))
    )


def _changes_metadata(change_list: ChangeList, path: str) -> dict[str, Any]:
    lines = [
        "- " + render_discord(message_spans(change, change_list.generator, change_list.site_url))
        for change in change_list.changes
    ]
    if change_list.first_sighting:
        lines = [f"First sighting: {change_list.baseline_note}"]
    return {
        "path": MetadataValue.path(path),
        "first_sighting": change_list.first_sighting,
        "changes": len(change_list.changes),
        "broken": change_list.count("broken"),
        "still_broken": change_list.count("still_broken"),
        "fixed": change_list.count("fixed"),
        "green": change_list.count("green"),
        "new_repos": MetadataValue.json(change_list.new_repos),
        "change_ids": MetadataValue.json([change.id for change in change_list.changes]),
        "list": MetadataValue.md("\n".join(lines) or "No changes."),
    }


@op(
    description=(
        "Send each change in changes.json that no channel has had yet to the Slack and Discord "
        "webhooks, recording what was sent in notify-state.json. A failed post is logged and "
        "retried on the next refresh; it never fails the run."
    )
)
def send_status_notifications(
    context: OpExecutionContext, paths: ForgeStatusPaths, webhooks: WebhooksResource
) -> None:
    site_dir = paths.site()
    delivery = deliver_change_list(site_dir, webhooks.webhooks())
    if delivery.skipped_reason:
        context.log.info("no notification sent: %s", delivery.skipped_reason)
        return
    context.log.info(
        "sent %d messages on %s; %d failed; %d changes queued in %s",
        len(delivery.sent),
        ", ".join(delivery.channels),
        len(delivery.failed),
        len(delivery.queued),
        site_dir / STATE_FILE,
    )


@job(
    name="forge_status_notify_job",
    description="Send notifications for the changes in the newest change list, once each.",
)
def forge_status_notify_job() -> None:
    send_status_notifications()
