"""Measure the status page's size and load time in Chromium, for the snapshot and a large report.

Usage: ``uv run python benchmarks/page_benchmark.py [--loads N] [--repos N] [--revisions N]``

Reports are built without HTTP: the snapshot's runs files, and synthetic repos from
``forge_status_pipeline.testing.generate``. Each page is written to a temporary folder and
loaded from file:// in headless Chromium (``/usr/bin/chromium``). "Ready" is the time from
navigation start to the ``page-ready`` performance mark. The page's script sets that mark after
the first frame that shows its applied state. Each row is the median of ``--loads`` fresh loads.
The grid rows load the page with ``#view=grid``, so their time includes building the grid.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from forge_status_pipeline.config import ForgeConfig, load_config
from forge_status_pipeline.correlation import subject_line, to_workflow_run
from forge_status_pipeline.fetch import GeneratorCommit, RepoRuns
from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.render.html import render_html
from forge_status_pipeline.report import build_report
from forge_status_pipeline.testing.browser import CHROMIUM, CHROMIUM_ARGS
from forge_status_pipeline.testing.generate import (
    DEFAULT_NOW,
    GENERATOR_NAME,
    GENERATOR_OWNER,
    generate_generator_commits,
    generate_repos,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
READY_SCRIPT = "performance.getEntriesByName('page-ready')[0].startTime"


@dataclass(frozen=True)
class Measurement:
    name: str
    revisions: int
    repos: int
    render_ms: float
    size_bytes: int
    ready_ms: float


def snapshot_report() -> StatusReport:
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    from snapshot_data import snapshot_results

    config = load_config(REPO_ROOT / "downstream_repos.yaml")
    return build_report(config, snapshot_results(config), generated_at=DEFAULT_NOW)


def synthetic_report(repo_count: int, revision_count: int) -> StatusReport:
    entries, runs_by_name, _ = generate_repos(repo_count, revision_count)
    config = ForgeConfig.model_validate(
        {"generator": {"owner": GENERATOR_OWNER, "name": GENERATOR_NAME}, "repos": entries}
    )
    results = [
        RepoRuns(
            repo=repo,
            runs=[to_workflow_run(raw, repo) for raw in runs_by_name[repo.full_name]],
            pages=1,
        )
        for repo in config.repos
    ]
    commits = {
        sha: GeneratorCommit(sha, subject_line(raw["commit"]["message"]), raw["html_url"])
        for sha, raw in generate_generator_commits(revision_count, count=repo_count).items()
    }
    return build_report(config, results, generated_at=DEFAULT_NOW, generator_commits=commits)


def median_ready_ms(browser: Browser, url: str, loads: int) -> float:
    times = []
    for _ in range(loads):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("html[data-ready]", state="attached")
        times.append(float(page.evaluate(READY_SCRIPT)))
        context.close()
    return statistics.median(times)


def measure(
    browser: Browser, folder: Path, name: str, build: Callable[[], StatusReport], loads: int
) -> list[Measurement]:
    report = build()
    started = time.perf_counter()
    html = render_html(report)
    render_ms = (time.perf_counter() - started) * 1000
    path = folder / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    size = len(html.encode("utf-8"))
    rows = []
    for view, fragment in (("list", ""), ("grid", "#view=grid")):
        ready = median_ready_ms(browser, path.as_uri() + fragment, loads)
        rows.append(
            Measurement(
                f"{name}, {view}", len(report.revisions), len(report.repos), render_ms, size, ready
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--loads", type=int, default=5, help="page loads per row (median)")
    parser.add_argument("--repos", type=int, default=500, help="repos in the synthetic report")
    parser.add_argument("--revisions", type=int, default=30, help="revisions in the synthetic one")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} not found; install Debian's chromium package to run this benchmark")

    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        rows = measure(browser, Path(folder), "snapshot", snapshot_report, args.loads)
        rows += measure(
            browser,
            Path(folder),
            "synthetic",
            lambda: synthetic_report(args.repos, args.revisions),
            args.loads,
        )
        browser.close()

    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Chromium headless, median of {args.loads} loads"
    )
    print(
        f"{'page':<16} {'revisions':>9} {'repos':>6} {'render ms':>10} {'bytes':>10} {'ready ms':>9}"
    )
    for row in rows:
        print(
            f"{row.name:<16} {row.revisions:>9} {row.repos:>6} {row.render_ms:>10.0f} "
            f"{row.size_bytes:>10,} {row.ready_ms:>9.0f}"
        )


if __name__ == "__main__":
    main()
