"""GitHubReplayServer: the replay server's public class, its rate-limit budget and routing."""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from types import TracebackType

from forge_status_pipeline.testing.generate_objects import build_repo_object, generated_repo_id
from forge_status_pipeline.testing.replay_faults import (
    _check_times,
    _injected_body,
    _Rule,
    _take_rule_locked,
)
from forge_status_pipeline.testing.replay_http import (
    RecordedRequest,
    _decorate,
    _etag,
    _etag_matches,
    _exhausted_response,
    _rate_limit_response,
    _RateState,
    _ReplayHandler,
    _ReplayHTTPServer,
    _unauthorized_response,
)
from forge_status_pipeline.testing.replay_messages import (
    HOST,
    JSONObject,
    _encode_json,
    _not_found,
    _Request,
    _Response,
)
from forge_status_pipeline.testing.replay_routing import (
    _REPOS_PATH,
    _REPOSITORIES_PATH,
    _redirect,
    _route_repo,
)
from forge_status_pipeline.testing.replay_store import (
    _load_snapshot,
    _renamed_repo_object,
    _repo_key,
    _Repository,
    _store_runs,
)

logger = logging.getLogger(__name__)

RATE_LIMIT_WINDOW_SECONDS = 3600
# Poll interval of serve_forever(), which is also the worst-case wait in stop().
SHUTDOWN_POLL_SECONDS = 0.05


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
            return _decorate(_rate_limit_response(state), state)
        with self._lock:
            state = self._rate_state_locked()
            if state.remaining == 0:
                return _decorate(_exhausted_response(state), state)
            if not self._is_authorized(request.headers.get("Authorization")):
                return self._charge_locked(_unauthorized_response(request.headers))
            rule = _take_rule_locked(self._response_rules, request.path)
            if rule is not None and rule.response is not None:
                injected = rule.response
                return self._charge_locked(
                    _Response(injected.status, injected.body, dict(injected.headers))
                )
        response = self._route(request)
        with self._lock:
            state = self._rate_state_locked()
            if state.remaining == 0:
                return _decorate(_exhausted_response(state), state)
            if response.status == HTTPStatus.OK:
                etag = _etag(response.body)
                response.headers.setdefault("ETag", etag)
                if _etag_matches(request.headers.get("If-None-Match"), etag):
                    not_modified = _Response(HTTPStatus.NOT_MODIFIED, b"", {"ETag": etag})
                    return _decorate(not_modified, state)
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
            return _take_rule_locked(rules, path)

    def _rate_state_locked(self) -> _RateState:
        now = time.time()
        if now >= self._reset_at:
            self._used = 0
            self._reset_at = int(now) + RATE_LIMIT_WINDOW_SECONDS
        return _RateState(limit=self._limit, used=self._used, reset=self._reset_at)

    def _charge_locked(self, response: _Response) -> _Response:
        self._used = min(self._limit, self._used + 1)
        return _decorate(response, self._rate_state_locked())

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
                return _route_repo(repo, rest, request, self.url)
            if redirect_id is not None:
                return _redirect(redirect_id, rest, request.raw_query, self.url)
            return _not_found()
        ids_match = _REPOSITORIES_PATH.fullmatch(request.path)
        if ids_match is not None:
            repo = self._find_repo_by_id(int(ids_match["id"]))
            if repo is not None:
                return _route_repo(repo, ids_match["rest"] or "", request, self.url)
        return _not_found()

    def _find_repo_by_id(self, repo_id: int) -> _Repository | None:
        with self._lock:
            for repo in self._repos.values():
                if repo.repo_id == repo_id:
                    return repo
        return None
