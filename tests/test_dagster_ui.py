"""The Dagster UI as an operator uses it: dagster-webserver on 127.0.0.1 shows the lineage and
materializes one repo's runs, which fetches that repo alone from the snapshot server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from forge_status_pipeline.demo import SNAPSHOT_DIR, SNAPSHOT_NOW
from forge_status_pipeline.testing.github_server import GitHubReplayServer

REPO_ROOT = Path(__file__).resolve().parent.parent
U8B3K_KEY = ["downstream_runs", "mithro__gf180mcu_ic_0p5x0p5_sram_u8b3k"]
REPO_KEYS = [
    U8B3K_KEY,
    ["downstream_runs", "mithro__gf180mcu_ic_0p5x1_sram_u8b8k"],
    ["downstream_runs", "mithro__gf180mcu_ic_1x0p5_sram_u8b9k"],
    ["downstream_runs", "mithro__gf180mcu_ic_1x1_sram_u8b24k"],
]
# Without a daemon, the default queued run coordinator would leave the launched run waiting.
# Telemetry is off so the test contacts nothing but 127.0.0.1.
DAGSTER_YAML = """\
run_coordinator:
  module: dagster.core.run_coordinator
  class: DefaultRunCoordinator
telemetry:
  enabled: false
nux:
  enabled: false
"""
ASSET_NODES_QUERY = """
{
  assetNodes {
    assetKey { path }
    dependencyKeys { path }
    groupName
  }
}
"""
LAUNCH_MUTATION = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""
RUN_QUERY = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status }
  }
}
"""
PRIVATE_ENV_VARS = frozenset(
    {"GITHUB_TOKEN", "GH_TOKEN", "SLACK_WEBHOOK_URL", "DISCORD_WEBHOOK_URL", "DAGSTER_HOME"}
)
STARTUP_SECONDS = 120
RUN_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Webserver:
    def __init__(self, url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.url = url
        self.process = process
        self.log_path = log_path

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=30
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def snapshot_server() -> Iterator[GitHubReplayServer]:
    with GitHubReplayServer(SNAPSHOT_DIR) as server:
        yield server


@pytest.fixture(scope="module")
def webserver(
    tmp_path_factory: pytest.TempPathFactory, snapshot_server: GitHubReplayServer
) -> Iterator[Webserver]:
    """One webserver for the module: starting it and its code server takes about 20 s."""
    folder = tmp_path_factory.mktemp("dagster-ui")
    dagster_home = folder / "dagster-home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text(DAGSTER_YAML, encoding="utf-8")
    config_path = folder / "downstream_repos.yaml"
    shutil.copy(REPO_ROOT / "downstream_repos.yaml", config_path)

    # Module fixtures start before the per-test environment cleanup, so drop tokens and webhook
    # URLs from the inherited environment here.
    inherited = {name: value for name, value in os.environ.items() if name not in PRIVATE_ENV_VARS}
    env = {
        **inherited,
        "DAGSTER_HOME": str(dagster_home),
        "GITHUB_API_URL": snapshot_server.url,
        "FORGE_STATUS_CONFIG": str(config_path),
        "FORGE_STATUS_CACHE_DIR": str(folder / "cache"),
        "FORGE_STATUS_SITE_DIR": str(folder / "site"),
        "FORGE_STATUS_NOW": SNAPSHOT_NOW,
    }

    port = _free_port()
    log_path = folder / "webserver.log"
    executable = Path(sys.executable).parent / "dagster-webserver"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [str(executable), "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Webserver(f"http://127.0.0.1:{port}", process, log_path)

    try:
        _wait_until_ready(server)
        yield server
    finally:
        _stop(process)


def _wait_until_ready(server: Webserver) -> None:
    """Wait for /server_info, then for the code location to list its assets."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert server.process.poll() is None, f"dagster-webserver exited:\n{server.log()}"
        try:
            if requests.get(f"{server.url}/server_info", timeout=5).ok:
                if server.graphql(ASSET_NODES_QUERY)["assetNodes"]:
                    return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    pytest.fail(f"dagster-webserver not ready after {STARTUP_SECONDS} s:\n{server.log()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the webserver and the code server it started (the whole process group)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)


def _lineage(server: Webserver) -> dict[str, set[str]]:
    nodes = server.graphql(ASSET_NODES_QUERY)["assetNodes"]
    return {
        "/".join(node["assetKey"]["path"]): {
            "/".join(dep["path"]) for dep in node["dependencyKeys"]
        }
        for node in nodes
    }


def test_ui_shows_lineage(webserver: Webserver) -> None:
    lineage = _lineage(webserver)
    repo_keys = {"/".join(key) for key in REPO_KEYS}

    for key in repo_keys:
        assert lineage[key] == {"downstream_repos_config"}
    assert lineage["correlated_runs"] == repo_keys
    assert lineage["status_report"] == {"correlated_runs"}
    for output in ("status_page", "status_json", "status_markdown", "status_text"):
        assert lineage[output] == {"status_report"}
    assert lineage["status_history"] == {"status_report"}
    assert lineage["status_changes"] == {"status_history"}


def test_ui_materializes_one_repo(
    webserver: Webserver, snapshot_server: GitHubReplayServer
) -> None:
    params = {
        "selector": {
            "repositoryLocationName": "forge_status",
            "repositoryName": "__repository__",
            "jobName": "__ASSET_JOB",
            "assetSelection": [{"path": U8B3K_KEY}],
            "assetCheckSelection": [],
        },
        "mode": "default",
    }
    snapshot_server.reset_requests()

    launched = webserver.graphql(LAUNCH_MUTATION, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    status = _wait_for_run(webserver, run_id)

    assert status == "SUCCESS", webserver.log()
    repo_paths = [
        request.path for request in snapshot_server.requests if request.path.startswith("/repos/")
    ]
    assert repo_paths, "the run sent no request to the snapshot server"
    assert all(
        path.startswith("/repos/mithro/gf180mcu-ic-0p5x0p5-sram-u8b3k/") for path in repo_paths
    ), repo_paths
    assert "/repos/mithro/gf180mcu-ic-0p5x0p5-sram-u8b3k/actions/runs" in repo_paths


def _wait_for_run(server: Webserver, run_id: str) -> str:
    deadline = time.monotonic() + RUN_SECONDS
    status = "unknown"
    while time.monotonic() < deadline:
        run = server.graphql(RUN_QUERY, {"runId": run_id})["runOrError"]
        assert run["__typename"] == "Run", run
        status = str(run["status"])
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            return status
        time.sleep(0.5)
    pytest.fail(f"run {run_id} still {status} after {RUN_SECONDS} s:\n{server.log()}")
