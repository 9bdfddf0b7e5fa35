"""Status badges: shields.io endpoint JSON for the whole report and for each repo, and an SVG badge.

The endpoint files follow https://shields.io/badges/endpoint-badge, so
``https://img.shields.io/endpoint?url=<site>/badge.json`` draws the badge. ``badge.svg`` is drawn
here, for readers who would rather not depend on shields.io.
"""

from __future__ import annotations

import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from forge_status_pipeline.models import (
    ForgeRevision,
    RepoStatus,
    RevisionCell,
    StatusReport,
    WorkflowRun,
)
from forge_status_pipeline.render.text import STATE_WORDS, plain, revision_summary

BADGE_LABEL = "downstream builds"
BADGE_FILE = "badge.json"
BADGE_SVG_FILE = "badge.svg"
REPO_BADGE_DIR = "badges"
# Shields caches an endpoint response this many seconds (it enforces 300 at least). The site is
# refreshed every 4 hours, so half an hour keeps a README badge close to the page.
BADGE_CACHE_SECONDS = 1800

BUILT_STATES = frozenset({"passing", "failing", "pending", "inconclusive"})
FINISHED_STATES = frozenset({"passing", "failing", "inconclusive"})

# Badge states: a cell state, or "unavailable" (repo not readable) or "unknown" (never built).
STATE_COLORS = {
    "passing": "brightgreen",
    "failing": "red",
    "pending": "yellow",
    "inconclusive": "lightgrey",
    "unavailable": "lightgrey",
    "unknown": "lightgrey",
}
# The hex values behind the shields.io color names used above, for the SVG badge.
NAMED_COLORS = {
    "brightgreen": "#4c1",
    "red": "#e05d44",
    "yellow": "#dfb317",
    "lightgrey": "#9f9f9f",
}
LABEL_COLOR = "#555"

# XML 1.0 forbids these even as character references, so they never reach a badge or feed.
_XML_FORBIDDEN = re.compile("[\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str | None) -> str:
    """Make text from GitHub or the config safe for XML: no control characters or surrogates."""
    return plain(_XML_FORBIDDEN.sub("", value or ""))


@dataclass(frozen=True)
class RepoBuild:
    """One configured repo's newest build and newest finished build in the report."""

    status: RepoStatus
    latest: tuple[ForgeRevision, RevisionCell] | None
    finished: tuple[ForgeRevision, RevisionCell] | None

    @property
    def state(self) -> str:
        """Return the newest build's cell state, ``unavailable`` or ``unknown`` (never built)."""
        if not self.status.available:
            return "unavailable"
        if self.latest is None:
            return "unknown"
        return self.latest[1].state


def latest_builds(report: StatusReport) -> list[RepoBuild]:
    """Find each configured repo's newest build, walking the revisions newest first.

    A revision where the repo was not rebuilt says nothing about it, so the newest revision where
    it was built decides. ``finished`` skips builds still running, for feeds that show the last
    result while the next build runs.
    """
    builds = []
    for status in report.repos:
        latest = None
        finished = None
        for revision in report.revisions:
            cell = revision.cell(status.repo)
            if cell is None or cell.state not in BUILT_STATES:
                continue
            if latest is None:
                latest = (revision, cell)
            if cell.state in FINISHED_STATES:
                finished = (revision, cell)
                break
        builds.append(RepoBuild(status=status, latest=latest, finished=finished))
    return builds


def deciding_run(revision: ForgeRevision, cell: RevisionCell) -> WorkflowRun | None:
    """Return the newest run that gave ``cell`` its state, else the newest of its runs."""
    runs = [run for run in revision.runs if run.run_id in cell.run_ids]
    matching = [run for run in runs if run.outcome == cell.state]
    candidates = matching or runs
    if not candidates:
        return None
    return max(candidates, key=lambda run: (run.updated_at, run.run_id))


def overall_badge(report: StatusReport) -> dict[str, object]:
    """Build the shields.io endpoint response for the newest revision, like ``3/4 passing``."""
    latest = report.latest
    if latest is None or latest.total == 0:
        message = "no builds"
    else:
        message = revision_summary(latest.passing, latest.total, latest.pending)
    return _endpoint(BADGE_LABEL, message, STATE_COLORS[report.overall_state])


def repo_badge(build: RepoBuild) -> dict[str, object]:
    """Build one repo's endpoint response, labelled with its SRAM name, like ``u8b3k | passing``."""
    state = build.state
    if state == "unknown":
        message = "no builds"
    else:
        message = STATE_WORDS[state]
    label = xml_text(build.status.sram) or build.status.repo
    badge = _endpoint(label, message, STATE_COLORS[state])
    if state == "unavailable":
        badge["isError"] = True
    return badge


def _endpoint(label: str, message: str, color: str) -> dict[str, object]:
    return {
        "schemaVersion": 1,
        "label": label,
        "message": message,
        "color": color,
        "cacheSeconds": BADGE_CACHE_SECONDS,
    }


def repo_badge_path(repo: str) -> str:
    """Name a repo's badge file in the site: ``badges/<owner>__<name>.json``.

    GitHub owner names never contain ``_``, so the first ``__`` always separates owner and name.
    """
    owner, _, name = repo.partition("/")
    return f"{REPO_BADGE_DIR}/{owner}__{name}.json"


def render_badge_json(report: StatusReport) -> str:
    return json.dumps(overall_badge(report), indent=2) + "\n"


def render_repo_badges(report: StatusReport) -> dict[str, str]:
    """Return each configured repo's badge file name and JSON."""
    return {
        repo_badge_path(build.status.repo): json.dumps(repo_badge(build), indent=2) + "\n"
        for build in latest_builds(report)
    }


def render_badge_svg(report: StatusReport) -> str:
    """Draw the overall badge as a flat SVG, sized to its text."""
    badge = overall_badge(report)
    return badge_svg(str(badge["label"]), str(badge["message"]), str(badge["color"]))


# Estimated advance widths in pixels of Verdana at 11px, the badge font, not measured from the
# font file. A character not listed counts as DEFAULT_CHAR_WIDTH, and East Asian wide ones double.
_CHAR_WIDTHS = {
    **dict.fromkeys(" ", 3.9),
    **dict.fromkeys("ijl|!.,:;'", 3.3),
    **dict.fromkeys("ftr()[]/\\-", 4.6),
    **dict.fromkeys("mw", 10.3),
    **dict.fromkeys("MW%", 11.0),
    **dict.fromkeys("ABCDEFGHKNOPQRSTUVXYZ", 8.0),
    **dict.fromkeys("0123456789", 7.0),
}
DEFAULT_CHAR_WIDTH = 6.9
_TEXT_PADDING = 6


def text_width(text: str) -> int:
    """Estimate the width in pixels of ``text`` in the badge font."""
    width = 0.0
    for char in text:
        if char in _CHAR_WIDTHS:
            width += _CHAR_WIDTHS[char]
        elif unicodedata.east_asian_width(char) in ("W", "F"):
            width += 2 * DEFAULT_CHAR_WIDTH
        elif unicodedata.combining(char):
            continue
        else:
            width += DEFAULT_CHAR_WIDTH
    return round(width)


def badge_svg(label: str, message: str, color: str) -> str:
    """Draw a flat two-part badge. ElementTree escapes the text, so any label or message is safe."""
    label = xml_text(label)
    message = xml_text(message)
    fill = NAMED_COLORS.get(color, NAMED_COLORS["lightgrey"])
    label_width = text_width(label) + 2 * _TEXT_PADDING
    message_width = text_width(message) + 2 * _TEXT_PADDING
    total_width = label_width + message_width
    title = f"{label}: {message}"

    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "width": str(total_width),
            "height": "20",
            "role": "img",
            "aria-label": title,
        },
    )
    ET.SubElement(svg, "title").text = title
    gradient = ET.SubElement(svg, "linearGradient", {"id": "shine", "x2": "0", "y2": "100%"})
    ET.SubElement(gradient, "stop", {"offset": "0", "stop-color": "#fff", "stop-opacity": ".15"})
    ET.SubElement(gradient, "stop", {"offset": "1", "stop-opacity": ".1"})
    clip = ET.SubElement(svg, "clipPath", {"id": "round"})
    ET.SubElement(
        clip, "rect", {"width": str(total_width), "height": "20", "rx": "3", "fill": "#fff"}
    )

    shapes = ET.SubElement(svg, "g", {"clip-path": "url(#round)"})
    ET.SubElement(shapes, "rect", {"width": str(label_width), "height": "20", "fill": LABEL_COLOR})
    ET.SubElement(
        shapes,
        "rect",
        {"x": str(label_width), "width": str(message_width), "height": "20", "fill": fill},
    )
    ET.SubElement(
        shapes, "rect", {"width": str(total_width), "height": "20", "fill": "url(#shine)"}
    )

    texts = ET.SubElement(
        svg,
        "g",
        {
            "fill": "#fff",
            "text-anchor": "middle",
            "font-family": "Verdana,Geneva,DejaVu Sans,sans-serif",
            "font-size": "11",
        },
    )
    for text, left, width in ((label, 0, label_width), (message, label_width, message_width)):
        center = str(left + width / 2)
        # A dark copy one pixel lower gives the text a shadow for contrast on light colors.
        shadow = ET.SubElement(
            texts, "text", {"x": center, "y": "15", "fill": "#010101", "fill-opacity": ".3"}
        )
        shadow.text = text
        ET.SubElement(texts, "text", {"x": center, "y": "14"}).text = text

    return ET.tostring(svg, encoding="unicode") + "\n"
