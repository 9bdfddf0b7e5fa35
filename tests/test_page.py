"""The status page in Chromium: filters, views, run details, the URL hash, keyboard and layout.

The page is loaded from file:// as GitHub Pages visitors' browsers would load it after saving,
with the viewer's clock fixed one hour after the snapshot's refresh.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    sync_playwright,
)
from test_page_render import FAILING, PASSING
from test_report import EXPECTED_CELLS, NOW, U8B24K

from forge_status_pipeline.config import ForgeConfig
from forge_status_pipeline.github import GitHubClient
from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.pipeline import refresh_report
from forge_status_pipeline.render.html import render_html
from forge_status_pipeline.testing.browser import CHROMIUM, CHROMIUM_ARGS

VIEWER_TIME = NOW + timedelta(hours=1)
CELL_STATES = {
    "c-p": "passing",
    "c-f": "failing",
    "c-r": "pending",
    "c-i": "inconclusive",
    "c-n": "not_rebuilt",
    "c-u": "unavailable",
}
GENERATOR_URL = "https://github.com/mithro/gf180mcu-sram-forge"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (scripts/test installs it)",
)


# Module scope: the other test_page_* modules reuse these fixtures, and Playwright's sync API
# runs one instance per thread at a time.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class PageOpener:
    """Open rendered pages from file://, recording script errors and dialogs."""

    def __init__(self, browser: Browser, folder: Path) -> None:
        self.browser = browser
        self.folder = folder
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []

    def __call__(
        self,
        html: str,
        fragment: str = "",
        *,
        width: int = 1280,
        height: int = 900,
        color_scheme: Any = "light",
        viewer_time: datetime = VIEWER_TIME,
    ) -> Page:
        path = self.folder / f"page-{len(self.contexts)}.html"
        path.write_text(html, encoding="utf-8")
        context = self.browser.new_context(
            viewport={"width": width, "height": height}, color_scheme=color_scheme
        )
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._record_console)
        page.on("dialog", self._record_dialog)
        page.clock.set_fixed_time(viewer_time)
        page.goto(path.as_uri() + fragment)
        page.wait_for_selector("html[data-ready]", state="attached")
        return page

    def _record_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _record_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


@pytest.fixture
def open_page(browser: Browser, tmp_path: Path) -> Iterator[PageOpener]:
    """Open rendered pages; the test fails on any script error, CSP violation or dialog."""
    opener = PageOpener(browser, tmp_path)
    yield opener
    for context in opener.contexts:
        context.close()
    assert opener.errors == []
    assert opener.dialogs == []


@pytest.fixture
def report(config: ForgeConfig, client: GitHubClient) -> StatusReport:
    """The snapshot's report, fetched over HTTP so revisions carry their commit subjects."""
    return refresh_report(config, client, now=NOW)


@pytest.fixture
def page(open_page: PageOpener, report: StatusReport) -> Page:
    return open_page(render_html(report))


def visible_revisions(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "#view-list .rev",
        "items => items.filter(item => !item.hidden).map(item => item.dataset.sha)",
    )


def grid_states(page: Page) -> dict[str, tuple[str, ...]]:
    rows = page.eval_on_selector_all(
        ".grid-row[data-sha]",
        "rows => rows.map(row => [row.dataset.sha,"
        " Array.from(row.querySelectorAll('.c'), cell => cell.classList[1])])",
    )
    return {sha: tuple(CELL_STATES[code] for code in codes) for sha, codes in rows}


def test_filters_show_matching_revisions(page: Page) -> None:
    assert visible_revisions(page) == list(EXPECTED_CELLS)

    page.click("[data-filter=passing]")
    assert visible_revisions(page) == PASSING

    page.click("[data-filter=failing]")
    assert visible_revisions(page) == FAILING
    assert page.get_attribute("[data-filter=failing]", "aria-pressed") == "true"
    assert page.get_attribute("[data-filter=passing]", "aria-pressed") == "false"

    page.click("[data-filter=all]")
    assert visible_revisions(page) == list(EXPECTED_CELLS)


def test_filter_counts_follow_view(page: Page) -> None:
    counts = "Array.from(document.querySelectorAll('.seg .count'), node => node.textContent)"

    assert page.evaluate(counts) == ["12", "4", "6"]
    page.click("[data-view=repos]")
    # Repos judged by their newest build: three pass, u8b24k has not finished.
    assert page.evaluate(counts) == ["4", "3", "0"]


def test_expanding_shows_run_links(page: Page, report: StatusReport) -> None:
    revision = next(r for r in report.revisions if r.short_sha == "65b5952")
    failing_run = next(run for run in revision.runs if run.repo == U8B24K)
    item = page.locator("#rev-65b5952")

    assert item.locator(".runs").is_hidden()
    item.locator(".subject").click()

    assert item.locator(".rev-toggle").get_attribute("aria-expanded") == "true"
    rows = item.locator(".runs tbody tr")
    assert rows.count() == 4
    first = rows.nth(0)
    assert "s-failing" in (first.get_attribute("class") or "")
    assert first.locator("td").nth(0).inner_text().startswith("u8b24k")
    assert first.locator(".tag.reg").text_content() == "regression"
    assert first.locator("[data-label=Status]").inner_text() == "✘ failure"
    assert first.locator("[data-label=Duration]").inner_text() == "1h 08m"
    assert first.locator("[data-label=Run] a").get_attribute("href") == failing_run.html_url
    assert failing_run.html_url == f"https://github.com/{U8B24K}/actions/runs/20016161285"
    assert first.locator("[data-label=Commit] a").get_attribute("href") == (
        f"https://github.com/{U8B24K}/commit/{failing_run.head_sha}"
    )
    assert first.locator("[data-goto]").inner_text() == "a2aa591"
    assert item.locator(".rev-head a.sha").get_attribute("href") == (
        f"{GENERATOR_URL}/commit/{revision.forge_sha}"
    )
    assert item.locator(".run-link").get_attribute("href") == (
        f"{GENERATOR_URL}/actions/runs/20016128121"
    )

    item.locator(".rev-toggle").click()
    assert item.locator(".runs").is_hidden()
    assert item.locator(".rev-toggle").get_attribute("aria-expanded") == "false"


def test_details_mark_uncounted_runs(page: Page) -> None:
    item = page.locator("#rev-ce7b0f5")
    item.locator(".rev-toggle").click()

    # u8b8k was built twice at ce7b0f5: the manual dispatch decides, the older push does not.
    assert item.locator(".runs tbody tr").count() == 5
    uncounted = item.locator(".runs tr.uncounted")
    assert uncounted.count() == 1
    assert "push on main" in uncounted.inner_text()
    assert "does not decide this repo's state" in uncounted.inner_text()


def test_last_passing_link_opens_revision(page: Page) -> None:
    page.locator("#rev-65b5952 .rev-notes [data-goto=a2aa591]").click()

    assert page.get_attribute("#rev-a2aa591 .rev-toggle", "aria-expanded") == "true"
    assert page.evaluate("location.hash") == "#open=a2aa591"


def test_grid_matches_expected_cells(page: Page) -> None:
    page.click("[data-view=grid]")

    assert page.locator("#view-list").is_hidden()
    assert grid_states(page) == EXPECTED_CELLS
    regressions = page.eval_on_selector_all(
        ".grid .c.reg", "cells => cells.map(cell => cell.title)"
    )
    assert regressions == [
        "u8b24k at 65b5952: failing, regression, last passed at a2aa591",
        "u8b3k at 68a9068: failing, regression, last passed at 4246999",
    ]
    assert page.get_attribute(".grid-row[data-sha='6f6d504'] .c", "title") == (
        "u8b3k at 6f6d504: cancelled"
    )
    headers = page.eval_on_selector_all(".grid-col a", "links => links.map(link => link.href)")
    assert headers[3] == f"https://github.com/{U8B24K}/actions"


def test_grid_cell_opens_revision(page: Page) -> None:
    page.click("[data-view=grid]")
    page.locator(".grid-row[data-sha='65b5952'] .c").nth(3).click()

    assert page.locator("#view-list").is_visible()
    assert page.get_attribute("#rev-65b5952 .rev-toggle", "aria-expanded") == "true"
    assert page.evaluate("location.hash") == "#open=65b5952"


def test_hash_restores_view(open_page: PageOpener, report: StatusReport) -> None:
    page = open_page(render_html(report), "#filter=failing&view=grid&open=65b5952")

    assert page.get_attribute("[data-filter=failing]", "aria-pressed") == "true"
    assert page.get_attribute("[data-view=grid]", "aria-pressed") == "true"
    assert page.locator("#view-grid").is_visible()
    visible_rows = page.eval_on_selector_all(
        ".grid-row[data-sha]", "rows => rows.filter(row => !row.hidden).map(row => row.dataset.sha)"
    )
    assert visible_rows == FAILING

    page.click("[data-view=list]")
    assert visible_revisions(page) == FAILING
    assert page.get_attribute("#rev-65b5952 .rev-toggle", "aria-expanded") == "true"
    assert page.get_attribute("#rev-a2aa591 .rev-toggle", "aria-expanded") == "false"


def test_hash_follows_controls(page: Page) -> None:
    page.click("[data-filter=passing]")
    page.click("[data-view=grid]")
    assert page.evaluate("location.hash") == "#filter=passing&view=grid"

    page.click("[data-view=list]")
    page.locator("#rev-ce7b0f5 .rev-toggle").click()
    page.locator("#rev-4246999 .rev-toggle").click()
    assert page.evaluate("location.hash") == "#filter=passing&open=ce7b0f5,4246999"

    page.click("[data-filter=all]")
    page.locator("#rev-ce7b0f5 .rev-toggle").click()
    page.locator("#rev-4246999 .rev-toggle").click()
    assert page.evaluate("location.hash") == ""


def test_unknown_hash_values_ignored(open_page: PageOpener, report: StatusReport) -> None:
    page = open_page(render_html(report), "#filter=bogus&view=%3Cimg%3E&open=zzzz,65b5952")

    assert page.get_attribute("[data-filter=all]", "aria-pressed") == "true"
    assert page.locator("#view-list").is_visible()
    assert page.get_attribute("#rev-65b5952 .rev-toggle", "aria-expanded") == "true"


def test_revision_anchor_opens_revision(open_page: PageOpener, report: StatusReport) -> None:
    # The "last passed at" links point at #rev-<sha>, which also works without the script.
    page = open_page(render_html(report), "#rev-a2aa591")

    assert page.get_attribute("#rev-a2aa591 .rev-toggle", "aria-expanded") == "true"
    assert page.get_attribute("#rev-65b5952 .rev-toggle", "aria-expanded") == "false"


def test_relative_times_use_viewer_clock(page: Page) -> None:
    time = page.locator("#rev-65b5952 .rev-head time")

    # 2025-12-08 03:54 to the viewer's 2025-12-16 03:10 is 7 days and 23 hours.
    assert time.inner_text() == "7d ago"
    assert time.get_attribute("title") == "2025-12-08 03:54 UTC"
    assert page.locator(".updated time").inner_text() == "1h ago"
    assert page.locator("#page-age").is_hidden()


def test_old_page_warns_viewer(open_page: PageOpener, report: StatusReport) -> None:
    page = open_page(render_html(report), viewer_time=NOW + timedelta(days=4))
    notice = page.locator("#page-age")

    assert notice.is_visible()
    assert notice.inner_text() == (
        "◷Old data: this page was generated 4d ago, more than 72 hours ago, "
        "so its refresh may have stopped."
    )


def test_repos_view_shows_trends(page: Page) -> None:
    page.click("[data-view=repos]")
    rows = page.locator("#view-repos tbody tr")

    assert rows.count() == 4
    assert page.locator("#view-repos svg.trend").count() == 4
    last = rows.nth(3)
    assert "in progress at e87527f" in last.inner_text()
    assert last.locator("th a").get_attribute("href") == f"https://github.com/{U8B24K}/actions"
    title = last.locator("svg title").text_content() or ""
    assert title.startswith("Duration of the last 6 builds, oldest first: 1h 42m failing")
