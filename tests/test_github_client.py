"""The GitHub client against the loopback replay server: requests spent, waits, retries, moves.

Waits use an injected clock and sleep, so every expected duration below is exact and the tests
never really sleep (except the read-timeout tests, which need a real socket timeout).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from forge_status_pipeline.config import ForgeConfig
from forge_status_pipeline.fetch import fetch_all_runs, fetch_repo_runs, iter_repo_runs
from forge_status_pipeline.github import GitHubClient, RepoUnavailableError
from forge_status_pipeline.pipeline import refresh_report
from forge_status_pipeline.testing.generate import generate_repos
from forge_status_pipeline.testing.github_server import GitHubReplayServer, RecordedRequest

START = 1_800_000_000.0
U8B3K = "mithro/gf180mcu-ic-0p5x0p5-sram-u8b3k"
U8B24K = "mithro/gf180mcu-ic-1x1-sram-u8b24k"
RUNS_1X1 = r"^/repos/mithro/gf180mcu-ic-1x1-sram-u8b24k/actions/runs$"
GENERATOR_COMMITS = "/repos/mithro/gf180mcu-sram-forge/commits/"
MISSING_SHA = "e87527ff1fddadc4bef7e2a76d04554b14ded9c8"


class FakeTime:
    """A clock that only moves when something sleeps (unless ``advance`` is False).

    Every sleep is recorded.
    """

    def __init__(self, start: float = START, *, advance: bool = True) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._advance = advance
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            if self._advance:
                self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def make_client(
    server: GitHubReplayServer, cache_dir: Path, fake_time: FakeTime, **options: Any
) -> GitHubClient:
    return GitHubClient(
        server.url, cache_dir=cache_dir, sleep=fake_time.sleep, clock=fake_time.clock, **options
    )


def list_1x1(client: GitHubClient) -> int:
    """List the 1x1 repo's runs; return how many were read."""
    listing = client.list_runs("mithro", "gf180mcu-ic-1x1-sram-u8b24k", enough=lambda runs: False)
    return len(listing.runs)


def requests_to(server: GitHubReplayServer, fragment: str) -> list[RecordedRequest]:
    return [request for request in server.requests if fragment in request.path]


# Conditional requests and the requests a refresh costs


def test_cold_refresh_request_count(
    github_server: GitHubReplayServer, config: ForgeConfig, tmp_path: Path, fake_time: FakeTime
) -> None:
    client = make_client(github_server, tmp_path / "cache", fake_time)
    budget = github_server.budget_remaining

    refresh_report(config, client)

    runs_lists = requests_to(github_server, "/actions/runs")
    commits = requests_to(github_server, GENERATOR_COMMITS)
    # One page per repo (1x1 has 82 runs, under per_page=100), one request per distinct
    # generator sha named in the runs (12), and nothing per run.
    assert len(runs_lists) == 4
    assert all(request.query == {"per_page": "100"} for request in runs_lists)
    assert all(request.path.endswith("/actions/runs") for request in runs_lists)
    assert len(commits) == 12
    assert [request.path.rsplit("/", 1)[1] for request in commits if request.status == 404] == [
        MISSING_SHA
    ]
    assert len(github_server.requests) == 16
    assert budget - github_server.budget_remaining == 16
    assert client.stats.sent == 16


def test_warm_refresh_costs_nothing(
    github_server: GitHubReplayServer, config: ForgeConfig, tmp_path: Path, fake_time: FakeTime
) -> None:
    refresh_report(config, make_client(github_server, tmp_path / "cache", fake_time))
    github_server.reset_requests()
    budget = github_server.budget_remaining
    client = make_client(github_server, tmp_path / "cache", fake_time)

    report = refresh_report(config, client)

    # Only the four runs lists are requested again, each getting 304. The commits, found or
    # missing, come from the cache folder.
    assert [request.status for request in github_server.requests] == [304, 304, 304, 304]
    assert github_server.budget_remaining == budget
    assert client.stats.rate_limited_requests == 0
    assert report.revisions[1].subject is not None


def test_changed_repo_costs_one_point(
    github_server: GitHubReplayServer, config: ForgeConfig, tmp_path: Path, fake_time: FakeTime
) -> None:
    refresh_report(config, make_client(github_server, tmp_path / "cache", fake_time))
    listing = make_client(github_server, None, fake_time).get(f"/repos/{U8B3K}/actions/runs")
    runs = listing.json()["workflow_runs"]
    github_server.set_runs("mithro", "gf180mcu-ic-0p5x0p5-sram-u8b3k", runs[1:])
    github_server.reset_requests()
    budget = github_server.budget_remaining

    report = refresh_report(config, make_client(github_server, tmp_path / "cache", fake_time))

    statuses = sorted(request.status for request in github_server.requests)
    assert statuses == [200, 304, 304, 304]
    assert budget - github_server.budget_remaining == 1
    assert report.repos[0].runs_fetched == 12


def test_long_lookback_costs_extra_pages(tmp_path: Path, fake_time: FakeTime) -> None:
    # 20 revisions with 25 runs each, newest first: page 1 covers 4 shas, page 2 covers 8 and
    # page 3 covers 12, more than the look-back of 10, so paging stops before pages 4 and 5.
    entries, runs, _repos = generate_repos(1, 20, runs_per_revision=25)
    with GitHubReplayServer() as server:
        server.add_repo("bench", "chip-0000", runs=runs["bench/chip-0000"])
        config = ForgeConfig.model_validate({"repos": entries})
        client = make_client(server, tmp_path / "cache", fake_time)

        result = fetch_repo_runs(client, config.repos[0], lookback=10)

    assert result.available
    assert result.pages == 3
    assert len(result.runs) == 300
    assert [request.query.get("page") for request in server.requests] == [None, "2", "3"]
    assert all(request.query.get("per_page") == "100" for request in server.requests)


def test_missing_commit_asked_again_daily(
    github_server: GitHubReplayServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    client = make_client(github_server, tmp_path / "cache", fake_time)

    first = client.get_commit("mithro", "gf180mcu-sram-forge", MISSING_SHA)
    fake_time.now += 23 * 3600
    second = make_client(github_server, tmp_path / "cache", fake_time).get_commit(
        "mithro", "gf180mcu-sram-forge", MISSING_SHA
    )
    requests_within_a_day = len(github_server.requests)
    fake_time.now += 2 * 3600
    third = client.get_commit("mithro", "gf180mcu-sram-forge", MISSING_SHA)

    assert (first, second, third) == (None, None, None)
    assert requests_within_a_day == 1
    assert len(github_server.requests) == 2


def test_unprocessable_commit_is_missing(
    github_server: GitHubReplayServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    github_server.inject(r"/commits/", status=422, body={"message": "No commit found for SHA"})
    client = make_client(github_server, tmp_path / "cache", fake_time)

    assert client.get_commit("mithro", "gf180mcu-sram-forge", "0" * 40) is None
    assert client.get_commit("mithro", "gf180mcu-sram-forge", "0" * 40) is None
    assert len(github_server.requests) == 1


def test_newer_attempt_wins_warm_cache(
    github_server: GitHubReplayServer, config: ForgeConfig, tmp_path: Path, fake_time: FakeTime
) -> None:
    listing = make_client(github_server, None, fake_time).get(f"/repos/{U8B3K}/actions/runs")
    runs = listing.json()["workflow_runs"]
    newest = runs[0]
    assert newest["head_commit"]["message"].count(MISSING_SHA) == 1
    failed = {**newest, "conclusion": "failure", "run_attempt": 1}
    github_server.set_runs("mithro", "gf180mcu-ic-0p5x0p5-sram-u8b3k", [failed, *runs[1:]])
    first = refresh_report(config, make_client(github_server, tmp_path / "cache", fake_time))

    rerun = {**newest, "conclusion": "success", "run_attempt": 2}
    rerun["updated_at"] = "2025-12-16T02:05:00Z"
    github_server.set_runs("mithro", "gf180mcu-ic-0p5x0p5-sram-u8b3k", [rerun, *runs[1:]])
    second = refresh_report(config, make_client(github_server, tmp_path / "cache", fake_time))

    first_cell = first.revisions[0].cell(U8B3K)
    second_cell = second.revisions[0].cell(U8B3K)
    assert first_cell is not None
    assert second_cell is not None
    assert first_cell.state == "failing"
    assert second_cell.state == "passing"
    assert second_cell.run_ids == [newest["id"]]


# Rate limits


@pytest.mark.parametrize("status", [403, 429])
def test_primary_limit_waits_until_reset(
    github_server: GitHubReplayServer, tmp_path: Path, fake_time: FakeTime, status: int
) -> None:
    reset = int(START) + 30
    github_server.inject(
        RUNS_1X1,
        status=status,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
    )
    client = make_client(github_server, tmp_path / "cache", fake_time)

    assert list_1x1(client) == 82
    # One second past the reset, which GitHub rounds to whole seconds.
    assert fake_time.sleeps == [31.0]
    assert [request.status for request in github_server.requests] == [status, 200]


def test_primary_limit_past_bound_stops_all(
    github_server: GitHubReplayServer, config: ForgeConfig, tmp_path: Path, fake_time: FakeTime
) -> None:
    github_server.inject(
        "/actions/runs",
        status=403,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(START) + 3600)},
    )
    client = make_client(github_server, tmp_path / "cache", fake_time, max_rate_limit_wait=300)

    report = refresh_report(config, client, concurrency=1)

    # The first response reported no budget for an hour, so nothing else was sent: not the
    # other repos and not the generator commits.
    assert len(github_server.requests) == 1
    assert fake_time.sleeps == []
    assert [item.reason for item in report.unavailable] == ["rate_limited"] * 4
    assert "403 primary rate limit" in report.unavailable[0].detail
    assert "no request is sent until" in report.unavailable[1].detail


def test_spent_budget_stops_before_403(
    snapshot_dir: Path, config: ForgeConfig, tmp_path: Path
) -> None:
    # The server's reset is an hour from the real now, so this client reads the real clock.
    sleeps: list[float] = []
    with GitHubReplayServer(snapshot_dir, rate_limit=2) as server:
        client = GitHubClient(server.url, cache_dir=tmp_path / "cache", sleep=sleeps.append)

        results = fetch_all_runs(client, config, concurrency=1)

    # The second response carried x-ratelimit-remaining 0, so the client sent nothing more.
    assert [result.available for result in results] == [True, True, False, False]
    assert [request.status for request in server.requests] == [200, 200]
    assert sleeps == []
    assert all(result.error.reason == "rate_limited" for result in results[2:] if result.error)


def test_retry_after_is_honoured(
    github_server: GitHubReplayServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    github_server.inject(RUNS_1X1, status=403, headers={"Retry-After": "7"})
    client = make_client(github_server, tmp_path / "cache", fake_time)

    assert list_1x1(client) == 82
    assert fake_time.sleeps == [7.0]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (429, None),
        (403, {"message": "You have exceeded a secondary rate limit. Please wait."}),
    ],
)
def test_secondary_limit_backs_off_exponentially(
    github_server: GitHubReplayServer,
    tmp_path: Path,
    fake_time: FakeTime,
    status: int,
    body: dict[str, str] | None,
) -> None:
    github_server.inject(RUNS_1X1, status=status, body=body, times=3)
    client = make_client(github_server, tmp_path / "cache", fake_time, max_rate_limit_wait=1000)

    assert list_1x1(client) == 82
    assert fake_time.sleeps == [60.0, 120.0, 240.0]
    assert [request.status for request in github_server.requests] == [status] * 3 + [200]


def test_secondary_limit_gives_up_bounded(
    github_server: GitHubReplayServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    github_server.inject(RUNS_1X1, status=429, times=None)
    client = make_client(github_server, tmp_path / "cache", fake_time)

    with pytest.raises(RepoUnavailableError) as raised:
        list_1x1(client)

    # 60, 120 and 240 s fit in the default bound of 300 s; the fourth response ends the retries.
    assert raised.value.reason == "rate_limited"
    assert fake_time.sleeps == [60.0, 120.0, 240.0]
    assert len(github_server.requests) == 4


def test_long_retry_after_stops_all(
    github_server: GitHubReplayServer, config: ForgeConfig, tmp_path: Path, fake_time: FakeTime
) -> None:
    github_server.inject("/actions/runs", status=429, headers={"Retry-After": "900"})
    client = make_client(github_server, tmp_path / "cache", fake_time, max_rate_limit_wait=300)

    results = fetch_all_runs(client, config, concurrency=1)

    assert len(github_server.requests) == 1
    assert fake_time.sleeps == []
    assert [result.error.reason for result in results if result.error] == ["rate_limited"] * 4


def test_rate_limit_pause_holds_other_requests(
    github_server: GitHubReplayServer, tmp_path: Path
) -> None:
    # The clock does not move, so the pause that the 403 set is still on for the next request.
    fake_time = FakeTime(advance=False)
    github_server.inject(RUNS_1X1, status=403, headers={"Retry-After": "20"})
    client = make_client(github_server, tmp_path / "cache", fake_time)

    client.get(f"/repos/{U8B24K}/actions/runs")
    sleeps_after_first = list(fake_time.sleeps)
    client.get(f"/repos/{U8B3K}/actions/runs")

    assert sleeps_after_first == [20.0]
    # The request for another repo waited out the same pause before it was sent.
    assert fake_time.sleeps == [20.0, 20.0]
    assert [request.status for request in github_server.requests] == [403, 200, 200]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, {"message": "Resource not accessible by integration"}),
        (401, {"message": "Bad credentials"}),
    ],
)
def test_permission_error_not_retried(
    github_server: GitHubReplayServer,
    tmp_path: Path,
    fake_time: FakeTime,
    status: int,
    body: dict[str, str],
) -> None:
    github_server.inject(RUNS_1X1, status=status, body=body)
    client = make_client(github_server, tmp_path / "cache", fake_time)

    with pytest.raises(RepoUnavailableError) as raised:
        list_1x1(client)

    assert raised.value.reason == "no_access"
    assert body["message"] in raised.value.detail
    assert fake_time.sleeps == []
    assert len(github_server.requests) == 1


# Server errors, dropped connections and timeouts


def test_server_errors_retry_with_backoff(
    github_server: GitHubReplayServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    github_server.inject(RUNS_1X1, status=502, times=2)
    client = make_client(github_server, tmp_path / "cache", fake_time, backoff_base=0.5)

    assert list_1x1(client) == 82
    assert fake_time.sleeps == [0.5, 1.0]
    assert [request.status for request in github_server.requests] == [502, 502, 200]
    assert client.stats.retries == 2


def test_server_errors_give_up_bounded(
    github_server: GitHubReplayServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    github_server.inject(RUNS_1X1, status=500, times=None)
    client = make_client(github_server, tmp_path / "cache", fake_time, max_retries=3)

    with pytest.raises(RepoUnavailableError) as raised:
        list_1x1(client)

    assert raised.value.reason == "unreachable"
    assert "after 4 attempts" in raised.value.detail
    assert fake_time.sleeps == [1.0, 2.0, 4.0]
    assert len(github_server.requests) == 4


def test_dropped_connection_is_retried(
    github_server: GitHubReplayServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    github_server.drop_connection(RUNS_1X1, times=2)
    client = make_client(github_server, tmp_path / "cache", fake_time)

    assert list_1x1(client) == 82
    assert fake_time.sleeps == [1.0, 2.0]
    assert [request.status for request in github_server.requests] == [0, 0, 200]


def test_dropped_connections_give_up(
    github_server: GitHubReplayServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    github_server.drop_connection(RUNS_1X1, times=None)
    client = make_client(github_server, tmp_path / "cache", fake_time, max_retries=2)

    with pytest.raises(RepoUnavailableError) as raised:
        list_1x1(client)

    assert raised.value.reason == "unreachable"
    assert raised.value.detail.startswith("connection failed after 3 attempts")
    assert fake_time.sleeps == [1.0, 2.0]


def test_read_timeout_is_retried(
    github_server: GitHubReplayServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    github_server.inject_delay(RUNS_1X1, 1.0, times=1)
    client = make_client(github_server, tmp_path / "cache", fake_time, read_timeout=0.2)

    assert list_1x1(client) == 82
    assert fake_time.sleeps == [1.0]
    assert client.stats.retries == 1


def test_read_timeouts_give_up(
    github_server: GitHubReplayServer, tmp_path: Path, fake_time: FakeTime
) -> None:
    github_server.inject_delay(RUNS_1X1, 1.0, times=None)
    client = make_client(
        github_server, tmp_path / "cache", fake_time, read_timeout=0.1, max_retries=1
    )

    with pytest.raises(RepoUnavailableError) as raised:
        list_1x1(client)

    assert raised.value.reason == "unreachable"
    assert raised.value.detail.startswith("timed out after 2 attempts")
    assert fake_time.sleeps == [1.0]


# Moved and missing repos


class HeaderRecorder(ThreadingHTTPServer):
    """A server on another loopback address that records each request's Authorization header."""

    def __init__(self, host: str) -> None:
        self.authorizations: list[str | None] = []
        super().__init__((host, 0), _RecordingHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _RecordingHandler(BaseHTTPRequestHandler):
    server: HeaderRecorder

    def do_GET(self) -> None:
        self.server.authorizations.append(self.headers.get("Authorization"))
        body = json.dumps({"total_count": 0, "workflow_runs": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output free of access log lines."""


@pytest.fixture
def other_host() -> Iterator[HeaderRecorder]:
    recorder = HeaderRecorder("127.0.0.2")
    thread = threading.Thread(target=recorder.serve_forever, daemon=True)
    thread.start()
    yield recorder
    recorder.shutdown()
    recorder.server_close()
    thread.join()


def test_token_not_sent_elsewhere(
    github_server: GitHubReplayServer, other_host: HeaderRecorder, tmp_path: Path
) -> None:
    location = f"{other_host.url}/repositories/42/actions/runs?per_page=100"
    github_server.inject(RUNS_1X1, status=301, headers={"Location": location})
    client = GitHubClient(github_server.url, "token-for-127-0-0-1", cache_dir=tmp_path / "c")

    listing = client.list_runs("mithro", "gf180mcu-ic-1x1-sram-u8b24k", enough=lambda _: False)

    assert listing.renamed_to == location
    assert github_server.requests[0].headers.get("Authorization") == "Bearer token-for-127-0-0-1"
    # The runs list, then the repository object that would name the moved repo.
    assert other_host.authorizations == [None, None]


def test_renamed_repo_followed_and_reported(
    github_server: GitHubReplayServer, config: ForgeConfig, tmp_path: Path, fake_time: FakeTime
) -> None:
    github_server.rename_repo("mithro", "gf180mcu-ic-1x1-sram-u8b24k", "mithro", "ic-1x1-u8b24k")
    client = GitHubClient(
        github_server.url, "same-host-token", cache_dir=tmp_path / "cache", sleep=fake_time.sleep
    )

    report = refresh_report(config, client)

    moved = [request for request in github_server.requests if "/repositories/" in request.path]
    # The runs list at the new address, then the repository object, since the replayed runs
    # still carry the old name.
    assert [re.sub("[0-9]+", "<id>", request.path) for request in moved] == [
        "/repositories/<id>/actions/runs",
        "/repositories/<id>",
    ]
    assert all(
        request.headers.get("Authorization") == "Bearer same-host-token" for request in moved
    )
    assert report.repos[3].renamed_to == "mithro/ic-1x1-u8b24k"
    assert report.repos[3].runs_fetched == 82
    assert report.unavailable == []
    assert f"{U8B24K} was renamed to mithro/ic-1x1-u8b24k; update the config" in report.warnings
    assert report.revisions[0].summary == "2/3"


def test_deleted_repo_is_not_found(
    github_server: GitHubReplayServer, config: ForgeConfig, tmp_path: Path, fake_time: FakeTime
) -> None:
    github_server.inject(RUNS_1X1, status=404, times=None)
    client = make_client(github_server, tmp_path / "cache", fake_time)

    results = fetch_all_runs(client, config)

    assert [result.available for result in results] == [True, True, True, False]
    assert results[3].error is not None
    assert results[3].error.reason == "not_found"
    assert fake_time.sleeps == []
    assert len(requests_to(github_server, "1x1-sram")) == 1


def test_unexpected_error_costs_one_repo(
    github_server: GitHubReplayServer, config: ForgeConfig, tmp_path: Path, fake_time: FakeTime
) -> None:
    # JSON nested deeper than Python's recursion limit makes the parser raise RecursionError,
    # which no handler for GitHub's responses expects.
    github_server.inject(RUNS_1X1, status=200, body="[" * 200_000, times=None)
    client = make_client(github_server, tmp_path / "cache", fake_time)

    results = fetch_all_runs(client, config, concurrency=1)

    assert [result.available for result in results] == [True, True, True, False]
    assert results[3].error is not None
    assert results[3].error.reason == "error"
    assert results[3].error.detail.startswith("failed while reading: RecursionError(")


def test_unreadable_cache_files_refetched(
    github_server: GitHubReplayServer,
    config: ForgeConfig,
    tmp_path: Path,
    fake_time: FakeTime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = tmp_path / "cache"
    fetch_all_runs(make_client(github_server, cache, fake_time), config)
    files = sorted(path for path in (cache / "http").iterdir() if path.is_file())
    files[0].write_bytes(b"\x00\xffnot json")
    files[1].unlink()
    files[1].mkdir()
    github_server.reset_requests()

    results = fetch_all_runs(make_client(github_server, cache, fake_time), config)
    again = fetch_all_runs(make_client(github_server, cache, fake_time), config)

    assert [result.available for result in results] == [True, True, True, True]
    assert [result.available for result in again] == [True, True, True, True]
    assert [len(result.runs) for result in again] == [len(result.runs) for result in results]
    warnings = [record.message for record in caplog.records]
    unreadable = [message for message in warnings if message.startswith("cached response for")]
    # The file with bad bytes is replaced on the first pass. The folder stays, so it is bypassed
    # on both passes.
    assert len(unreadable) == 3


# Concurrency


def test_repos_fetched_concurrently(
    github_server: GitHubReplayServer, config: ForgeConfig, tmp_path: Path, fake_time: FakeTime
) -> None:
    # Each runs-list response waits at a barrier for a second one: if the client sent one request
    # at a time, the barrier would time out and break.
    barrier = threading.Barrier(2, timeout=10)
    broken: list[str] = []

    def meet(request: RecordedRequest) -> None:
        if request.path.endswith("/actions/runs"):
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                broken.append(request.path)

    github_server.on_request(meet)
    client = make_client(github_server, tmp_path / "cache", fake_time)

    results = fetch_all_runs(client, config, concurrency=2)

    assert broken == []
    assert all(result.available for result in results)


def test_concurrency_bound_is_kept(tmp_path: Path, fake_time: FakeTime) -> None:
    entries, runs, _repos = generate_repos(12, 2)
    config = ForgeConfig.model_validate({"repos": entries})
    intervals: list[tuple[float, float]] = []
    lock = threading.Lock()

    def record(request: RecordedRequest) -> None:
        # The hook runs when the response is ready, so the request was in the server from
        # `elapsed` seconds ago until now: inside the client's own request.
        finished = time.monotonic()
        with lock:
            intervals.append((finished - request.elapsed, finished))

    with GitHubReplayServer(latency=0.02) as server:
        for full_name, repo_runs in runs.items():
            owner, name = full_name.split("/")
            server.add_repo(owner, name, runs=repo_runs)
        server.on_request(record)
        client = make_client(server, tmp_path / "cache", fake_time)

        results = fetch_all_runs(client, config, concurrency=3)

    assert all(result.available for result in results)
    assert len(intervals) == 12
    assert max_overlap(intervals) <= 3


def test_repo_yielded_once_read(
    github_server: GitHubReplayServer, config: ForgeConfig, tmp_path: Path, fake_time: FakeTime
) -> None:
    # The first repo's runs list is held back until the consumer has the other three, which it
    # only gets if each result is yielded as soon as it is read.
    held_path = f"/repos/{config.repos[0].full_name}/actions/runs"
    release = threading.Event()
    released_in_time: list[bool] = []

    def hold(request: RecordedRequest) -> None:
        if request.path == held_path:
            released_in_time.append(release.wait(timeout=5))

    github_server.on_request(hold)
    client = make_client(github_server, tmp_path / "cache", fake_time)

    order = []
    for result in iter_repo_runs(client, config, concurrency=4):
        order.append(result.repo.full_name)
        if len(order) == 3:
            release.set()

    assert released_in_time == [True]
    assert order[-1] == config.repos[0].full_name
    assert sorted(order) == sorted(config.repo_names)


def test_all_runs_in_config_order(
    github_server: GitHubReplayServer, config: ForgeConfig, tmp_path: Path, fake_time: FakeTime
) -> None:
    held_path = f"/repos/{config.repos[0].full_name}/actions/runs"
    others_answered = threading.Semaphore(0)

    def hold(request: RecordedRequest) -> None:
        if request.path == held_path:
            for _ in range(len(config.repos) - 1):
                others_answered.acquire(timeout=5)
        elif request.path.endswith("/actions/runs"):
            others_answered.release()

    github_server.on_request(hold)
    client = make_client(github_server, tmp_path / "cache", fake_time)

    results = fetch_all_runs(client, config, concurrency=4)

    assert [result.repo.full_name for result in results] == config.repo_names


def test_closing_early_cancels_rest(tmp_path: Path, fake_time: FakeTime) -> None:
    entries, runs, _repos = generate_repos(6, 2)
    config = ForgeConfig.model_validate({"repos": entries})
    with GitHubReplayServer(latency=0.2) as server:
        for full_name, repo_runs in runs.items():
            owner, name = full_name.split("/")
            server.add_repo(owner, name, runs=repo_runs)
        client = make_client(server, tmp_path / "cache", fake_time)

        results = iter_repo_runs(client, config, concurrency=1)
        first = next(results)
        results.close()

    runs_lists = [request for request in server.requests if request.path.endswith("/runs")]
    assert first.repo.full_name == config.repos[0].full_name
    # The repo after the first may already be on the wire when the iterator closes.
    assert len(runs_lists) <= 2


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    current = highest = 0
    for _instant, change in events:
        current += change
        highest = max(highest, current)
    return highest


def test_pages_of_one_repo_in_order(tmp_path: Path, fake_time: FakeTime) -> None:
    entries, runs, _repos = generate_repos(4, 20, runs_per_revision=25)
    config = ForgeConfig.model_validate({"repos": entries})
    with GitHubReplayServer() as server:
        for full_name, repo_runs in runs.items():
            owner, name = full_name.split("/")
            server.add_repo(owner, name, runs=repo_runs)
        client = make_client(server, tmp_path / "cache", fake_time)

        results = fetch_all_runs(client, config, concurrency=4)

    assert [result.pages for result in results] == [3, 3, 3, 3]
    for entry in entries:
        pages = [
            request.query.get("page", "1")
            for request in server.requests
            if request.path == f"/repos/bench/{entry['name']}/actions/runs"
        ]
        assert pages == ["1", "2", "3"]
