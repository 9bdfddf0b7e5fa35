"""Paging through 110 runs while a new run shifts page 2 by one."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from odd_data import OWNER, OddCase, make_run, repo_entry, sha_of

from forge_status_pipeline.config import parse_config
from forge_status_pipeline.fetch import fetch_repo_runs
from forge_status_pipeline.github import GitHubClient
from forge_status_pipeline.report import build_report
from forge_status_pipeline.testing.github_server import GitHubReplayServer, RecordedRequest

NAME = "chip-paged"
FULL_NAME = f"{OWNER}/{NAME}"
# Five generator revisions, so all 110 runs fall inside the default look-back of 10.
FORGE_SHAS = [sha_of(f"paged-{index}") for index in range(5)]


def paged_run(index: int) -> dict[str, Any]:
    minutes, seconds = divmod(index, 60)
    return make_run(
        1000 + index,
        FULL_NAME,
        FORGE_SHAS[index % len(FORGE_SHAS)],
        created_at=f"2026-12-04T10:{minutes:02d}:{seconds:02d}Z",
    )


# Newest first, as GitHub lists them: ids 1109 down to 1000.
ORIGINAL_RUNS = [paged_run(index) for index in reversed(range(110))]
ORIGINAL_IDS = {run["id"] for run in ORIGINAL_RUNS}
NEW_RUN = paged_run(110)


@pytest.fixture
def shifting_server() -> Any:
    """Serve 110 runs; right after page 1 is served, a new run is added at the top."""
    case = OddCase([repo_entry(NAME)], {FULL_NAME: ORIGINAL_RUNS})
    with GitHubReplayServer() as server:
        case.serve(server)
        added: list[bool] = []

        def add_run_after_page_one(request: RecordedRequest) -> None:
            if request.path.endswith("/actions/runs") and not added:
                added.append(True)
                server.set_runs(OWNER, NAME, [NEW_RUN, *ORIGINAL_RUNS])

        server.on_request(add_run_after_page_one)
        yield server


def test_paging_reads_each_run_once(shifting_server: GitHubReplayServer, tmp_path: Path) -> None:
    client = GitHubClient(shifting_server.url, cache_dir=tmp_path / "cache")

    listing = client.list_runs(OWNER, NAME, enough=lambda _runs: False)

    ids = [run["id"] for run in listing.runs]
    # Page 2 starts with run 1010, the last run of page 1, shifted down by the new run 1110.
    assert len(ids) == 110
    assert set(ids) == ORIGINAL_IDS
    assert ids == sorted(ids, reverse=True)
    assert listing.pages == 2
    assert listing.total_count == 111
    assert listing.complete
    pages = [request.query.get("page") for request in shifting_server.requests]
    assert pages == [None, "2"]


def test_paging_total_count_warns(
    shifting_server: GitHubReplayServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = parse_config(OddCase([repo_entry(NAME)], {}).config_text(), Path("repos.yaml"))
    client = GitHubClient(shifting_server.url, cache_dir=tmp_path / "cache")

    with caplog.at_level(logging.WARNING):
        result = fetch_repo_runs(client, config.repos[0], lookback=10)

    assert [run.run_id for run in result.runs].count(1010) == 1
    assert {run.run_id for run in result.runs} == ORIGINAL_IDS
    assert len(result.runs) == 110
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert any(
        "total_count 111" in record.getMessage() and "110 distinct runs" in record.getMessage()
        for record in warnings
    ), [record.getMessage() for record in warnings]

    report = build_report(config, [result], generated_at=datetime(2026, 12, 5, 6, tzinfo=UTC))
    in_revisions = Counter(run.run_id for revision in report.revisions for run in revision.runs)
    assert len(report.revisions) == 5
    assert set(in_revisions) == ORIGINAL_IDS
    assert set(in_revisions.values()) == {1}
