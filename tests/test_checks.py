"""Report checks: the pure verdicts over the change-list sequence, and the Dagster asset checks
run by the real job against the snapshot served on 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from dagster import AssetCheckSeverity, AssetKey, DagsterInstance
from snapshot_data import raw_runs
from test_changes import (
    DAY0,
    R3_BUILDS,
    S1,
    S1_BUILDS,
    S2,
    S3,
    A,
    B,
    make_report,
    sequence_reports,
)

from forge_status_pipeline.cli import main
from forge_status_pipeline.config import ForgeConfig
from forge_status_pipeline.correlation import to_workflow_run
from forge_status_pipeline.definitions import build_definitions
from forge_status_pipeline.demo import SNAPSHOT_NOW
from forge_status_pipeline.site import write_atomic
from forge_status_pipeline.testing.github_server import GitHubReplayServer
from forge_status_pipeline.verdicts import (
    all_repos_read,
    newest_revision_passing,
    no_new_regressions,
    no_stale_repos,
    report_verdicts,
)

# Verdicts per report of the sequence in test_changes, worked out from its docstring:
# (newest_revision_passing, no_new_regressions, all_repos_read, no_stale_repos).
EXPECTED_VERDICTS = {
    "R1": (True, True, True, True),
    "R2": (True, True, True, True),
    "R3": (False, False, True, True),
    "R4": (False, False, True, True),
    "R5": (False, True, True, True),
    "R6": (True, True, True, True),
    "R7": (True, True, True, True),
}
U8B24K = "mithro/gf180mcu-ic-1x1-sram-u8b24k"
# The two newest generator commits of the snapshot, and the one that broke u8b24k.
E87527F = "e87527ff1fddadc4bef7e2a76d04554b14ded9c8"
CE7B0F5_PREFIX = "ce7b0f5"
B65B5952_PREFIX = "65b5952"


@pytest.mark.parametrize(("name", "report"), sequence_reports())
def test_sequence_verdicts(name: str, report: Any) -> None:
    passed = tuple(verdict.passed for verdict in report_verdicts(report))

    assert passed == EXPECTED_VERDICTS[name]


def test_regression_names_repo_and_revisions() -> None:
    report = dict(sequence_reports())["R3"]

    verdict = no_new_regressions(report)

    assert verdict.severity == "ERROR"
    assert verdict.repos == [B]
    assert verdict.revisions == [S2]
    assert verdict.details == {B: f"fails at {S2[:7]}, passed at {S1[:7]}"}


def test_newest_revision_lists_failures() -> None:
    report = dict(sequence_reports())["R5"]

    verdict = newest_revision_passing(report)

    assert verdict.severity == "WARN"
    assert verdict.repos == [B]
    assert verdict.revisions == [S3]
    assert verdict.summary == "1 of 2 repos do not pass at 3333333"


def test_pending_build_does_not_fail() -> None:
    report = dict(sequence_reports())["R6"]

    verdict = newest_revision_passing(report)

    assert verdict.passed is True
    assert verdict.details == {B: "pending"}
    assert verdict.summary == "1 of 2 repos pass at 3333333; 1 still running"


def test_unreadable_repo_fails_check() -> None:
    report = make_report(R3_BUILDS, DAY0 + timedelta(days=1, hours=3), unavailable=frozenset({B}))

    verdict = all_repos_read(report)

    assert verdict.passed is False
    assert verdict.repos == [B]
    assert verdict.details == {B: "no_access: HTTP 403"}
    assert verdict.summary == "1 of 2 repos could not be read"


def test_stale_repos_after_bound() -> None:
    # The newest S1 run starts at DAY0 + 2 minutes; 72 hours later plus a minute both are stale.
    fresh = make_report(S1_BUILDS, DAY0 + timedelta(hours=72))
    stale = make_report(S1_BUILDS, DAY0 + timedelta(hours=72, minutes=3))

    assert no_stale_repos(fresh).passed is True
    assert no_stale_repos(stale).passed is False
    assert no_stale_repos(stale).repos == [A, B]
    assert no_stale_repos(stale).severity == "WARN"


def _runs_without_newest(config: ForgeConfig) -> list[dict[str, Any]]:
    """u8b24k's snapshot runs minus those built from the two newest generator commits."""
    repo = next(repo for repo in config.repos if repo.full_name == U8B24K)
    return [
        raw
        for raw in raw_runs(U8B24K)
        if not (to_workflow_run(raw, repo).forge_sha or "").startswith(
            (E87527F[:7], CE7B0F5_PREFIX)
        )
    ]


@pytest.fixture
def dagster_env(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    github_server: GitHubReplayServer,
    config_copy: Path,
) -> Path:
    site_dir = tmp_path / "site"
    monkeypatch.setenv("GITHUB_API_URL", github_server.url)
    monkeypatch.setenv("FORGE_STATUS_CONFIG", str(config_copy))
    monkeypatch.setenv("FORGE_STATUS_SITE_DIR", str(site_dir))
    monkeypatch.setenv("FORGE_STATUS_NOW", SNAPSHOT_NOW)
    return site_dir


def test_job_runs_report_checks(dagster_env: Path) -> None:
    result = (
        build_definitions()
        .resolve_job_def("forge_status_job")
        .execute_in_process(instance=DagsterInstance.ephemeral())
    )
    evaluations = {
        evaluation.check_name: evaluation
        for evaluation in result.get_asset_check_evaluations()
        if evaluation.asset_key == AssetKey("status_report")
    }

    assert result.success
    assert sorted(evaluations) == [
        "all_repos_read",
        "newest_revision_passing",
        "no_new_regressions",
        "no_stale_repos",
    ]
    assert all(evaluation.passed for evaluation in evaluations.values())
    newest = evaluations["newest_revision_passing"]
    assert newest.metadata["revisions"].value == [E87527F]
    assert newest.metadata["details"].value == {U8B24K: "pending"}
    assert evaluations["no_new_regressions"].severity == AssetCheckSeverity.ERROR
    assert evaluations["no_stale_repos"].severity == AssetCheckSeverity.WARN


def test_report_metadata_links_page(dagster_env: Path) -> None:
    result = (
        build_definitions()
        .resolve_job_def("forge_status_job")
        .execute_in_process(instance=DagsterInstance.ephemeral())
    )
    (materialization,) = [
        event
        for event in result.get_asset_materialization_events()
        if event.asset_key == AssetKey("status_report")
    ]
    materialization = materialization.materialization

    assert materialization.metadata["page"].value == "https://mithro.github.io/gf180mcu-sram-forge/"
    assert "e87527f" in materialization.metadata["report"].value
    assert materialization.metadata["overall"].value == "pending"


def test_regression_does_not_block_site(
    dagster_env: Path, github_server: GitHubReplayServer, config: ForgeConfig
) -> None:
    github_server.set_runs("mithro", "gf180mcu-ic-1x1-sram-u8b24k", _runs_without_newest(config))

    result = (
        build_definitions()
        .resolve_job_def("forge_status_job")
        .execute_in_process(instance=DagsterInstance.ephemeral())
    )
    regression = next(
        evaluation
        for evaluation in result.get_asset_check_evaluations()
        if evaluation.check_name == "no_new_regressions"
    )

    assert result.success
    assert regression.passed is False
    assert regression.severity == AssetCheckSeverity.ERROR
    assert regression.metadata["repos"].value == [U8B24K]
    (sha,) = regression.metadata["revisions"].value
    assert sha.startswith(B65B5952_PREFIX)
    assert (dagster_env / "index.html").is_file()
    assert (dagster_env / "status.json").is_file()
    assert (dagster_env / "history.json").is_file()
    assert (dagster_env / "changes.json").is_file()


def test_cli_checks_strict_exit(tmp_path: Path) -> None:
    report = dict(sequence_reports())["R3"]
    write_atomic(tmp_path / "status.json", report.model_dump_json())

    relaxed = CliRunner().invoke(main, ["checks", "--site-dir", str(tmp_path)])
    strict = CliRunner().invoke(main, ["checks", "--site-dir", str(tmp_path), "--strict"])

    assert relaxed.exit_code == 0, relaxed.output
    assert strict.exit_code == 1
    assert relaxed.output.splitlines() == [
        "FAIL (WARN)  newest_revision_passing: 1 of 2 repos do not pass at 2222222",
        f"FAIL (ERROR) no_new_regressions: 1 repos regressed: {B} (fails at 2222222, passed at "
        "1111111)",
        "pass         all_repos_read: all 2 repos were read",
        "pass         no_stale_repos: every readable repo ran in the last 72 hours",
    ]
