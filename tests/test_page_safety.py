"""The status page under hostile data and offline: text from GitHub stays text, nothing loads.

Every value GitHub sends (workflow names, branch names, commit messages, URLs) reaches the page;
these tests put markup and script URLs in each and check the browser shows them as plain text.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import test_page
from playwright.sync_api import Browser, Page, Route
from snapshot_data import snapshot_results
from test_page import CHROMIUM, PageOpener
from test_report import NOW, U8B24K

from forge_status_pipeline.config import ForgeConfig
from forge_status_pipeline.fetch import GeneratorCommit
from forge_status_pipeline.models import StatusReport, UnavailableRepo
from forge_status_pipeline.render.html import render_html
from forge_status_pipeline.report import build_report

browser = test_page.browser
open_page = test_page.open_page
report = test_page.report

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (scripts/test installs it)",
)

MARKUP = "<img src=x onerror=alert(1)>"
SCRIPT_END = "</script><script>alert(2)</script>"
NEWEST_SHA = "e87527f"


def hostile_report(config: ForgeConfig) -> StatusReport:
    """Build the snapshot's report with markup and script URLs in every field GitHub controls."""
    results = snapshot_results(config)

    u8b3k = results[0]
    newest_run = next(run for run in u8b3k.runs if (run.forge_sha or "").startswith(NEWEST_SHA))
    human_run = next(run for run in u8b3k.runs if run.forge_sha is None)
    replaced = {
        newest_run.run_id: newest_run.model_copy(
            update={"workflow_name": MARKUP + SCRIPT_END, "html_url": "javascript:alert(4)"}
        ),
        human_run.run_id: human_run.model_copy(
            update={
                "head_branch": MARKUP,
                "commit_subject": MARKUP + SCRIPT_END,
                "workflow_name": MARKUP,
                "html_url": "javascript:alert(6)",
            }
        ),
    }

    results[0] = u8b3k.model_copy(
        update={"runs": [replaced.get(run.run_id, run) for run in u8b3k.runs]}
    )
    results[3] = results[3].model_copy(
        update={
            "runs": [],
            "error": UnavailableRepo(repo=U8B24K, reason="error", detail=MARKUP),
        }
    )

    sha = newest_run.forge_sha or ""
    commits = {sha: GeneratorCommit(sha, MARKUP + SCRIPT_END, "javascript:alert(5)")}
    built = build_report(config, results, generated_at=NOW, generator_commits=commits)
    return built.model_copy(update={"warnings": [MARKUP]})


def exercise(page: Page) -> None:
    """Open every revision, every view and the unattributed runs, so all data reaches the DOM."""
    for toggle in page.locator(".rev-toggle").all():
        toggle.click()
    page.click("[data-view=grid]")
    page.click("[data-view=repos]")
    page.click("[data-view=list]")
    page.click("#unattributed summary")


def test_hostile_text_stays_inert(open_page: PageOpener, config: ForgeConfig) -> None:
    page = open_page(render_html(hostile_report(config)))
    exercise(page)
    newest = page.locator(f"#rev-{NEWEST_SHA}")
    runs = newest.locator(".runs tr[data-repo='0']")
    unattributed_row = page.locator("#unattributed tbody tr", has_text="onerror").first
    links = page.eval_on_selector_all(
        "[href]", "nodes => nodes.map(node => node.getAttribute('href'))"
    )

    assert open_page.dialogs == []
    assert open_page.errors == []
    assert page.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
    assert page.evaluate("document.querySelectorAll('script').length") == 2
    assert newest.locator(".subject").inner_text() == MARKUP + SCRIPT_END
    assert newest.locator(".rev-head .sha").evaluate("node => node.tagName") == "CODE"
    assert runs.locator("[data-label=Workflow]").inner_text() == MARKUP + SCRIPT_END
    assert runs.locator("[data-label=Run] a").count() == 0
    assert unattributed_row.locator("[data-label=Trigger] code").inner_text() == MARKUP
    assert unattributed_row.locator("[data-label=Commit]").inner_text() == MARKUP + SCRIPT_END
    assert unattributed_row.locator("[data-label=Workflow] a").count() == 0
    assert page.locator(".notice.n-warning").inner_text() == f"⚠Warning: {MARKUP}"
    assert MARKUP in page.locator(".notice.n-unavailable").inner_text()
    assert all(link.startswith(("https://", "#", "status.")) for link in links)


def test_hostile_text_escaped_in_html(config: ForgeConfig) -> None:
    html = render_html(hostile_report(config))

    assert MARKUP not in html
    assert SCRIPT_END not in html
    assert "javascript:" not in html
    assert html.count("</script>") == 2


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def static_server(tmp_path: Path) -> Iterator[str]:
    """Serve tmp_path over HTTP on 127.0.0.1 and return the server's base URL."""
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def load_recording_requests(browser: Browser, url: str) -> tuple[Page, list[str]]:
    """Open ``url``, let only ``url`` itself load, and record every request the page makes."""
    requests: list[str] = []
    context = browser.new_context()
    page = context.new_page()

    def handle(route: Route) -> None:
        requests.append(route.request.url)
        if route.request.url == url:
            route.continue_()
        else:
            route.abort()

    page.route("**/*", handle)
    page.goto(url)
    page.wait_for_selector("html[data-ready]", state="attached")
    return page, requests


def test_no_request_leaves_http_page(
    browser: Browser, static_server: str, tmp_path: Path, report: StatusReport
) -> None:
    (tmp_path / "index.html").write_text(render_html(report), encoding="utf-8")
    url = f"{static_server}/index.html"
    page, requests = load_recording_requests(browser, url)
    exercise(page)
    page.click("[data-view=grid]")
    page.locator(".grid-row[data-sha='65b5952'] .c").first.hover()
    page.context.close()

    assert requests == [url]


def test_no_request_leaves_file_page(
    browser: Browser, tmp_path: Path, report: StatusReport
) -> None:
    path = tmp_path / "index.html"
    path.write_text(render_html(report), encoding="utf-8")
    page, requests = load_recording_requests(browser, path.as_uri())
    exercise(page)
    page.context.close()

    assert requests == [path.as_uri()]


def test_stale_and_unavailable_shown(open_page: PageOpener, config: ForgeConfig) -> None:
    results = snapshot_results(config)
    results[3] = results[3].model_copy(
        update={
            "runs": [],
            "error": UnavailableRepo(repo=U8B24K, reason="not_found", detail="404 Not Found"),
        }
    )
    # Four days after the snapshot, every repo's newest run is older than the 72-hour limit.
    later = NOW.replace(day=20)
    page = open_page(
        render_html(build_report(config, results, generated_at=later)), viewer_time=later
    )
    notices = page.eval_on_selector_all(
        ".notices li:not([hidden])", "items => items.map(item => item.textContent.trim())"
    )

    assert notices[0] == "!Unavailable: u8b24k could not be read (not_found): 404 Not Found"
    assert [notice.split(" ", 2)[1] for notice in notices[1:]] == ["u8b3k", "u8b8k", "u8b9k"]
    assert all(notice.startswith("◷Stale: ") for notice in notices[1:])
    assert "has not built for more than 72 hours (newest run 4d ago" in notices[1]
    assert "Not the whole picture: 3 repos stale, 1 unavailable" in page.inner_text(".hero")

    page.click("[data-view=repos]")
    page.click("[data-filter=passing]")
    assert page.locator("#view-repos tbody tr:not([hidden])").count() == 0
    assert page.locator("#view-repos .empty").is_visible()
    page.click("[data-filter=all]")
    assert page.locator("#view-repos tr.stale").count() == 3
    assert "unavailable (not_found): 404 Not Found" in page.inner_text(
        "#view-repos tbody tr:nth-child(4)"
    )

    page.click("[data-view=grid]")
    assert page.locator(".grid-col .m-stale").count() == 3
    unavailable = page.eval_on_selector_all(
        ".grid-row[data-sha]", "rows => rows.map(row => row.querySelectorAll('.c')[3].className)"
    )
    assert set(unavailable) == {"c c-u"}
