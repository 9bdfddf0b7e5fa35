"""The refresh as plain functions: fetch, correlate, group. The CLI and the Dagster assets call these."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from forge_status_pipeline.config import ForgeConfig, InvalidSettingError
from forge_status_pipeline.fetch import (
    DEFAULT_CONCURRENCY,
    GeneratorCommit,
    RepoRuns,
    fetch_all_runs,
    fetch_generator_commits,
)
from forge_status_pipeline.github import GitHubClient
from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.report import build_report

NOW_ENV_VAR = "FORGE_STATUS_NOW"


def current_time() -> datetime:
    """Return now in UTC, or ``$FORGE_STATUS_NOW`` (ISO 8601) for reproducible reports."""
    fixed = os.environ.get(NOW_ENV_VAR)
    if fixed:
        try:
            parsed = datetime.fromisoformat(fixed.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidSettingError(
                f"{NOW_ENV_VAR}={fixed!r} is not an ISO 8601 time; use e.g. 2025-12-16T02:10:00Z"
            ) from None
        if parsed.tzinfo is None:
            raise InvalidSettingError(
                f"{NOW_ENV_VAR}={fixed!r} has no time zone; add Z or an offset"
            )
        return parsed.astimezone(UTC)
    return datetime.now(UTC)


def generator_commits_for(
    client: GitHubClient,
    config: ForgeConfig,
    results: list[RepoRuns],
    concurrency: int,
    failures: list[str] | None = None,
) -> dict[str, GeneratorCommit]:
    """Fetch the subject of every generator commit the runs name, if the generator is configured."""
    if config.generator is None:
        return {}
    shas = {run.forge_sha for result in results for run in result.runs if run.forge_sha}
    return fetch_generator_commits(
        client, config.generator, shas, concurrency=concurrency, failures=failures
    )


def refresh_report(
    config: ForgeConfig,
    client: GitHubClient,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    now: datetime | None = None,
) -> StatusReport:
    """Fetch every configured repo and build the report."""
    results = fetch_all_runs(client, config, concurrency=concurrency)
    failures: list[str] = []
    commits = generator_commits_for(client, config, results, concurrency, failures)
    return build_report(
        config,
        results,
        generated_at=now or current_time(),
        generator_commits=commits,
        extra_warnings=sorted(failures),
    )
