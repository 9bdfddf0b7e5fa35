"""The status page's HTML, view model and embedded data, checked in Python without a browser."""

from __future__ import annotations

import base64
import hashlib
import html as html_module
import json
import re
from datetime import timedelta

import pytest
from snapshot_data import snapshot_results
from test_report import NOW, U8B3K, U8B8K, U8B9K, U8B24K

from forge_status_pipeline.config import ForgeConfig
from forge_status_pipeline.correlation import to_workflow_run
from forge_status_pipeline.fetch import RepoRuns
from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.render.html import page_script, render_html
from forge_status_pipeline.render.page_data import STANDARD_RUN_URL, page_data, script_json
from forge_status_pipeline.render.page_model import (
    MAX_CHIPS,
    MAX_UNATTRIBUTED_ROWS,
    build_page_view,
    repo_refs,
)
from forge_status_pipeline.render.page_trend import duration_trend
from forge_status_pipeline.report import build_report
from forge_status_pipeline.testing.generate import generate_repos

# Worked out from EXPECTED_CELLS in test_report.py. A revision is failing when any repo fails
# and passing when every repo built there passes, so e87527f (pending) and 6f6d504
# (inconclusive) are neither.
PASSING = ["ce7b0f5", "4246999", "489f8e5", "508f262"]
FAILING = ["65b5952", "a2aa591", "68a9068", "4d50023", "4d02c74", "921c02f"]


@pytest.fixture
def report(config: ForgeConfig) -> StatusReport:
    return build_report(config, snapshot_results(config), generated_at=NOW)


def test_filter_groups_match_snapshot(report: StatusReport) -> None:
    page = build_page_view(report)
    groups = {view.short_sha: view.group for view in page.revisions}

    assert [sha for sha, group in groups.items() if group == "passing"] == PASSING
    assert [sha for sha, group in groups.items() if group == "failing"] == FAILING
    assert page.group_counts == {"all": 12, "passing": 4, "failing": 6}


def test_header_names_newest_and_green(report: StatusReport) -> None:
    page = build_page_view(report)

    assert page.overall_state == "pending"
    assert page.newest is not None
    assert page.newest.short_sha == "e87527f"
    assert page.newest.summary == "2/3 passing, 1 not finished"
    assert [(chip.repo.name, chip.word) for chip in page.newest.waiting] == [
        (U8B24K, "in progress")
    ]
    assert page.last_green is not None
    assert page.last_green.short_sha == "ce7b0f5"


def test_revision_links_to_generator_commit(report: StatusReport) -> None:
    page = build_page_view(report)
    view = next(view for view in page.revisions if view.short_sha == "65b5952")

    assert view.commit_url == (
        "https://github.com/mithro/gf180mcu-sram-forge/commit/" + report.revisions[2].forge_sha
    )
    assert view.forge_run_url == (
        "https://github.com/mithro/gf180mcu-sram-forge/actions/runs/20016128121"
    )


@pytest.mark.parametrize(
    ("short_sha", "expected"),
    [
        # 65b5952 broke 1x1 (u8b24k), which passed at a2aa591.
        ("65b5952", [(U8B24K, True, "a2aa591")]),
        ("a2aa591", [(U8B3K, False, "4246999"), (U8B9K, False, None)]),
        # The regression comes first, then the other failures in configured order.
        (
            "68a9068",
            [
                (U8B3K, True, "4246999"),
                (U8B8K, False, None),
                (U8B9K, False, None),
                (U8B24K, False, None),
            ],
        ),
    ],
)
def test_breakages_name_last_passing(
    report: StatusReport, short_sha: str, expected: list[tuple[str, bool, str | None]]
) -> None:
    page = build_page_view(report)
    view = next(view for view in page.revisions if view.short_sha == short_sha)

    assert [
        (item.repo.name, item.regression, item.last_passing_short) for item in view.breakages
    ] == expected


def test_chips_use_github_words(report: StatusReport) -> None:
    page = build_page_view(report)
    chips = {
        (view.short_sha, chip.repo.label): chip for view in page.revisions for chip in view.chips
    }

    assert chips[("e87527f", "u8b24k")].word == "in progress"
    assert chips[("e87527f", "u8b24k")].note == "in progress"
    assert chips[("6f6d504", "u8b3k")].word == "cancelled"
    assert chips[("6f6d504", "u8b3k")].note == "cancelled"
    assert chips[("65b5952", "u8b24k")].word == "failing"
    assert chips[("65b5952", "u8b24k")].note is None
    assert chips[("ce7b0f5", "u8b3k")].note is None


def test_repo_rows_judge_newest_build(report: StatusReport) -> None:
    rows = {row.repo.name: row for row in build_page_view(report).repos}

    # u8b3k: 10 decided builds (6f6d504 was inconclusive), 6 of them passing.
    assert (rows[U8B3K].state, rows[U8B3K].latest_short) == ("passing", "e87527f")
    assert (rows[U8B3K].passed, rows[U8B3K].decided) == (6, 10)
    # u8b8k was not rebuilt at e87527f, so its newest build is ce7b0f5.
    assert (rows[U8B8K].state, rows[U8B8K].latest_short) == ("passing", "ce7b0f5")
    assert (rows[U8B8K].passed, rows[U8B8K].decided) == (3, 4)
    assert (rows[U8B24K].state, rows[U8B24K].group) == ("pending", "other")
    assert rows[U8B24K].word == "in progress"
    assert (rows[U8B24K].passed, rows[U8B24K].decided) == (2, 5)


def test_repo_trend_oldest_first(report: StatusReport) -> None:
    rows = {row.repo.name: row for row in build_page_view(report).repos}
    trend = rows[U8B8K].trend

    assert trend is not None
    # Builds of u8b8k, oldest first: 68a9068, a2aa591, 65b5952, ce7b0f5.
    assert [point.short_sha for point in trend.points] == [
        "68a9068",
        "a2aa591",
        "65b5952",
        "ce7b0f5",
    ]
    assert [point.seconds for point in trend.points] == [1985.0, 3285.0, 4634.0, 4074.0]
    assert [point.state for point in trend.points] == ["failing", "passing", "passing", "passing"]


def test_trend_coordinates_by_hand() -> None:
    trend = duration_trend(
        [
            ("aaaaaaa", "passing", 600.0),
            ("bbbbbbb", "failing", 1200.0),
            ("ccccccc", "passing", 900.0),
        ]
    )

    # Box 120 × 28 with 3 px padding: x steps by 114 / 2 = 57; y = 3 + 22 × (1 − s / 1200).
    assert trend is not None
    assert trend.polyline == "3,14 60,3 117,8.5"
    assert trend.dots == [("passing", "M3 14h0M117 8.5h0"), ("failing", "M60 3h0")]
    assert trend.label == (
        "Duration of the last 3 builds, oldest first: "
        "10m 00s passing, 20m 00s failing, 15m 00s passing"
    )


def test_single_build_trend_centred() -> None:
    trend = duration_trend([("aaaaaaa", "passing", 300.0)])

    assert trend is not None
    assert trend.polyline == "60,3"
    assert trend.label == "Duration of the last build, oldest first: 5m 00s passing"
    assert duration_trend([]) is None


def test_many_repos_chips_capped() -> None:
    entries, runs_by_name, _ = generate_repos(30, 4, seed=3)
    config = ForgeConfig.model_validate({"repos": entries})
    results = [
        RepoRuns(
            repo=repo, runs=[to_workflow_run(raw, repo) for raw in runs_by_name[repo.full_name]]
        )
        for repo in config.repos
    ]
    report = build_report(config, results, generated_at=NOW)
    page = build_page_view(report)

    assert page.many_repos
    for view, revision in zip(page.revisions, report.revisions, strict=True):
        failing = sum(cell.state == "failing" for cell in revision.cells)
        hidden = dict(view.hidden_counts)
        assert len(view.chips) == min(failing, MAX_CHIPS)
        assert all(chip.state == "failing" for chip in view.chips)
        assert len(view.chips) + sum(hidden.values()) == 30
        assert hidden.get("passing", 0) == revision.passing


def test_unattributed_rows_capped(report: StatusReport) -> None:
    bigger = report.model_copy(update={"unattributed": report.unattributed * 3})
    page = build_page_view(bigger)
    html = render_html(bigger)

    assert page.unattributed_total == 246
    assert len(page.unattributed) == MAX_UNATTRIBUTED_ROWS
    assert "Runs not built from a generator commit (246)" in html
    assert "The newest 200 are listed" in html


def test_script_json_escapes_markup() -> None:
    text = script_json({"a": "</script><!--&x>"})

    assert text == '{"a":"\\u003c/script\\u003e\\u003c!--\\u0026x\\u003e"}'
    assert json.loads(text) == {"a": "</script><!--&x>"}


def test_page_data_cells_and_runs(report: StatusReport) -> None:
    data = page_data(report, repo_refs(report))
    revisions = {revision["short"]: revision for revision in data["revisions"]}
    strings = data["strings"]

    # Cell codes: p passing, f failing, r pending, i inconclusive, n not rebuilt.
    assert revisions["e87527f"]["cells"] == "pnpr"
    assert revisions["65b5952"]["cells"] == "pppf"
    assert revisions["6f6d504"]["cells"] == "innn"
    assert revisions["65b5952"]["regressions"] == [3]
    assert [[repo, strings[word]] for repo, word in revisions["6f6d504"]["words"]] == [
        [0, "cancelled"]
    ]
    # u8b24k's last pass before 65b5952 is a2aa591, the revision at index 3.
    assert revisions["65b5952"]["lastPassing"] == [[3, 3]]
    run = next(run for run in revisions["65b5952"]["runs"] if run[5] == 20016161285)
    assert run[0] == 3
    assert strings[run[1]] == "CI"
    assert strings[run[2]] == "failure"
    assert run[3] == "f"
    assert run[4] == 4121
    assert run[6] == STANDARD_RUN_URL
    assert run[11] == 1


def test_csp_hashes_inline_script(report: StatusReport) -> None:
    html = render_html(report)
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    script = re.search(r"<script>(.*?)</script>", html, re.DOTALL)
    style = re.search(r"<style>(.*?)</style>", html, re.DOTALL)

    assert policy is not None
    assert script is not None
    assert style is not None
    content = html_module.unescape(policy.group(1))
    directives = dict(part.strip().split(" ", 1) for part in content.split(";"))
    script_hash = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    style_hash = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == f"'sha256-{script_hash}'"
    assert directives["style-src"] == f"'sha256-{style_hash}'"
    assert "unsafe" not in content
    assert script.group(1) == page_script()


def test_render_is_deterministic(report: StatusReport) -> None:
    assert render_html(report) == render_html(report)


def test_times_relative_to_report(report: StatusReport) -> None:
    later = report.model_copy(update={"generated_at": NOW + timedelta(days=2)})
    html = render_html(report)

    assert (
        '<time datetime="2025-12-08T03:54:47+00:00" title="2025-12-08 03:54 UTC" data-rel>7d ago'
        in html
    )
    assert "data-rel>9d ago" in render_html(later)
    assert 'Updated <time datetime="2025-12-16T02:10:00+00:00"' in html
