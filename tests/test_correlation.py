"""Parsing the generator reference out of downstream commit messages."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from snapshot_data import raw_runs

from forge_status_pipeline.config import ForgeConfig
from forge_status_pipeline.correlation import parse_source_reference
from forge_status_pipeline.demo import SNAPSHOT_DIR
from forge_status_pipeline.fetch import fetch_repo_runs
from forge_status_pipeline.github import GitHubClient
from forge_status_pipeline.testing.github_server import GitHubReplayServer

SHA = "ce7b0f5269494f02b747efbb94162b305eb5f8c8"
RUN_URL = "https://github.com/mithro/gf180mcu-sram-forge/actions/runs/20123456789"
BOT_MESSAGE = (
    "chore: update generated files from sram-forge\n\n"
    f"Source commit: {SHA}\nWorkflow run: {RUN_URL}"
)


@pytest.mark.parametrize(
    "message",
    [
        BOT_MESSAGE,
        BOT_MESSAGE.replace("\n", "\r\n"),
        BOT_MESSAGE.replace("Source commit", "    Source commit").replace(
            "Workflow run", "\tWorkflow run"
        ),
        "Merge pull request #3\n\nQuoting the bot:\n> " + BOT_MESSAGE.replace("\n", "\n> "),
        BOT_MESSAGE.replace(SHA, SHA.upper()),
        BOT_MESSAGE.replace(SHA, f"`{SHA}`") + "\n\nCo-Authored-By: someone",
    ],
    ids=["plain", "crlf", "indented", "quoted", "upper-case", "backticks-and-trailer"],
)
def test_source_reference_parsed(message: str) -> None:
    reference = parse_source_reference(message)

    assert reference.forge_sha == SHA
    assert reference.forge_run_url == RUN_URL
    assert reference.forge_run_id == 20123456789


@pytest.mark.parametrize(
    "message",
    [
        None,
        "",
        "fix: a human commit",
        "Source commit: ce7b0f5",  # a short sha cannot be grouped with full ones
        f"Source commit: {SHA}0",  # 41 hex digits is not a sha
        f"The Source commit: {SHA} line must start the line",
    ],
    ids=["none", "empty", "human", "short-sha", "too-long", "mid-line"],
)
def test_source_reference_absent(message: str | None) -> None:
    reference = parse_source_reference(message)

    assert reference.forge_sha is None


def test_missing_run_line_keeps_sha() -> None:
    reference = parse_source_reference(f"chore: regenerate\n\nSource commit: {SHA}\n")

    assert reference.forge_sha == SHA
    assert reference.forge_run_url is None
    assert reference.forge_run_id is None


def test_headless_runs_fetch_each_commit_once(
    github_server: GitHubReplayServer, config: ForgeConfig, tmp_path: Path
) -> None:
    repo = config.repos[0]
    runs = copy.deepcopy(raw_runs(repo.full_name))
    newest_sha = runs[0]["head_sha"]
    for run in runs:
        run["head_commit"] = None
    # A re-run of the newest commit: a second run of the same sha.
    rerun = copy.deepcopy(runs[0])
    rerun["id"] += 1
    runs.insert(0, rerun)
    commits_dir = SNAPSHOT_DIR / "repos" / repo.full_name / "commits"
    commits = {path.stem: json.loads(path.read_text()) for path in commits_dir.glob("*.json")}
    github_server.add_repo(repo.owner, repo.name, runs=runs, commits=commits)
    client = GitHubClient(github_server.url, cache_dir=tmp_path / "cache")

    result = fetch_repo_runs(client, repo)

    commit_requests = [r.path for r in github_server.requests if "/commits/" in r.path]
    assert len(commit_requests) == len({run["head_sha"] for run in runs})
    assert len(commit_requests) == len(set(commit_requests))
    newest = [run for run in result.runs if run.head_sha == newest_sha]
    assert len(newest) == 2
    assert {run.forge_sha for run in newest} == {"e87527ff1fddadc4bef7e2a76d04554b14ded9c8"}
