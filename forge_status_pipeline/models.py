"""Typed records for workflow runs, generator revisions and the status report.

The field names of ``WorkflowRun``, ``ForgeRevision`` and ``StatusReport`` are the public contract
of ``status.json``: fields may be added, never renamed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

# Values documented for the ``workflow_run`` webhook and the runs API. Anything else is kept as
# given and treated as unknown, never as passing.
KNOWN_STATUSES = frozenset(
    {"requested", "queued", "pending", "waiting", "in_progress", "completed"}
)
KNOWN_CONCLUSIONS = frozenset(
    {
        "success",
        "failure",
        "neutral",
        "cancelled",
        "skipped",
        "timed_out",
        "action_required",
        "stale",
        "startup_failure",
    }
)
FAILING_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})

CellState = Literal["passing", "failing", "pending", "inconclusive", "not_rebuilt", "unavailable"]
RunOutcome = Literal["passing", "failing", "pending", "inconclusive"]
UnavailableReason = Literal["not_found", "no_access", "rate_limited", "unreachable", "error"]

# Worst first: a known failure outranks a build that may still fail, which outranks a final
# state that proves nothing either way.
OUTCOME_SEVERITY: dict[str, int] = {"failing": 3, "pending": 2, "inconclusive": 1, "passing": 0}


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp has no time zone")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


def run_outcome(status: str, conclusion: str | None) -> RunOutcome:
    """Classify one run: only ``success`` passes, and an unfinished run is never failing."""
    if status != "completed":
        return "pending"
    if conclusion == "success":
        return "passing"
    if conclusion in FAILING_CONCLUSIONS:
        return "failing"
    return "inconclusive"


def run_label(status: str, conclusion: str | None) -> str:
    """Name a run's state in one word for people: the conclusion, the status, or ``unknown``."""
    if status == "completed":
        if conclusion in KNOWN_CONCLUSIONS:
            return str(conclusion)
        return "unknown"
    if status in KNOWN_STATUSES:
        return status
    return "unknown"


class WorkflowRun(BaseModel):
    """One GitHub Actions run of a downstream repo, tied to the generator commit it was built from."""

    model_config = ConfigDict(frozen=True)

    repo: str = Field(description="Downstream repository as owner/name.")
    sram: str
    slot: str
    workflow_name: str
    status: str = Field(description="GitHub's status, kept as given even when undocumented.")
    conclusion: str | None = Field(description="GitHub's conclusion; null while unfinished.")
    run_id: int
    head_sha: str = Field(description="Downstream commit the run built.")
    updated_at: UtcDatetime
    html_url: str
    forge_sha: str | None = Field(description="Generator commit named by 'Source commit:'.")
    forge_run_id: int | None = Field(description="Generator workflow run that pushed the commit.")

    forge_run_url: str | None = None
    workflow_id: int | None = None
    workflow_path: str | None = None
    event: str = "push"
    head_branch: str | None = None
    run_number: int | None = None
    run_attempt: int = 1
    created_at: UtcDatetime | None = None
    run_started_at: UtcDatetime | None = None
    commit_timestamp: UtcDatetime | None = Field(
        default=None, description="Committer time of the downstream commit."
    )
    commit_subject: str | None = None

    @field_validator("conclusion", mode="before")
    @classmethod
    def _empty_conclusion_is_none(cls, value: object) -> object:
        # Some clients send "" where GitHub sends null for "no conclusion yet".
        return None if value == "" else value

    @property
    def finished(self) -> bool:
        """Whether GitHub has completed this attempt of the run, so it has its conclusion."""
        return self.status == "completed"

    @property
    def outcome(self) -> RunOutcome:
        return run_outcome(self.status, self.conclusion)

    @property
    def label(self) -> str:
        return run_label(self.status, self.conclusion)

    @property
    def workflow_key(self) -> str:
        """Identify the workflow by id or file path, since a failed start renames it to its path."""
        if self.workflow_id is not None:
            return f"id:{self.workflow_id}"
        return f"path:{self.workflow_path or self.workflow_name}"

    @property
    def duration_seconds(self) -> float | None:
        """Return seconds from the run's start to its last update (so far, while unfinished)."""
        start = self.run_started_at or self.created_at
        if start is None:
            return None
        return max(0.0, (self.updated_at - start).total_seconds())

    @property
    def commit_url(self) -> str:
        return f"https://github.com/{self.repo}/commit/{self.head_sha}"


class RevisionCell(BaseModel):
    """The state of one configured repo at one generator revision."""

    repo: str
    state: CellState
    label: str | None = Field(
        default=None,
        description=(
            "State word of the run that decided the cell: its conclusion once completed, its "
            "status before, or 'unknown' for a value GitHub does not document."
        ),
    )
    run_ids: list[int] = Field(default_factory=list, description="Runs that decided the state.")
    regression: bool = Field(default=False, description="Fails here, passed when last decided.")
    last_passing_sha: str | None = Field(
        default=None, description="For a failing cell: newest older revision where the repo passed."
    )
    duration_seconds: float | None = None


class ForgeRevision(BaseModel):
    """The downstream runs built from one generator commit."""

    forge_sha: str
    forge_run_url: str | None
    forge_run_id: int | None = None
    timestamp: UtcDatetime = Field(description="Earliest downstream commit made from this sha.")
    runs: list[WorkflowRun]
    cells: list[RevisionCell] = Field(default_factory=list)
    passing: int = 0
    total: int = Field(default=0, description="Repos built at this revision (decided or pending).")
    pending: int = Field(default=0, description="Repos whose deciding runs have not finished.")
    regressions: list[str] = Field(default_factory=list)
    subject: str | None = Field(default=None, description="Generator commit's subject line.")
    commit_url: str | None = None

    @property
    def short_sha(self) -> str:
        return self.forge_sha[:7]

    @property
    def summary(self) -> str:
        return f"{self.passing}/{self.total}"

    @property
    def all_passing(self) -> bool:
        return self.total > 0 and self.passing == self.total

    @property
    def finished(self) -> bool:
        """Whether every deciding run at this revision has completed, so no cell waits on GitHub."""
        return self.pending == 0

    def cell(self, repo: str) -> RevisionCell | None:
        return next((cell for cell in self.cells if cell.repo == repo), None)


class RepoStatus(BaseModel):
    """The outcome of reading one configured repo, with its newest activity."""

    repo: str
    sram: str
    slot: str
    actions_url: str
    available: bool = True
    reason: UnavailableReason | None = None
    detail: str | None = None
    renamed_to: str | None = None
    runs_fetched: int = 0
    pages_fetched: int = 0
    newest_run_at: UtcDatetime | None = None
    stale: bool = False


class UnavailableRepo(BaseModel):
    """A configured repo that could not be read in this refresh."""

    repo: str
    reason: UnavailableReason
    detail: str


class StatusReport(BaseModel):
    """Every configured repo's builds, grouped by generator revision, newest first."""

    schema_version: int = 1
    generated_at: UtcDatetime
    generator: str | None = Field(default=None, description="Generator repository as owner/name.")
    site_url: str | None = None
    stale_after_hours: float = 72.0
    repos: list[RepoStatus] = Field(default_factory=list)
    revisions: list[ForgeRevision]
    unattributed: list[WorkflowRun] = Field(
        default_factory=list, description="Runs whose commit names no generator commit."
    )
    unavailable: list[UnavailableRepo] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    @property
    def latest(self) -> ForgeRevision | None:
        return self.revisions[0] if self.revisions else None

    @property
    def overall_state(self) -> Literal["passing", "failing", "pending", "unknown"]:
        """Summarise the newest revision: failing if any repo fails there, else pending or passing."""
        latest = self.latest
        if latest is None or latest.total == 0:
            return "unknown"
        states = {cell.state for cell in latest.cells}
        if "failing" in states:
            return "failing"
        if "pending" in states:
            return "pending"
        if "inconclusive" in states:
            return "unknown"
        return "passing"
