"""The ``forge-status notify`` and ``forge-status checks`` commands, for runs outside Dagster."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import click

from forge_status_pipeline.site import default_site_dir

if TYPE_CHECKING:
    from forge_status_pipeline.changes import ChangeList
    from forge_status_pipeline.models import StatusReport

log = logging.getLogger(__name__)

site_dir_option = click.option(
    "--site-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Site folder containing status.json (default: $FORGE_STATUS_SITE_DIR or ./_site).",
)


def load_site_report(site_dir: Path) -> StatusReport:
    """Read ``site_dir/status.json``; raise a ClickException naming the file if it is unusable."""
    from pydantic import ValidationError

    from forge_status_pipeline.models import StatusReport

    path = site_dir / "status.json"
    try:
        return StatusReport.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise click.ClickException(
            f"{path} not found; write the site first (forge-status site or the Dagster job)"
        ) from None
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "file"
        raise click.ClickException(
            f"{path} is not a valid status report ({location}: {first['msg']})"
        ) from None


def describe_changes(change_list: ChangeList) -> str:
    if change_list.first_sighting:
        return f"first sighting: {change_list.baseline_note}"
    counts = ", ".join(
        f"{kind} {change_list.count(kind)}"
        for kind in ("broken", "still_broken", "fixed", "green")
        if change_list.count(kind)
    )
    since = f"{change_list.previous_generated_at:%Y-%m-%d %H:%M} UTC"
    return f"{len(change_list.changes)} changes since {since}" + (f": {counts}" if counts else "")


@click.command("notify")
@site_dir_option
def notify_command(site_dir: Path | None) -> None:
    """Record the site's report in history.json, list what changed and send it to the webhooks.

    Reads status.json from the site folder, adds it to history.json, writes changes.json, and
    sends each change not yet sent to SLACK_WEBHOOK_URL and DISCORD_WEBHOOK_URL (each optional),
    recording it in notify-state.json. Publish the folder afterwards so the next run can restore
    both files. A failed post does not fail the command: the change stays queued for the next run.
    """
    from forge_status_pipeline.changes import record_and_compare
    from forge_status_pipeline.history import baseline_message
    from forge_status_pipeline.notify import deliver_change_list, webhooks_from_env

    folder = site_dir or default_site_dir()
    report = load_site_report(folder)
    change_list, recorded = record_and_compare(folder, report)
    if recorded.problem is not None:
        log.warning("%s", baseline_message(recorded.problem))
    click.echo(describe_changes(change_list))
    for repo in change_list.new_repos:
        click.echo(f"first sighting of {repo}: its states are a baseline, not changes")

    delivery = deliver_change_list(folder, webhooks_from_env())
    if delivery.skipped_reason:
        click.echo(f"no notification sent: {delivery.skipped_reason}")
        return
    click.echo(
        f"sent {len(delivery.sent)} messages ({', '.join(delivery.channels)}); "
        f"{len(delivery.failed)} failed; {len(delivery.queued)} changes queued for the next run"
    )
    for channel, change_id, reason in delivery.failed:
        click.echo(f"warning: {channel}: {change_id} not sent ({reason})", err=True)


@click.command("checks")
@site_dir_option
@click.option(
    "--strict", is_flag=True, help="Exit with status 1 when a check of severity ERROR fails."
)
def checks_command(site_dir: Path | None, strict: bool) -> None:
    """Print the report checks (the Dagster asset checks) for the site's status.json."""
    from forge_status_pipeline.verdicts import report_verdicts

    report = load_site_report(site_dir or default_site_dir())
    verdicts = report_verdicts(report)
    for verdict in verdicts:
        outcome = "pass" if verdict.passed else f"FAIL ({verdict.severity})"
        click.echo(f"{outcome:<12} {verdict.name}: {verdict.summary}")
    if strict and any(not v.passed and v.severity == "ERROR" for v in verdicts):
        raise SystemExit(1)
