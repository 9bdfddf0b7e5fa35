from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from forge_status_pipeline.config import ForgeConfig, load_config
from forge_status_pipeline.demo import SNAPSHOT_DIR
from forge_status_pipeline.github import GitHubClient
from forge_status_pipeline.testing.github_server import GitHubReplayServer

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_PATH = REPO_ROOT / "downstream_repos.yaml"
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep every test away from the real GitHub and from the developer's own settings."""
    for name in (
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GITHUB_API_URL",
        "FORGE_STATUS_CONFIG",
        "FORGE_STATUS_CACHE_DIR",
        "FORGE_STATUS_SITE_DIR",
        "FORGE_STATUS_NOW",
        "SLACK_WEBHOOK_URL",
        "DISCORD_WEBHOOK_URL",
        "DAGSTER_HOME",
    ):
        monkeypatch.delenv(name, raising=False)
    # Dagster's telemetry uploads to the internet; tests and their subprocesses never do.
    monkeypatch.setenv("DAGSTER_DISABLE_TELEMETRY", "1")
    # A default that would reach the internet fails loudly instead.
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9/unset-in-test")
    monkeypatch.setenv("FORGE_STATUS_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def snapshot_dir() -> Path:
    return SNAPSHOT_DIR


@pytest.fixture
def config() -> ForgeConfig:
    return load_config(CONFIG_PATH)


@pytest.fixture
def github_server(snapshot_dir: Path) -> Iterator[GitHubReplayServer]:
    with GitHubReplayServer(snapshot_dir) as server:
        yield server


@pytest.fixture
def client(github_server: GitHubReplayServer, tmp_path: Path) -> GitHubClient:
    return GitHubClient(
        github_server.url, cache_dir=tmp_path / "client-cache", sleep=lambda _seconds: None
    )


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    target = tmp_path / "downstream_repos.yaml"
    shutil.copy(CONFIG_PATH, target)
    return target
