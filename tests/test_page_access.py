"""The status page for everyone: keyboard use, labels, narrow screens and dark mode.

Also saves screenshots of the list and grid views, light and dark, to test-artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import test_page
from playwright.sync_api import Page
from test_page import CHROMIUM, PageOpener, visible_revisions
from test_page_render import FAILING
from test_report import EXPECTED_CELLS

from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.render.html import render_html

browser = test_page.browser
open_page = test_page.open_page
report = test_page.report
page = test_page.page

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (scripts/test installs it)",
)

# Names the focused element: its control kind and which one.
DESCRIBE_FOCUS = """() => {
  const node = document.activeElement;
  if (!node || node === document.body) return "body";
  if (node.dataset.filter) return "filter:" + node.dataset.filter;
  if (node.dataset.view) return "view:" + node.dataset.view;
  if (node.classList.contains("rev-toggle")) return "toggle:" + node.closest(".rev").dataset.sha;
  const gridRow = node.closest(".grid-row[data-sha]");
  if (gridRow && node.tagName === "BUTTON") return "grid-row:" + gridRow.dataset.sha;
  if (node.tagName === "SUMMARY") return "summary";
  return node.tagName.toLowerCase();
}"""
MAX_TABS = 400


def tab_until(page: Page, target: str) -> None:
    """Press Tab until ``target`` (a DESCRIBE_FOCUS name) has focus.

    Focus moves on from wherever it is and wraps from the page's last control to its first.
    """
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate(DESCRIBE_FOCUS) == target:
            return
    raise AssertionError(f"{target} not reached in {MAX_TABS} presses of Tab")


def test_tab_reaches_every_control(page: Page) -> None:
    reached = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        reached.append(page.evaluate(DESCRIBE_FOCUS))

    expected = {"filter:all", "filter:passing", "filter:failing", "summary"}
    expected |= {"view:list", "view:grid", "view:repos"}
    expected |= {f"toggle:{sha}" for sha in EXPECTED_CELLS}
    assert expected <= set(reached)


def test_keyboard_operates_controls(page: Page) -> None:
    tab_until(page, "filter:failing")
    page.keyboard.press("Enter")
    assert page.get_attribute("[data-filter=failing]", "aria-pressed") == "true"
    assert visible_revisions(page) == FAILING

    tab_until(page, "toggle:65b5952")
    page.keyboard.press("Space")
    assert page.get_attribute("#rev-65b5952 .rev-toggle", "aria-expanded") == "true"
    page.keyboard.press("Enter")
    assert page.get_attribute("#rev-65b5952 .rev-toggle", "aria-expanded") == "false"

    tab_until(page, "view:grid")
    page.keyboard.press("Enter")
    assert page.locator("#view-grid").is_visible()

    tab_until(page, "grid-row:4d50023")
    page.keyboard.press("Enter")
    assert page.locator("#view-list").is_visible()
    assert page.get_attribute("#rev-4d50023 .rev-toggle", "aria-expanded") == "true"
    assert page.evaluate(DESCRIBE_FOCUS) == "toggle:4d50023"

    tab_until(page, "summary")
    page.keyboard.press("Enter")
    assert page.get_attribute("#unattributed", "open") is not None


def test_keyboard_focus_is_visible(page: Page) -> None:
    tab_until(page, "filter:passing")
    outline = page.evaluate(
        "(() => { const style = getComputedStyle(document.activeElement);"
        " return [style.outlineStyle, style.outlineWidth]; })()"
    )

    assert outline == ["solid", "3px"]


def test_controls_carry_labels(page: Page) -> None:
    toggles = page.eval_on_selector_all(
        ".rev-toggle",
        "buttons => buttons.map(button => [button.getAttribute('aria-label'),"
        " !!document.getElementById(button.getAttribute('aria-controls'))])",
    )
    unlabelled_marks = page.eval_on_selector_all(
        ".mark[role=img]", "marks => marks.filter(mark => !mark.getAttribute('aria-label')).length"
    )

    assert toggles[2] == ["Runs of 65b5952", True]
    assert all(has_panel for _, has_panel in toggles)
    assert unlabelled_marks == 0
    assert page.get_attribute("#rev-65b5952 .chips li:nth-child(4) .mark", "aria-label") == (
        "failing, regression"
    )

    page.click("[data-view=grid]")
    assert page.locator(".grid[role=table] [role=columnheader]").count() == 5
    assert page.locator(".grid [role=rowheader]").count() == 12
    assert page.locator(".grid [role=cell]").count() == 48
    assert page.get_attribute(
        ".grid-row[data-sha='65b5952'] .c:nth-child(4) .mark", "aria-label"
    ) == ("u8b24k at 65b5952: failing, regression, last passed at a2aa591")


@pytest.mark.parametrize(
    "fragment", ["#open=65b5952,ce7b0f5", "#view=grid", "#view=repos", "#filter=failing"]
)
def test_narrow_viewport_no_overflow(
    open_page: PageOpener, report: StatusReport, fragment: str
) -> None:
    page = open_page(render_html(report), fragment, width=360, height=740)
    page.evaluate("document.getElementById('unattributed').open = true")
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.body.scrollWidth, innerWidth]"
    )

    assert widths == [360, 360, 360]


@pytest.mark.parametrize(
    ("scheme", "background", "text"),
    [
        ("light", "rgb(255, 255, 255)", "rgb(28, 33, 40)"),
        ("dark", "rgb(15, 20, 25)", "rgb(228, 233, 238)"),
    ],
)
def test_colour_scheme_applies(
    open_page: PageOpener, report: StatusReport, scheme: str, background: str, text: str
) -> None:
    page = open_page(render_html(report), color_scheme=scheme)
    colours = page.evaluate(
        "(() => { const style = getComputedStyle(document.body);"
        " return [style.backgroundColor, style.color]; })()"
    )

    assert colours == [background, text]


@pytest.mark.parametrize(
    ("name", "fragment", "scheme", "width"),
    [
        ("list-light", "#open=65b5952", "light", 1280),
        ("list-dark", "#open=65b5952", "dark", 1280),
        ("grid-light", "#view=grid", "light", 1280),
        ("grid-dark", "#view=grid", "dark", 1280),
        ("repos-light", "#view=repos", "light", 1280),
        ("phone-light", "#open=65b5952", "light", 360),
        ("phone-dark", "#view=grid", "dark", 360),
    ],
)
def test_screenshots_saved(
    open_page: PageOpener,
    report: StatusReport,
    artifacts_dir: Path,
    name: str,
    fragment: str,
    scheme: str,
    width: int,
) -> None:
    page = open_page(render_html(report), fragment, width=width, height=900, color_scheme=scheme)
    page.evaluate("window.scrollTo(0, 0)")
    path = artifacts_dir / f"page-{name}.png"
    page.screenshot(path=str(path), full_page=True)

    assert path.stat().st_size > 20_000
