"""Time `forge-status status` against `dagster asset materialize` of the whole pipeline.

Both commands run side by side in one run, as subprocesses, against the loopback replay server:
the four-repo snapshot with no added latency, then 200 generated repos with 50 ms per request.
Each command starts cold (fresh HTTP cache and Dagster home) and is repeated; the median wall
time of each and their ratio are printed.

    uv run python benchmarks/dagster_vs_cli.py [--repeat 3] [--repos 200] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from forge_status_pipeline.demo import SNAPSHOT_DIR, materialize_command, pipeline_environment
from forge_status_pipeline.testing.generate import serve_generated
from forge_status_pipeline.testing.github_server import GitHubReplayServer

REPO_ROOT = Path(__file__).resolve().parent.parent
PLAIN_COMMAND = [sys.executable, "-m", "forge_status_pipeline.cli", "status", "--format", "json"]


def timed_run(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{command[2:5]} failed:\n{result.stderr[-2000:]}")
    return elapsed


def fresh_env(server: GitHubReplayServer, config_path: Path, work: Path) -> dict[str, str]:
    return pipeline_environment(server.url, config_path, work, site_dir=work / "site")


def measure(name: str, server: GitHubReplayServer, config_path: Path, repeat: int) -> None:
    plain: list[float] = []
    dagster: list[float] = []
    requests_plain = requests_dagster = 0
    with tempfile.TemporaryDirectory() as scratch:
        for attempt in range(repeat):
            server.reset_requests()
            plain.append(
                timed_run(
                    PLAIN_COMMAND, fresh_env(server, config_path, Path(scratch, f"p{attempt}"))
                )
            )
            requests_plain = len(server.requests)
            server.reset_requests()
            dagster.append(
                timed_run(
                    materialize_command(),
                    fresh_env(server, config_path, Path(scratch, f"d{attempt}")),
                )
            )
            requests_dagster = len(server.requests)
    plain_median = statistics.median(plain)
    dagster_median = statistics.median(dagster)
    print(
        f"| {name} | {plain_median:.2f} s | {dagster_median:.2f} s | "
        f"{dagster_median / plain_median:.1f}x | {requests_plain} / {requests_dagster} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each command per case.")
    parser.add_argument("--repos", type=int, default=200, help="Generated repos in the large case.")
    parser.add_argument(
        "--latency", type=float, default=0.05, help="Seconds per request, large case."
    )
    options = parser.parse_args()

    print(f"median of {options.repeat} cold runs each, {os.cpu_count()} CPUs")
    print(
        "| case | forge-status status | dagster asset materialize | ratio | requests (plain / dagster) |"
    )
    print("|---|---|---|---|---|")
    with GitHubReplayServer(SNAPSHOT_DIR) as server:
        measure(
            "4 repos (snapshot), no added latency",
            server,
            REPO_ROOT / "downstream_repos.yaml",
            options.repeat,
        )

    with (
        tempfile.TemporaryDirectory() as scratch,
        GitHubReplayServer(latency=options.latency) as server,
    ):
        entries = serve_generated(server, options.repos, 10)
        config_path = Path(scratch, "repos.yaml")
        config = {"generator": {"owner": "bench", "name": "generator"}, "repos": entries}
        config_path.write_text(yaml.safe_dump(config))
        label = f"{options.repos} repos, {options.latency * 1000:.0f} ms per request"
        measure(label, server, config_path, options.repeat)


if __name__ == "__main__":
    main()
