"""Machine-readable feeds of the report: ``cctray.xml`` for build monitors and an Atom feed.

``cctray.xml`` follows the cctray format (https://cctray.org/v1/) that CCMenu, Nevergreen and
similar build monitors poll: one ``Project`` per configured repo. ``feed.xml`` is an Atom feed
(RFC 4287) with one entry per generator revision, naming the repos whose state changed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from forge_status_pipeline.badges import (
    BUILT_STATES,
    RepoBuild,
    deciding_run,
    latest_builds,
    xml_text,
)
from forge_status_pipeline.models import ForgeRevision, StatusReport
from forge_status_pipeline.render.text import STATE_WORDS, revision_summary, safe_url

CCTRAY_FILE = "cctray.xml"
ATOM_FILE = "feed.xml"
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
# Entry ids must never change once published (RFC 4287, section 4.2.6), so they hold only the
# commit sha. RFC 4151 tag URIs need a name and a date, and both are fixed here for good.
TAG_PREFIX = "tag:forge-status,2025:"

# cctray's lastBuildStatus values. An unreadable repo is an error of the monitor's source, which
# cctray calls Exception. A cancelled or skipped build proves nothing, which cctray calls Unknown.
CCTRAY_STATUSES = {"passing": "Success", "failing": "Failure", "inconclusive": "Unknown"}

_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def _timestamp(moment: datetime) -> str:
    """Format ``moment`` as RFC 3339 in UTC with a ``Z``, as both Atom and cctray readers expect."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _serialize(root: ET.Element) -> str:
    ET.indent(root)
    return _XML_DECLARATION + ET.tostring(root, encoding="unicode") + "\n"


def render_cctray(report: StatusReport) -> str:
    """Render one cctray ``Project`` per configured repo from its newest build.

    ``activity`` is Building while the newest build runs; ``lastBuildStatus``, label and time then
    come from the newest finished build. The label is the generator commit that build came from.
    """
    projects = ET.Element("Projects")
    for build in latest_builds(report):
        ET.SubElement(projects, "Project", _project_attributes(build, report))
    return _serialize(projects)


def _project_attributes(build: RepoBuild, report: StatusReport) -> dict[str, str]:
    status = build.status
    attributes = {
        "name": xml_text(status.repo),
        "activity": "Building" if build.state == "pending" else "Sleeping",
        "lastBuildStatus": "Unknown",
        "lastBuildLabel": "",
        # NOTE: cctray requires a time even when no finished build is known; the report's time
        # is the only honest one available then.
        "lastBuildTime": _timestamp(report.generated_at),
        "webUrl": safe_url(status.actions_url) or "",
    }
    if not status.available:
        attributes["lastBuildStatus"] = "Exception"
        return attributes
    if build.finished is None:
        return attributes

    revision, cell = build.finished
    attributes["lastBuildStatus"] = CCTRAY_STATUSES[cell.state]
    attributes["lastBuildLabel"] = revision.short_sha
    run = deciding_run(revision, cell)
    if run is not None:
        attributes["lastBuildTime"] = _timestamp(run.updated_at)
        attributes["webUrl"] = safe_url(run.html_url) or attributes["webUrl"]
    return attributes


def _previous_states(report: StatusReport) -> dict[tuple[str, str], str]:
    """Map (sha, repo) to the repo's state at the newest older revision where it was built."""
    previous: dict[tuple[str, str], str] = {}
    last_state: dict[str, str] = {}
    for revision in reversed(report.revisions):
        for cell in revision.cells:
            if cell.state not in BUILT_STATES:
                continue
            if cell.repo in last_state:
                previous[(revision.forge_sha, cell.repo)] = last_state[cell.repo]
            last_state[cell.repo] = cell.state
    return previous


def _revision_url(revision: ForgeRevision, report: StatusReport) -> str | None:
    if revision.commit_url:
        return safe_url(revision.commit_url)
    if report.generator:
        return safe_url(f"https://github.com/{report.generator}/commit/{revision.forge_sha}")
    return safe_url(revision.forge_run_url)


def _entry_title(revision: ForgeRevision) -> str:
    summary = revision_summary(revision.passing, revision.total, revision.pending)
    title = f"{revision.short_sha}: {summary}"
    if revision.regressions:
        count = len(revision.regressions)
        title += f", {count} regression" + ("s" if count > 1 else "")
    subject = xml_text(revision.subject)
    if subject:
        title += f" — {subject}"
    return title


def _entry_content(
    revision: ForgeRevision, report: StatusReport, previous: dict[tuple[str, str], str]
) -> str:
    """List every built repo's state, one per line, noting the state it changed from."""
    names = {status.repo: xml_text(status.sram) or status.repo for status in report.repos}
    lines = []
    for cell in revision.cells:
        if cell.state not in BUILT_STATES:
            continue
        line = f"{names.get(cell.repo, cell.repo)}: {STATE_WORDS[cell.state]}"
        before = previous.get((revision.forge_sha, cell.repo))
        if before is not None and before != cell.state:
            line += f" (was {STATE_WORDS[before]})"
        if cell.regression:
            line += ", regression"
        lines.append(line)
    if not lines:
        lines.append("No configured repo was rebuilt from this commit.")
    return "\n".join(lines)


def render_atom(report: StatusReport) -> str:
    """Render the Atom feed: one entry per generator revision, newest first.

    An entry's ``updated`` is the newest update of its runs, so a reader sees the entry change
    when a build that was running finishes.
    """
    feed = ET.Element("feed", {"xmlns": ATOM_NAMESPACE})
    generator = xml_text(report.generator)
    ET.SubElement(feed, "title").text = (
        f"Downstream builds of {generator}" if generator else "Downstream builds"
    )
    site_url = safe_url(report.site_url)
    if site_url:
        base = site_url if site_url.endswith("/") else site_url + "/"
        ET.SubElement(feed, "id").text = base + ATOM_FILE
        ET.SubElement(feed, "link", {"rel": "self", "href": base + ATOM_FILE})
        ET.SubElement(feed, "link", {"rel": "alternate", "href": base})
    else:
        ET.SubElement(feed, "id").text = f"{TAG_PREFIX}feed"
    newest = max(
        (run.updated_at for revision in report.revisions for run in revision.runs),
        default=report.generated_at,
    )
    ET.SubElement(feed, "updated").text = _timestamp(newest)
    ET.SubElement(ET.SubElement(feed, "author"), "name").text = "forge-status"
    ET.SubElement(feed, "generator").text = "forge-status"

    previous = _previous_states(report)
    for revision in report.revisions:
        entry = ET.SubElement(feed, "entry")
        ET.SubElement(entry, "id").text = f"{TAG_PREFIX}{revision.forge_sha}"
        ET.SubElement(entry, "title").text = _entry_title(revision)
        updated = max((run.updated_at for run in revision.runs), default=revision.timestamp)
        ET.SubElement(entry, "updated").text = _timestamp(updated)
        ET.SubElement(entry, "published").text = _timestamp(revision.timestamp)
        url = _revision_url(revision, report)
        if url:
            ET.SubElement(entry, "link", {"rel": "alternate", "href": url})
        if revision.regressions:
            ET.SubElement(entry, "category", {"term": "regression"})
        summary = revision_summary(revision.passing, revision.total, revision.pending)
        ET.SubElement(entry, "summary").text = summary
        content = ET.SubElement(entry, "content", {"type": "text"})
        content.text = _entry_content(revision, report, previous)
    return _serialize(feed)
