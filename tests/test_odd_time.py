"""Time zones: offsets in GitHub's data, runs either side of midnight UTC, any machine zone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from odd_data import FIXED_NOW, OWNER, OddCase, make_run, repo_entry, report_from_server, sha_of

from forge_status_pipeline.render.text import format_utc
from forge_status_pipeline.testing.github_server import GitHubReplayServer

KOLKATA = timezone(timedelta(hours=5, minutes=30))

SHA_AFTER_MIDNIGHT = sha_of("after-midnight")
SHA_BEFORE_MIDNIGHT = sha_of("before-midnight")
SHA_EVENING = sha_of("evening")
CHIP_X = f"{OWNER}/chip-x"
CHIP_Y = f"{OWNER}/chip-y"
SITE_FILES = ["index.html", "status.json", "status.md", "status.txt", "status.schema.json"]


def midnight_case() -> OddCase:
    """Three revisions whose order differs between UTC and the text of their timestamps.

    The before-midnight commit is stamped ``18:59-05:00`` (23:59 UTC), which sorts as text before
    the evening commit at ``20:00Z`` although it is four hours later.
    """
    runs = {
        CHIP_X: [
            make_run(
                3,
                CHIP_X,
                SHA_AFTER_MIDNIGHT,
                created_at="2026-12-05T00:00:30Z",
                commit_timestamp="2026-12-05T00:00:10Z",
            ),
            make_run(
                2,
                CHIP_X,
                SHA_BEFORE_MIDNIGHT,
                created_at="2026-12-04T23:59:30Z",
                updated_at="2026-12-05T00:20:00Z",
                commit_timestamp="2026-12-04T18:59:00-05:00",
            ),
            make_run(
                1,
                CHIP_X,
                SHA_EVENING,
                conclusion="failure",
                created_at="2026-12-04T20:00:30Z",
                commit_timestamp="2026-12-04T20:00:00Z",
            ),
        ],
        # The same before-midnight revision, built after midnight, stamped in India's zone.
        CHIP_Y: [
            make_run(
                4,
                CHIP_Y,
                SHA_BEFORE_MIDNIGHT,
                created_at="2026-12-05T00:00:05Z",
                commit_timestamp="2026-12-05T05:29:00+05:30",
            )
        ],
    }
    return OddCase([repo_entry("chip-x"), repo_entry("chip-y")], runs)


def test_times_are_aware_utc() -> None:
    with GitHubReplayServer() as server:
        report = report_from_server(midnight_case(), server)

    assert [revision.forge_sha for revision in report.revisions] == [
        SHA_AFTER_MIDNIGHT,
        SHA_BEFORE_MIDNIGHT,
        SHA_EVENING,
    ]
    before = report.revisions[1]
    assert before.timestamp == datetime(2026, 12, 4, 23, 59, tzinfo=UTC)
    assert before.timestamp.utcoffset() is not None
    assert before.timestamp.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    runs = {run.run_id: run for run in before.runs}
    assert runs[2].commit_timestamp == datetime(2026, 12, 4, 23, 59, tzinfo=UTC)
    assert runs[2].updated_at == datetime(2026, 12, 5, 0, 20, tzinfo=UTC)
    # Started 23:59:30 on the 4th, last updated 00:20:00 on the 5th: 20 min 30 s across midnight.
    assert runs[2].duration_seconds == 20 * 60 + 30
    for revision in report.revisions:
        for run in revision.runs:
            for moment in (run.updated_at, run.created_at, run.commit_timestamp):
                assert moment is not None
                assert moment.tzinfo is UTC, (run.run_id, moment)


def _site_bytes(
    time_zone: str, config_path: Path, server_url: str, tmp_path: Path
) -> dict[str, bytes]:
    site_dir = tmp_path / f"site-{time_zone.replace('/', '-')}"
    env = dict(os.environ)
    env.update(
        {
            "TZ": time_zone,
            "GITHUB_API_URL": server_url,
            "FORGE_STATUS_NOW": FIXED_NOW,
            "FORGE_STATUS_CACHE_DIR": str(tmp_path / f"cache-{time_zone.replace('/', '-')}"),
        }
    )
    command = [
        sys.executable,
        "-m",
        "forge_status_pipeline.cli",
        "site",
        "--config",
        str(config_path),
        "--site-dir",
        str(site_dir),
    ]
    completed = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return {name: (site_dir / name).read_bytes() for name in SITE_FILES}


def test_outputs_identical_in_any_zone(tmp_path: Path) -> None:
    case = midnight_case()
    config_path = case.write_config(tmp_path / "repos.yaml")
    with GitHubReplayServer() as server:
        case.serve(server)
        kolkata = _site_bytes("Asia/Kolkata", config_path, server.url, tmp_path)
        utc = _site_bytes("UTC", config_path, server.url, tmp_path)

    for name in SITE_FILES:
        assert kolkata[name] == utc[name], name
    report = json.loads(utc["status.json"])
    assert [revision["timestamp"] for revision in report["revisions"]] == [
        "2026-12-05T00:00:10Z",
        "2026-12-04T23:59:00Z",
        "2026-12-04T20:00:00Z",
    ]
    assert report["generated_at"] == FIXED_NOW
    text = utc["status.txt"].decode()
    assert "Last updated: 2026-12-05 06:00 UTC" in text
    # The before-midnight revision is 6 h 01 min old at 06:00 UTC, which reads as 6h.
    assert f"{SHA_BEFORE_MIDNIGHT[:7]} (6h ago)" in text


def test_format_utc_converts_offsets() -> None:
    eastern = timezone(timedelta(hours=-5))

    assert format_utc(datetime(2026, 12, 4, 18, 59, tzinfo=eastern)) == "2026-12-04 23:59 UTC"
    assert format_utc(datetime(2026, 12, 5, 5, 30, tzinfo=KOLKATA)) == "2026-12-05 00:00 UTC"
    with pytest.raises(ValueError, match="no time zone"):
        format_utc(datetime(2026, 12, 4, 23, 59))
