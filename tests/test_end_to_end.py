"""The main job end to end against the replay server: Dagster and the CLI report the same."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from snapshot_data import raw_runs

from forge_status_pipeline.cli import main
from forge_status_pipeline.config import ForgeConfig
from forge_status_pipeline.demo import pipeline_environment, run_materialize
from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.testing.github_server import GitHubReplayServer

SOURCE_LINE = re.compile(r"Source commit: ([0-9a-f]{40})")


def expected_pairs(config: ForgeConfig) -> dict[str, set[tuple[str, str]]]:
    """Read (repo, head sha) per generator sha straight from the snapshot's commit messages."""
    pairs: dict[str, set[tuple[str, str]]] = {}
    for repo in config.repos:
        for run in raw_runs(repo.full_name):
            match = SOURCE_LINE.search(run["head_commit"]["message"])
            if match:
                pairs.setdefault(match.group(1), set()).add((repo.full_name, run["head_sha"]))
    return pairs


def report_pairs(report: StatusReport) -> dict[str, set[tuple[str, str]]]:
    return {
        revision.forge_sha: {(run.repo, run.head_sha) for run in revision.runs}
        for revision in report.revisions
    }


def pipeline_env(server: GitHubReplayServer, tmp_path: Path, config_path: Path) -> dict[str, str]:
    return pipeline_environment(server.url, config_path, tmp_path, site_dir=tmp_path / "site")


def one_shot_env(server: GitHubReplayServer, tmp_path: Path, config_path: Path) -> dict[str, str]:
    """Return the environment of a Dagster run with CI's one-shot instance settings."""
    return pipeline_environment(
        server.url, config_path, tmp_path, site_dir=tmp_path / "site", one_shot=True
    )


def test_snapshot_has_twelve_generator_shas(config: ForgeConfig) -> None:
    # The snapshot's README lists 12 upstream revisions; this guards the helper above.
    assert len(expected_pairs(config)) == 12


def test_dagster_and_cli_agree_on_pairs(
    github_server: GitHubReplayServer, tmp_path: Path, config_copy: Path, config: ForgeConfig
) -> None:
    env = one_shot_env(github_server, tmp_path, config_copy)
    materialized = run_materialize(env)
    assert materialized.returncode == 0, materialized.stderr[-3000:]
    assert "ASSET_MATERIALIZATION" in materialized.stderr

    # Events stayed in memory: no event log database and no captured step logs on disk.
    dagster_home = Path(env["DAGSTER_HOME"])
    assert not (dagster_home / "history" / "runs").exists()
    assert not (dagster_home / "storage").exists()
    assert (dagster_home / "history" / "runs.db").exists()

    site = tmp_path / "site"
    for name in ("index.html", "status.json", "status.md", "status.txt", "status.schema.json"):
        assert (site / name).stat().st_size > 0, name
    dagster_report = StatusReport.model_validate_json((site / "status.json").read_text())

    cli = subprocess.run(
        [sys.executable, "-m", "forge_status_pipeline.cli", "status", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    cli_report = StatusReport.model_validate_json(cli.stdout)

    expected = expected_pairs(config)
    assert report_pairs(dagster_report) == expected
    assert report_pairs(cli_report) == expected
    assert dagster_report.model_dump(exclude={"generated_at"}) == cli_report.model_dump(
        exclude={"generated_at"}
    )


def test_multiprocess_executor_runs_each_step(
    github_server: GitHubReplayServer, tmp_path: Path, config_copy: Path, config: ForgeConfig
) -> None:
    env = one_shot_env(github_server, tmp_path, config_copy)
    env["FORGE_STATUS_EXECUTOR"] = "multiprocess"
    materialized = run_materialize(env)
    assert materialized.returncode == 0, materialized.stderr[-3000:]

    # Dagster's log lines read "... - <pid> - <step> - STEP_START - ...".
    starts = re.findall(r" - (\d+) - (\w+) - STEP_START - ", materialized.stderr)
    step_pids = {step: pid for pid, step in starts}
    assert len(step_pids) == 5
    assert len(set(step_pids.values())) == 5
    report = StatusReport.model_validate_json((tmp_path / "site" / "status.json").read_text())
    assert report_pairs(report) == expected_pairs(config)


def test_dagster_names_unreadable_repo(
    github_server: GitHubReplayServer, tmp_path: Path, config_copy: Path
) -> None:
    github_server.inject(r"/repos/mithro/gf180mcu-ic-1x1-sram-u8b24k/", status=404, times=None)
    env = one_shot_env(github_server, tmp_path, config_copy)
    materialized = run_materialize(env)

    assert materialized.returncode == 0, materialized.stderr[-3000:]
    assert (
        "1 of 4 repos could not be read: mithro/gf180mcu-ic-1x1-sram-u8b24k (not_found)"
        in materialized.stderr
    )
    report = StatusReport.model_validate_json((tmp_path / "site" / "status.json").read_text())
    assert [status.available for status in report.repos].count(True) == 3


def test_refresh_makes_one_request_per_page(
    github_server: GitHubReplayServer, tmp_path: Path, config_copy: Path
) -> None:
    env = pipeline_env(github_server, tmp_path, config_copy)
    result = CliRunner().invoke(
        main, ["status", "--format", "json", "--config", str(config_copy)], env=env
    )
    assert result.exit_code == 0, result.output

    runs_requests = [r for r in github_server.requests if r.path.endswith("/actions/runs")]
    downstream_commit_requests = [
        r for r in github_server.requests if "/commits/" in r.path and "sram-forge" not in r.path
    ]
    # Every repo fits in one page of 100 runs; commit messages come from the runs list.
    assert sorted(r.path for r in runs_requests) == sorted(
        f"/repos/{repo['repo']}/actions/runs" for repo in json.loads(result.stdout)["repos"]
    )
    assert all(r.query.get("per_page") == "100" for r in runs_requests)
    assert downstream_commit_requests == []


def test_missing_repo_reported_others_kept(
    github_server: GitHubReplayServer, tmp_path: Path, config_copy: Path
) -> None:
    github_server.inject(r"/repos/mithro/gf180mcu-ic-1x1-sram-u8b24k/", status=404, times=None)
    env = pipeline_env(github_server, tmp_path, config_copy)
    result = CliRunner().invoke(main, ["status", "--format", "json"], env=env)

    assert result.exit_code == 0
    assert "mithro/gf180mcu-ic-1x1-sram-u8b24k unavailable (not_found)" in result.stderr
    report = StatusReport.model_validate_json(result.stdout)
    assert [(item.repo, item.reason) for item in report.unavailable] == [
        ("mithro/gf180mcu-ic-1x1-sram-u8b24k", "not_found")
    ]
    newest = report.revisions[0]
    assert newest.short_sha == "e87527f"
    assert (newest.passing, newest.total) == (2, 2)


def test_no_repo_readable_exits_nonzero(
    github_server: GitHubReplayServer, tmp_path: Path, config_copy: Path
) -> None:
    github_server.inject(r"/actions/runs", status=404, times=None)
    env = pipeline_env(github_server, tmp_path, config_copy)
    result = CliRunner().invoke(main, ["status", "--format", "terminal"], env=env)

    assert result.exit_code == 1
    assert "no downstream repo could be read" in result.stderr


@pytest.mark.parametrize("output_format", ["terminal", "md", "json", "html"])
def test_status_writes_each_format(
    github_server: GitHubReplayServer, tmp_path: Path, config_copy: Path, output_format: str
) -> None:
    env = pipeline_env(github_server, tmp_path, config_copy)
    target = tmp_path / f"out.{output_format}"
    result = CliRunner().invoke(
        main, ["status", "--format", output_format, "-o", str(target)], env=env
    )

    assert result.exit_code == 0, result.output
    text = target.read_text()
    assert "e87527f" in text
    if output_format == "json":
        assert json.loads(text)["revisions"][0]["forge_sha"].startswith("e87527f")
    if output_format == "html":
        assert text.startswith("<!DOCTYPE html>")
    if output_format == "md":
        assert "| SRAM | Slot | Status | Workflow | Commit |" in text


def test_list_prints_each_repo(config_copy: Path) -> None:
    result = CliRunner().invoke(main, ["list", "--config", str(config_copy)])

    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("mithro/gf180mcu-ic-0p5x0p5-sram-u8b3k  sram=u8b3k  slot=0p5x0p5")


def test_matrix_matches_config(config_copy: Path, config: ForgeConfig) -> None:
    result = CliRunner().invoke(main, ["matrix", "--config", str(config_copy)])

    assert result.exit_code == 0
    assert result.output.count("\n") == 1
    include = json.loads(result.output)["include"]
    assert include == [
        {
            "repo": repo.full_name,
            "config": repo.config,
            "secret": repo.deploy_key_secret,
            "sram": repo.sram,
            "slot": repo.slot,
        }
        for repo in config.repos
    ]


def test_site_command_writes_files(
    github_server: GitHubReplayServer, tmp_path: Path, config_copy: Path
) -> None:
    env = pipeline_env(github_server, tmp_path, config_copy)
    result = CliRunner().invoke(main, ["site"], env=env)

    assert result.exit_code == 0, result.output
    site = tmp_path / "site"
    report = StatusReport.model_validate_json((site / "status.json").read_text())
    assert len(report.revisions) == 12
    assert (site / "status.txt").read_text().startswith("Downstream build status")


def test_schema_validates_status_json(
    github_server: GitHubReplayServer, tmp_path: Path, config_copy: Path
) -> None:
    import jsonschema

    env = pipeline_env(github_server, tmp_path, config_copy)
    schema = json.loads(CliRunner().invoke(main, ["schema"]).output)
    status = json.loads(CliRunner().invoke(main, ["status", "--format", "json"], env=env).output)

    jsonschema.validate(status, schema)
    assert schema["title"] == "StatusReport"


def test_demo_writes_site_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "downstream_repos.yaml").write_text(
        (Path(__file__).parent.parent / "downstream_repos.yaml").read_text()
    )
    monkeypatch.delenv("FORGE_STATUS_CACHE_DIR")
    result = CliRunner().invoke(main, ["demo"])

    assert result.exit_code == 0, result.output
    assert "e87527f" in result.stdout
    for name in ("index.html", "status.json", "status.md", "status.txt"):
        assert (tmp_path / "_site" / name).is_file()
    assert "requests answered by the snapshot server" in result.stderr


def test_shipped_schema_is_current() -> None:
    from forge_status_pipeline.site import status_schema

    shipped = Path(__file__).parent.parent / "forge_status_pipeline" / "status.schema.json"
    # Regenerate with: uv run forge-status schema > forge_status_pipeline/status.schema.json
    assert shipped.read_text() == status_schema()


def test_status_output_kept_when_nothing_read(
    github_server: GitHubReplayServer, tmp_path: Path, config_copy: Path
) -> None:
    github_server.inject(r"/actions/runs", status=404, times=None)
    env = pipeline_env(github_server, tmp_path, config_copy)
    target = tmp_path / "status.json"
    target.write_text("the last good report")
    result = CliRunner().invoke(main, ["status", "--format", "json", "-o", str(target)], env=env)

    assert result.exit_code == 1
    assert target.read_text() == "the last good report"


@pytest.mark.parametrize(
    ("env_name", "value", "message"),
    [
        ("FORGE_STATUS_NOW", "yesterday", "FORGE_STATUS_NOW='yesterday' is not an ISO 8601 time"),
        ("FORGE_STATUS_NOW", "2025-12-16T02:10:00", "has no time zone"),
        ("GITHUB_API_URL", "127.0.0.1:9", "needs an http:// or https:// scheme"),
    ],
)
def test_invalid_setting_one_line_error(
    tmp_path: Path, config_copy: Path, env_name: str, value: str, message: str
) -> None:
    result = CliRunner().invoke(
        main, ["status", "--config", str(config_copy)], env={env_name: value}
    )

    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_unwritable_site_dir_one_line_error(
    github_server: GitHubReplayServer, tmp_path: Path, config_copy: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = pipeline_env(github_server, tmp_path, config_copy)
    result = CliRunner().invoke(main, ["site", "--site-dir", str(blocker / "site")], env=env)

    assert result.exit_code == 1
    assert "cannot access" in result.stderr
    assert "check the path and its permissions" in result.stderr


def test_site_files_readable_by_all(
    github_server: GitHubReplayServer, tmp_path: Path, config_copy: Path
) -> None:
    env = pipeline_env(github_server, tmp_path, config_copy)
    result = CliRunner().invoke(main, ["site"], env=env)

    assert result.exit_code == 0, result.output
    assert (tmp_path / "site" / "index.html").stat().st_mode & 0o777 == 0o644
