"""Fetch every configured repo's runs concurrently; one repo's failure never hides the others."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Generator, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from forge_status_pipeline.config import DownstreamRepo, ForgeConfig, GeneratorRepo
from forge_status_pipeline.correlation import (
    head_commit_message,
    parse_source_reference,
    subject_line,
    to_workflow_run,
)
from forge_status_pipeline.github import GitHubClient, RepoUnavailableError
from forge_status_pipeline.models import UnavailableRepo, WorkflowRun

log = logging.getLogger(__name__)

# GitHub's "Best practices for using the REST API" recommends serial requests to stay clear of
# secondary rate limits, and its "Rate limits for the REST API" page caps concurrent requests at
# 100 and REST points at 900 per endpoint per minute. Eight is far below both caps and still
# hides most of the latency: 200 repos cost 25 round trips instead of 200. Raise it with
# --concurrency or FORGE_STATUS_CONCURRENCY; a secondary rate limit pauses every worker anyway.
DEFAULT_CONCURRENCY = 8


class RepoRuns(BaseModel):
    """The outcome of reading one repo: its correlated runs, or why it could not be read."""

    repo: DownstreamRepo
    runs: list[WorkflowRun] = Field(default_factory=list)
    pages: int = 0
    complete: bool = True
    renamed_to: str | None = None
    warnings: list[str] = Field(default_factory=list)
    error: UnavailableRepo | None = None

    @property
    def available(self) -> bool:
        return self.error is None


def _unavailable(repo: DownstreamRepo, error: RepoUnavailableError) -> RepoRuns:
    return RepoRuns(
        repo=repo,
        error=UnavailableRepo(repo=repo.full_name, reason=error.reason, detail=error.detail),
    )


@dataclass(frozen=True)
class GeneratorCommit:
    """The subject and link of a generator commit, for showing next to its revision."""

    sha: str
    subject: str | None
    html_url: str | None


def _covers_lookback(lookback: int) -> Any:
    """Return a predicate that is True once runs of more than ``lookback`` generator shas are in."""

    def enough(runs: list[dict[str, Any]]) -> bool:
        shas = set()
        for run in runs:
            sha = parse_source_reference(head_commit_message(run)).forge_sha
            if sha:
                shas.add(sha)
        return len(shas) > lookback

    return enough


def fetch_repo_runs(
    client: GitHubClient, repo: DownstreamRepo, *, lookback: int = 10, max_pages: int = 10
) -> RepoRuns:
    """Read one repo's runs and correlate each to its generator commit."""
    try:
        listing = client.list_runs(
            repo.owner, repo.name, enough=_covers_lookback(lookback), max_pages=max_pages
        )
        messages = _messages_for_headless_runs(client, repo, listing.runs)
    except RepoUnavailableError as error:
        # A request skipped under a rate limit was already announced once by the client.
        level = logging.WARNING if error.sent else logging.INFO
        log.log(level, "could not read %s: %s", repo.full_name, error)
        return _unavailable(repo, error)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        detail = client.redact(f"unexpected response from GitHub: {error!r}")
        log.warning("could not read %s: %s", repo.full_name, detail)
        return _unavailable(repo, RepoUnavailableError("error", detail))
    except Exception as error:
        # Anything else, such as a RecursionError from JSON nested deeper than Python's limit,
        # still costs only this repo, never the repos fetched beside it.
        detail = client.redact(f"failed while reading: {error!r}")
        log.warning("could not read %s: %s", repo.full_name, detail)
        return _unavailable(repo, RepoUnavailableError("error", detail))

    runs, skipped = _convert_runs(client, repo, listing.runs, messages)
    warnings = listing.warnings + skipped
    for warning in warnings:
        log.warning("%s", warning)
    if listing.renamed_to:
        log.warning("%s was renamed to %s; update the config", repo.full_name, listing.renamed_to)
    log.info(
        "fetched %d runs for %s in %d page%s",
        len(runs),
        repo.full_name,
        listing.pages,
        "" if listing.pages == 1 else "s",
    )
    return RepoRuns(
        repo=repo,
        runs=runs,
        pages=listing.pages,
        complete=listing.complete,
        renamed_to=listing.renamed_to,
        warnings=warnings,
    )


def _convert_runs(
    client: GitHubClient,
    repo: DownstreamRepo,
    raw_runs: list[dict[str, Any]],
    messages: dict[str, str],
) -> tuple[list[WorkflowRun], list[str]]:
    """Convert each raw run; a malformed one is skipped with a warning, never the whole repo."""
    runs: list[WorkflowRun] = []
    skipped: list[str] = []
    for raw in raw_runs:
        try:
            head_sha = raw.get("head_sha") if isinstance(raw, dict) else None
            commit_message = messages.get(head_sha) if isinstance(head_sha, str) else None
            runs.append(to_workflow_run(raw, repo, commit_message))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            run_id = raw.get("id") if isinstance(raw, dict) else None
            skipped.append(
                client.redact(f"{repo.full_name}: skipped malformed run {run_id!r}: {error!r}")
            )
    return runs, skipped


def _messages_for_headless_runs(
    client: GitHubClient, repo: DownstreamRepo, raw_runs: list[dict[str, Any]]
) -> dict[str, str]:
    """Fetch the commit message of each sha whose runs came without ``head_commit``, once per sha."""
    headless_shas = {
        run["head_sha"]
        for run in raw_runs
        if run.get("head_commit") is None and isinstance(run.get("head_sha"), str)
    }
    messages: dict[str, str] = {}
    for sha in sorted(headless_shas):
        commit = client.get_commit(repo.owner, repo.name, sha)
        if commit is not None:
            messages[sha] = str(commit.get("commit", {}).get("message") or "")
    return messages


def iter_repo_runs(
    client: GitHubClient,
    config: ForgeConfig,
    repos: Iterable[DownstreamRepo] | None = None,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> Generator[RepoRuns, None, None]:
    """Yield each repo's result as soon as it is read, with at most ``concurrency`` at once.

    Results come in the order the repos finish, so a caller can handle one repo while the
    others are still on the wire. Closing the iterator early cancels the repos not yet started.
    """
    selected = list(repos) if repos is not None else list(config.repos)
    if not selected:
        return
    workers = max(1, min(concurrency, len(selected)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        futures = [
            pool.submit(
                fetch_repo_runs,
                client,
                repo,
                lookback=config.lookback_revisions,
                max_pages=config.max_pages,
            )
            for repo in selected
        ]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def fetch_all_runs(
    client: GitHubClient,
    config: ForgeConfig,
    repos: Iterable[DownstreamRepo] | None = None,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> list[RepoRuns]:
    """Fetch the given repos (default: all configured) concurrently, in the order given."""
    selected = list(repos) if repos is not None else list(config.repos)
    position = {repo.full_name: index for index, repo in enumerate(selected)}
    results = sorted(
        iter_repo_runs(client, config, selected, concurrency=concurrency),
        key=lambda result: position[result.repo.full_name],
    )
    if results:
        _log_summary(client, results)
    return results


def _log_summary(client: GitHubClient, results: list[RepoRuns]) -> None:
    reasons = Counter(result.error.reason for result in results if result.error is not None)
    stats = client.stats
    log.info(
        "read %d of %d repos; %d requests sent, %d of them 304 Not Modified, %d retried",
        len(results) - sum(reasons.values()),
        len(results),
        stats.sent,
        stats.not_modified,
        stats.retries,
    )
    if reasons:
        counts = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
        log.warning(
            "%d of %d repos could not be read: %s", sum(reasons.values()), len(results), counts
        )


def fetch_generator_commits(
    client: GitHubClient,
    generator: GeneratorRepo,
    shas: Iterable[str],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    failures: list[str] | None = None,
) -> dict[str, GeneratorCommit]:
    """Fetch each generator commit's subject once; commits never change, so the cache keeps them.

    A commit that could not be read (not one GitHub reports missing) is described in ``failures``,
    so the report can explain why its subject is absent.
    """

    def fetch(sha: str) -> GeneratorCommit | None:
        try:
            commit = client.get_commit(generator.owner, generator.name, sha)
        except RepoUnavailableError as error:
            log.warning("could not read generator commit %s: %s", sha[:7], error)
            if failures is not None:
                failures.append(
                    f"{generator.full_name}: could not read commit {sha[:7]} ({error.reason}); "
                    "its subject is missing"
                )
            return None
        if commit is None:
            log.info("generator commit %s not found in %s", sha[:7], generator.full_name)
            return None
        message = commit.get("commit", {}).get("message")
        return GeneratorCommit(sha, subject_line(message), commit.get("html_url"))

    unique = sorted(set(shas))
    if not unique:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(unique)))) as pool:
        found = pool.map(fetch, unique)
        return {commit.sha: commit for commit in found if commit is not None}
