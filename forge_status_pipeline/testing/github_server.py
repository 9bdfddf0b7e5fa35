"""GitHub REST API replay server for tests, benchmarks and the offline demo.

The server listens on 127.0.0.1 only. It serves a snapshot folder laid out like
``forge_status_pipeline/demo/github-snapshot`` (its README specifies how requests map to
files) and repositories added in memory. Tests can inject error responses, delays, dropped
connections and repository renames, and read back every request the server received.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import hmac
import json
import logging
import math
import re
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from forge_status_pipeline.testing.generate import build_repo_object, generated_repo_id

logger = logging.getLogger(__name__)

JSONObject = dict[str, Any]

HOST = "127.0.0.1"
DEFAULT_SNAPSHOT_DIR = Path(__file__).resolve().parent.parent / "demo" / "github-snapshot"
# Only a string inside error bodies, as GitHub sends one. The server never fetches it.
DOCUMENTATION_URL = "https://docs.github.com/rest"
RATE_LIMIT_WINDOW_SECONDS = 3600
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
MIN_COMMIT_PREFIX = 4
# Poll interval of serve_forever(), which is also the worst-case wait in stop().
SHUTDOWN_POLL_SECONDS = 0.05

_REPOS_PATH = re.compile(r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)(?P<rest>/.*)?")
_REPOSITORIES_PATH = re.compile(r"/repositories/(?P<id>[0-9]+)(?P<rest>/.*)?")
_RUN_PATH = re.compile(r"/actions/runs/(?P<id>[^/]+)")
_WORKFLOW_RUNS_PATH = re.compile(r"/actions/workflows/(?P<workflow>[^/]+)/runs")
_COMMIT_PATH = re.compile(r"/commits/(?P<ref>[^/]+)")
_HEX = re.compile(r"[0-9a-f]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class RecordedRequest:
    """Request that the server received, with the status of its response.

    ``status`` is 0 when the server dropped the connection without a response. ``elapsed`` is the
    time in seconds from reading the request to having the response ready, latency included.
    """

    method: str
    path: str
    query: dict[str, str]
    status: int
    headers: dict[str, str]
    elapsed: float


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


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Rule:
    """An injected behaviour for requests whose path matches ``pattern``."""

    pattern: re.Pattern[str]
    # Requests left that the rule applies to. None means no limit.
    remaining: int | None
    response: _Response | None = None
    delay_seconds: float = 0.0


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    raw_query: str
    query: dict[str, str]
    headers: Message


@dataclass(frozen=True)
class _Bound:
    instant: datetime
    inclusive: bool


@dataclass(frozen=True)
class _RateState:
    limit: int
    used: int
    reset: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


class GitHubReplayServer:
    """GitHub REST API replay server on 127.0.0.1 with fault injection for tests.

    ``snapshot_dir`` is a folder laid out like ``demo/github-snapshot``, or None for an empty
    server. ``latency`` is slept before every response, in seconds, by each request's own thread
    so concurrent requests wait concurrently. ``rate_limit`` is the budget per hour: every
    response except a 304 or ``GET /rate_limit`` costs one point, and once the budget is spent
    the server responds with 403 until it refills. When ``expected_token`` is set, requests without ``Authorization: Bearer <token>``
    or ``token <token>`` get 401. ``port`` 0 lets the OS choose a free port.
    """

    def __init__(
        self,
        snapshot_dir: Path | None = None,
        *,
        latency: float = 0.0,
        rate_limit: int = 5000,
        expected_token: str | None = None,
        port: int = 0,
    ) -> None:
        if latency < 0:
            raise ValueError(f"latency must be >= 0 seconds, got {latency}")
        if rate_limit < 0:
            raise ValueError(f"rate_limit must be >= 0 requests, got {rate_limit}")
        self._repos: dict[tuple[str, str], _Repository] = {}
        if snapshot_dir is not None:
            self._repos = _load_snapshot(Path(snapshot_dir))
        # Old lower-case (owner, name) of a renamed repository to its repository id.
        self._redirects: dict[tuple[str, str], int] = {}
        self._latency = latency
        self._limit = rate_limit
        self._expected_token = expected_token
        self._port = port
        self._lock = threading.Lock()
        self._used = 0
        self._reset_at = int(time.time()) + RATE_LIMIT_WINDOW_SECONDS
        self._response_rules: list[_Rule] = []
        self._delay_rules: list[_Rule] = []
        self._drop_rules: list[_Rule] = []
        self._hooks: list[Callable[[RecordedRequest], None]] = []
        self.requests: list[RecordedRequest] = []
        self._http: _ReplayHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    # Lifecycle

    @property
    def url(self) -> str:
        """Base URL ``http://127.0.0.1:<port>``, without a trailing slash."""
        if self._url is None:
            raise RuntimeError("GitHubReplayServer has no URL yet: call start() first")
        return self._url

    def start(self) -> GitHubReplayServer:
        """Bind 127.0.0.1 and serve from a daemon thread, and start a fresh rate-limit window."""
        if self._http is not None:
            raise RuntimeError("GitHubReplayServer is already running; call stop() first")
        http_server = _ReplayHTTPServer((HOST, self._port), _ReplayHandler, self)
        port = http_server.server_address[1]
        self._url = f"http://{HOST}:{port}"
        with self._lock:
            self._used = 0
            self._reset_at = int(time.time()) + RATE_LIMIT_WINDOW_SECONDS
        self._http = http_server
        self._thread = threading.Thread(
            target=http_server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
            name=f"github-replay-{port}",
            daemon=True,
        )
        self._thread.start()
        logger.debug("GitHub replay server started at %s", self._url)
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket and every open connection."""
        http_server, thread = self._http, self._thread
        if http_server is None or thread is None:
            return
        http_server.shutdown()
        http_server.server_close()
        http_server.close_open_connections()
        thread.join()
        self._http = None
        self._thread = None
        logger.debug("GitHub replay server at %s stopped", self._url)

    def __enter__(self) -> GitHubReplayServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # Data

    def add_repo(
        self,
        owner: str,
        name: str,
        *,
        runs: list[JSONObject],
        commits: dict[str, JSONObject] | None = None,
        repo: JSONObject | None = None,
    ) -> None:
        """Serve a repository from memory, replacing any snapshot or earlier one of that name.

        ``runs`` are workflow-run objects, newest first, each with an integer ``id``.
        ``commits`` maps a 40-hex sha to its single-commit object. Without ``repo`` the server
        builds a repository object with a stable generated id. The server stores encoded
        copies, so later changes to the passed objects are not served: call set_runs().
        """
        if repo is None:
            repo_object = build_repo_object(owner, name, generated_repo_id(owner, name))
        else:
            repo_object = json.loads(_encode_json(repo))
        repo_id = repo_object.get("id")
        if not isinstance(repo_id, int):
            repo_id = generated_repo_id(owner, name)
        stored = _Repository(
            owner=owner,
            name=name,
            repo_id=repo_id,
            repo_object=repo_object,
            runs=_store_runs(runs),
            commits={sha.lower(): _encode_json(obj) for sha, obj in (commits or {}).items()},
        )
        key = _repo_key(owner, name)
        with self._lock:
            self._repos[key] = stored
            self._redirects.pop(key, None)

    def set_runs(self, owner: str, name: str, runs: list[JSONObject]) -> None:
        """Replace the runs of a known repository, for example to make a new run appear."""
        stored_runs = _store_runs(runs)
        with self._lock:
            repo = self._repos.get(_repo_key(owner, name))
            if repo is None:
                raise KeyError(
                    f"No repository {owner}/{name} on this server; call add_repo() first"
                )
            repo.runs = stored_runs

    def rename_repo(self, old_owner: str, old_name: str, new_owner: str, new_name: str) -> None:
        """Move a repository to a new name and redirect its old name with 301, as GitHub does.

        Requests under ``/repos/<old_owner>/<old_name>/`` then get ``Location:
        <url>/repositories/<id>/<rest of path>?<query>``. The repository object's ``name``,
        ``full_name`` and ``owner.login`` change to the new name, but stored runs keep theirs.
        """
        old_key = _repo_key(old_owner, old_name)
        new_key = _repo_key(new_owner, new_name)
        with self._lock:
            repo = self._repos.get(old_key)
            if repo is None:
                raise KeyError(f"Cannot rename {old_owner}/{old_name}: no such repository")
            if new_key != old_key and new_key in self._repos:
                raise ValueError(f"Cannot rename to {new_owner}/{new_name}: it already exists")
            del self._repos[old_key]
            repo.owner, repo.name = new_owner, new_name
            if repo.repo_object is not None:
                repo.repo_object = _renamed_repo_object(repo.repo_object, new_owner, new_name)
            self._repos[new_key] = repo
            self._redirects[old_key] = repo.repo_id
            self._redirects.pop(new_key, None)

    # Fault injection and observation

    def inject(
        self,
        path_regex: str,
        *,
        status: int,
        headers: dict[str, str] | None = None,
        body: JSONObject | str | None = None,
        times: int | None = 1,
    ) -> None:
        """Respond to the next ``times`` requests whose path matches with this response instead.

        The regex is searched in the path without the query. ``times`` None applies forever.
        A dict body is sent as JSON and a str body as is. Without a body, an error status gets
        a GitHub-style ``{"message": ...}`` body. An injected response costs one budget point,
        and ``headers`` override the server's own, rate-limit headers included.
        """
        response = _Response(
            status=status,
            body=_injected_body(status, headers or {}, body),
            headers=dict(headers or {}),
        )
        rule = _Rule(
            pattern=re.compile(path_regex), remaining=_check_times(times), response=response
        )
        with self._lock:
            self._response_rules.append(rule)

    def inject_delay(self, path_regex: str, seconds: float, times: int | None = 1) -> None:
        """Wait ``seconds`` longer before responding to the next ``times`` matching requests."""
        if seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {seconds}")
        rule = _Rule(
            pattern=re.compile(path_regex), remaining=_check_times(times), delay_seconds=seconds
        )
        with self._lock:
            self._delay_rules.append(rule)

    def drop_connection(self, path_regex: str, times: int | None = 1) -> None:
        """Close the connection without responding to the next ``times`` matching requests."""
        rule = _Rule(pattern=re.compile(path_regex), remaining=_check_times(times))
        with self._lock:
            self._drop_rules.append(rule)

    def on_request(self, hook: Callable[[RecordedRequest], None]) -> None:
        """Call ``hook`` for every request once its response is ready.

        The hook runs in the request's thread before the response is sent, so a client that has
        received a response can rely on the hook having finished. An exception in a hook is
        logged and does not change the response.
        """
        with self._lock:
            self._hooks.append(hook)

    def reset_requests(self) -> None:
        """Empty ``requests``, keeping the same list object."""
        with self._lock:
            self.requests.clear()

    @property
    def budget_remaining(self) -> int:
        """Requests left in the current rate-limit window."""
        with self._lock:
            return self._rate_state_locked().remaining

    # Request handling, called from the handler threads

    def _respond(self, request: _Request) -> _Response | None:
        """Build the response to a request, or return None to drop the connection."""
        delay = self._take_rule(self._delay_rules, request.path)
        pause = self._latency + (delay.delay_seconds if delay is not None else 0.0)
        if pause > 0:
            time.sleep(pause)
        if self._take_rule(self._drop_rules, request.path) is not None:
            return None
        if request.path == "/rate_limit":
            with self._lock:
                state = self._rate_state_locked()
            return self._decorate(_rate_limit_response(state), state)
        with self._lock:
            state = self._rate_state_locked()
            if state.remaining == 0:
                return self._decorate(_exhausted_response(state), state)
            if not self._is_authorized(request.headers.get("Authorization")):
                return self._charge_locked(_unauthorized_response(request.headers))
            rule = self._take_rule_locked(self._response_rules, request.path)
            if rule is not None and rule.response is not None:
                injected = rule.response
                return self._charge_locked(
                    _Response(injected.status, injected.body, dict(injected.headers))
                )
        response = self._route(request)
        with self._lock:
            state = self._rate_state_locked()
            if state.remaining == 0:
                return self._decorate(_exhausted_response(state), state)
            if response.status == HTTPStatus.OK:
                etag = _etag(response.body)
                response.headers.setdefault("ETag", etag)
                if _etag_matches(request.headers.get("If-None-Match"), etag):
                    not_modified = _Response(HTTPStatus.NOT_MODIFIED, b"", {"ETag": etag})
                    return self._decorate(not_modified, state)
            return self._charge_locked(response)

    def _record(self, record: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(record)
            hooks = list(self._hooks)
        for hook in hooks:
            try:
                hook(record)
            except Exception:
                logger.exception(
                    "on_request hook %r failed for %s %s", hook, record.method, record.path
                )

    def _take_rule(self, rules: list[_Rule], path: str) -> _Rule | None:
        with self._lock:
            return self._take_rule_locked(rules, path)

    @staticmethod
    def _take_rule_locked(rules: list[_Rule], path: str) -> _Rule | None:
        for rule in rules:
            if rule.pattern.search(path) is None:
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining == 0:
                    rules.remove(rule)
            return rule
        return None

    def _rate_state_locked(self) -> _RateState:
        now = time.time()
        if now >= self._reset_at:
            self._used = 0
            self._reset_at = int(now) + RATE_LIMIT_WINDOW_SECONDS
        return _RateState(limit=self._limit, used=self._used, reset=self._reset_at)

    def _charge_locked(self, response: _Response) -> _Response:
        self._used = min(self._limit, self._used + 1)
        return self._decorate(response, self._rate_state_locked())

    @staticmethod
    def _decorate(response: _Response, state: _RateState) -> _Response:
        """Add Content-Type and rate-limit headers unless the response already sets them."""
        headers: dict[str, str] = {}
        if response.body:
            headers["Content-Type"] = "application/json; charset=utf-8"
        headers.update(
            {
                "X-RateLimit-Limit": str(state.limit),
                "X-RateLimit-Remaining": str(state.remaining),
                "X-RateLimit-Reset": str(state.reset),
                "X-RateLimit-Used": str(state.used),
                "X-RateLimit-Resource": "core",
            }
        )
        overrides = {name.lower() for name in response.headers}
        merged = {name: value for name, value in headers.items() if name.lower() not in overrides}
        merged.update(response.headers)
        return _Response(response.status, response.body, merged)

    def _is_authorized(self, authorization: str | None) -> bool:
        if self._expected_token is None:
            return True
        if authorization is None:
            return False
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() not in ("bearer", "token"):
            return False
        return hmac.compare_digest(token.strip().encode(), self._expected_token.encode())

    # Routing

    def _route(self, request: _Request) -> _Response:
        if request.method not in ("GET", "HEAD"):
            return _not_found()
        repos_match = _REPOS_PATH.fullmatch(request.path)
        if repos_match is not None:
            owner, name = repos_match["owner"], repos_match["name"]
            rest = repos_match["rest"] or ""
            key = _repo_key(owner, name)
            with self._lock:
                repo = self._repos.get(key)
                redirect_id = self._redirects.get(key)
            if repo is not None:
                return self._route_repo(repo, rest, request)
            if redirect_id is not None:
                return self._redirect(redirect_id, rest, request.raw_query)
            return _not_found()
        ids_match = _REPOSITORIES_PATH.fullmatch(request.path)
        if ids_match is not None:
            repo = self._find_repo_by_id(int(ids_match["id"]))
            if repo is not None:
                return self._route_repo(repo, ids_match["rest"] or "", request)
        return _not_found()

    def _find_repo_by_id(self, repo_id: int) -> _Repository | None:
        with self._lock:
            for repo in self._repos.values():
                if repo.repo_id == repo_id:
                    return repo
        return None

    def _redirect(self, repo_id: int, rest: str, raw_query: str) -> _Response:
        location = f"{self.url}/repositories/{repo_id}{rest}"
        if raw_query:
            location = f"{location}?{raw_query}"
        body = {
            "message": "Moved Permanently",
            "url": location,
            "documentation_url": DOCUMENTATION_URL,
        }
        return _Response(HTTPStatus.MOVED_PERMANENTLY, _encode_json(body), {"Location": location})

    def _route_repo(self, repo: _Repository, rest: str, request: _Request) -> _Response:
        runs = repo.runs if repo.runs is not None else []
        if rest == "":
            if repo.repo_object is None:
                return _not_found()
            return _Response(HTTPStatus.OK, _encode_json(repo.repo_object))
        if rest == "/actions/runs":
            return self._runs_page(runs, request)
        run_match = _RUN_PATH.fullmatch(rest)
        if run_match is not None:
            for run in runs:
                if str(run.run_id) == run_match["id"]:
                    return _Response(HTTPStatus.OK, run.encoded)
            return _not_found()
        workflow_match = _WORKFLOW_RUNS_PATH.fullmatch(rest)
        if workflow_match is not None:
            workflow = workflow_match["workflow"]
            workflow_runs = [
                run for run in runs if workflow in (run.workflow_id, run.workflow_file)
            ]
            if not workflow_runs:
                # NOTE: a workflow that exists but never ran also gets 404 here, because the
                # server only learns of workflows through their runs.
                return _not_found()
            return self._runs_page(workflow_runs, request)
        commit_match = _COMMIT_PATH.fullmatch(rest)
        if commit_match is not None:
            return _commit_response(repo.commits, commit_match["ref"])
        return _not_found()

    def _runs_page(self, runs: list[_StoredRun], request: _Request) -> _Response:
        """Filter, then paginate runs as ``GET .../actions/runs`` does."""
        try:
            selected = _filter_runs(runs, request.query)
        except ValueError as error:
            return _error_response(HTTPStatus.UNPROCESSABLE_ENTITY, str(error))
        per_page = _int_parameter(request.query, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
        page = _int_parameter(request.query, "page", 1, None)
        start = (page - 1) * per_page
        exclude = request.query.get("exclude_pull_requests", "").lower() == "true"
        encoded_runs = [
            run.encoded_without_pull_requests if exclude else run.encoded
            for run in selected[start : start + per_page]
        ]
        body = b'{"total_count":%d,"workflow_runs":[%s]}' % (len(selected), b",".join(encoded_runs))
        response = _Response(HTTPStatus.OK, body)
        link = self._link_header(request, page, per_page, len(selected))
        if link is not None:
            response.headers["Link"] = link
        return response

    def _link_header(self, request: _Request, page: int, per_page: int, total: int) -> str | None:
        """Build the RFC 8288 ``Link`` header in GitHub's rel order: prev, next, last, first."""
        last = max(1, math.ceil(total / per_page))
        if last == 1:
            return None
        links: list[tuple[int, str]] = []
        if page > 1:
            links.append((page - 1, "prev"))
        if page < last:
            links.append((page + 1, "next"))
            links.append((last, "last"))
        if page > 1:
            links.append((1, "first"))
        return ", ".join(
            f'<{self._page_url(request, number)}>; rel="{rel}"' for number, rel in links
        )

    def _page_url(self, request: _Request, page: int) -> str:
        """Return the request's URL with ``page`` set and every other query parameter kept."""
        pairs = parse_qsl(request.raw_query, keep_blank_values=True)
        if any(name == "page" for name, _ in pairs):
            pairs = [(name, str(page) if name == "page" else value) for name, value in pairs]
        else:
            pairs.append(("page", str(page)))
        return f"{self.url}{request.path}?{urlencode(pairs)}"


class _ReplayHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that tracks open connections so stop() can close idle keep-alives."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        replay: GitHubReplayServer,
    ) -> None:
        self.replay = replay
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                logger.debug("Connection was already closed at stop", exc_info=True)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or disconnect mid-response are expected in fault tests.
        logger.debug("Connection from %s failed", client_address, exc_info=True)


class _ReplayHandler(BaseHTTPRequestHandler):
    # Send small answers at once instead of waiting for the client's delayed ACK (about 40 ms).
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server: _ReplayHTTPServer

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Skip the access log line that BaseHTTPRequestHandler writes to stderr."""

    def _serve(self) -> None:
        started = time.monotonic()
        self._discard_request_body()
        parts = urlsplit(self.path)
        request = _Request(
            method=self.command,
            path=parts.path,
            raw_query=parts.query,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=self.headers,
        )

        replay = self.server.replay
        try:
            response = replay._respond(request)
        except Exception:
            logger.exception(
                "Replay server failed to build a response to %s %s", self.command, self.path
            )
            response = _error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "Replay server error")

        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=request.query,
            status=response.status if response is not None else 0,
            headers=dict(self.headers.items()),
            elapsed=time.monotonic() - started,
        )
        replay._record(record)

        if response is None:
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _discard_request_body(self) -> None:
        """Read any request body so the next request on a keep-alive connection parses."""
        length = self.headers.get("Content-Length")
        if length is not None and length.isdigit():
            self.rfile.read(int(length))


# Snapshot loading


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


# Query filters


def _filter_runs(runs: list[_StoredRun], query: dict[str, str]) -> list[_StoredRun]:
    """Keep the runs that match every filter in ``query``, in their stored order.

    Raise ValueError for a ``created`` value that cannot be parsed.
    """
    selected = runs
    exact_filters: list[tuple[str, Callable[[_StoredRun], str | None]]] = [
        ("actor", lambda run: run.actor_login),
        ("branch", lambda run: run.head_branch),
        ("event", lambda run: run.event),
        ("check_suite_id", lambda run: run.check_suite_id),
        ("head_sha", lambda run: run.head_sha),
    ]
    for parameter, read_field in exact_filters:
        if parameter in query:
            expected = query[parameter]
            selected = [run for run in selected if read_field(run) == expected]
    if "status" in query:
        status = query["status"]
        selected = [run for run in selected if status in (run.status, run.conclusion)]
    if "created" in query:
        lower, upper = _parse_created(query["created"])
        selected = [run for run in selected if _created_within(run.created_at, lower, upper)]
    return selected


def _created_within(
    created_at: datetime | None, lower: _Bound | None, upper: _Bound | None
) -> bool:
    if created_at is None:
        return False
    if lower is not None:
        if created_at < lower.instant or (created_at == lower.instant and not lower.inclusive):
            return False
    if upper is not None:
        if created_at > upper.instant or (created_at == upper.instant and not upper.inclusive):
            return False
    return True


def _parse_created(text: str) -> tuple[_Bound | None, _Bound | None]:
    """Parse a ``created`` filter into lower and upper bounds, either of which may be open.

    Accepted forms: ``D``, ``>=D``, ``>D``, ``<=D``, ``<D`` and ``A..B`` (``*`` for an open end),
    where each value is ``YYYY-MM-DD`` (a whole UTC day) or an ISO 8601 date-time.
    """
    value = text.strip()
    try:
        for operator, is_lower, inclusive in (
            (">=", True, True),
            ("<=", False, True),
            (">", True, False),
            ("<", False, False),
        ):
            if value.startswith(operator):
                operand = value[len(operator) :].strip()
                if is_lower:
                    return _lower_bound(operand, inclusive), None
                return None, _upper_bound(operand, inclusive)
        if ".." in value:
            start, _, end = value.partition("..")
            lower = None if start.strip() == "*" else _lower_bound(start.strip(), True)
            upper = None if end.strip() == "*" else _upper_bound(end.strip(), True)
            return lower, upper
        return _lower_bound(value, True), _upper_bound(value, True)
    except ValueError as error:
        raise ValueError(
            f"Invalid created filter {text!r}: expected YYYY-MM-DD or an ISO 8601 date-time, "
            "optionally prefixed by >=, >, <= or <, or a range A..B"
        ) from error


def _lower_bound(operand: str, inclusive: bool) -> _Bound:
    if _DATE.fullmatch(operand):
        day_start = _parse_instant(f"{operand}T00:00:00Z")
        # "> day" means from the start of the next day on.
        return _Bound(day_start if inclusive else day_start + timedelta(days=1), True)
    return _Bound(_parse_instant(operand), inclusive)


def _upper_bound(operand: str, inclusive: bool) -> _Bound:
    if _DATE.fullmatch(operand):
        day_start = _parse_instant(f"{operand}T00:00:00Z")
        # "<= day" includes the whole day, so it ends before the start of the next day.
        return _Bound(day_start + timedelta(days=1) if inclusive else day_start, False)
    return _Bound(_parse_instant(operand), inclusive)


def _parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 date-time, treating one without an offset as UTC."""
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant


def _int_parameter(query: dict[str, str], name: str, default: int, maximum: int | None) -> int:
    """Read a positive integer parameter, using ``default`` when it is missing or invalid."""
    text = query.get(name, "").strip()
    if not text.isdigit():
        return default
    value = max(1, int(text))
    return min(value, maximum) if maximum is not None else value


# Responses


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


def _rate_limit_response(state: _RateState) -> _Response:
    core = {
        "limit": state.limit,
        "used": state.used,
        "remaining": state.remaining,
        "reset": state.reset,
        "resource": "core",
    }
    return _Response(HTTPStatus.OK, _encode_json({"resources": {"core": core}, "rate": core}))


def _exhausted_response(state: _RateState) -> _Response:
    message = (
        f"API rate limit exceeded for {HOST}. The budget of {state.limit} requests refills at "
        "the epoch second in X-RateLimit-Reset."
    )
    return _error_response(HTTPStatus.FORBIDDEN, message)


def _unauthorized_response(headers: Message) -> _Response:
    if headers.get("Authorization") is None:
        return _error_response(HTTPStatus.UNAUTHORIZED, "Requires authentication")
    return _error_response(HTTPStatus.UNAUTHORIZED, "Bad credentials")


def _not_found() -> _Response:
    return _error_response(HTTPStatus.NOT_FOUND, "Not Found")


def _error_response(status: int, message: str) -> _Response:
    body = {"message": message, "documentation_url": DOCUMENTATION_URL, "status": str(status)}
    return _Response(status, _encode_json(body))


def _injected_body(status: int, headers: dict[str, str], body: JSONObject | str | None) -> bytes:
    """Encode an injected body, or write a GitHub-style error body when none was given."""
    if isinstance(body, str):
        return body.encode("utf-8")
    if body is not None:
        return _encode_json(body)
    if status < 400:
        return b""
    lower_headers = {name.lower(): value for name, value in headers.items()}
    if lower_headers.get("x-ratelimit-remaining") == "0":
        message = f"API rate limit exceeded for {HOST}. Wait until X-RateLimit-Reset."
    elif "retry-after" in lower_headers:
        message = "You have exceeded a secondary rate limit. Wait for Retry-After seconds."
    else:
        try:
            message = HTTPStatus(status).phrase
        except ValueError:
            message = f"HTTP {status}"
    return _encode_json(
        {"message": message, "documentation_url": DOCUMENTATION_URL, "status": str(status)}
    )


def _etag(body: bytes) -> str:
    return f'W/"{hashlib.sha256(body).hexdigest()}"'


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Compare If-None-Match with the weak comparison that RFC 9110 specifies for it."""
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    expected = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == expected for tag in if_none_match.split(","))


def _encode_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def _repo_key(owner: str, name: str) -> tuple[str, str]:
    return owner.lower(), name.lower()


def _check_times(times: int | None) -> int | None:
    if times is not None and times < 1:
        raise ValueError(f"times must be >= 1 or None for no limit, got {times}")
    return times


def main(argv: list[str] | None = None) -> int:
    """Serve a snapshot on 127.0.0.1 until interrupted, after printing the URL on stdout."""
    parser = argparse.ArgumentParser(
        prog="python -m forge_status_pipeline.testing.github_server",
        description="Serve a GitHub REST API snapshot on 127.0.0.1 until interrupted.",
    )
    parser.add_argument(
        "--snapshot",
        type=Path,
        default=DEFAULT_SNAPSHOT_DIR,
        help="snapshot folder laid out like demo/github-snapshot (default: the bundled demo)",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: 0, any free port)"
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="seconds to wait before every response (default: 0)",
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=5000,
        help="requests per hour before the server responds with 403 (default: 5000)",
    )
    args = parser.parse_args(argv)

    if not args.snapshot.is_dir():
        parser.error(f"snapshot folder {args.snapshot} does not exist")

    server = GitHubReplayServer(
        args.snapshot, latency=args.latency, rate_limit=args.rate_limit, port=args.port
    )
    # SIGTERM stops the server like Ctrl-C does, so scripts can end it cleanly.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    server.start()
    print(server.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
