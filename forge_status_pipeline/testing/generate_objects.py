"""GitHub REST objects for the synthetic data: repositories, users, commits and workflow runs.

Every builder is deterministic for the same arguments and random generator state. URL fields are
plain strings in the style GitHub returns and nothing here fetches them.
"""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

JSONObject = dict[str, Any]

GENERATOR_OWNER = "bench"
GENERATOR_NAME = "generator"
# The demo snapshot's "now", so generated and replayed data share one clock by default.
DEFAULT_NOW = datetime(2025, 12, 16, 2, 10, tzinfo=UTC)
WORKFLOW_NAME = "CI"
WORKFLOW_PATH = ".github/workflows/ci.yml"
BOT_NAME = "sram-forge bot"
BOT_EMAIL = "sram-forge-bot@users.noreply.github.com"
BOT_SUBJECT = "chore: update generated files from sram-forge"
OWNER_USER_ID = 2000001
DEVELOPER_LOGIN = "example-dev"
DEVELOPER_USER_ID = 1000002
# Generated repository ids come from a hash of the name, offset past the snapshot's ids.
GENERATED_REPO_ID_BASE = 3_000_000_000
# Run durations in minutes. They stay below one hour, so every run of the newest revision has
# ended before `now`.
SUCCESS_MINUTES = (20, 55)
FAILURE_MINUTES = (5, 30)


@dataclass(frozen=True)
class _Revision:
    sha: str
    tree_sha: str
    committed_at: datetime
    upstream_run_id: int


def generated_repo_id(owner: str, name: str) -> int:
    """Return a stable repository id for a name that has no repository object."""
    digest = hashlib.sha256(f"{owner}/{name}".lower().encode()).digest()
    return GENERATED_REPO_ID_BASE + int.from_bytes(digest[:4], "big")


def build_repo_object(
    owner: str,
    name: str,
    repo_id: int,
    *,
    owner_id: int = OWNER_USER_ID,
    created_at: datetime = DEFAULT_NOW - timedelta(days=30),
    pushed_at: datetime = DEFAULT_NOW,
) -> JSONObject:
    """Build a full repository object as ``GET /repos/{owner}/{name}`` returns it."""
    repo = _minimal_repository(owner, name, repo_id, owner_id)
    repo.update(
        {
            "created_at": _timestamp(created_at),
            "updated_at": _timestamp(pushed_at),
            "pushed_at": _timestamp(pushed_at),
            "git_url": f"git://github.com/{owner}/{name}.git",
            "ssh_url": f"git@github.com:{owner}/{name}.git",
            "clone_url": f"https://github.com/{owner}/{name}.git",
            "svn_url": f"https://github.com/{owner}/{name}",
            "homepage": None,
            "size": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": "SystemVerilog",
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": False,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": 0,
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": "public",
            "forks": 0,
            "open_issues": 0,
            "watchers": 0,
            "default_branch": "main",
            "network_count": 0,
            "subscribers_count": 1,
        }
    )
    return repo


# Commits


def _generator_commit(revision: _Revision, index: int, parent: str | None) -> JSONObject:
    owner, name, sha = GENERATOR_OWNER, GENERATOR_NAME, revision.sha
    api = f"https://api.github.com/repos/{owner}/{name}"
    person = {"name": "Example Dev", "email": "dev@example.com"}
    parents = []
    if parent is not None:
        parents.append(
            {
                "sha": parent,
                "url": f"{api}/commits/{parent}",
                "html_url": f"https://github.com/{owner}/{name}/commit/{parent}",
            }
        )
    developer = _user(DEVELOPER_LOGIN, DEVELOPER_USER_ID)
    return {
        "sha": sha,
        "node_id": _node_id("C", sha),
        "commit": {
            "author": {**person, "date": _timestamp(revision.committed_at)},
            "committer": {**person, "date": _timestamp(revision.committed_at)},
            "message": f"feat: generator change {index + 1}\n\nSynthetic revision for benchmarks.",
            "tree": {"sha": revision.tree_sha, "url": f"{api}/git/trees/{revision.tree_sha}"},
            "url": f"{api}/git/commits/{sha}",
            "comment_count": 0,
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        },
        "url": f"{api}/commits/{sha}",
        "html_url": f"https://github.com/{owner}/{name}/commit/{sha}",
        "comments_url": f"{api}/commits/{sha}/comments",
        "author": developer,
        "committer": developer,
        "parents": parents,
        "stats": {"total": 2, "additions": 1, "deletions": 1},
        "files": [
            {
                "sha": sha[:7],
                "filename": "sram_forge/generate/engine.py",
                "status": "modified",
                "additions": 1,
                "deletions": 1,
                "changes": 2,
            }
        ],
    }


def _bot_commit(rng: random.Random, revision: _Revision, repo_index: int) -> JSONObject:
    """Build the ``head_commit`` of the downstream commit that the bot pushed for a revision."""
    upstream_run = (
        f"https://github.com/{GENERATOR_OWNER}/{GENERATOR_NAME}/actions/runs/"
        f"{revision.upstream_run_id}"
    )
    bot = {"name": BOT_NAME, "email": BOT_EMAIL}
    return {
        "id": _random_sha(rng),
        "tree_id": _random_sha(rng),
        "message": f"{BOT_SUBJECT}\n\nSource commit: {revision.sha}\nWorkflow run: {upstream_run}",
        "timestamp": _timestamp(revision.committed_at + timedelta(seconds=repo_index % 5)),
        "author": bot,
        "committer": dict(bot),
    }


# Workflow runs


def _workflow_run(
    rng: random.Random,
    *,
    repository: JSONObject,
    run_id: int,
    run_number: int,
    workflow_id: int,
    head_commit: JSONObject,
    created_at: datetime,
    dispatched: bool,
    delay: timedelta,
    failed: bool,
) -> JSONObject:
    """Build a completed run with every property of GitHub's ``workflow-run`` schema."""
    api = repository["url"]
    html = repository["html_url"]
    created = created_at + delay
    started = created + timedelta(seconds=rng.randint(3, 12))
    low, high = FAILURE_MINUTES if failed else SUCCESS_MINUTES
    updated = started + timedelta(minutes=rng.randint(low, high), seconds=rng.randint(0, 59))
    check_suite_id = run_id * 3 + 1
    actor = _user(DEVELOPER_LOGIN, DEVELOPER_USER_ID) if dispatched else repository["owner"]
    return {
        "id": run_id,
        "name": WORKFLOW_NAME,
        "node_id": _node_id("WFR", run_id),
        "head_branch": "main",
        "head_sha": head_commit["id"],
        "path": WORKFLOW_PATH,
        "display_title": WORKFLOW_NAME if dispatched else BOT_SUBJECT,
        "run_number": run_number,
        "event": "workflow_dispatch" if dispatched else "push",
        "status": "completed",
        "conclusion": "failure" if failed else "success",
        "workflow_id": workflow_id,
        "check_suite_id": check_suite_id,
        "check_suite_node_id": _node_id("CS", check_suite_id),
        "url": f"{api}/actions/runs/{run_id}",
        "html_url": f"{html}/actions/runs/{run_id}",
        "pull_requests": [],
        "created_at": _timestamp(created),
        "updated_at": _timestamp(updated),
        "actor": actor,
        "run_attempt": 1,
        "referenced_workflows": [],
        "run_started_at": _timestamp(started),
        "triggering_actor": actor,
        "jobs_url": f"{api}/actions/runs/{run_id}/jobs",
        "logs_url": f"{api}/actions/runs/{run_id}/logs",
        "check_suite_url": f"{api}/check-suites/{check_suite_id}",
        "artifacts_url": f"{api}/actions/runs/{run_id}/artifacts",
        "cancel_url": f"{api}/actions/runs/{run_id}/cancel",
        "rerun_url": f"{api}/actions/runs/{run_id}/rerun",
        "previous_attempt_url": None,
        "workflow_url": f"{api}/actions/workflows/{workflow_id}",
        "head_commit": head_commit,
        "repository": repository,
        "head_repository": repository,
    }


# Repositories and users


def _minimal_repository(owner: str, name: str, repo_id: int, owner_id: int) -> JSONObject:
    """Build the ``minimal-repository`` object that runs embed as ``repository``."""
    api = f"https://api.github.com/repos/{owner}/{name}"
    return {
        "id": repo_id,
        "node_id": _node_id("R", repo_id),
        "name": name,
        "full_name": f"{owner}/{name}",
        "private": False,
        "owner": _user(owner, owner_id),
        "html_url": f"https://github.com/{owner}/{name}",
        "description": f"{name} (synthetic repository for benchmarks)",
        "fork": False,
        "url": api,
        "forks_url": f"{api}/forks",
        "keys_url": f"{api}/keys{{/key_id}}",
        "collaborators_url": f"{api}/collaborators{{/collaborator}}",
        "teams_url": f"{api}/teams",
        "hooks_url": f"{api}/hooks",
        "issue_events_url": f"{api}/issues/events{{/number}}",
        "events_url": f"{api}/events",
        "assignees_url": f"{api}/assignees{{/user}}",
        "branches_url": f"{api}/branches{{/branch}}",
        "tags_url": f"{api}/tags",
        "blobs_url": f"{api}/git/blobs{{/sha}}",
        "git_tags_url": f"{api}/git/tags{{/sha}}",
        "git_refs_url": f"{api}/git/refs{{/sha}}",
        "trees_url": f"{api}/git/trees{{/sha}}",
        "statuses_url": f"{api}/statuses/{{sha}}",
        "languages_url": f"{api}/languages",
        "stargazers_url": f"{api}/stargazers",
        "contributors_url": f"{api}/contributors",
        "subscribers_url": f"{api}/subscribers",
        "subscription_url": f"{api}/subscription",
        "commits_url": f"{api}/commits{{/sha}}",
        "git_commits_url": f"{api}/git/commits{{/sha}}",
        "comments_url": f"{api}/comments{{/number}}",
        "issue_comment_url": f"{api}/issues/comments{{/number}}",
        "contents_url": f"{api}/contents/{{+path}}",
        "compare_url": f"{api}/compare/{{base}}...{{head}}",
        "merges_url": f"{api}/merges",
        "archive_url": f"{api}/{{archive_format}}{{/ref}}",
        "downloads_url": f"{api}/downloads",
        "issues_url": f"{api}/issues{{/number}}",
        "pulls_url": f"{api}/pulls{{/number}}",
        "milestones_url": f"{api}/milestones{{/number}}",
        "notifications_url": f"{api}/notifications{{?since,all,participating}}",
        "labels_url": f"{api}/labels{{/name}}",
        "releases_url": f"{api}/releases{{/id}}",
        "deployments_url": f"{api}/deployments",
    }


def _user(login: str, user_id: int) -> JSONObject:
    api = f"https://api.github.com/users/{login}"
    return {
        "login": login,
        "id": user_id,
        "node_id": _node_id("U", user_id),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": f"https://github.com/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": "User",
        "user_view_type": "public",
        "site_admin": False,
    }


def _node_id(prefix: str, key: object) -> str:
    digest = hashlib.sha256(f"{prefix}:{key}".encode()).digest()[:12]
    return f"{prefix}_{base64.urlsafe_b64encode(digest).decode().rstrip('=')}"


def _random_sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


def _timestamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
