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
# Instance settings for a run whose Dagster home is deleted afterwards, as in CI.
ONE_SHOT_INSTANCE = Path(__file__).parent.parent / "dagster_one_shot.yaml"
# The demo keeps its Dagster home and caches apart from real runs in the same folder, so neither
# reads the other's results. Only the site goes where a real run would put it.
DEMO_STATE_DIR = Path(".forge-status-demo")


def pipeline_environment(
    api_url: str,
    config_path: Path,
    work_dir: Path,
    *,
    site_dir: Path | None = None,
    now: str = SNAPSHOT_NOW,
    base: dict[str, str] | None = None,
    one_shot: bool = False,
) -> dict[str, str]:
    """Prepare ``work_dir`` and return an environment that runs the pipeline against ``api_url``.

    The environment contains no GitHub token or webhook URL, keeps the caches and a Dagster home
    (telemetry off) in ``work_dir``, and fixes the clock at ``now``. The site goes to ``site_dir``,
    or where ``base`` already puts it. With ``one_shot``, the Dagster home gets CI's instance
    settings (``ONE_SHOT_INSTANCE``), which keep the run's events in memory.
    """
    env = dict(os.environ if base is None else base)
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "SLACK_WEBHOOK_URL", "DISCORD_WEBHOOK_URL"):
        env.pop(name, None)
    dagster_home = work_dir / "dagster"
    dagster_home.mkdir(parents=True, exist_ok=True)
    instance_file = dagster_home / "dagster.yaml"
    if one_shot:
        instance_file.write_text(ONE_SHOT_INSTANCE.read_text(encoding="utf-8"), encoding="utf-8")
    elif not instance_file.exists():
        instance_file.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")

    env["GITHUB_API_URL"] = api_url
    env["FORGE_STATUS_CONFIG"] = str(config_path)
    env["FORGE_STATUS_NOW"] = now
    env["DAGSTER_HOME"] = str(dagster_home)
    env["FORGE_STATUS_CACHE_DIR"] = str(work_dir / "cache")
    # Dagster's telemetry would otherwise try to upload from a run meant to stay offline.
    env["DAGSTER_DISABLE_TELEMETRY"] = "1"
    if site_dir is not None:
        env["FORGE_STATUS_SITE_DIR"] = str(site_dir)
    return env


def demo_environment(api_url: str) -> dict[str, str]:
    """Return the demo's environment: the bundled config, with its state in ``DEMO_STATE_DIR``."""
    return pipeline_environment(api_url, DEMO_CONFIG, DEMO_STATE_DIR.resolve())


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
    return subprocess.run(
        materialize_command(), env=env, capture_output=True, text=True, check=False
    )
