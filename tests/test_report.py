"""Grouping of the snapshot's runs; the expected values were read off the snapshot's own table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from snapshot_data import snapshot_results

from forge_status_pipeline.config import ForgeConfig
from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.report import build_report

NOW = datetime(2025, 12, 16, 2, 10, tzinfo=UTC)
U8B3K = "mithro/gf180mcu-ic-0p5x0p5-sram-u8b3k"
U8B8K = "mithro/gf180mcu-ic-0p5x1-sram-u8b8k"
U8B9K = "mithro/gf180mcu-ic-1x0p5-sram-u8b9k"
U8B24K = "mithro/gf180mcu-ic-1x1-sram-u8b24k"

# Columns: u8b3k, u8b8k, u8b9k, u8b24k.
EXPECTED_CELLS = {
    "e87527f": ("passing", "not_rebuilt", "passing", "pending"),
    "ce7b0f5": ("passing", "passing", "passing", "passing"),
    "65b5952": ("passing", "passing", "passing", "failing"),
    "a2aa591": ("failing", "passing", "failing", "passing"),
    "68a9068": ("failing", "failing", "failing", "failing"),
    "4d50023": ("not_rebuilt", "not_rebuilt", "not_rebuilt", "failing"),
    "4246999": ("passing", "not_rebuilt", "not_rebuilt", "not_rebuilt"),
    "489f8e5": ("passing", "not_rebuilt", "not_rebuilt", "not_rebuilt"),
    "6f6d504": ("inconclusive", "not_rebuilt", "not_rebuilt", "not_rebuilt"),
    "508f262": ("passing", "not_rebuilt", "not_rebuilt", "not_rebuilt"),
    "4d02c74": ("failing", "not_rebuilt", "not_rebuilt", "not_rebuilt"),
    "921c02f": ("failing", "not_rebuilt", "not_rebuilt", "not_rebuilt"),
}


@pytest.fixture
def report(config: ForgeConfig) -> StatusReport:
    return build_report(config, snapshot_results(config), generated_at=NOW)


def test_revisions_newest_first(report: StatusReport) -> None:
    assert [revision.short_sha for revision in report.revisions] == list(EXPECTED_CELLS)


@pytest.mark.parametrize("short_sha", list(EXPECTED_CELLS))
def test_cell_states_match_snapshot(report: StatusReport, short_sha: str) -> None:
    revision = next(r for r in report.revisions if r.short_sha == short_sha)

    assert tuple(cell.state for cell in revision.cells) == EXPECTED_CELLS[short_sha]


@pytest.mark.parametrize(
    ("short_sha", "passing", "total", "pending"),
    [
        ("e87527f", 2, 3, 1),
        ("ce7b0f5", 4, 4, 0),
        ("65b5952", 3, 4, 0),
        ("a2aa591", 2, 4, 0),
        ("68a9068", 0, 4, 0),
        ("6f6d504", 0, 1, 0),
    ],
)
def test_revision_summary_counts(
    report: StatusReport, short_sha: str, passing: int, total: int, pending: int
) -> None:
    revision = next(r for r in report.revisions if r.short_sha == short_sha)

    assert (revision.passing, revision.total, revision.pending) == (passing, total, pending)


def test_regressions_against_last_conclusive_build(report: StatusReport) -> None:
    regressions = {r.short_sha: r.regressions for r in report.revisions if r.regressions}

    # 65b5952 broke 1x1, which passed at a2aa591; 68a9068 broke 0p5x0p5, which passed at 4246999.
    # The other failures at 68a9068 have no earlier passing build, so they are not regressions.
    assert regressions == {"65b5952": [U8B24K], "68a9068": [U8B3K]}


def test_failing_cell_names_last_passing_revision(report: StatusReport) -> None:
    revision = next(r for r in report.revisions if r.short_sha == "a2aa591")
    cell = revision.cell(U8B3K)

    assert cell is not None
    assert cell.last_passing_sha is not None
    assert cell.last_passing_sha.startswith("4246999")


def test_rerun_decides_by_latest_attempt(report: StatusReport) -> None:
    revision = next(r for r in report.revisions if r.short_sha == "ce7b0f5")
    runs = [run for run in revision.runs if run.repo == U8B24K]

    assert [run.run_attempt for run in runs] == [2]
    assert runs[0].conclusion == "success"


def test_dispatch_run_decides_over_older_push(report: StatusReport) -> None:
    revision = next(r for r in report.revisions if r.short_sha == "ce7b0f5")
    cell = revision.cell(U8B8K)
    runs = {run.run_id: run for run in revision.runs}

    assert cell is not None
    assert len(cell.run_ids) == 1
    assert runs[cell.run_ids[0]].event == "workflow_dispatch"
    assert sorted(run.event for run in revision.runs if run.repo == U8B8K) == [
        "push",
        "workflow_dispatch",
    ]


def test_unattributed_runs_kept_apart(report: StatusReport) -> None:
    # Two human commits in each small repo; 75 human commits and one pull-request run in 1x1.
    by_repo = {name: 0 for name in (U8B3K, U8B8K, U8B9K, U8B24K)}
    for run in report.unattributed:
        by_repo[run.repo] += 1

    assert by_repo == {U8B3K: 2, U8B8K: 2, U8B9K: 2, U8B24K: 76}
    assert all(run.forge_sha is None for run in report.unattributed)
    assert any(run.event == "pull_request" for run in report.unattributed)


def test_generator_run_link_parsed(report: StatusReport) -> None:
    revision = report.revisions[1]

    assert revision.forge_sha == "ce7b0f5269494f02b747efbb94162b305eb5f8c8"
    assert revision.forge_run_url is not None
    assert revision.forge_run_url.startswith(
        "https://github.com/mithro/gf180mcu-sram-forge/actions/runs/"
    )
    assert revision.forge_run_id == int(revision.forge_run_url.rsplit("/", 1)[1])


def test_overall_state_is_pending(report: StatusReport) -> None:
    assert report.overall_state == "pending"


def test_unavailable_repo_not_counted(config: ForgeConfig) -> None:
    from forge_status_pipeline.models import UnavailableRepo

    results = snapshot_results(config)
    results[3] = results[3].model_copy(
        update={"runs": [], "error": UnavailableRepo(repo=U8B24K, reason="not_found", detail="404")}
    )
    report = build_report(config, results, generated_at=NOW)
    newest = report.revisions[0]

    assert newest.cell(U8B24K) is not None
    assert newest.cell(U8B24K).state == "unavailable"  # type: ignore[union-attr]
    assert (newest.passing, newest.total) == (2, 2)
    assert [item.repo for item in report.unavailable] == [U8B24K]
