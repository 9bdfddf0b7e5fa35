"""The ``forge-status`` command line: list, matrix, status, site and the offline demo."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from forge_status_pipeline.config import (
    CONFIG_ENV_VAR,
    ConfigError,
    ForgeConfig,
    InvalidSettingError,
    load_config,
)
from forge_status_pipeline.fetch import DEFAULT_CONCURRENCY

if TYPE_CHECKING:
    from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.notify_cli import checks_command, notify_command

log = logging.getLogger("forge_status_pipeline")


def _load(config_path: Path | None) -> ForgeConfig:
    try:
        return load_config(config_path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help=f"Path of downstream_repos.yaml (default: ${CONFIG_ENV_VAR} or ./downstream_repos.yaml).",
)


class SettingError(click.ClickException):
    """An environment setting or file the command cannot use."""


class ForgeStatusGroup(click.Group):
    """Turns file-system errors and invalid settings into one-line messages, not tracebacks."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except OSError as error:
            target = f" {error.filename}" if error.filename else ""
            raise SettingError(
                f"cannot access{target}: {error.strerror or error}; check the path and its "
                "permissions"
            ) from None
        except InvalidSettingError as error:
            raise SettingError(str(error)) from None


@click.group(cls=ForgeStatusGroup)
@click.option(
    "-v", "--verbose", is_flag=True, help="Log progress and retries to stderr (before the command)."
)
def main(verbose: bool) -> None:
    """Show which downstream GitHub Actions builds each generator commit broke."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@main.command("list")
@config_option
def list_repos(config_path: Path | None) -> None:
    """List the downstream repos, one per line."""
    config = _load(config_path)
    for repo in config.repos:
        click.echo(f"{repo.full_name}  sram={repo.sram}  slot={repo.slot}  config={repo.config}")


@main.command()
@config_option
def matrix(config_path: Path | None) -> None:
    """Print a GitHub Actions matrix (JSON, one line) with one include entry per repo."""
    config = _load(config_path)
    include = [
        {
            "repo": repo.full_name,
            "config": repo.config,
            "secret": repo.deploy_key_secret,
            "sram": repo.sram,
            "slot": repo.slot,
        }
        for repo in config.repos
    ]
    click.echo(json.dumps({"include": include}, separators=(",", ":")))


def _refresh(config: ForgeConfig, concurrency: int) -> StatusReport:
    from forge_status_pipeline.github import GitHubClient
    from forge_status_pipeline.pipeline import refresh_report
    from forge_status_pipeline.render.text import plain

    client = GitHubClient.from_env()
    report = refresh_report(config, client, concurrency=concurrency)
    for item in report.unavailable:
        click.echo(
            f"warning: {item.repo} unavailable ({item.reason}): {plain(item.detail)}", err=True
        )
    for warning in report.warnings:
        click.echo(f"warning: {plain(warning)}", err=True)
    return report


def _exit_if_nothing_read(report: StatusReport) -> None:
    if report.repos and not any(status.available for status in report.repos):
        raise click.ClickException("no downstream repo could be read")


@main.command()
@config_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["terminal", "md", "json", "html"]),
    default="terminal",
    show_default=True,
    help="Output format.",
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write to this file."
)
@click.option(
    "--width",
    type=click.IntRange(30, 1000),
    default=None,
    help="Terminal view width in columns, at least 30 (default: the terminal's, or 80 when piped).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 32),
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    help="Repos fetched at once.",
)
def status(
    config_path: Path | None,
    output_format: str,
    output: Path | None,
    width: int | None,
    concurrency: int,
) -> None:
    """Fetch every repo's runs and print the report.

    Exits non-zero only when no repo could be read; unreadable repos are listed on stderr.
    """
    from forge_status_pipeline.render import render

    config = _load(config_path)
    report = _refresh(config, concurrency)
    to_terminal = output is None and sys.stdout.isatty()
    colour = to_terminal and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    columns = width or (shutil.get_terminal_size().columns if to_terminal else 80)
    text = render(report, output_format, width=columns, colour=colour)
    if output is not None:
        from forge_status_pipeline.site import write_atomic

        # A report that read nothing must not replace a good file.
        _exit_if_nothing_read(report)
        write_atomic(output, text)
    else:
        click.echo(text, nl=False)
    _exit_if_nothing_read(report)


@main.command()
@config_option
@click.option(
    "--site-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder to write (default: $FORGE_STATUS_SITE_DIR or ./_site).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 32),
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    help="Repos fetched at once.",
)
def site(config_path: Path | None, site_dir: Path | None, concurrency: int) -> None:
    """Refresh and write the page and the report files.

    The Dagster job writes these too, and also history.json, changes.json, the badges and feeds.
    """
    from forge_status_pipeline.site import EmptyRefreshError, default_site_dir, write_site

    config = _load(config_path)
    report = _refresh(config, concurrency)
    target = site_dir or default_site_dir()
    try:
        written = write_site(report, target)
    except EmptyRefreshError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"wrote {len(written)} files to {target}")


@main.command()
@click.option(
    "--snapshot",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Snapshot folder to serve (default: the bundled one).",
)
def demo(snapshot: Path | None) -> None:
    """Run the whole Dagster pipeline offline, against the bundled snapshot served on 127.0.0.1.

    Writes the site to ./_site (or $FORGE_STATUS_SITE_DIR) and prints the terminal report.
    """
    from forge_status_pipeline.demo import SNAPSHOT_DIR, demo_environment, run_materialize
    from forge_status_pipeline.site import default_site_dir
    from forge_status_pipeline.testing.github_server import GitHubReplayServer

    with GitHubReplayServer(snapshot or SNAPSHOT_DIR) as server:
        click.echo(f"serving the GitHub snapshot at {server.url}", err=True)
        env = demo_environment(server.url)
        click.echo(
            "running: dagster asset materialize -m forge_status_pipeline.definitions", err=True
        )
        completed = run_materialize(env)
        click.echo(f"{len(server.requests)} requests answered by the snapshot server", err=True)
    if completed.returncode != 0:
        click.echo(completed.stderr[-5000:], err=True)
        raise click.ClickException(
            f"dagster asset materialize failed with exit code {completed.returncode}"
        )
    site_dir = default_site_dir()
    click.echo((site_dir / "status.txt").read_text(encoding="utf-8"), nl=False)
    click.echo(f"site written to {site_dir.resolve()}/index.html", err=True)


@main.command("serve-snapshot")
@click.option(
    "--snapshot",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Snapshot folder to serve (default: the bundled one).",
)
@click.option("--port", type=int, default=0, help="Port on 127.0.0.1 (default: any free one).")
def serve_snapshot(snapshot: Path | None, port: int) -> None:
    """Serve a GitHub snapshot on 127.0.0.1 until interrupted; point GITHUB_API_URL at it."""
    from forge_status_pipeline.demo import SNAPSHOT_DIR
    from forge_status_pipeline.testing.github_server import GitHubReplayServer

    server = GitHubReplayServer(snapshot or SNAPSHOT_DIR, port=port).start()
    click.echo(f"GITHUB_API_URL={server.url}")
    try:
        import threading

        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


@main.command("check-site")
@click.argument(
    "site_dir", required=False, type=click.Path(path_type=Path, file_okay=False), default=None
)
def check_site(site_dir: Path | None) -> None:
    """Check a written site folder and exit non-zero if it must not be published.

    The folder (default: $FORGE_STATUS_SITE_DIR or ./_site) needs index.html and a status.json
    that is a valid report in which at least one repo could be read. The publishing workflow runs
    this before uploading, so a failed or empty refresh leaves the last good page online.
    """
    from pydantic import ValidationError

    from forge_status_pipeline.models import StatusReport
    from forge_status_pipeline.site import EmptyRefreshError, check_publishable, default_site_dir

    folder = site_dir or default_site_dir()
    for name in ("index.html", "status.json"):
        path = folder / name
        if not path.is_file() or path.stat().st_size == 0:
            raise click.ClickException(
                f"not publishing: {path} is missing or empty, so the refresh did not write the site"
            )
    status_path = folder / "status.json"
    try:
        report = StatusReport.model_validate_json(status_path.read_bytes())
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "file"
        raise click.ClickException(
            f"not publishing: {status_path} is not a valid status report "
            f"({location}: {first['msg']})"
        ) from None
    if not report.repos:
        raise click.ClickException(f"not publishing: {status_path} lists no repos")
    try:
        check_publishable(report)
    except EmptyRefreshError as error:
        raise click.ClickException(str(error)) from None
    readable = sum(status.available for status in report.repos)
    click.echo(
        f"{folder} is ready to publish: {readable}/{len(report.repos)} repos read, "
        f"{len(report.revisions)} revisions, generated {report.generated_at:%Y-%m-%d %H:%M} UTC"
    )


@main.command()
def schema() -> None:
    """Print the JSON Schema of status.json."""
    from forge_status_pipeline.site import status_schema

    click.echo(status_schema(), nl=False)


main.add_command(notify_command)
main.add_command(checks_command)


if __name__ == "__main__":
    main()
