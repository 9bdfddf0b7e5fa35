"""Conclusions beyond success and failure, and runs that have not finished or are undocumented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from odd_data import (
    CONCLUSIONS,
    OWNER,
    UNFINISHED,
    cli_status,
    conclusions_case,
    parse_page,
    report_from_server,
    table_cells,
    table_rows,
    unfinished_case,
)

from forge_status_pipeline.models import StatusReport, WorkflowRun
from forge_status_pipeline.render import render_html, render_markdown, render_terminal
from forge_status_pipeline.testing.github_server import GitHubReplayServer

# Worked out by hand: only success passes, and failure, timed_out and startup_failure fail. The
# other five are no evidence about the generator commit, so each is shown with its own word.
EXPECTED_CONCLUSIONS = {
    "success": ("passing", "passing"),
    "failure": ("failing", "failing"),
    "cancelled": ("inconclusive", "cancelled"),
    "timed_out": ("failing", "failing (timed out)"),
    "startup_failure": ("failing", "failing (startup failure)"),
    "action_required": ("inconclusive", "action required"),
    "neutral": ("inconclusive", "neutral"),
    "skipped": ("inconclusive", "skipped"),
    "stale": ("inconclusive", "stale"),
}
# (state, word) per repo of UNFINISHED: only the completed success is decided.
EXPECTED_UNFINISHED = {
    "chip-done": ("passing", "passing"),
    "chip-running": ("pending", "in progress"),
    "chip-pending": ("pending", "pending"),
    "chip-waiting": ("pending", "waiting"),
    "chip-new-status": ("pending", "not finished"),
}
MARKS = {"passing": "✔", "failing": "✘", "pending": "…", "inconclusive": "?"}


@pytest.fixture
def conclusions_report() -> StatusReport:
    with GitHubReplayServer() as server:
        return report_from_server(conclusions_case(), server)


@pytest.fixture
def unfinished_report() -> StatusReport:
    with GitHubReplayServer() as server:
        return report_from_server(unfinished_case(), server)


def test_conclusions_count_one_of_nine(conclusions_report: StatusReport) -> None:
    (revision,) = conclusions_report.revisions

    assert (revision.passing, revision.total, revision.pending) == (1, 9, 0)
    assert revision.summary == "1/9"
    assert not revision.all_passing
    assert revision.finished
    assert conclusions_report.overall_state == "failing"


def test_conclusions_decide_cell_states(conclusions_report: StatusReport) -> None:
    (revision,) = conclusions_report.revisions

    for conclusion, (state, _word) in EXPECTED_CONCLUSIONS.items():
        cell = revision.cell(f"{OWNER}/chip-{conclusion.replace('_', '-')}")
        assert cell is not None, conclusion
        assert cell.state == state, conclusion
        assert cell.label == conclusion, conclusion


def test_conclusions_terminal_words(conclusions_report: StatusReport) -> None:
    lines = render_terminal(conclusions_report, width=80).splitlines()

    assert any(line.rstrip().endswith("1/9 passing") for line in lines)
    for conclusion, (state, word) in EXPECTED_CONCLUSIONS.items():
        (line,) = [line for line in lines if f" s-{conclusion} " in line]
        assert line.strip().startswith(MARKS[state]), line
        assert line.rstrip().endswith(f"  {word}"), line


def test_conclusions_markdown_status_column(conclusions_report: StatusReport) -> None:
    markdown = render_markdown(conclusions_report)
    rows = {table_cells(row)[0]: table_cells(row) for row in table_rows(markdown)}

    assert "(1/9 passing)" in markdown
    for conclusion, (state, word) in EXPECTED_CONCLUSIONS.items():
        cells = rows[
            f"[s-{conclusion}](<https://github.com/{OWNER}/chip-"
            f"{conclusion.replace('_', '-')}/actions>)"
        ]
        assert cells[2] == f"{MARKS[state]} {word}", cells


def test_conclusions_html_words(conclusions_report: StatusReport) -> None:
    page = parse_page(render_html(conclusions_report))

    for conclusion, (_state, word) in EXPECTED_CONCLUSIONS.items():
        rows = [block for block in page.blocks if f"s-{conclusion}" in block]
        assert rows, conclusion
        assert any(word in " ".join(row.split()) for row in rows), (conclusion, rows)


def test_conclusions_json_keeps_raw_values(tmp_path: Path) -> None:
    case = conclusions_case()
    config_path = case.write_config(tmp_path / "repos.yaml")
    with GitHubReplayServer() as server:
        case.serve(server)
        code, stdout, _stderr = cli_status(config_path, server.url, "--format", "json")

    assert code == 0
    (revision,) = json.loads(stdout)["revisions"]
    assert sorted(run["conclusion"] for run in revision["runs"]) == sorted(CONCLUSIONS)
    assert {run["status"] for run in revision["runs"]} == {"completed"}
    assert [cell["label"] for cell in revision["cells"]] == CONCLUSIONS


def test_unfinished_reads_not_finished(unfinished_report: StatusReport) -> None:
    (revision,) = unfinished_report.revisions

    assert (revision.passing, revision.total, revision.pending) == (1, 5, 4)
    assert not revision.all_passing
    assert not revision.finished
    assert unfinished_report.overall_state == "pending"
    for name, (state, _word) in EXPECTED_UNFINISHED.items():
        cell = revision.cell(f"{OWNER}/{name}")
        assert cell is not None, name
        assert cell.state == state, name


def test_unfinished_runs_keep_raw_status(unfinished_report: StatusReport) -> None:
    (revision,) = unfinished_report.revisions
    runs = {run.repo.split("/")[1]: run for run in revision.runs}

    for name, status, conclusion in UNFINISHED:
        assert runs[name].status == status, name
        # An empty conclusion reads like null.
        assert runs[name].conclusion == (conclusion or None), name
        assert runs[name].finished == (status == "completed"), name
    assert runs["chip-new-status"].label == "unknown"


def test_empty_conclusion_reads_as_null() -> None:
    run = WorkflowRun.model_validate(
        {
            "repo": f"{OWNER}/chip-waiting",
            "sram": "w",
            "slot": "1x1",
            "workflow_name": "CI",
            "status": "completed",
            "conclusion": "",
            "run_id": 1,
            "head_sha": "0" * 40,
            "updated_at": "2026-12-04T12:00:00Z",
            "html_url": "https://github.com/x/y/actions/runs/1",
            "forge_sha": None,
            "forge_run_id": None,
        }
    )

    assert run.conclusion is None
    assert run.outcome == "inconclusive"
    assert run.label == "unknown"


def test_unfinished_renders_everywhere(unfinished_report: StatusReport) -> None:
    terminal = render_terminal(unfinished_report, width=80)
    markdown = render_markdown(unfinished_report)
    html = render_html(unfinished_report)

    assert "1/5 passing, 4 not finished" in terminal
    assert "(1/5 passing, 4 not finished)" in markdown
    assert "1/5 passing, 4 not finished" in " ".join(parse_page(html).text)
    lines = terminal.splitlines()
    rows = {table_cells(row)[0]: table_cells(row) for row in table_rows(markdown)}
    for name, (state, word) in EXPECTED_UNFINISHED.items():
        (line,) = [line for line in lines if f" {name} " in line]
        assert line.rstrip().endswith(f"  {word}"), line
        cells = rows[f"[{name}](<https://github.com/{OWNER}/{name}/actions>)"]
        assert cells[2] == f"{MARKS[state]} {word}", cells


@pytest.mark.parametrize("output_format", ["terminal", "md", "json", "html"])
def test_unfinished_cli_does_not_crash(tmp_path: Path, output_format: str) -> None:
    case = unfinished_case()
    config_path = case.write_config(tmp_path / "repos.yaml")
    with GitHubReplayServer() as server:
        case.serve(server)
        code, stdout, stderr = cli_status(config_path, server.url, "--format", output_format)

    assert code == 0, stderr
    assert stdout
