"""The offline demo: the bundled GitHub snapshot served on 127.0.0.1, and the real pipeline run on it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SNAPSHOT_DIR = Path(__file__).parent / "github-snapshot"
# The instant the snapshot was taken; the demo reports as of then, so ages and staleness read
# as they did on that day.
SNAPSHOT_NOW = "2025-12-16T02:10:00Z"


DEMO_CONFIG = Path(__file__).parent / "downstream_repos.yaml"
# The demo keeps its Dagster home and caches apart from real runs in the same folder, so neither
# reads the other's results. Only the site goes where a real run would put it.
DEMO_STATE_DIR = Path(".forge-status-demo")


def demo_environment(api_url: str, *, base: dict[str, str] | None = None) -> dict[str, str]:
    """Return an environment that points the pipeline at ``api_url`` and contains no GitHub token."""
    env = dict(os.environ if base is None else base)
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "SLACK_WEBHOOK_URL", "DISCORD_WEBHOOK_URL"):
        env.pop(name, None)
    state_dir = DEMO_STATE_DIR.resolve()
    env["GITHUB_API_URL"] = api_url
    env["FORGE_STATUS_CONFIG"] = str(DEMO_CONFIG)
    env["FORGE_STATUS_NOW"] = SNAPSHOT_NOW
    env["DAGSTER_HOME"] = str(state_dir / "dagster")
    env["FORGE_STATUS_CACHE_DIR"] = str(state_dir / "cache")
    # Dagster's telemetry would otherwise try to upload from a demo meant to run offline.
    env["DAGSTER_DISABLE_TELEMETRY"] = "1"
    return env


def materialize_command() -> list[str]:
    """Return the command that CI and the demo use to run every asset once."""
    return [
        sys.executable,
        "-m",
        "dagster",
        "asset",
        "materialize",
        "-m",
        "forge_status_pipeline.definitions",
        "--select",
        "*",
    ]


def run_materialize(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run every asset once with ``env``; Dagster's own log is kept in the result, not printed."""
    home = Path(env["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    instance_file = home / "dagster.yaml"
    if not instance_file.exists():
        instance_file.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    return subprocess.run(
        materialize_command(), env=env, capture_output=True, text=True, check=False
    )
