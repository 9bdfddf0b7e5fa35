"""Tie downstream workflow runs to the generator commit named in their commit message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from forge_status_pipeline.config import DownstreamRepo
from forge_status_pipeline.models import WorkflowRun

# The bot writes "Source commit: <40 hex>" and "Workflow run: <url>/actions/runs/<id>" on lines of
# their own; people quoting such a message indent it or wrap it in backticks.
_SOURCE_COMMIT = re.compile(
    r"^[ \t>]*Source commit:[ \t]*`?([0-9a-fA-F]{40})(?![0-9a-fA-F])", re.MULTILINE
)
_WORKFLOW_RUN = re.compile(
    r"^[ \t>]*Workflow run:[ \t]*<?(https?://[^\s<>`]+/actions/runs/(\d+))", re.MULTILINE
)


@dataclass(frozen=True)
class SourceReference:
    """The generator commit and workflow run that a downstream commit message names."""

    forge_sha: str | None
    forge_run_url: str | None
    forge_run_id: int | None


def parse_source_reference(message: str | None) -> SourceReference:
    """Extract the generator sha (lower-cased) and workflow run from a downstream commit message."""
    if not message:
        return SourceReference(None, None, None)
    text = message.replace("\r\n", "\n").replace("\r", "\n")
    sha_match = _SOURCE_COMMIT.search(text)
    run_match = _WORKFLOW_RUN.search(text)
    return SourceReference(
        sha_match.group(1).lower() if sha_match else None,
        run_match.group(1) if run_match else None,
        int(run_match.group(2)) if run_match else None,
    )


def parse_timestamp(value: str | None) -> datetime | None:
    """Parse an ISO 8601 instant from GitHub (``Z`` or any offset) into aware UTC."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def subject_line(message: str | None) -> str | None:
    if not message:
        return None
    return message.replace("\r\n", "\n").split("\n", 1)[0].strip() or None


def head_commit_message(raw: dict[str, Any]) -> str | None:
    """Return ``head_commit.message`` of a raw run, or None when it is absent or malformed."""
    head_commit = raw.get("head_commit")
    if not isinstance(head_commit, dict):
        return None
    message = head_commit.get("message")
    return message if isinstance(message, str) else None


def to_workflow_run(
    raw: dict[str, Any], repo: DownstreamRepo, commit_message: str | None = None
) -> WorkflowRun:
    """Convert one run of the runs list into a WorkflowRun.

    ``commit_message`` replaces ``head_commit.message`` when the runs list had no head commit.
    """
    head_commit = raw.get("head_commit") or {}
    if not isinstance(head_commit, dict):
        raise TypeError(f"head_commit is {type(head_commit).__name__}, not an object")
    message = head_commit.get("message") if head_commit else commit_message
    if message is not None and not isinstance(message, str):
        raise TypeError(f"head_commit.message is {type(message).__name__}, not text")
    reference = parse_source_reference(message)
    conclusion = raw.get("conclusion") or None  # Some clients send "" for "not yet".
    updated_at = parse_timestamp(raw.get("updated_at")) or parse_timestamp(raw.get("created_at"))
    if updated_at is None:
        raise ValueError(f"run {raw.get('id')} of {repo.full_name} has no updated_at")

    return WorkflowRun(
        repo=repo.full_name,
        sram=repo.sram,
        slot=repo.slot,
        workflow_name=str(raw.get("name") or raw.get("path") or "unnamed workflow"),
        status=str(raw.get("status") or "unknown"),
        conclusion=str(conclusion) if conclusion is not None else None,
        run_id=int(raw["id"]),
        head_sha=str(raw.get("head_sha") or "").lower(),
        updated_at=updated_at,
        html_url=str(raw.get("html_url") or ""),
        forge_sha=reference.forge_sha,
        forge_run_id=reference.forge_run_id,
        forge_run_url=reference.forge_run_url,
        workflow_id=raw.get("workflow_id"),
        workflow_path=raw.get("path"),
        event=str(raw.get("event") or "unknown"),
        head_branch=raw.get("head_branch"),
        run_number=raw.get("run_number"),
        run_attempt=int(raw.get("run_attempt") or 1),
        created_at=parse_timestamp(raw.get("created_at")),
        run_started_at=parse_timestamp(raw.get("run_started_at")),
        commit_timestamp=parse_timestamp(head_commit.get("timestamp")) if head_commit else None,
        commit_subject=subject_line(message),
    )
