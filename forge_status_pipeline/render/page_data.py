"""The data the page's script reads: the grid's cells and every revision's runs, as compact JSON.

The script builds the grid and a revision's run details from this only when they are first shown,
so a large report stays quick to load. Lists stand in for objects to keep the JSON small, and the
script reads them by position (see the ``RUN_FIELDS`` order).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from forge_status_pipeline.models import RevisionCell, StatusReport, WorkflowRun
from forge_status_pipeline.render.page_model import PAGE_MARKS, PAGE_WORDS, RepoRef, revision_group
from forge_status_pipeline.render.text import safe_url, state_word

# One letter per cell state in a revision's ``cells`` string, in configured repo order.
STATE_CODES = {
    "passing": "p",
    "failing": "f",
    "pending": "r",
    "inconclusive": "i",
    "not_rebuilt": "n",
    "unavailable": "u",
}
RUN_FIELDS = (
    "repo",
    "workflow",
    "word",
    "state",
    "seconds",
    "run_id",
    "run_url",
    "head_sha",
    "branch",
    "event",
    "attempt",
    "counted",
    "age",
)
# The script makes a commit link from the configured repo name and this sha, so only a plain hex
# sha ever reaches a URL.
_HEX_SHA = re.compile(r"[0-9a-f]{7,64}")
_SCRIPT_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}
# In place of a run URL: the run's page at github.com, which the script rebuilds from the repo
# name and run id. Most runs have it, and leaving it out halves the size of a large page.
STANDARD_RUN_URL = 0


class StringTable:
    """Texts that repeat across runs (workflow names, status words, branches, events), kept once."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._positions: dict[str, int] = {}

    def index(self, text: str | None) -> int | None:
        if text is None:
            return None
        position = self._positions.get(text)
        if position is None:
            position = self._positions[text] = len(self.items)
            self.items.append(text)
        return position


def _run_url(run: WorkflowRun) -> str | int | None:
    url = safe_url(run.html_url)
    if url == f"https://github.com/{run.repo}/actions/runs/{run.run_id}":
        return STANDARD_RUN_URL
    return url


def _run_entry(
    run: WorkflowRun,
    repo_index: dict[str, int],
    counted: set[int],
    strings: StringTable,
    now: datetime,
) -> list[Any]:
    """List one run's fields in ``RUN_FIELDS`` order; ``age`` is seconds before ``now``."""
    duration = run.duration_seconds
    return [
        repo_index[run.repo],
        strings.index(run.workflow_name),
        strings.index(run.label.replace("_", " ")),
        STATE_CODES[run.outcome],
        round(duration) if duration is not None else None,
        run.run_id,
        _run_url(run),
        run.head_sha if _HEX_SHA.fullmatch(run.head_sha) else None,
        strings.index(run.head_branch),
        strings.index(run.event),
        run.run_attempt,
        1 if run.run_id in counted else 0,
        round((now - run.updated_at).total_seconds()),
    ]


def _specific_words(
    cells: list[RevisionCell], repo_index: dict[str, int], strings: StringTable
) -> list[list[int | None]]:
    """List ``[repo, word]`` for the cells whose state reads better in GitHub's own word."""
    words = []
    for cell in cells:
        word = state_word(cell.state, cell.label)
        if word != PAGE_WORDS[cell.state]:
            words.append([repo_index[cell.repo], strings.index(word)])
    return words


def page_data(report: StatusReport, refs: dict[str, RepoRef]) -> dict[str, Any]:
    """Collect what the script needs; repos are listed in the order of the grid's columns."""
    configured = [status.repo for status in report.repos]
    names = configured + [name for name in refs if name not in configured]
    repo_index = {name: index for index, name in enumerate(names)}
    revision_index = {revision.forge_sha: index for index, revision in enumerate(report.revisions)}
    stale = {status.repo for status in report.repos if status.stale and status.available}
    strings = StringTable()

    revisions = []
    for revision in report.revisions:
        cells = {cell.repo: cell for cell in revision.cells}
        counted = {run_id for cell in revision.cells for run_id in cell.run_ids}
        revisions.append(
            {
                "sha": revision.forge_sha,
                "short": revision.short_sha,
                "group": revision_group(revision),
                "summary": revision.summary,
                "timestamp": int(revision.timestamp.timestamp()),
                "cells": "".join(
                    STATE_CODES[cells[name].state] if name in cells else "n" for name in configured
                ),
                "regressions": [repo_index[name] for name in revision.regressions],
                "words": _specific_words(revision.cells, repo_index, strings),
                "lastPassing": [
                    [repo_index[cell.repo], revision_index[cell.last_passing_sha]]
                    for cell in revision.cells
                    if cell.last_passing_sha in revision_index
                ],
                "runs": [
                    _run_entry(run, repo_index, counted, strings, report.generated_at)
                    for run in revision.runs
                ],
            }
        )
    return {
        "generatedAt": int(report.generated_at.timestamp()),
        "staleAfterHours": report.stale_after_hours,
        "states": {
            code: [state, PAGE_WORDS[state], PAGE_MARKS[state]]
            for state, code in {**STATE_CODES, "stale": "s"}.items()
        },
        "repos": [
            [name, refs[name].label, refs[name].actions_url, 1 if name in stale else 0]
            for name in names
        ],
        "columns": len(configured),
        "revisions": revisions,
        "strings": strings.items,
    }


def script_json(data: Any) -> str:
    """Serialise ``data`` for a ``<script type="application/json">`` element.

    ``<``, ``>`` and ``&`` become JSON escapes, so no text from GitHub can close the element or
    open a comment inside it; JSON.parse reads the escapes back as the original characters.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_SCRIPT_ESCAPES)
