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


def demo_environment(api_url: str, *, base: dict[str, str] | None = None) -> dict[str, str]:
    """Return an environment that points the pipeline at ``api_url`` and contains no GitHub token."""
    env = dict(os.environ if base is None else base)
    for name in ("GITHUB_TOKEN", "GH_TOKEN"):
        env.pop(name, None)
    env["GITHUB_API_URL"] = api_url
    env.setdefault("FORGE_STATUS_NOW", SNAPSHOT_NOW)
    env.setdefault("DAGSTER_HOME", str(Path(".dagster").resolve()))
    env.setdefault("FORGE_STATUS_CACHE_DIR", str(Path(".forge-status-cache").resolve()))
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


def run_materialize(env: dict[str, str]) -> int:
    Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    return subprocess.run(materialize_command(), env=env, check=False).returncode
