"""The CLI and the Dagster assets build the same report from the same odd data."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from odd_data import (
    OddCase,
    cli_status,
    conclusions_case,
    dagster_status_json,
    markup_case,
    unfinished_case,
    without_generated_at,
)

from forge_status_pipeline.testing.github_server import GitHubReplayServer


@pytest.mark.parametrize(
    "make_case",
    [conclusions_case, unfinished_case, markup_case],
    ids=["conclusions", "unfinished", "markup"],
)
def test_cli_and_dagster_agree(tmp_path: Path, make_case: Callable[[], OddCase]) -> None:
    case = make_case()
    config_path = case.write_config(tmp_path / "repos.yaml")
    with GitHubReplayServer() as server:
        case.serve(server)
        code, stdout, stderr = cli_status(config_path, server.url, "--format", "json")
        from_dagster = dagster_status_json(tmp_path, config_path, server.url)

    assert code == 0, stderr
    from_cli = json.loads(stdout)
    assert from_cli["revisions"]
    assert from_dagster["revisions"] == from_cli["revisions"]
    assert without_generated_at(from_dagster) == without_generated_at(from_cli)
