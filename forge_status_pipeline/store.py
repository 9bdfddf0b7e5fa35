"""Files that carry results between pipeline steps, as readable JSON under the cache folder.

Each repo's runs are kept in a file of their own, so re-fetching one repo leaves the others'
latest results in place for the next report.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from forge_status_pipeline.config import DownstreamRepo
from forge_status_pipeline.fetch import GeneratorCommit, RepoRuns
from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.site import write_atomic


def sanitized_name(repo: DownstreamRepo) -> str:
    """Turn owner/name into ``owner__name`` with every character outside ``[A-Za-z0-9_]`` as ``_``."""
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{repo.owner}__{repo.name}")


def repo_slug(repo: DownstreamRepo) -> str:
    """Name ``repo`` uniquely in ``[A-Za-z0-9_]``: the sanitized name plus a hash of owner/name."""
    digest = hashlib.sha256(repo.full_name.lower().encode()).hexdigest()[:8]
    return f"{sanitized_name(repo)}_{digest}"


class StateStore:
    """Reader and writer of pipeline results in ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _repo_path(self, repo: DownstreamRepo) -> Path:
        return self.root / "runs" / f"{repo_slug(repo)}.json"

    def save_repo_runs(self, result: RepoRuns) -> Path:
        path = self._repo_path(result.repo)
        write_atomic(path, result.model_dump_json())
        return path

    def load_repo_runs(self, repo: DownstreamRepo) -> RepoRuns | None:
        """Return the repo's latest fetch result, or None if it was never fetched or is unreadable."""
        path = self._repo_path(repo)
        try:
            return RepoRuns.model_validate_json(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValidationError, ValueError):
            return None

    def save_generator_commits(
        self, commits: dict[str, GeneratorCommit], failures: list[str] | None = None
    ) -> None:
        entries = {
            sha: {"subject": c.subject, "html_url": c.html_url} for sha, c in commits.items()
        }
        data = {"commits": entries, "failures": failures or []}
        write_atomic(self.root / "generator_commits.json", json.dumps(data, sort_keys=True))

    def _load_generator_data(self) -> dict[str, Any]:
        try:
            data = json.loads((self.root / "generator_commits.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def load_generator_commits(self) -> dict[str, GeneratorCommit]:
        entries = self._load_generator_data().get("commits") or {}
        return {
            sha: GeneratorCommit(sha, entry.get("subject"), entry.get("html_url"))
            for sha, entry in entries.items()
        }

    def load_generator_commit_failures(self) -> list[str]:
        """Return why some generator commits could not be read in the last correlation."""
        return [str(item) for item in self._load_generator_data().get("failures") or []]

    def save_report(self, report: StatusReport) -> Path:
        path = self.root / "report.json"
        write_atomic(path, report.model_dump_json())
        return path

    def load_report(self) -> StatusReport:
        return StatusReport.model_validate_json(
            (self.root / "report.json").read_text(encoding="utf-8")
        )
