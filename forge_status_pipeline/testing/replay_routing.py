"""Routes of the GitHub replay server below ``/repos/{owner}/{name}``, and commit lookup."""

from __future__ import annotations

import re
from http import HTTPStatus

from forge_status_pipeline.testing.replay_messages import (
    DOCUMENTATION_URL,
    _encode_json,
    _error_response,
    _not_found,
    _Request,
    _Response,
)
from forge_status_pipeline.testing.replay_query import _runs_page
from forge_status_pipeline.testing.replay_store import _Repository

MIN_COMMIT_PREFIX = 4

_REPOS_PATH = re.compile(r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)(?P<rest>/.*)?")
_REPOSITORIES_PATH = re.compile(r"/repositories/(?P<id>[0-9]+)(?P<rest>/.*)?")
_RUN_PATH = re.compile(r"/actions/runs/(?P<id>[^/]+)")
_WORKFLOW_RUNS_PATH = re.compile(r"/actions/workflows/(?P<workflow>[^/]+)/runs")
_COMMIT_PATH = re.compile(r"/commits/(?P<ref>[^/]+)")
_HEX = re.compile(r"[0-9a-f]+")


def _redirect(repo_id: int, rest: str, raw_query: str, base_url: str) -> _Response:
    location = f"{base_url}/repositories/{repo_id}{rest}"
    if raw_query:
        location = f"{location}?{raw_query}"
    body = {
        "message": "Moved Permanently",
        "url": location,
        "documentation_url": DOCUMENTATION_URL,
    }
    return _Response(HTTPStatus.MOVED_PERMANENTLY, _encode_json(body), {"Location": location})


def _route_repo(repo: _Repository, rest: str, request: _Request, base_url: str) -> _Response:
    runs = repo.runs if repo.runs is not None else []
    if rest == "":
        if repo.repo_object is None:
            return _not_found()
        return _Response(HTTPStatus.OK, _encode_json(repo.repo_object))
    if rest == "/actions/runs":
        return _runs_page(runs, request, base_url)
    run_match = _RUN_PATH.fullmatch(rest)
    if run_match is not None:
        for run in runs:
            if str(run.run_id) == run_match["id"]:
                return _Response(HTTPStatus.OK, run.encoded)
        return _not_found()
    workflow_match = _WORKFLOW_RUNS_PATH.fullmatch(rest)
    if workflow_match is not None:
        workflow = workflow_match["workflow"]
        workflow_runs = [run for run in runs if workflow in (run.workflow_id, run.workflow_file)]
        if not workflow_runs:
            # NOTE: a workflow that exists but never ran also gets 404 here, because the
            # server only learns of workflows through their runs.
            return _not_found()
        return _runs_page(workflow_runs, request, base_url)
    commit_match = _COMMIT_PATH.fullmatch(rest)
    if commit_match is not None:
        return _commit_response(repo.commits, commit_match["ref"])
    return _not_found()


def _commit_response(commits: dict[str, bytes], ref: str) -> _Response:
    """Find a commit by full sha or by a unique prefix of at least MIN_COMMIT_PREFIX hex digits."""
    ref_lower = ref.lower()
    if ref_lower in commits:
        return _Response(HTTPStatus.OK, commits[ref_lower])
    if len(ref_lower) < MIN_COMMIT_PREFIX or not _HEX.fullmatch(ref_lower):
        # NOTE: GitHub also resolves branch and tag names here; this server has no refs.
        return _not_found()
    matches = [sha for sha in commits if sha.startswith(ref_lower)]
    if len(matches) == 1:
        return _Response(HTTPStatus.OK, commits[matches[0]])
    if len(matches) > 1:
        return _error_response(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            f"Commit prefix {ref} is ambiguous: it matches {len(matches)} commits. "
            "Use a longer prefix or the full sha.",
        )
    return _not_found()
