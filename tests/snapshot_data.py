"""Read the bundled snapshot's files directly, for tests of the pure logic without HTTP."""

from __future__ import annotations

import json
from typing import Any

from forge_status_pipeline.config import ForgeConfig
from forge_status_pipeline.correlation import to_workflow_run
from forge_status_pipeline.demo import SNAPSHOT_DIR
from forge_status_pipeline.fetch import RepoRuns


def raw_runs(full_name: str) -> list[dict[str, Any]]:
    path = SNAPSHOT_DIR / "repos" / full_name / "actions" / "runs.json"
    runs: list[dict[str, Any]] = json.loads(path.read_text())["workflow_runs"]
    return runs


def snapshot_results(config: ForgeConfig) -> list[RepoRuns]:
    return [
        RepoRuns(
            repo=repo,
            runs=[to_workflow_run(raw, repo) for raw in raw_runs(repo.full_name)],
            pages=1,
        )
        for repo in config.repos
    ]
