"""``notify-state.json``: which change ids each channel has received, and what is still queued.

The file lives in the site folder and is published with it, so a fresh CI runner that restores it
can tell what earlier runs sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from forge_status_pipeline.changes import Change
from forge_status_pipeline.site import write_atomic

STATE_FILE = "notify-state.json"
# Each channel keeps its newest sent ids. An id comes back only when a re-run at the same revision
# flips the outcome back, so only an id older than the newest MAX_SENT_IDS could be sent twice.
MAX_SENT_IDS = 2000
# Beyond this many queued changes the oldest are dropped, so a long webhook outage cannot grow the
# file without bound.
MAX_QUEUED = 200


class NotifyState(BaseModel):
    """The contents of ``notify-state.json``."""

    schema_version: int = 1
    sent: dict[str, list[str]] = Field(
        default_factory=dict, description="Change ids sent per channel, oldest first."
    )
    queue: list[Change] = Field(
        default_factory=list, description="Changes not yet sent to every configured channel."
    )


def load_state(path: Path) -> tuple[NotifyState, str | None]:
    """Read ``notify-state.json``: a missing file is an empty state, an invalid one is reported."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return NotifyState(), None
    except (OSError, UnicodeDecodeError) as error:
        return NotifyState(), f"{path} could not be read: {error}"
    try:
        return NotifyState.model_validate_json(text), None
    except ValidationError as error:
        return NotifyState(), f"{path} is invalid: {error.errors()[0]['msg']}"


def write_state(path: Path, state: NotifyState) -> None:
    write_atomic(path, state.model_dump_json(indent=2) + "\n")


def unsent_changes(
    state: NotifyState, changes: Sequence[Change], channels: Sequence[str]
) -> list[Change]:
    """Return the queued and new changes that some channel in ``channels`` has not received."""
    candidates = {change.id: change for change in state.queue}
    for change in changes:
        candidates.setdefault(change.id, change)
    sent = {channel: set(state.sent.get(channel, [])) for channel in channels}
    return [
        change
        for change in candidates.values()
        if any(change.id not in sent[channel] for channel in channels)
    ]
