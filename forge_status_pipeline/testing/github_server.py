"""GitHub REST API replay server for tests, benchmarks and the offline demo.

The server listens on 127.0.0.1 only. It serves a snapshot folder laid out like
``forge_status_pipeline/demo/github-snapshot`` (its README specifies how requests map to
files) and repositories added in memory. Tests can inject error responses, delays, dropped
connections and repository renames, and read back every request the server received.

This module exports the public names and runs the command line. The server itself is split
across the ``replay_*`` modules of this package, one concept per module.
"""

from __future__ import annotations

import argparse
import signal
import time
from pathlib import Path

from forge_status_pipeline.testing.replay_http import RecordedRequest
from forge_status_pipeline.testing.replay_messages import DOCUMENTATION_URL, HOST, JSONObject
from forge_status_pipeline.testing.replay_query import DEFAULT_PER_PAGE, MAX_PER_PAGE
from forge_status_pipeline.testing.replay_routing import MIN_COMMIT_PREFIX
from forge_status_pipeline.testing.replay_server import (
    RATE_LIMIT_WINDOW_SECONDS,
    SHUTDOWN_POLL_SECONDS,
    GitHubReplayServer,
)

__all__ = [
    "DEFAULT_PER_PAGE",
    "DEFAULT_SNAPSHOT_DIR",
    "DOCUMENTATION_URL",
    "HOST",
    "MAX_PER_PAGE",
    "MIN_COMMIT_PREFIX",
    "RATE_LIMIT_WINDOW_SECONDS",
    "SHUTDOWN_POLL_SECONDS",
    "GitHubReplayServer",
    "JSONObject",
    "RecordedRequest",
    "main",
]

DEFAULT_SNAPSHOT_DIR = Path(__file__).resolve().parent.parent / "demo" / "github-snapshot"


def main(argv: list[str] | None = None) -> int:
    """Serve a snapshot on 127.0.0.1 until interrupted, after printing the URL on stdout."""
    parser = argparse.ArgumentParser(
        prog="python -m forge_status_pipeline.testing.github_server",
        description="Serve a GitHub REST API snapshot on 127.0.0.1 until interrupted.",
    )
    parser.add_argument(
        "--snapshot",
        type=Path,
        default=DEFAULT_SNAPSHOT_DIR,
        help="snapshot folder laid out like demo/github-snapshot (default: the bundled demo)",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: 0, any free port)"
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="seconds to wait before every response (default: 0)",
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=5000,
        help="requests per hour before the server responds with 403 (default: 5000)",
    )
    args = parser.parse_args(argv)

    if not args.snapshot.is_dir():
        parser.error(f"snapshot folder {args.snapshot} does not exist")

    server = GitHubReplayServer(
        args.snapshot, latency=args.latency, rate_limit=args.rate_limit, port=args.port
    )
    # SIGTERM stops the server like Ctrl-C does, so scripts can end it cleanly.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    server.start()
    print(server.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
