"""Time `forge-status status` against `dagster asset materialize` of the whole pipeline.

The commands run side by side in one run, as subprocesses, against the loopback replay server:
the four-repo snapshot with no added latency, then 200 generated repos with 50 ms per request.
Every command starts cold (empty HTTP cache, new Dagster home) and is repeated; the median wall
time of each and its ratio to the plain command are printed. The Dagster run is timed with the
Dagster home CI uses (``dagster_one_shot.yaml``: events in memory) and with Dagster's default
SQLite home. Beside it, with the one-shot home: the pipeline with one runs asset for all repos
instead of one per repo (``dagster_one_key.py``), and the pipeline's definitions with every
step doing nothing (``dagster_floor.py``), which is what Dagster alone costs for a run of the
pipeline's shape.

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
UNLIMITED = 10**9


def dagster_file_command(name: str) -> list[str]:
    """Return the command that materializes every asset of ``benchmarks/<name>``."""
    path = REPO_ROOT / "benchmarks" / name
    return [
        sys.executable,
        "-m",
        "dagster",
        "asset",
        "materialize",
        "-f",
        str(path),
        "--select",
        "*",
    ]


# Each variant: its label, its command, and whether its Dagster home is CI's one-shot one.
VARIANTS = [
    ("forge-status status", PLAIN_COMMAND, False),
    ("dagster, one-shot home (CI)", materialize_command(), True),
    ("dagster, SQLite home", materialize_command(), False),
    ("dagster, one asset for all repos", dagster_file_command("dagster_one_key.py"), True),
    ("dagster alone (idle steps)", dagster_file_command("dagster_floor.py"), True),
]
# The variants that do the pipeline's work, whose requests are counted.
WORKING_VARIANTS = 4


def timed_run(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[2:])} failed:\n{result.stderr[-2000:]}")
    return elapsed


def measure(name: str, server: GitHubReplayServer, config_path: Path, repeat: int) -> None:
    times: dict[str, list[float]] = {label: [] for label, _command, _one_shot in VARIANTS}
    requests: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as scratch:
        # One run of each variant per round, so a slow moment of the machine hits all of them.
        for attempt in range(repeat):
            for index, (label, command, one_shot) in enumerate(VARIANTS):
                work = Path(scratch, f"{attempt}-{index}")
                env = pipeline_environment(
                    server.url, config_path, work, site_dir=work / "site", one_shot=one_shot
                )
                server.reset_requests()
                times[label].append(timed_run(command, env))
                requests[label] = len(server.requests)

    plain = statistics.median(times[VARIANTS[0][0]])
    cells = [f"{plain:.2f} s"]
    for label, _command, _one_shot in VARIANTS[1:]:
        median = statistics.median(times[label])
        cells.append(f"{median:.2f} s ({median / plain:.1f}x)")
    counts = " / ".join(
        str(requests[label]) for label, _command, _one_shot in VARIANTS[:WORKING_VARIANTS]
    )
    print(f"| {name} | {' | '.join(cells)} | {counts} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each command per case.")
    parser.add_argument("--repos", type=int, default=200, help="Generated repos in the large case.")
    parser.add_argument(
        "--latency", type=float, default=0.05, help="Seconds per request, large case."
    )
    options = parser.parse_args()

    print(f"median of {options.repeat} cold runs each, {os.cpu_count()} CPUs")
    labels = [label for label, _command, _one_shot in VARIANTS]
    print(f"| case | {' | '.join(labels)} | requests, first {WORKING_VARIANTS} columns |")
    print("|---" * (len(labels) + 2) + "|")
    # Every variant runs cold several times, which would spend the server's default hourly
    # budget of 5,000 (GitHub's for a token).
    with GitHubReplayServer(SNAPSHOT_DIR, rate_limit=UNLIMITED) as server:
        measure(
            "4 repos (snapshot), no added latency",
            server,
            REPO_ROOT / "downstream_repos.yaml",
            options.repeat,
        )

    with (
        tempfile.TemporaryDirectory() as scratch,
        GitHubReplayServer(latency=options.latency, rate_limit=UNLIMITED) as server,
    ):
        entries = serve_generated(server, options.repos, 10)
        config_path = Path(scratch, "repos.yaml")
        config = {"generator": {"owner": "bench", "name": "generator"}, "repos": entries}
        config_path.write_text(yaml.safe_dump(config))
        label = f"{options.repos} repos, {options.latency * 1000:.0f} ms per request"
        measure(label, server, config_path, options.repeat)


if __name__ == "__main__":
    main()
