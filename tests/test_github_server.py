"""HTTP tests of the GitHub replay server against the demo snapshot, and of the data generator."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from forge_status_pipeline.testing.generate import (
    GENERATOR_NAME,
    GENERATOR_OWNER,
    generate_repos,
    serve_generated,
)
from forge_status_pipeline.testing.github_server import GitHubReplayServer, RecordedRequest

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "forge_status_pipeline" / "demo" / "github-snapshot"
OWNER = "mithro"
BIG = "gf180mcu-ic-1x1-sram-u8b24k"
BIG_RUNS = f"/repos/{OWNER}/{BIG}/actions/runs"
BIG_REPO_ID = 1110468021
UPSTREAM = "gf180mcu-sram-forge"
# Newest 1x1 run: the in-progress run of bot commit d8b5cc1 (run_number 82).
NEWEST_RUN_ID = 20252929541
NEWEST_SHA = "d8b5cc10306f390edf38994ed6172bc6ecc1f027"
MISSING_UPSTREAM_SHA = "e87527ff1fddadc4bef7e2a76d04554b14ded9c8"
TIMEOUT = 10


@pytest.fixture
def server() -> Iterator[GitHubReplayServer]:
    with GitHubReplayServer(SNAPSHOT) as replay:
        yield replay


def get(server: GitHubReplayServer, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(f"{server.url}{path}", timeout=TIMEOUT, **kwargs)


def run_numbers(response: requests.Response) -> list[int]:
    return [run["run_number"] for run in response.json()["workflow_runs"]]


# Pagination


def test_runs_paginate_into_three_pages(server: GitHubReplayServer) -> None:
    first = get(server, BIG_RUNS, params={"per_page": 30})
    assert first.status_code == 200
    assert set(first.links) == {"next", "last"}
    assert first.links["next"]["url"] == f"{server.url}{BIG_RUNS}?per_page=30&page=2"
    assert first.links["last"]["url"] == f"{server.url}{BIG_RUNS}?per_page=30&page=3"

    second = requests.get(first.links["next"]["url"], timeout=TIMEOUT)
    assert set(second.links) == {"prev", "next", "last", "first"}
    assert second.links["prev"]["url"].endswith("page=1")
    assert second.links["first"]["url"].endswith("page=1")

    third = requests.get(second.links["next"]["url"], timeout=TIMEOUT)
    assert set(third.links) == {"prev", "first"}
    assert third.links["prev"]["url"].endswith("page=2")

    assert run_numbers(first) == list(range(82, 52, -1))
    assert run_numbers(second) == list(range(52, 22, -1))
    assert run_numbers(third) == list(range(22, 0, -1))


def test_link_keeps_other_parameters(server: GitHubReplayServer) -> None:
    response = get(server, BIG_RUNS, params={"branch": "main", "per_page": 50, "page": 1})
    assert response.json()["total_count"] == 81
    assert response.links["next"]["url"] == f"{server.url}{BIG_RUNS}?branch=main&per_page=50&page=2"


def test_runs_total_count_per_repo(server: GitHubReplayServer) -> None:
    expected = {
        "gf180mcu-ic-0p5x0p5-sram-u8b3k": 13,
        "gf180mcu-ic-0p5x1-sram-u8b8k": 7,
        "gf180mcu-ic-1x0p5-sram-u8b9k": 7,
        BIG: 82,
    }
    for name, total in expected.items():
        response = get(server, f"/repos/{OWNER}/{name}/actions/runs")
        assert response.json()["total_count"] == total, name
    assert len(get(server, BIG_RUNS).json()["workflow_runs"]) == 30


def test_single_page_has_no_link(server: GitHubReplayServer) -> None:
    response = get(server, BIG_RUNS, params={"per_page": 100})
    assert len(response.json()["workflow_runs"]) == 82
    assert "Link" not in response.headers


def test_page_past_end_is_empty(server: GitHubReplayServer) -> None:
    response = get(server, BIG_RUNS, params={"per_page": 30, "page": 9})
    assert response.status_code == 200
    assert response.json() == {"total_count": 82, "workflow_runs": []}


def test_per_page_capped_at_100(server: GitHubReplayServer) -> None:
    response = get(server, "/repos/mithro/gf180mcu-ic-1x1-sram-u8b24k/actions/runs?per_page=500")
    assert len(response.json()["workflow_runs"]) == 82


# Filters


def test_filter_by_branch(server: GitHubReplayServer) -> None:
    response = get(server, BIG_RUNS, params={"branch": "sram-forge-power-pins"})
    runs = response.json()["workflow_runs"]
    assert response.json()["total_count"] == 1
    assert runs[0]["event"] == "pull_request"
    assert runs[0]["head_sha"].startswith("4d0b15a")


def test_filter_by_event(server: GitHubReplayServer) -> None:
    assert get(server, BIG_RUNS, params={"event": "push"}).json()["total_count"] == 81
    assert get(server, BIG_RUNS, params={"event": "pull_request"}).json()["total_count"] == 1
    assert get(server, BIG_RUNS, params={"event": "schedule"}).json()["total_count"] == 0


def test_status_matches_status_or_conclusion(server: GitHubReplayServer) -> None:
    expected = {"in_progress": 1, "completed": 81, "success": 55, "failure": 16, "cancelled": 10}
    for status, total in expected.items():
        response = get(server, BIG_RUNS, params={"status": status})
        assert response.json()["total_count"] == total, status
    in_progress = get(server, BIG_RUNS, params={"status": "in_progress"}).json()
    assert in_progress["workflow_runs"][0]["id"] == NEWEST_RUN_ID


def test_filter_by_actor_and_sha(server: GitHubReplayServer) -> None:
    assert get(server, BIG_RUNS, params={"actor": "example-dev"}).json()["total_count"] == 1
    by_sha = get(server, BIG_RUNS, params={"head_sha": NEWEST_SHA}).json()
    assert by_sha["total_count"] == 1
    assert by_sha["workflow_runs"][0]["run_number"] == 82


def test_filter_by_created(server: GitHubReplayServer) -> None:
    expected = {
        "2025-12-08": 3,
        ">=2025-12-08": 5,
        ">2025-12-08": 2,
        "<2025-12-08": 77,
        "<=2025-12-08": 80,
        "2025-12-08..2025-12-13": 4,
        "2025-12-13..*": 2,
        ">=2025-12-16T01:05:05Z": 1,
        ">2025-12-16T01:05:05Z": 0,
    }
    for created, total in expected.items():
        response = get(server, BIG_RUNS, params={"created": created})
        assert response.json()["total_count"] == total, created


def test_invalid_created_is_422(server: GitHubReplayServer) -> None:
    response = get(server, BIG_RUNS, params={"created": "last week"})
    assert response.status_code == 422
    assert "last week" in response.json()["message"]


def test_exclude_pull_requests_empties_list(server: GitHubReplayServer) -> None:
    params = {"event": "pull_request"}
    with_prs = get(server, BIG_RUNS, params=params).json()["workflow_runs"][0]
    assert with_prs["pull_requests"][0]["number"] == 1
    params["exclude_pull_requests"] = "true"
    without_prs = get(server, BIG_RUNS, params=params).json()["workflow_runs"][0]
    assert without_prs["pull_requests"] == []


def test_workflow_runs_by_file_or_id(server: GitHubReplayServer) -> None:
    base = f"/repos/{OWNER}/{BIG}/actions/workflows"
    assert get(server, f"{base}/ci.yml/runs").json()["total_count"] == 82
    assert get(server, f"{base}/213874501/runs").json()["total_count"] == 82
    assert get(server, f"{base}/release.yml/runs").status_code == 404


def test_run_by_id(server: GitHubReplayServer) -> None:
    response = get(server, f"{BIG_RUNS}/{NEWEST_RUN_ID}")
    assert response.status_code == 200
    assert response.json()["run_number"] == 82
    assert response.json()["conclusion"] is None
    assert get(server, f"{BIG_RUNS}/1").status_code == 404


# Repositories and commits


def test_repo_object_case_insensitive(server: GitHubReplayServer) -> None:
    response = get(server, f"/repos/MiThRo/{BIG.upper()}")
    assert response.status_code == 200
    assert response.json()["id"] == BIG_REPO_ID
    assert response.json()["full_name"] == f"{OWNER}/{BIG}"


def test_upstream_repo_has_no_runs(server: GitHubReplayServer) -> None:
    response = get(server, f"/repos/{OWNER}/{UPSTREAM}/actions/runs")
    assert response.status_code == 200
    assert response.json() == {"total_count": 0, "workflow_runs": []}


def test_commit_prefix_lookup(server: GitHubReplayServer) -> None:
    for ref in ("ce7b", "ce7b0f5", "CE7B0F5269494F02B747EFBB94162B305EB5F8C8"):
        response = get(server, f"/repos/{OWNER}/{UPSTREAM}/commits/{ref}")
        assert response.status_code == 200, ref
        assert response.json()["sha"] == "ce7b0f5269494f02b747efbb94162b305eb5f8c8"
    assert get(server, f"/repos/{OWNER}/{UPSTREAM}/commits/ce7").status_code == 404


def test_unknown_sha_is_404(server: GitHubReplayServer) -> None:
    response = get(server, f"/repos/{OWNER}/{UPSTREAM}/commits/{MISSING_UPSTREAM_SHA}")
    assert response.status_code == 404
    assert response.json() == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404",
    }
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"


def test_ambiguous_prefix_is_422(server: GitHubReplayServer) -> None:
    commits = {"abcd" + "1" * 36: {"sha": "abcd" + "1" * 36}, "abcd" + "2" * 36: {"sha": "x"}}
    server.add_repo("acme", "chip", runs=[], commits=commits)
    assert get(server, "/repos/acme/chip/commits/abcd").status_code == 422
    assert get(server, "/repos/acme/chip/commits/abcd1").json()["sha"] == "abcd" + "1" * 36


def test_unknown_repo_is_404(server: GitHubReplayServer) -> None:
    assert get(server, "/repos/mithro/no-such-repo").status_code == 404
    assert get(server, "/repos/mithro/no-such-repo/actions/runs").status_code == 404
    assert get(server, "/users/mithro").status_code == 404


def test_gzip_snapshot_files(tmp_path: Path) -> None:
    source = SNAPSHOT / "repos" / OWNER
    target = tmp_path / "repos" / OWNER
    shutil.copytree(source / BIG, target / BIG)
    runs_file = target / BIG / "actions" / "runs.json"
    runs_file.with_suffix(".json.gz").write_bytes(gzip.compress(runs_file.read_bytes()))
    runs_file.unlink()
    repo_file = target / f"{BIG}.json.gz"
    repo_file.write_bytes(gzip.compress((source / f"{BIG}.json").read_bytes()))
    with GitHubReplayServer(tmp_path) as replay:
        assert get(replay, BIG_RUNS).json()["total_count"] == 82
        assert get(replay, f"/repos/{OWNER}/{BIG}").json()["id"] == BIG_REPO_ID
        assert get(replay, f"/repos/{OWNER}/{BIG}/commits/{NEWEST_SHA[:7]}").status_code == 200


# ETags and rate-limit budget


def test_etag_then_304_costs_nothing(server: GitHubReplayServer) -> None:
    first = get(server, BIG_RUNS)
    etag = first.headers["ETag"]
    assert etag == f'W/"{hashlib.sha256(first.content).hexdigest()}"'
    assert server.budget_remaining == 4999

    second = get(server, BIG_RUNS, headers={"If-None-Match": etag})
    assert second.status_code == 304
    assert second.content == b""
    assert second.headers["X-RateLimit-Remaining"] == "4999"
    assert second.headers["X-RateLimit-Used"] == "1"
    assert server.budget_remaining == 4999


def test_changed_runs_change_etag(server: GitHubReplayServer) -> None:
    etag = get(server, BIG_RUNS).headers["ETag"]
    server.set_runs(OWNER, BIG, [{"id": 1, "status": "queued"}])
    response = get(server, BIG_RUNS, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.json()["total_count"] == 1


def test_rate_limit_headers_every_response(server: GitHubReplayServer) -> None:
    for path in (BIG_RUNS, "/repos/mithro/missing", "/rate_limit"):
        headers = get(server, path).headers
        for name in ("Limit", "Remaining", "Reset", "Used"):
            assert f"X-RateLimit-{name}" in headers, (path, name)
        assert headers["X-RateLimit-Resource"] == "core"
        assert int(headers["X-RateLimit-Reset"]) > time.time()


def test_errors_cost_budget_rate_limit_free(server: GitHubReplayServer) -> None:
    get(server, "/repos/mithro/missing")
    get(server, "/rate_limit")
    assert server.budget_remaining == 4999
    core = get(server, "/rate_limit").json()["resources"]["core"]
    assert core["remaining"] == 4999
    assert core["used"] == 1
    assert core["limit"] == 5000


def test_spent_budget_returns_403() -> None:
    with GitHubReplayServer(SNAPSHOT, rate_limit=2) as replay:
        etag = get(replay, BIG_RUNS).headers["ETag"]
        assert get(replay, BIG_RUNS).status_code == 200
        response = get(replay, BIG_RUNS)
        assert response.status_code == 403
        assert response.headers["X-RateLimit-Remaining"] == "0"
        assert int(response.headers["X-RateLimit-Reset"]) > time.time()
        assert response.json()["message"].startswith("API rate limit exceeded for 127.0.0.1.")
        assert get(replay, BIG_RUNS, headers={"If-None-Match": etag}).status_code == 403
        assert replay.budget_remaining == 0


# Fault injection


def test_inject_error_then_recovers(server: GitHubReplayServer) -> None:
    server.inject(r"/actions/runs$", status=502, body="<html>Bad Gateway</html>")
    failed = get(server, BIG_RUNS)
    assert failed.status_code == 502
    assert failed.text == "<html>Bad Gateway</html>"
    assert get(server, BIG_RUNS).status_code == 200
    assert server.budget_remaining == 4998


def test_inject_rate_limit_headers(server: GitHubReplayServer) -> None:
    reset = str(int(time.time()) + 60)
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
    server.inject(BIG, status=403, headers=headers, times=2)
    for _ in range(2):
        response = get(server, BIG_RUNS)
        assert response.status_code == 403
        assert response.headers["X-RateLimit-Remaining"] == "0"
        assert response.headers["X-RateLimit-Reset"] == reset
        assert "rate limit exceeded" in response.json()["message"]
    assert get(server, BIG_RUNS).status_code == 200


def test_inject_secondary_limit_message(server: GitHubReplayServer) -> None:
    server.inject(BIG, status=403, headers={"retry-after": "7"})
    response = get(server, BIG_RUNS)
    assert response.headers["Retry-After"] == "7"
    assert "secondary rate limit" in response.json()["message"]


def test_inject_forever_until_other_path(server: GitHubReplayServer) -> None:
    server.inject(r"/commits/", status=500, times=None)
    for _ in range(3):
        assert get(server, f"/repos/{OWNER}/{UPSTREAM}/commits/ce7b0f5").status_code == 500
    assert get(server, f"/repos/{OWNER}/{UPSTREAM}").status_code == 200


def test_drop_connection_once(server: GitHubReplayServer) -> None:
    server.drop_connection(r"/actions/runs")
    with pytest.raises(requests.ConnectionError):
        get(server, BIG_RUNS)
    assert get(server, BIG_RUNS).status_code == 200
    assert [record.status for record in server.requests] == [0, 200]
    assert server.budget_remaining == 4999


def test_inject_delay_causes_timeout(server: GitHubReplayServer) -> None:
    server.inject_delay(r"/actions/runs", 1.0)
    with pytest.raises(requests.Timeout):
        requests.get(f"{server.url}{BIG_RUNS}", timeout=0.2)
    assert get(server, BIG_RUNS).status_code == 200


def test_latency_applies_concurrently() -> None:
    # Each answer's time in the server is [ready - elapsed, ready]. A server that slept one
    # request at a time would give four intervals with no instant in common.
    intervals: list[tuple[float, float]] = []
    with GitHubReplayServer(SNAPSHOT, latency=1.0) as replay:
        replay.on_request(
            lambda record: intervals.append((time.monotonic() - record.elapsed, time.monotonic()))
        )
        threads = [threading.Thread(target=get, args=(replay, "/rate_limit")) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert len(intervals) == 4
    assert max(start for start, _end in intervals) < min(end for _start, end in intervals)
    assert all(end - start >= 1.0 for start, end in intervals)


def test_rename_redirects_with_301(server: GitHubReplayServer) -> None:
    server.rename_repo(OWNER, BIG, "newowner", "chip-1x1")
    moved = get(server, f"{BIG_RUNS}?per_page=5", allow_redirects=False)
    assert moved.status_code == 301
    location = f"{server.url}/repositories/{BIG_REPO_ID}/actions/runs?per_page=5"
    assert moved.headers["Location"] == location
    followed = get(server, f"{BIG_RUNS}?per_page=5")
    assert followed.status_code == 200
    assert followed.json()["total_count"] == 82
    assert "/repositories/" in followed.links["next"]["url"]
    assert get(server, "/repos/newowner/chip-1x1").json()["full_name"] == "newowner/chip-1x1"


def test_token_required_gives_401() -> None:
    with GitHubReplayServer(SNAPSHOT, expected_token="s3cret") as replay:
        path = f"/repos/{OWNER}/{BIG}"
        assert get(replay, path).status_code == 401
        wrong = get(replay, path, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.json()["message"] == "Bad credentials"
        assert get(replay, path, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert get(replay, path, headers={"Authorization": "token s3cret"}).status_code == 200
        assert replay.budget_remaining == 4996


# Observation


def test_requests_are_recorded(server: GitHubReplayServer) -> None:
    get(server, BIG_RUNS, params={"per_page": 5}, headers={"X-Probe": "yes"})
    record = server.requests[-1]
    assert record.method == "GET"
    assert record.path == BIG_RUNS
    assert record.query == {"per_page": "5"}
    assert record.status == 200
    assert record.headers["X-Probe"] == "yes"
    assert record.elapsed >= 0
    server.reset_requests()
    assert server.requests == []


def test_hook_adds_run_between_pages(server: GitHubReplayServer) -> None:
    runs = [{"id": number, "run_number": number} for number in range(3, 0, -1)]
    server.add_repo("acme", "chip", runs=runs)

    def add_newer_run(record: RecordedRequest) -> None:
        if record.query.get("page") == "1":
            server.set_runs("acme", "chip", [{"id": 4, "run_number": 4}, *runs])

    server.on_request(add_newer_run)
    path = "/repos/acme/chip/actions/runs"
    first = get(server, path, params={"per_page": 2, "page": 1})
    second = requests.get(first.links["next"]["url"], timeout=TIMEOUT)
    assert run_numbers(first) == [3, 2]
    assert run_numbers(second) == [2, 1]
    assert second.json()["total_count"] == 4


def test_command_line_prints_url() -> None:
    command = [
        sys.executable,
        "-m",
        "forge_status_pipeline.testing.github_server",
        "--snapshot",
        str(SNAPSHOT),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        response = requests.get(f"{url}/repos/{OWNER}/{BIG}", timeout=TIMEOUT)
        assert response.json()["id"] == BIG_REPO_ID
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0
    assert stderr == ""


# Generated data


def test_generated_repos_share_revisions() -> None:
    entries, runs_by_name, repos_by_name = generate_repos(3, 4, runs_per_revision=2, seed=7)
    assert [entry["name"] for entry in entries] == ["chip-0000", "chip-0001", "chip-0002"]
    assert set(entries[0]) == {"name", "owner", "sram", "slot", "config", "deploy_key_secret"}
    assert set(runs_by_name) == set(repos_by_name) == {f"bench/chip-000{i}" for i in range(3)}
    source_shas = [
        {run["head_commit"]["message"].split("Source commit: ")[1][:40] for run in runs}
        for runs in runs_by_name.values()
    ]
    assert len(source_shas[0]) == 4
    assert source_shas[0] == source_shas[1] == source_shas[2]
    runs = runs_by_name["bench/chip-0000"]
    assert len(runs) == 8
    assert [run["run_number"] for run in runs] == list(range(8, 0, -1))
    assert all(run["status"] == "completed" for run in runs)


def test_generated_runs_are_deterministic() -> None:
    first = generate_repos(5, 6, seed=3)
    assert first == generate_repos(5, 6, seed=3)
    assert first != generate_repos(5, 6, seed=4)
    conclusions = {run["conclusion"] for runs in first[1].values() for run in runs}
    assert conclusions <= {"success", "failure"}
    snapshot_run = json.loads(
        (SNAPSHOT / "repos" / OWNER / BIG / "actions" / "runs.json").read_text()
    )["workflow_runs"][0]
    assert list(first[1]["bench/chip-0000"][0]) == list(snapshot_run)


def test_serve_generated_repos() -> None:
    with GitHubReplayServer() as replay:
        entries = serve_generated(replay, 2, 3)
        assert len(entries) == 2
        response = get(replay, "/repos/bench/chip-0001/actions/runs")
        assert response.json()["total_count"] == 3
        message = response.json()["workflow_runs"][0]["head_commit"]["message"]
        source_sha = message.split("Source commit: ")[1][:40]
        commit = get(replay, f"/repos/{GENERATOR_OWNER}/{GENERATOR_NAME}/commits/{source_sha}")
        assert commit.status_code == 200
        assert commit.json()["sha"] == source_sha
