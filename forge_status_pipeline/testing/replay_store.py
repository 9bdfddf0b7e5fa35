"""Repositories that the GitHub replay server serves: stored runs and snapshot loading."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from forge_status_pipeline.testing.generate_objects import generated_repo_id
from forge_status_pipeline.testing.replay_messages import JSONObject, _encode_json


@dataclass(frozen=True)
class _StoredRun:
    """A workflow run encoded once when stored, with the fields that the query filters read."""

    encoded: bytes
    encoded_without_pull_requests: bytes
    run_id: int
    head_branch: str | None
    head_sha: str | None
    event: str | None
    status: str | None
    conclusion: str | None
    actor_login: str | None
    created_at: datetime | None
    check_suite_id: str
    workflow_id: str
    workflow_file: str


@dataclass
class _Repository:
    owner: str
    name: str
    repo_id: int
    repo_object: JSONObject | None
    # None means the repository has no runs file. Its run list is then empty.
    runs: list[_StoredRun] | None
    # Lower-case 40-hex sha to the encoded single-commit object.
    commits: dict[str, bytes]


def _load_snapshot(snapshot_dir: Path) -> dict[tuple[str, str], _Repository]:
    """Read every repository of a snapshot folder into memory."""
    repos_dir = snapshot_dir / "repos"
    if not repos_dir.is_dir():
        raise FileNotFoundError(
            f"Snapshot folder {snapshot_dir} has no repos/ folder; "
            "expected the layout of forge_status_pipeline/demo/github-snapshot"
        )
    repos: dict[tuple[str, str], _Repository] = {}
    for owner_dir in sorted(path for path in repos_dir.iterdir() if path.is_dir()):
        names = set()
        for entry in owner_dir.iterdir():
            stem = _json_stem(entry.name)
            if entry.is_dir():
                names.add(entry.name)
            elif stem is not None:
                names.add(stem)
        for name in sorted(names):
            repo = _load_snapshot_repo(owner_dir, owner_dir.name, name)
            repos[_repo_key(repo.owner, repo.name)] = repo
    return repos


def _load_snapshot_repo(owner_dir: Path, owner: str, name: str) -> _Repository:
    repo_object = _read_json(owner_dir, name)
    repo_id = repo_object.get("id") if isinstance(repo_object, dict) else None
    if not isinstance(repo_id, int):
        repo_id = generated_repo_id(owner, name)
    repo_dir = owner_dir / name
    runs_document = _read_json(repo_dir / "actions", "runs")
    runs = None
    if runs_document is not None:
        runs = _store_runs(runs_document["workflow_runs"])
    commits: dict[str, bytes] = {}
    commits_dir = repo_dir / "commits"
    if commits_dir.is_dir():
        for entry in commits_dir.iterdir():
            sha = _json_stem(entry.name)
            if sha is not None:
                commits[sha.lower()] = _encode_json(_read_json(commits_dir, sha))
    return _Repository(owner, name, repo_id, repo_object, runs, commits)


def _json_stem(file_name: str) -> str | None:
    for suffix in (".json.gz", ".json"):
        if file_name.endswith(suffix):
            return file_name[: -len(suffix)]
    return None


def _read_json(folder: Path, stem: str) -> Any:
    """Parse ``<stem>.json``, or else ``<stem>.json.gz``, and return None when neither exists."""
    plain = folder / f"{stem}.json"
    if plain.is_file():
        return json.loads(plain.read_bytes())
    compressed = folder / f"{stem}.json.gz"
    if compressed.is_file():
        return json.loads(gzip.decompress(compressed.read_bytes()))
    return None


def _store_runs(runs: list[JSONObject]) -> list[_StoredRun]:
    stored = []
    for index, run in enumerate(runs):
        run_id = run.get("id")
        if not isinstance(run_id, int):
            raise ValueError(f"Run at index {index} has no integer 'id' (got {run_id!r})")
        encoded = _encode_json(run)
        without_pull_requests = encoded
        if run.get("pull_requests"):
            without_pull_requests = _encode_json({**run, "pull_requests": []})
        actor = run.get("actor")
        created_at = run.get("created_at")
        stored.append(
            _StoredRun(
                encoded=encoded,
                encoded_without_pull_requests=without_pull_requests,
                run_id=run_id,
                head_branch=run.get("head_branch"),
                head_sha=run.get("head_sha"),
                event=run.get("event"),
                status=run.get("status"),
                conclusion=run.get("conclusion"),
                actor_login=actor.get("login") if isinstance(actor, dict) else None,
                created_at=_parse_instant(created_at) if created_at else None,
                check_suite_id=str(run.get("check_suite_id")),
                workflow_id=str(run.get("workflow_id")),
                workflow_file=PurePosixPath(str(run.get("path") or "")).name,
            )
        )
    return stored


def _renamed_repo_object(repo_object: JSONObject, owner: str, name: str) -> JSONObject:
    renamed = {**repo_object, "name": name, "full_name": f"{owner}/{name}"}
    if isinstance(repo_object.get("owner"), dict):
        renamed["owner"] = {**repo_object["owner"], "login": owner}
    return renamed


def _parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 date-time, treating one without an offset as UTC."""
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant


def _repo_key(owner: str, name: str) -> tuple[str, str]:
    return owner.lower(), name.lower()
