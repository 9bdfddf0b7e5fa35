"""The change list over a sequence of reports, and the history it is computed from.

The sequence: two repos, A and B, and three generator commits S1, S2, S3.

R1  S1 passes in A and B                      -> first sighting, no change
R2  S2 passes in A, still builds in B          -> nothing decided, no change
R3  S2 fails in B                              -> broken B at S2 (last passed at S1)
R4  the same as R3                             -> no change
R5  S3 passes in A, fails in B                 -> still broken B at S3 (failed at S2)
R6  B's S3 build is re-run and not finished    -> no change
R7  the re-run passes                          -> fixed B at S3, S3 green
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from forge_status_pipeline.changes import (
    ChangeList,
    compute_changes,
    load_changes,
    record_and_compare,
)
from forge_status_pipeline.config import DownstreamRepo, ForgeConfig, GeneratorRepo
from forge_status_pipeline.fetch import GeneratorCommit, RepoRuns
from forge_status_pipeline.history import (
    HISTORY_FILE,
    add_entry,
    entries_before,
    entry_from_report,
    load_history,
    record_report,
)
from forge_status_pipeline.models import StatusReport, UnavailableRepo, WorkflowRun
from forge_status_pipeline.report import build_report

REPO_A = DownstreamRepo(
    name="chip-a", owner="acme", sram="a1", slot="s1", config="a.yaml", deploy_key_secret="KEY_A"
)
REPO_B = DownstreamRepo(
    name="chip-b", owner="acme", sram="b2", slot="s2", config="b.yaml", deploy_key_secret="KEY_B"
)
REPO_C = DownstreamRepo(
    name="chip-c", owner="acme", sram="c3", slot="s3", config="c.yaml", deploy_key_secret="KEY_C"
)
CONFIG = ForgeConfig(
    generator=GeneratorRepo(owner="acme", name="forge"),
    site_url="https://acme.github.io/forge/",
    repos=[REPO_A, REPO_B],
)
S1 = "1" * 40
S2 = "2" * 40
S3 = "3" * 40
SUBJECTS = {S1: "Add the SRAM macro", S2: "Move the <pins> & rename", S3: "Fix the pin order"}
DAY0 = datetime(2025, 12, 1, 8, 0, tzinfo=UTC)
# Each generator commit reaches the downstream repos a day after the previous one.
PUSHED_AT = {S1: DAY0, S2: DAY0 + timedelta(days=1), S3: DAY0 + timedelta(days=2)}
A = REPO_A.full_name
B = REPO_B.full_name

# (repo, sha, run id, status, conclusion, attempt) per report, in the order of the docstring.
Build = tuple[DownstreamRepo, str, int, str, str | None, int]
S1_BUILDS: list[Build] = [
    (REPO_A, S1, 101, "completed", "success", 1),
    (REPO_B, S1, 102, "completed", "success", 1),
]
R3_BUILDS: list[Build] = [
    *S1_BUILDS,
    (REPO_A, S2, 201, "completed", "success", 1),
    (REPO_B, S2, 202, "completed", "failure", 1),
]
R2_BUILDS = [
    *S1_BUILDS,
    (REPO_A, S2, 201, "completed", "success", 1),
    (REPO_B, S2, 202, "in_progress", None, 1),
]
S3_A: Build = (REPO_A, S3, 301, "completed", "success", 1)
# Run 302 is B's build of S3; its re-run keeps the run id and counts up the attempt.
SEQUENCE: list[tuple[str, timedelta, list[Build]]] = [
    ("R1", timedelta(hours=2), S1_BUILDS),
    ("R2", timedelta(days=1, hours=1), R2_BUILDS),
    ("R3", timedelta(days=1, hours=3), R3_BUILDS),
    ("R4", timedelta(days=1, hours=7), R3_BUILDS),
    (
        "R5",
        timedelta(days=2, hours=2),
        [*R3_BUILDS, S3_A, (REPO_B, S3, 302, "completed", "failure", 1)],
    ),
    (
        "R6",
        timedelta(days=2, hours=5),
        [*R3_BUILDS, S3_A, (REPO_B, S3, 302, "in_progress", None, 2)],
    ),
    (
        "R7",
        timedelta(days=2, hours=6),
        [*R3_BUILDS, S3_A, (REPO_B, S3, 302, "completed", "success", 2)],
    ),
]
EXPECTED_IDS = {
    "R1": [],
    "R2": [],
    "R3": [f"broken:{B}:{S2}"],
    "R4": [],
    "R5": [f"still_broken:{B}:{S3}"],
    "R6": [],
    "R7": [f"fixed:{B}:{S3}", f"green:{S3}"],
}


def make_run(
    repo: DownstreamRepo, sha: str, run_id: int, status: str, conclusion: str | None, attempt: int
) -> WorkflowRun:
    pushed = PUSHED_AT[sha] + timedelta(minutes=run_id % 10)
    return WorkflowRun(
        repo=repo.full_name,
        sram=repo.sram,
        slot=repo.slot,
        workflow_name="Build <GDS>",
        status=status,
        conclusion=conclusion,
        run_id=run_id,
        head_sha=f"{run_id:040x}",
        updated_at=pushed + timedelta(minutes=30),
        html_url=f"https://github.com/{repo.full_name}/actions/runs/{run_id}",
        forge_sha=sha,
        forge_run_id=None,
        workflow_id=7,
        workflow_path=".github/workflows/build.yml",
        head_branch="main",
        run_attempt=attempt,
        created_at=pushed,
        commit_timestamp=pushed,
    )


def make_report(
    builds: list[Build],
    generated_at: datetime,
    *,
    config: ForgeConfig = CONFIG,
    unavailable: frozenset[str] = frozenset(),
) -> StatusReport:
    """Build a report with the real grouping, as the pipeline would from these runs."""
    results = []
    for repo in config.repos:
        if repo.full_name in unavailable:
            error = UnavailableRepo(repo=repo.full_name, reason="no_access", detail="HTTP 403")
            results.append(RepoRuns(repo=repo, error=error))
            continue
        runs = [make_run(*build) for build in builds if build[0] == repo]
        results.append(RepoRuns(repo=repo, runs=runs, pages=1))
    commits = {sha: GeneratorCommit(sha, subject, None) for sha, subject in SUBJECTS.items()}
    return build_report(config, results, generated_at=generated_at, generator_commits=commits)


def sequence_reports() -> list[tuple[str, StatusReport]]:
    return [(name, make_report(builds, DAY0 + offset)) for name, offset, builds in SEQUENCE]


def run_sequence(site_dir: Path) -> dict[str, ChangeList]:
    """Record every report of the sequence in one history, as successive refreshes would."""
    return {name: record_and_compare(site_dir, report)[0] for name, report in sequence_reports()}


@pytest.fixture
def changes_by_report(tmp_path: Path) -> dict[str, ChangeList]:
    return run_sequence(tmp_path)


@pytest.mark.parametrize("name", list(EXPECTED_IDS))
def test_sequence_change_ids(changes_by_report: dict[str, ChangeList], name: str) -> None:
    ids = [change.id for change in changes_by_report[name].changes]

    assert ids == EXPECTED_IDS[name]


def test_first_report_is_baseline(changes_by_report: dict[str, ChangeList]) -> None:
    first = changes_by_report["R1"]

    assert first.first_sighting is True
    assert first.changes == []
    assert first.baseline_note is not None
    assert "not found" in first.baseline_note
    assert changes_by_report["R2"].first_sighting is False


def test_broken_change_details(changes_by_report: dict[str, ChangeList]) -> None:
    (broken,) = changes_by_report["R3"].changes

    assert broken.kind == "broken"
    assert broken.repo == B
    assert broken.sram == "b2"
    assert broken.forge_sha == S2
    assert broken.previous_sha == S1
    assert broken.subject == "Move the <pins> & rename"
    assert [run.url for run in broken.runs] == [f"https://github.com/{B}/actions/runs/202"]
    assert broken.runs[0].label == "failure"
    assert broken.detected_at == DAY0 + timedelta(days=1, hours=3)


def test_still_broken_names_earlier_failure(changes_by_report: dict[str, ChangeList]) -> None:
    (still,) = changes_by_report["R5"].changes

    assert still.previous_sha == S2
    assert [run.url for run in still.runs] == [f"https://github.com/{B}/actions/runs/302"]


def test_rerun_fix_compares_before_pending(changes_by_report: dict[str, ChangeList]) -> None:
    fixed, green = changes_by_report["R7"].changes

    assert fixed.kind == "fixed"
    assert fixed.previous_sha == S3
    assert [run.label for run in fixed.runs] == ["success"]
    assert green.kind == "green"
    assert green.repo is None
    assert (green.passing, green.total) == (2, 2)


def test_previous_report_time_recorded(changes_by_report: dict[str, ChangeList]) -> None:
    assert changes_by_report["R1"].previous_generated_at is None
    assert changes_by_report["R3"].previous_generated_at == DAY0 + timedelta(days=1, hours=1)


def test_recording_same_report_twice(tmp_path: Path) -> None:
    reports = sequence_reports()
    for _name, report in reports[:3]:
        record_and_compare(tmp_path, report)

    again, recorded = record_and_compare(tmp_path, reports[2][1])

    assert [change.id for change in again.changes] == EXPECTED_IDS["R3"]
    assert recorded.entries == 3
    assert load_changes(tmp_path / "changes.json") == again


def test_unreadable_history_is_baseline(tmp_path: Path) -> None:
    (tmp_path / HISTORY_FILE).write_text("{not json", encoding="utf-8")
    report = sequence_reports()[2][1]

    change_list, recorded = record_and_compare(tmp_path, report)

    assert change_list.first_sighting is True
    assert change_list.changes == []
    assert recorded.problem is not None
    assert "invalid" in recorded.problem
    assert change_list.baseline_note is not None
    assert "first sighting" in change_list.baseline_note
    assert len(load_history(tmp_path / HISTORY_FILE).entries) == 1


def test_history_keeps_newest_entries() -> None:
    reports = [report for _name, report in sequence_reports()]
    entries = []
    for report in reports:
        entries = add_entry(entries, entry_from_report(report), limit=3)

    assert [entry.generated_at for entry in entries] == [r.generated_at for r in reports[-3:]]


def test_history_entry_omits_unbuilt_cells() -> None:
    report = make_report(R3_BUILDS, DAY0 + timedelta(days=1, hours=3), unavailable=frozenset({B}))

    entry = entry_from_report(report)

    assert entry.available_repos == [A]
    assert [revision.sha for revision in entry.revisions] == [S2, S1]
    assert entry.revisions[0].cells == {A: "passing"}
    assert entry.newest_sha == S2
    assert entry.overall == "passing"


def test_history_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / HISTORY_FILE
    reports = [report for _name, report in sequence_reports()]
    for report in reports:
        record_report(path, report)

    loaded = load_history(path)

    assert loaded.problem is None
    assert len(loaded.entries) == 7
    assert loaded.entries[2].revisions[0].cells == {A: "passing", B: "failing"}
    assert entries_before(loaded.entries, reports[1].generated_at) == loaded.entries[:1]


def test_new_repo_is_baseline() -> None:
    before = make_report(S1_BUILDS, DAY0 + timedelta(hours=2))
    config = CONFIG.model_copy(update={"repos": [REPO_A, REPO_B, REPO_C]})
    builds = [*S1_BUILDS, (REPO_C, S1, 103, "completed", "failure", 1)]
    after = make_report(builds, DAY0 + timedelta(hours=5), config=config)

    change_list = compute_changes(after, [entry_from_report(before)])

    assert change_list.new_repos == [REPO_C.full_name]
    assert change_list.changes == []


def test_unavailable_repo_returns_quietly() -> None:
    # B could not be read while S2 was built. When it can be read again, S2's failure in B is
    # news. S1's result in B is not, because the history already had it.
    during = make_report(R3_BUILDS, DAY0 + timedelta(days=1, hours=3), unavailable=frozenset({B}))
    first = make_report(S1_BUILDS, DAY0 + timedelta(hours=2))
    after = make_report(R3_BUILDS, DAY0 + timedelta(days=1, hours=5))

    change_list = compute_changes(after, [entry_from_report(first), entry_from_report(during)])

    assert [change.id for change in change_list.changes] == [f"broken:{B}:{S2}"]


def test_older_revision_coming_into_view() -> None:
    # The previous report saw only S2; S1 shows up later (a longer look-back), and its results
    # are old news even though no report listed them.
    s2_only = [build for build in R3_BUILDS if build[1] == S2]
    before = make_report(s2_only, DAY0 + timedelta(days=1, hours=3))
    after = make_report(R3_BUILDS, DAY0 + timedelta(days=1, hours=5))

    change_list = compute_changes(after, [entry_from_report(before)])

    assert change_list.changes == []


def test_pending_cell_makes_no_change() -> None:
    before = make_report(S1_BUILDS, DAY0 + timedelta(hours=2))
    builds = [
        *S1_BUILDS,
        (REPO_A, S2, 201, "queued", None, 1),
        (REPO_B, S2, 202, "in_progress", None, 1),
    ]
    after = make_report(builds, DAY0 + timedelta(days=1, hours=1))

    change_list = compute_changes(after, [entry_from_report(before)])

    assert change_list.changes == []


def test_cancelled_build_makes_no_change() -> None:
    before = make_report(S1_BUILDS, DAY0 + timedelta(hours=2))
    builds = [*S1_BUILDS, (REPO_A, S2, 201, "completed", "cancelled", 1)]
    after = make_report(builds, DAY0 + timedelta(days=1, hours=1))

    change_list = compute_changes(after, [entry_from_report(before)])

    assert change_list.changes == []


def test_failure_without_earlier_pass() -> None:
    # A repo whose first decided build fails was broken, but no earlier pass is known.
    before = make_report([(REPO_A, S1, 101, "completed", "success", 1)], DAY0 + timedelta(hours=2))
    builds = [
        (REPO_A, S1, 101, "completed", "success", 1),
        (REPO_B, S2, 202, "completed", "failure", 1),
    ]
    after = make_report(builds, DAY0 + timedelta(days=1, hours=1))

    change_list = compute_changes(after, [entry_from_report(before)])

    (change,) = change_list.changes
    assert change.id == f"broken:{B}:{S2}"
    assert change.previous_sha is None
