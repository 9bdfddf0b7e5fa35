"""Compare the refresh's requests and wall time with the one-repo-at-a-time baseline.

Starts the loopback replay server with generated repos and a fixed latency per request, then
runs, against the same server:

- a cold refresh (empty cache folder) and a warm refresh (same folder, nothing changed) with the
  real client and pipeline, ``refresh_report``;
- the baseline: repos one after another, ``GET .../actions/runs?per_page=5`` for each, then one
  ``GET .../commits/{sha}`` per listed run, with no cache.

Requests and rate-limit points are read from the server's own records, not from the client.
Run it with ``uv run python benchmarks/refresh_benchmark.py``; it prints figures and does not
assert anything beyond printing whether the acceptance bounds were met.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import requests

from forge_status_pipeline.config import ForgeConfig
from forge_status_pipeline.fetch import DEFAULT_CONCURRENCY
from forge_status_pipeline.github import GitHubClient
from forge_status_pipeline.pipeline import refresh_report
from forge_status_pipeline.testing.generate import GENERATOR_NAME, GENERATOR_OWNER, serve_generated
from forge_status_pipeline.testing.github_server import GitHubReplayServer

# Large enough that no benchmark pass runs out of budget; the points used are what is measured.
SERVER_BUDGET = 1_000_000
BASELINE_RUNS_PER_REPO = 5
# Acceptance bounds, checked for runs of at least ACCEPTANCE_REPOS repos.
ACCEPTANCE_REPOS = 200
MIN_SPEEDUP = 20.0
MAX_OVER_IDEAL = 2.0


@dataclass(frozen=True)
class Measurement:
    """Cost of one pass, as the server recorded it."""

    requests: int
    rate_limited: int
    not_modified: int
    wall_seconds: float
    # CPU time of this process, all threads, during the pass.
    cpu_seconds: float


class ServerProcess:
    """The replay server with generated repos, in a process of its own.

    A GitHub server does not share the client's CPU, so neither does this one: in the client's
    process it would compete for the interpreter lock and inflate the client's wall time. The
    server's request records and budget come back over a pipe.
    """

    def __init__(self, repos: int, revisions: int, latency: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, repos, revisions, latency), daemon=True
        )
        self._process.start()
        self.url, self.entries = self._connection.recv()

    def reset(self) -> int:
        """Forget the recorded requests and return the budget left."""
        self._connection.send("reset")
        budget: int = self._connection.recv()
        return budget

    def read(self) -> tuple[list[int], int]:
        """Return the status of every request since the last reset, and the budget left."""
        self._connection.send("read")
        statuses, budget = self._connection.recv()
        return statuses, budget

    def stop(self) -> None:
        self._connection.send("stop")
        self._process.join(timeout=10)


def _serve(connection: Connection, repos: int, revisions: int, latency: float) -> None:
    with GitHubReplayServer(None, latency=latency, rate_limit=SERVER_BUDGET) as server:
        entries = serve_generated(server, repos, revisions)
        connection.send((server.url, entries))
        while True:
            command = connection.recv()
            if command == "reset":
                server.reset_requests()
                connection.send(server.budget_remaining)
            elif command == "read":
                statuses = [request.status for request in server.requests]
                connection.send((statuses, server.budget_remaining))
            else:
                return


def measure(server: ServerProcess, action: Callable[[], None]) -> Measurement:
    """Run ``action()`` and return the server's counts and the wall time it took."""
    budget_before = server.reset()
    started = time.perf_counter()
    cpu_started = time.process_time()
    action()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    statuses, budget_after = server.read()
    rate_limited = budget_before - budget_after
    not_modified = statuses.count(304)
    # The server charges every response except a 304, so the two counts must agree.
    if rate_limited != len(statuses) - not_modified:
        raise RuntimeError(
            f"server budget dropped by {rate_limited} but {len(statuses) - not_modified} "
            "requests were answered with something other than 304"
        )
    return Measurement(len(statuses), rate_limited, not_modified, wall, cpu)


def baseline_refresh(base_url: str, config: ForgeConfig) -> None:
    """Fetch as the design's first sketch does: one repo after another, one commit per run."""
    with requests.Session() as session:
        for repo in config.repos:
            listing = session.get(
                f"{base_url}/repos/{repo.full_name}/actions/runs",
                params={"per_page": BASELINE_RUNS_PER_REPO},
                timeout=30,
            )
            listing.raise_for_status()
            for run in listing.json()["workflow_runs"]:
                # The generated server has no downstream commits, so these get 404. The
                # request and its latency are what the baseline costs either way.
                session.get(
                    f"{base_url}/repos/{repo.full_name}/commits/{run['head_sha']}", timeout=30
                )


def run_case(
    repos: int, revisions: int, latency: float, concurrency: int, skip_baseline: bool
) -> None:
    server = ServerProcess(repos, revisions, latency)
    try:
        config = ForgeConfig.model_validate(
            {
                "generator": {"owner": GENERATOR_OWNER, "name": GENERATOR_NAME},
                "repos": server.entries,
            }
        )
        cache_dir = Path(tempfile.mkdtemp(prefix="refresh-benchmark-"))
        try:
            cold = measure(server, lambda: _refresh(server.url, config, cache_dir, concurrency))
            warm = measure(server, lambda: _refresh(server.url, config, cache_dir, concurrency))
        finally:
            shutil.rmtree(cache_dir, ignore_errors=True)
        baseline = None
        if not skip_baseline:
            baseline = measure(server, lambda: baseline_refresh(server.url, config))
    finally:
        server.stop()

    print(f"\n{repos} repos, {revisions} revisions each, {latency * 1000:.0f} ms per request")
    print_table({"cold": cold, "warm": warm, "baseline": baseline})
    print_comparison(repos, latency, concurrency, cold, warm, baseline)


def print_table(passes: dict[str, Measurement | None]) -> None:
    header = f"{'pass':<10}{'requests':>10}{'rate-limited':>14}{'304':>6}{'wall s':>9}{'cpu s':>8}"
    print(header)
    print("-" * len(header))
    for name, result in passes.items():
        if result is None:
            continue
        print(
            f"{name:<10}{result.requests:>10}{result.rate_limited:>14}"
            f"{result.not_modified:>6}{result.wall_seconds:>9.2f}{result.cpu_seconds:>8.2f}"
        )


def print_comparison(
    repos: int,
    latency: float,
    concurrency: int,
    cold: Measurement,
    warm: Measurement,
    baseline: Measurement | None,
) -> None:
    ideal = latency * math.ceil(repos / concurrency)
    print(f"latency x ceil(repos / concurrency {concurrency}) = {ideal:.2f} s")
    if ideal > 0:
        print(f"cold / that figure: {cold.wall_seconds / ideal:.2f}x")
    if baseline is None:
        return
    print(
        f"baseline / cold: {baseline.wall_seconds / cold.wall_seconds:.1f}x wall time, "
        f"{baseline.requests / cold.requests:.1f}x requests, "
        f"{baseline.rate_limited / cold.rate_limited:.1f}x rate-limit points"
    )
    print(
        f"baseline / warm: {baseline.wall_seconds / warm.wall_seconds:.1f}x wall time, "
        f"{baseline.requests / warm.requests:.1f}x requests"
    )
    if repos < ACCEPTANCE_REPOS or ideal == 0:
        return
    speedup_ok = baseline.wall_seconds / cold.wall_seconds >= MIN_SPEEDUP
    ideal_ok = cold.wall_seconds <= MAX_OVER_IDEAL * ideal
    print(
        f"acceptance: cold >= {MIN_SPEEDUP:.0f}x faster than baseline: "
        f"{'yes' if speedup_ok else 'NO'}; cold within {MAX_OVER_IDEAL:.0f}x of "
        f"latency x ceil(repos / concurrency): {'yes' if ideal_ok else 'NO'}"
    )


def _refresh(base_url: str, config: ForgeConfig, cache_dir: Path, concurrency: int) -> None:
    # A new client per pass, as a new scheduled run would start with, on the same cache folder.
    client = GitHubClient(base_url, cache_dir=cache_dir)
    refresh_report(config, client, concurrency=concurrency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repos",
        type=int,
        nargs="+",
        default=[4, 200],
        help="repo counts to run, one case each (default: 4 200)",
    )
    parser.add_argument(
        "--revisions", type=int, default=10, help="generator revisions per repo (default: 10)"
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.05,
        help="seconds the server waits before each response (default: 0.05)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"repos fetched at once by the real client (default: {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--skip-baseline", action="store_true", help="skip the slow baseline passes"
    )
    args = parser.parse_args()

    cores = os.cpu_count() or 1
    print(f"python {platform.python_version()} on {platform.machine()}, {cores} cores")
    for repos in args.repos:
        run_case(repos, args.revisions, args.latency, args.concurrency, args.skip_baseline)


if __name__ == "__main__":
    main()
