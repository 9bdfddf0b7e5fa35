"""A repo that cannot be read costs only its own cells: the report still covers every repo.

Expected counts were worked out by hand from the snapshot README's table, with the broken repo's
cells taken out. Columns there: 0p5x0p5 (u8b3k), 0p5x1 (u8b8k), 1x0p5 (u8b9k), 1x1 (u8b24k).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from snapshot_data import raw_runs

from forge_status_pipeline.cli import main
from forge_status_pipeline.config import ForgeConfig
from forge_status_pipeline.fetch import fetch_repo_runs
from forge_status_pipeline.github import GitHubClient
from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.pipeline import refresh_report
from forge_status_pipeline.report import BUILT_STATES
from forge_status_pipeline.testing.github_server import GitHubReplayServer

U8B3K = "mithro/gf180mcu-ic-0p5x0p5-sram-u8b3k"
U8B8K = "mithro/gf180mcu-ic-0p5x1-sram-u8b8k"
U8B9K = "mithro/gf180mcu-ic-1x0p5-sram-u8b9k"
U8B24K = "mithro/gf180mcu-ic-1x1-sram-u8b24k"
REPOS = [U8B3K, U8B8K, U8B9K, U8B24K]
CONFIG_PATH = Path(__file__).resolve().parent.parent / "downstream_repos.yaml"


def runs_path(full_name: str) -> str:
    return f"^/repos/{full_name}/actions/runs$"


@dataclass(frozen=True)
class Breakage:
    """How one repo is made unreadable, and the report the other three should still give."""

    repo: str
    reason: str
    apply: Callable[[GitHubReplayServer], None]
    # Short sha to (passing, total, pending) of the readable repos.
    counts: dict[str, tuple[int, int, int]]
    revisions: int
    regressions: dict[str, list[str]]
    rate_limit: int = 5000
    client_options: dict[str, float] = field(default_factory=dict)


BREAKAGES = {
    # 0p5x1 built nothing that the others did not also build, so all 12 revisions stay.
    "not_found": Breakage(
        repo=U8B8K,
        reason="not_found",
        apply=lambda server: server.inject(runs_path(U8B8K), status=404, times=None),
        counts={
            "e87527f": (2, 3, 1),
            "ce7b0f5": (3, 3, 0),
            "65b5952": (2, 3, 0),
            "a2aa591": (1, 3, 0),
            "68a9068": (0, 3, 0),
        },
        revisions=12,
        regressions={"65b5952": [U8B24K], "68a9068": [U8B3K]},
    ),
    # The six revisions that only 0p5x0p5 built disappear, and with them its regression.
    "no_access": Breakage(
        repo=U8B3K,
        reason="no_access",
        apply=lambda server: server.inject(
            runs_path(U8B3K),
            status=403,
            body={"message": "Resource not accessible by integration"},
            times=None,
        ),
        counts={
            "e87527f": (1, 2, 1),
            "ce7b0f5": (3, 3, 0),
            "65b5952": (2, 3, 0),
            "a2aa591": (2, 3, 0),
            "68a9068": (0, 3, 0),
            "4d50023": (0, 1, 0),
        },
        revisions=6,
        regressions={"65b5952": [U8B24K]},
    ),
    # A budget of three requests: the third response reports none left, so 1x1, fetched last
    # with one worker, is never requested. 4d50023 was built only by 1x1.
    "rate_limited": Breakage(
        repo=U8B24K,
        reason="rate_limited",
        apply=lambda server: None,
        counts={
            "e87527f": (2, 2, 0),
            "ce7b0f5": (3, 3, 0),
            "65b5952": (3, 3, 0),
            "a2aa591": (1, 3, 0),
            "68a9068": (0, 3, 0),
        },
        revisions=11,
        regressions={"68a9068": [U8B3K]},
        rate_limit=3,
    ),
    "unreachable_5xx": Breakage(
        repo=U8B9K,
        reason="unreachable",
        apply=lambda server: server.inject(runs_path(U8B9K), status=503, times=None),
        counts={
            "e87527f": (1, 2, 1),
            "ce7b0f5": (3, 3, 0),
            "65b5952": (2, 3, 0),
            "a2aa591": (2, 3, 0),
            "68a9068": (0, 3, 0),
        },
        revisions=12,
        regressions={"65b5952": [U8B24K], "68a9068": [U8B3K]},
    ),
    "unreachable_dropped": Breakage(
        repo=U8B9K,
        reason="unreachable",
        apply=lambda server: server.drop_connection(runs_path(U8B9K), times=None),
        counts={"e87527f": (1, 2, 1), "a2aa591": (2, 3, 0)},
        revisions=12,
        regressions={"65b5952": [U8B24K], "68a9068": [U8B3K]},
    ),
    "unreachable_timeout": Breakage(
        repo=U8B9K,
        reason="unreachable",
        apply=lambda server: server.inject_delay(runs_path(U8B9K), 1.0, times=None),
        counts={"e87527f": (1, 2, 1), "a2aa591": (2, 3, 0)},
        revisions=12,
        regressions={"65b5952": [U8B24K], "68a9068": [U8B3K]},
        client_options={"read_timeout": 0.1, "max_retries": 1},
    ),
}


def refresh_with(
    breakage: Breakage, snapshot_dir: Path, config: ForgeConfig, cache: Path
) -> tuple[StatusReport, GitHubReplayServer]:
    with GitHubReplayServer(snapshot_dir, rate_limit=breakage.rate_limit) as server:
        breakage.apply(server)
        client = GitHubClient(
            server.url, cache_dir=cache, sleep=lambda _seconds: None, **breakage.client_options
        )
        report = refresh_report(config, client, concurrency=1)
    return report, server


@pytest.mark.parametrize("kind", list(BREAKAGES))
def test_report_covers_every_repo(
    kind: str, snapshot_dir: Path, config: ForgeConfig, tmp_path: Path
) -> None:
    breakage = BREAKAGES[kind]

    report, _server = refresh_with(breakage, snapshot_dir, config, tmp_path / "cache")

    assert [status.repo for status in report.repos] == REPOS
    assert [status.available for status in report.repos] == [
        repo != breakage.repo for repo in REPOS
    ]
    assert [(item.repo, item.reason) for item in report.unavailable] == [
        (breakage.repo, breakage.reason)
    ]
    broken_status = report.repos[REPOS.index(breakage.repo)]
    assert broken_status.reason == breakage.reason
    assert broken_status.runs_fetched == 0


@pytest.mark.parametrize("kind", list(BREAKAGES))
def test_unreadable_cells_never_counted(
    kind: str, snapshot_dir: Path, config: ForgeConfig, tmp_path: Path
) -> None:
    breakage = BREAKAGES[kind]

    report, _server = refresh_with(breakage, snapshot_dir, config, tmp_path / "cache")

    assert len(report.revisions) == breakage.revisions
    for revision in report.revisions:
        cell = revision.cell(breakage.repo)
        assert cell is not None
        assert cell.state == "unavailable"
        assert cell.run_ids == []
        built = [c for c in revision.cells if c.state in BUILT_STATES]
        assert revision.total == len(built)
        assert revision.passing == sum(c.state == "passing" for c in built)


@pytest.mark.parametrize("kind", list(BREAKAGES))
def test_readable_repos_counted_right(
    kind: str, snapshot_dir: Path, config: ForgeConfig, tmp_path: Path
) -> None:
    breakage = BREAKAGES[kind]

    report, _server = refresh_with(breakage, snapshot_dir, config, tmp_path / "cache")

    by_sha = {revision.short_sha: revision for revision in report.revisions}
    for short_sha, expected in breakage.counts.items():
        revision = by_sha[short_sha]
        assert (revision.passing, revision.total, revision.pending) == expected, short_sha
    regressions = {r.short_sha: r.regressions for r in report.revisions if r.regressions}
    assert regressions == breakage.regressions


def test_rate_limit_spares_the_budget(
    snapshot_dir: Path, config: ForgeConfig, tmp_path: Path
) -> None:
    report, server = refresh_with(BREAKAGES["rate_limited"], snapshot_dir, config, tmp_path / "c")

    # Three runs lists and nothing after the response that reported the budget spent: no 403s,
    # and no generator commits, so the revisions have no subjects.
    assert [request.status for request in server.requests] == [200, 200, 200]
    assert all(revision.subject is None for revision in report.revisions)


def test_retries_are_bounded_per_repo(
    snapshot_dir: Path, config: ForgeConfig, tmp_path: Path
) -> None:
    _report, server = refresh_with(
        BREAKAGES["unreachable_5xx"], snapshot_dir, config, tmp_path / "cache"
    )

    broken = [request for request in server.requests if "1x0p5" in request.path]
    assert [request.status for request in broken] == [503, 503, 503, 503]


# The command line


def test_cli_one_repo_missing(github_server: GitHubReplayServer) -> None:
    github_server.inject(runs_path(U8B24K), status=404, times=None)

    result = CliRunner().invoke(
        main,
        ["status", "--format", "json", "--config", str(CONFIG_PATH)],
        env={"GITHUB_API_URL": github_server.url},
    )

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [item["repo"] for item in report["unavailable"]] == [U8B24K]
    assert report["revisions"][0]["passing"] == 2
    assert report["revisions"][0]["total"] == 2
    assert f"warning: {U8B24K} unavailable (not_found)" in result.stderr


def test_cli_all_repos_failing(github_server: GitHubReplayServer) -> None:
    github_server.inject("/actions/runs", status=404, times=None)

    result = CliRunner().invoke(
        main,
        ["status", "--format", "json", "--config", str(CONFIG_PATH)],
        env={"GITHUB_API_URL": github_server.url},
    )

    assert result.exit_code != 0
    assert "no downstream repo could be read" in result.stderr
    for repo in REPOS:
        assert f"warning: {repo} unavailable (not_found)" in result.stderr


@pytest.mark.parametrize(
    "head_commit",
    [{"message": 7, "timestamp": "2025-12-16T01:00:00Z"}, "x", ["not", "an", "object"]],
    ids=["message-not-text", "head-commit-string", "head-commit-list"],
)
def test_malformed_run_skipped_not_repo(
    github_server: GitHubReplayServer, config: ForgeConfig, tmp_path: Path, head_commit: object
) -> None:
    repo = config.repos[0]
    runs = copy.deepcopy(raw_runs(repo.full_name))
    broken_id = runs[0]["id"]
    runs[0]["head_commit"] = head_commit
    github_server.set_runs(repo.owner, repo.name, runs)
    client = GitHubClient(github_server.url, cache_dir=tmp_path / "cache")

    result = fetch_repo_runs(client, repo)

    assert result.available
    assert len(result.runs) == len(runs) - 1
    assert broken_id not in {run.run_id for run in result.runs}
    assert any(f"skipped malformed run {broken_id}" in warning for warning in result.warnings)


def test_unread_generator_commits_warned(
    github_server: GitHubReplayServer, config: ForgeConfig, tmp_path: Path
) -> None:
    github_server.inject(r"/repos/mithro/gf180mcu-sram-forge/commits/", status=500, times=None)
    client = GitHubClient(
        github_server.url, cache_dir=tmp_path / "cache", sleep=lambda _seconds: None
    )

    report = refresh_report(config, client)

    # The 11 commits GitHub has could not be read; the missing e87527f returns 500 here too.
    unread = [warning for warning in report.warnings if "could not read commit" in warning]
    assert len(unread) == 12
    assert all(revision.subject is None for revision in report.revisions)
    assert any("could not read commit ce7b0f5 (unreachable)" in warning for warning in unread)
    assert not report.unavailable
