"""Badges, cctray and the Atom feed, from the snapshot fetched over HTTP and from odd reports.

Expected values were read by hand off the snapshot's runs.json files: for each repo the newest
generator revision it was built from, that build's run id, state and updated_at.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from forge_status_pipeline.badges import (
    badge_svg,
    latest_builds,
    overall_badge,
    render_badge_json,
    render_repo_badges,
    text_width,
)
from forge_status_pipeline.config import ForgeConfig
from forge_status_pipeline.feeds import render_atom, render_cctray
from forge_status_pipeline.github import GitHubClient
from forge_status_pipeline.models import (
    ForgeRevision,
    RepoStatus,
    RevisionCell,
    StatusReport,
    WorkflowRun,
)
from forge_status_pipeline.pipeline import refresh_report
from forge_status_pipeline.site import site_files, write_site

NOW = datetime(2025, 12, 16, 2, 10, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"
SVG = "{http://www.w3.org/2000/svg}"
U8B3K = "mithro/gf180mcu-ic-0p5x0p5-sram-u8b3k"
U8B8K = "mithro/gf180mcu-ic-0p5x1-sram-u8b8k"
U8B9K = "mithro/gf180mcu-ic-1x0p5-sram-u8b9k"
U8B24K = "mithro/gf180mcu-ic-1x1-sram-u8b24k"

# The endpoint schema from https://shields.io/badges/endpoint-badge: three required keys and the
# documented optional ones, nothing else.
SHIELDS_ENDPOINT_SCHEMA = {
    "type": "object",
    "required": ["schemaVersion", "label", "message"],
    "additionalProperties": False,
    "properties": {
        "schemaVersion": {"const": 1},
        "label": {"type": "string"},
        "message": {"type": "string", "minLength": 1},
        "color": {"type": "string"},
        "labelColor": {"type": "string"},
        "isError": {"type": "boolean"},
        "namedLogo": {"type": "string"},
        "logoSvg": {"type": "string"},
        "logoColor": {"type": "string"},
        "logoWidth": {"type": "number"},
        "logoSize": {"type": "string"},
        "style": {"enum": ["flat", "flat-square", "plastic", "for-the-badge", "social"]},
        "cacheSeconds": {"type": "integer", "minimum": 300},
    },
}

# repo: (activity, lastBuildStatus, lastBuildLabel, lastBuildTime, run id behind webUrl)
EXPECTED_PROJECTS = {
    U8B3K: ("Sleeping", "Success", "e87527f", "2025-12-16T01:49:00Z", 20252928178),
    # No bot commit for e87527f; at ce7b0f5 a manual re-run is newer than the push run.
    U8B8K: ("Sleeping", "Success", "ce7b0f5", "2025-12-14T10:20:46Z", 20214919755),
    U8B9K: ("Sleeping", "Success", "e87527f", "2025-12-16T01:58:11Z", 20252927873),
    # e87527f is still building, so the last result is the one from ce7b0f5.
    U8B24K: ("Building", "Success", "ce7b0f5", "2025-12-13T10:31:47Z", 20184565590),
}


@pytest.fixture
def report(config: ForgeConfig, client: GitHubClient) -> StatusReport:
    return refresh_report(config, client, now=NOW)


def _odd_report(subject: str, sram: str = "u8b3k") -> StatusReport:
    """One repo, one failing revision, with text chosen to break careless XML writers."""
    run = WorkflowRun(
        repo="owner/chip",
        sram=sram,
        slot="1x1",
        workflow_name="CI",
        status="completed",
        conclusion="failure",
        run_id=7,
        head_sha="b" * 40,
        updated_at=NOW,
        html_url="https://github.com/owner/chip/actions/runs/7",
        forge_sha="a" * 40,
        forge_run_id=None,
    )
    revision = ForgeRevision(
        forge_sha="a" * 40,
        forge_run_url=None,
        timestamp=NOW,
        runs=[run],
        cells=[RevisionCell(repo="owner/chip", state="failing", run_ids=[7])],
        passing=0,
        total=1,
        subject=subject,
    )
    status = RepoStatus(
        repo="owner/chip",
        sram=sram,
        slot="1x1",
        actions_url="https://github.com/owner/chip/actions",
    )
    return StatusReport(generated_at=NOW, repos=[status], revisions=[revision])


# Badges


def test_overall_badge_matches_schema(report: StatusReport) -> None:
    badge = json.loads(render_badge_json(report))

    jsonschema.validate(badge, SHIELDS_ENDPOINT_SCHEMA)
    assert badge["message"] == "2/3 passing, 1 not finished"
    assert badge["color"] == "yellow"


@pytest.mark.parametrize(
    ("repo", "message", "color"),
    [
        (U8B3K, "passing", "brightgreen"),
        (U8B8K, "passing", "brightgreen"),
        (U8B9K, "passing", "brightgreen"),
        (U8B24K, "not finished", "yellow"),
    ],
)
def test_repo_badge_per_repo(report: StatusReport, repo: str, message: str, color: str) -> None:
    owner, name = repo.split("/")
    files = render_repo_badges(report)
    badge = json.loads(files[f"badges/{owner}__{name}.json"])

    jsonschema.validate(badge, SHIELDS_ENDPOINT_SCHEMA)
    assert badge["label"] == name.rsplit("-", 1)[-1]
    assert badge["message"] == message
    assert badge["color"] == color


def test_repo_badges_one_per_repo(report: StatusReport) -> None:
    assert len(render_repo_badges(report)) == 4


def test_failing_revision_badge_red() -> None:
    badge = overall_badge(_odd_report("fix"))

    assert badge["message"] == "0/1 passing"
    assert badge["color"] == "red"


def test_unavailable_repo_badge_error() -> None:
    report = _odd_report("fix")
    report.repos[0] = report.repos[0].model_copy(update={"available": False, "reason": "not_found"})
    badge = json.loads(next(iter(render_repo_badges(report).values())))

    jsonschema.validate(badge, SHIELDS_ENDPOINT_SCHEMA)
    assert badge["message"] == "unavailable"
    assert badge["isError"] is True


def test_svg_badge_escapes_text() -> None:
    svg = badge_svg('<b>&"build"', "fail\x07ing </svg>", "red")
    root = ET.fromstring(svg)

    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert texts == ['<b>&"build"', '<b>&"build"', "fail ing </svg>", "fail ing </svg>"]
    assert root.find(f"{SVG}title").text == '<b>&"build": fail ing </svg>'


def test_svg_badge_width_follows_text() -> None:
    short = ET.fromstring(badge_svg("builds", "4/4 passing", "brightgreen"))
    long = ET.fromstring(badge_svg("builds", "4/4 passing, 12 not finished", "brightgreen"))

    assert int(long.get("width")) - int(short.get("width")) == text_width(", 12 not finished")
    assert int(short.get("width")) == text_width("builds") + text_width("4/4 passing") + 24


def test_text_width_counts_wide_characters() -> None:
    assert text_width("ii") < text_width("mm")
    assert text_width("漢") == 2 * text_width("a")


# cctray


def test_cctray_one_project_per_repo(report: StatusReport) -> None:
    projects = ET.fromstring(render_cctray(report))

    assert projects.tag == "Projects"
    assert [project.get("name") for project in projects] == list(EXPECTED_PROJECTS)


@pytest.mark.parametrize("repo", list(EXPECTED_PROJECTS))
def test_cctray_project_matches_snapshot(report: StatusReport, repo: str) -> None:
    activity, status, label, time, run_id = EXPECTED_PROJECTS[repo]
    projects = ET.fromstring(render_cctray(report))
    project = next(project for project in projects if project.get("name") == repo)

    assert project.get("activity") == activity
    assert project.get("lastBuildStatus") == status
    assert project.get("lastBuildLabel") == label
    assert project.get("lastBuildTime") == time
    assert project.get("webUrl") == f"https://github.com/{repo}/actions/runs/{run_id}"


def test_cctray_failing_and_unreadable() -> None:
    report = _odd_report("fix")
    failing = ET.fromstring(render_cctray(report))[0]
    report.repos[0] = report.repos[0].model_copy(update={"available": False, "reason": "not_found"})
    unreadable = ET.fromstring(render_cctray(report))[0]

    assert failing.get("lastBuildStatus") == "Failure"
    assert failing.get("webUrl") == "https://github.com/owner/chip/actions/runs/7"
    assert unreadable.get("lastBuildStatus") == "Exception"
    assert unreadable.get("webUrl") == "https://github.com/owner/chip/actions"


def test_latest_builds_skip_unbuilt_revisions(report: StatusReport) -> None:
    builds = {build.status.repo: build for build in latest_builds(report)}

    assert builds[U8B8K].latest is not None
    assert builds[U8B8K].latest[0].short_sha == "ce7b0f5"
    assert builds[U8B24K].state == "pending"
    assert builds[U8B24K].finished is not None
    assert builds[U8B24K].finished[0].short_sha == "ce7b0f5"


# Atom


def test_atom_entry_per_revision(report: StatusReport) -> None:
    feed = ET.fromstring(render_atom(report))
    entries = feed.findall(f"{ATOM}entry")

    assert feed.tag == f"{ATOM}feed"
    assert len(entries) == 12
    assert [entry.find(f"{ATOM}id").text for entry in entries] == [
        f"tag:forge-status,2025:{revision.forge_sha}" for revision in report.revisions
    ]
    assert feed.find(f"{ATOM}updated").text == "2025-12-16T02:07:51Z"
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == (
        "https://mithro.github.io/gf180mcu-sram-forge/feed.xml"
    )


def test_atom_entries_name_changes(report: StatusReport) -> None:
    feed = ET.fromstring(render_atom(report))
    entries = {entry.find(f"{ATOM}id").text[-40:][:7]: entry for entry in feed.iter(f"{ATOM}entry")}

    newest = entries["e87527f"]
    assert newest.find(f"{ATOM}title").text.startswith("e87527f: 2/3 passing, 1 not finished")
    assert newest.find(f"{ATOM}updated").text == "2025-12-16T02:07:51Z"
    assert newest.find(f"{ATOM}content").text.splitlines() == [
        "u8b3k: passing",
        "u8b9k: passing",
        "u8b24k: not finished (was passing)",
    ]
    assert entries["ce7b0f5"].find(f"{ATOM}title").text == (
        "ce7b0f5: 4/4 passing — feat: add --sync-infra flag to gen command"
    )
    regression = entries["65b5952"]
    assert regression.find(f"{ATOM}category").get("term") == "regression"
    assert regression.find(f"{ATOM}title").text.startswith("65b5952: 3/4 passing, 1 regression")
    assert "u8b24k: failing (was passing), regression" in regression.find(f"{ATOM}content").text
    assert "u8b3k: passing (was failing)" in regression.find(f"{ATOM}content").text


def test_atom_escapes_hostile_subject() -> None:
    subject = "fix: <script>alert(1)</script> & \x1b[31mred\x1b[0m \ud800 ]]>"
    feed = ET.fromstring(render_atom(_odd_report(subject, sram="<u8&>")))
    entry = feed.find(f"{ATOM}entry")

    assert entry.find(f"{ATOM}title").text == (
        "aaaaaaa: 0/1 passing — fix: <script>alert(1)</script> & red ]]>"
    )
    assert entry.find(f"{ATOM}content").text == "<u8&>: failing"
    assert entry.find(f"{ATOM}id").text == "tag:forge-status,2025:" + "a" * 40


# Site


def test_site_writes_badges_and_feeds(report: StatusReport, tmp_path: Path) -> None:
    written = write_site(report, tmp_path / "_site")

    for name in ("badge.json", "badge.svg", "cctray.xml", "feed.xml"):
        assert written[name].is_file()
    badge_files = sorted(path.name for path in (tmp_path / "_site" / "badges").iterdir())
    assert badge_files == [
        "mithro__gf180mcu-ic-0p5x0p5-sram-u8b3k.json",
        "mithro__gf180mcu-ic-0p5x1-sram-u8b8k.json",
        "mithro__gf180mcu-ic-1x0p5-sram-u8b9k.json",
        "mithro__gf180mcu-ic-1x1-sram-u8b24k.json",
    ]


def test_site_files_only_skips_repo_badges(report: StatusReport) -> None:
    assert list(site_files(report, only=["cctray.xml"])) == ["cctray.xml"]
