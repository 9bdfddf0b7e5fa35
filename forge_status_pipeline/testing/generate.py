"""Synthetic downstream repositories and workflow runs for benchmarks and scale tests.

The objects have the shape of the demo snapshot's (``demo/github-snapshot``): full
repository objects and workflow-run objects with every property of GitHub's ``workflow-run``
schema. Everything is deterministic for a given seed. URL fields are plain strings in the
style GitHub returns and nothing here fetches them.

This module plans the generator revisions and runs. generate_objects builds the GitHub objects.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from forge_status_pipeline.testing.generate_objects import (
    BOT_EMAIL,
    BOT_NAME,
    BOT_SUBJECT,
    DEFAULT_NOW,
    DEVELOPER_LOGIN,
    DEVELOPER_USER_ID,
    FAILURE_MINUTES,
    GENERATED_REPO_ID_BASE,
    GENERATOR_NAME,
    GENERATOR_OWNER,
    OWNER_USER_ID,
    SUCCESS_MINUTES,
    WORKFLOW_NAME,
    WORKFLOW_PATH,
    JSONObject,
    _bot_commit,
    _generator_commit,
    _minimal_repository,
    _random_sha,
    _Revision,
    _workflow_run,
    build_repo_object,
    generated_repo_id,
)

if TYPE_CHECKING:
    from forge_status_pipeline.testing.github_server import GitHubReplayServer

__all__ = [
    "BOT_EMAIL",
    "BOT_NAME",
    "BOT_SUBJECT",
    "DEFAULT_NOW",
    "DEVELOPER_LOGIN",
    "DEVELOPER_USER_ID",
    "DOWNSTREAM_OWNER",
    "DOWNSTREAM_RUN_ID_BASE",
    "FAILURE_MINUTES",
    "GENERATED_REPO_ID_BASE",
    "GENERATOR_NAME",
    "GENERATOR_OWNER",
    "MIN_REVISION_SPACING",
    "OWNER_USER_ID",
    "REVISION_FAILURE_RATES",
    "SLOTS",
    "SUCCESS_MINUTES",
    "UPSTREAM_RUN_ID_BASE",
    "WORKFLOW_ID_BASE",
    "WORKFLOW_NAME",
    "WORKFLOW_PATH",
    "JSONObject",
    "build_repo_object",
    "generate_generator_commits",
    "generate_repos",
    "generated_repo_id",
    "serve_generated",
]

DOWNSTREAM_OWNER = "bench"
SLOTS = ("0p5x0p5", "0p5x1", "1x0p5", "1x1")
# Share of failed runs per generator revision. Each revision draws one value, so some revisions
# break nearly every downstream repository and others break none.
REVISION_FAILURE_RATES = (0.0, 0.1, 0.5, 0.9)
UPSTREAM_RUN_ID_BASE = 30_000_000_000
DOWNSTREAM_RUN_ID_BASE = 31_000_000_000
WORKFLOW_ID_BASE = 300_000_000
MIN_REVISION_SPACING = timedelta(hours=6)


def generate_repos(
    count: int,
    revisions: int,
    *,
    runs_per_revision: int = 1,
    seed: int = 0,
    now: datetime | None = None,
) -> tuple[list[JSONObject], dict[str, list[JSONObject]], dict[str, JSONObject]]:
    """Generate ``count`` downstream repositories built from ``revisions`` generator commits.

    Repository ``i`` is ``bench/chip-{i:04d}``. Each one gets one bot commit per revision,
    whose message names the revision's generator sha (the same shas for every repository), and
    ``runs_per_revision`` completed runs of that commit: a ``push`` run, then
    ``workflow_dispatch`` re-runs. Revisions are spaced at least six hours apart and end before
    ``now`` (default: DEFAULT_NOW). Returns the config entries in the format of
    ``downstream_repos.yaml``, the runs by ``owner/name`` (newest first) and the repository
    objects by ``owner/name``.
    """
    if count < 0 or revisions < 0:
        raise ValueError(f"count and revisions must be >= 0, got {count} and {revisions}")
    if runs_per_revision < 1:
        raise ValueError(f"runs_per_revision must be >= 1, got {runs_per_revision}")
    now = _check_now(now)
    spacing = _revision_spacing(count, runs_per_revision)
    revision_list = _generator_revisions(revisions, seed, now, spacing)
    # Benchmark data needs reproducibility, not unpredictability.
    rng = random.Random(seed)  # noqa: S311
    failure_rates = [rng.choice(REVISION_FAILURE_RATES) for _ in revision_list]

    config_entries: list[JSONObject] = []
    runs_by_name: dict[str, list[JSONObject]] = {}
    repos_by_name: dict[str, JSONObject] = {}
    for index in range(count):
        name = f"chip-{index:04d}"
        full_name = f"{DOWNSTREAM_OWNER}/{name}"
        repo_id = generated_repo_id(DOWNSTREAM_OWNER, name)
        config_entries.append(_config_entry(index, name))
        repos_by_name[full_name] = build_repo_object(
            DOWNSTREAM_OWNER,
            name,
            repo_id,
            created_at=now - spacing * (revisions + 1),
            pushed_at=revision_list[-1].committed_at if revision_list else now,
        )
        runs: list[JSONObject] = []
        repository = _minimal_repository(DOWNSTREAM_OWNER, name, repo_id, OWNER_USER_ID)
        for revision_index, revision in enumerate(revision_list):
            head_commit = _bot_commit(rng, revision, index)
            for attempt in range(runs_per_revision):
                order = (revision_index * runs_per_revision + attempt) * count + index
                failed = rng.random() < failure_rates[revision_index]
                runs.append(
                    _workflow_run(
                        rng,
                        repository=repository,
                        run_id=DOWNSTREAM_RUN_ID_BASE + order,
                        run_number=len(runs) + 1,
                        workflow_id=WORKFLOW_ID_BASE + index,
                        head_commit=head_commit,
                        created_at=revision.committed_at + timedelta(seconds=5 + index),
                        dispatched=attempt > 0,
                        delay=_dispatch_delay(count, attempt),
                        failed=failed,
                    )
                )
        runs.reverse()
        runs_by_name[full_name] = runs
    return config_entries, runs_by_name, repos_by_name


def generate_generator_commits(
    revisions: int,
    *,
    count: int = 1,
    runs_per_revision: int = 1,
    seed: int = 0,
    now: datetime | None = None,
) -> dict[str, JSONObject]:
    """Generate the single-commit objects of the generator revisions that generate_repos names.

    Pass the same arguments as to generate_repos, because they set the revision times.
    """
    now = _check_now(now)
    spacing = _revision_spacing(count, runs_per_revision)
    revision_list = _generator_revisions(revisions, seed, now, spacing)
    commits: dict[str, JSONObject] = {}
    for index, revision in enumerate(revision_list):
        parent = revision_list[index - 1].sha if index > 0 else None
        commits[revision.sha] = _generator_commit(revision, index, parent)
    return commits


def serve_generated(
    server: GitHubReplayServer,
    count: int,
    revisions: int,
    *,
    runs_per_revision: int = 1,
    seed: int = 0,
    now: datetime | None = None,
) -> list[JSONObject]:
    """Add generated repositories to ``server`` and return their config entries.

    Besides the downstream repositories it adds ``bench/generator`` with no runs and the
    commit object of every generator revision. Downstream commits are not served.
    """
    config_entries, runs_by_name, repos_by_name = generate_repos(
        count, revisions, runs_per_revision=runs_per_revision, seed=seed, now=now
    )
    for entry in config_entries:
        full_name = f"{entry['owner']}/{entry['name']}"
        server.add_repo(
            entry["owner"],
            entry["name"],
            runs=runs_by_name[full_name],
            repo=repos_by_name[full_name],
        )
    generator_commits = generate_generator_commits(
        revisions, count=count, runs_per_revision=runs_per_revision, seed=seed, now=now
    )
    generator_repo = build_repo_object(
        GENERATOR_OWNER, GENERATOR_NAME, generated_repo_id(GENERATOR_OWNER, GENERATOR_NAME)
    )
    server.add_repo(
        GENERATOR_OWNER, GENERATOR_NAME, runs=[], commits=generator_commits, repo=generator_repo
    )
    return config_entries


# Revisions


def _check_now(now: datetime | None) -> datetime:
    if now is None:
        return DEFAULT_NOW
    if now.tzinfo is None:
        raise ValueError(f"now must be timezone-aware, got {now.isoformat()}")
    return now.astimezone(UTC)


def _dispatch_delay(count: int, attempt: int) -> timedelta:
    """Return how long after the push run the ``attempt``-th dispatched run of a commit starts.

    The push runs of one revision start one second apart per repository, and each round of
    dispatched runs starts after the previous round, so run ids grow with ``created_at``.
    """
    return timedelta(seconds=attempt * max(600, count + 1))


def _revision_spacing(count: int, runs_per_revision: int) -> timedelta:
    """Space revisions so that every run of a revision ends before the next revision starts.

    The last run starts at most 5 + count seconds plus the dispatch delays after its revision,
    waits up to 12 seconds for a runner and builds for less than 56 minutes.
    """
    last_start = timedelta(seconds=5 + count) + _dispatch_delay(count, runs_per_revision - 1)
    return max(MIN_REVISION_SPACING, last_start + timedelta(hours=1))


def _generator_revisions(
    revisions: int, seed: int, now: datetime, spacing: timedelta
) -> list[_Revision]:
    """Return the generator revisions, oldest first, the newest one `spacing` before `now`."""
    rng = random.Random(f"generator-{seed}")  # noqa: S311
    first = now.replace(microsecond=0) - spacing * revisions
    return [
        _Revision(
            sha=_random_sha(rng),
            tree_sha=_random_sha(rng),
            committed_at=first + spacing * index,
            upstream_run_id=UPSTREAM_RUN_ID_BASE + index,
        )
        for index in range(revisions)
    ]


def _config_entry(index: int, name: str) -> JSONObject:
    slot = SLOTS[index % len(SLOTS)]
    # The SRAM name only needs to be unique, so it counts up with the index.
    sram = f"u8b{index + 1}k"
    return {
        "name": name,
        "owner": DOWNSTREAM_OWNER,
        "sram": sram,
        "slot": slot,
        "config": f"examples/sram_{slot}_{sram}.yaml",
        "deploy_key_secret": f"DEPLOY_KEY_CHIP_{index:04d}",
    }
