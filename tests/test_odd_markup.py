"""Names, subjects and links from GitHub that are HTML, Markdown table syntax or escapes."""

from __future__ import annotations

import json
import re

import pytest
from odd_data import (
    BRANCH_MARKUP,
    PIPE_URL,
    SLOT_MARKUP,
    SRAM_MARKUP,
    SUBJECT_MARKUP,
    URL_MARKUP,
    WORKFLOW_MARKUP,
    markup_case,
    parse_page,
    report_from_server,
    table_cells,
    table_rows,
)

from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.render import render_html, render_markdown, render_terminal
from forge_status_pipeline.testing.github_server import GitHubReplayServer

# The terminal renderer's own colour codes; anything else starting with ESC came from the data.
OWN_SGR = re.compile(r"\x1b\[(?:0|32|31;1|33|35)m")
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "poster", "srcset")


@pytest.fixture(scope="module")
def report() -> StatusReport:
    with GitHubReplayServer() as server:
        return report_from_server(markup_case(), server)


def test_markup_kept_raw_in_report(report: StatusReport) -> None:
    (revision,) = report.revisions
    runs = {run.run_id: run for run in revision.runs}

    assert runs[303].workflow_name.startswith(WORKFLOW_MARKUP)
    assert runs[303].html_url == URL_MARKUP
    assert runs[303].commit_subject == SUBJECT_MARKUP
    assert runs[301].head_branch == BRANCH_MARKUP
    assert revision.subject is not None
    assert revision.subject.startswith(SUBJECT_MARKUP)
    assert json.loads(report.model_dump_json())["revisions"][0]["runs"][2]["html_url"] == URL_MARKUP


def test_markup_is_text_in_html(report: StatusReport) -> None:
    page = parse_page(render_html(report))
    tags = [tag for tag, _attrs in page.elements]

    assert "img" not in tags
    for attrs, content in page.scripts:
        if attrs.get("type") == "application/json":
            # Data embedded for the page's script must stay one JSON value: a "</script>" in
            # it would end the element early.
            json.loads(content)
        else:
            assert "alert(" not in content
    for tag, attrs in page.elements:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            if name in URL_ATTRIBUTES and value:
                target = "".join(value.split()).lower()
                assert not target.startswith(("javascript:", "data:", "vbscript:")), (tag, value)
                if ":" in target.split("/", 1)[0]:
                    assert target.startswith("https://"), (tag, value)
    text = " ".join(" ".join(page.text).split())
    assert SRAM_MARKUP in text
    assert SLOT_MARKUP in text


def test_markdown_rows_keep_five_cells(report: StatusReport) -> None:
    markdown = render_markdown(report)
    rows = table_rows(markdown)

    assert len(rows) == 3  # header, separator, the one repo
    for row in rows:
        assert len(table_cells(row)) == 5, row
    cells = table_cells(rows[2])
    assert cells[1] == SLOT_MARKUP
    assert SRAM_MARKUP in cells[0]
    # The deciding runs: the markup-named workflow (no link, since its URL is javascript:) and
    # the docs workflow, whose https link has its "|" and space percent-encoded.
    assert f"{WORKFLOW_MARKUP} | second cell" in cells[3]
    assert "](<https://example.com/runs/a%7Cb%20c>)" in cells[3]
    assert PIPE_URL not in markdown
    assert "javascript:" not in markdown
    assert "<script>" not in markdown
    assert "<img" not in markdown


@pytest.mark.parametrize("colour", [False, True])
def test_terminal_drops_data_escapes(report: StatusReport, colour: bool) -> None:
    output = render_terminal(report, width=100, colour=colour)
    without_own_codes = OWN_SGR.sub("", output)

    assert "\x1b" not in without_own_codes
    assert not re.search(
        r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", without_own_codes
    )
    assert ("\x1b[" in output) == colour
    assert SUBJECT_MARKUP in without_own_codes
    assert SRAM_MARKUP in without_own_codes
