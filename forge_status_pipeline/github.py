"""A small GitHub REST client: auth, timeouts, conditional requests, retries and rate limits."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from requests_cache import EXPIRE_IMMEDIATELY, NEVER_EXPIRE, CachedSession

from forge_status_pipeline.models import UnavailableReason

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
USER_AGENT = "forge-status/0.1 (+https://github.com/mithro/gf180mcu-sram-forge)"
CACHE_DIR_ENV_VAR = "FORGE_STATUS_CACHE_DIR"

# GitHub asks clients to wait at least a minute after a secondary rate limit that gives no
# retry-after, then back off exponentially.
SECONDARY_LIMIT_MIN_WAIT = 60.0
# A commit that GitHub did not have is asked for again after a day, in case it was pushed late.
MISSING_COMMIT_RETRY = 24 * 3600.0


class RepoUnavailableError(Exception):
    """A repo that could not be read, with a reason the report shows."""

    def __init__(self, reason: UnavailableReason, detail: str) -> None:
        self.reason: UnavailableReason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


@dataclass
class RequestStats:
    """Counts of what the client sent, kept for logs and benchmarks."""

    sent: int = 0
    not_modified: int = 0
    served_from_cache: int = 0
    retries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, count in counts.items():
                setattr(self, name, getattr(self, name) + count)

    @property
    def rate_limited_requests(self) -> int:
        """Requests that cost rate-limit points: everything sent except 304 answers."""
        return self.sent - self.not_modified


@dataclass
class RunsListing:
    """The raw runs of one repo, newest first, de-duplicated by run id."""

    runs: list[dict[str, Any]]
    pages: int
    total_count: int | None
    complete: bool
    renamed_to: str | None = None
    warnings: list[str] = field(default_factory=list)


def default_cache_dir() -> Path:
    """Pick the HTTP cache folder: ``$FORGE_STATUS_CACHE_DIR``, else under ``$DAGSTER_HOME`` or here."""
    if os.environ.get(CACHE_DIR_ENV_VAR):
        return Path(os.environ[CACHE_DIR_ENV_VAR])
    if os.environ.get("DAGSTER_HOME"):
        return Path(os.environ["DAGSTER_HOME"]) / "forge-status-cache"
    return Path(".forge-status-cache")


def token_from_env() -> str | None:
    return os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN") or None


class GitHubClient:
    """Talks to GitHub's REST API, or to any server that speaks it, such as a loopback replay.

    Each response's ETag and body are kept in ``cache_dir`` so a later refresh sends
    ``If-None-Match`` and an unchanged answer comes back as a free 304. Commits never change, so
    a cached commit is reused without asking.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_API_URL,
        token: str | None = None,
        *,
        cache_dir: Path | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        max_retries: int = 3,
        max_rate_limit_wait: float = 300.0,
        backoff_base: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.cache_dir = cache_dir
        self.timeout = (connect_timeout, read_timeout)
        self.max_retries = max_retries
        self.max_rate_limit_wait = max_rate_limit_wait
        self.backoff_base = backoff_base
        self.sleep = sleep
        self.clock = clock
        self.stats = RequestStats()
        self._local = threading.local()
        self._limit_lock = threading.Lock()
        self._exhausted_until: float | None = None
        self._missing_lock = threading.Lock()
        self._missing_in_memory: dict[str, float] = {}

    def __repr__(self) -> str:
        # The token is deliberately left out.
        auth = "with token" if self._token else "anonymous"
        return f"GitHubClient({self.base_url!r}, {auth})"

    @classmethod
    def from_env(cls, **options: Any) -> GitHubClient:
        """Build a client from ``GITHUB_API_URL``, ``GITHUB_TOKEN``/``GH_TOKEN`` and the cache dir."""
        options.setdefault("cache_dir", default_cache_dir())
        return cls(
            os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL,
            token_from_env(),
            **options,
        )

    def redact(self, text: str) -> str:
        """Replace the token wherever it occurs in ``text``."""
        if self._token:
            text = text.replace(self._token, "***")
        return text

    # Sessions are not shared between threads; each worker gets its own, on the same cache folder.
    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is not None:
            return session
        if self.cache_dir is not None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            session = CachedSession(
                str(self.cache_dir / "http"),
                backend="filesystem",
                serializer="json",
                expire_after=EXPIRE_IMMEDIATELY,
                urls_expire_after={"*/commits/*": NEVER_EXPIRE},
                allowable_codes=(200,),
                cache_control=False,
                stale_if_error=False,
            )
        else:
            session = requests.Session()
        session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": USER_AGENT,
            }
        )
        if self._token:
            session.headers["Authorization"] = f"Bearer {self._token}"
        self._local.session = session
        return session

    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def get(self, path_or_url: str, params: dict[str, Any] | None = None) -> requests.Response:
        """GET with retries for 5xx, connection errors and rate limits; raise RepoUnavailableError."""
        url = self._url(path_or_url)
        attempt = 0
        while True:
            self._check_exhausted()
            try:
                response = self._session().get(url, params=params, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as error:
                kind = "timed out" if isinstance(error, requests.Timeout) else "connection failed"
                if attempt < self.max_retries:
                    attempt += 1
                    self._back_off(attempt, f"{kind} for {url}")
                    continue
                raise RepoUnavailableError(
                    "unreachable", f"{kind} after {attempt + 1} attempts: {url}"
                ) from None
            self._count(response)

            if response.status_code < 400:
                return response
            wait = self._retry_wait(response, attempt)
            if wait is not None:
                attempt += 1
                self.stats.add(retries=1)
                log.warning(
                    "GitHub answered %s for %s; retrying in %.0f s (attempt %d of %d)",
                    response.status_code,
                    url,
                    wait,
                    attempt,
                    self.max_retries,
                )
                self.sleep(wait)
                continue
            raise self._unavailable(response, url)

    def _count(self, response: requests.Response) -> None:
        from_cache = getattr(response, "from_cache", False)
        if not from_cache:
            self.stats.add(sent=1)
        elif getattr(response, "revalidated", False):
            self.stats.add(sent=1, not_modified=1)
        else:
            self.stats.add(served_from_cache=1)

    def _back_off(self, attempt: int, what: str) -> None:
        delay = self.backoff_base * 2 ** (attempt - 1)
        self.stats.add(retries=1)
        log.warning(
            "%s; retrying in %.1f s (attempt %d of %d)", what, delay, attempt, self.max_retries
        )
        self.sleep(delay)

    def _check_exhausted(self) -> None:
        with self._limit_lock:
            until = self._exhausted_until
        if until is not None and self.clock() < until:
            raise RepoUnavailableError(
                "rate_limited",
                f"rate limit spent until {time.strftime('%H:%M:%S', time.gmtime(until))} UTC",
            )

    def _retry_wait(self, response: requests.Response, attempt: int) -> float | None:
        """Return seconds to wait before retrying ``response``, or None to give up now."""
        status = response.status_code
        headers = response.headers
        if attempt >= self.max_retries:
            return None
        if status >= 500:
            return float(self.backoff_base * 2**attempt)
        if status not in (403, 429):
            return None

        retry_after = _parse_float(headers.get("retry-after"))
        if retry_after is not None:
            return retry_after if retry_after <= self.max_rate_limit_wait else None
        if headers.get("x-ratelimit-remaining") == "0":
            reset = _parse_float(headers.get("x-ratelimit-reset"))
            wait = max(0.0, (reset or 0.0) - self.clock()) + 1.0
            if wait <= self.max_rate_limit_wait:
                return wait
            with self._limit_lock:
                self._exhausted_until = reset
            return None
        if status == 429 or _is_secondary_limit(response):
            wait = SECONDARY_LIMIT_MIN_WAIT * 2**attempt
            return wait if wait <= self.max_rate_limit_wait else None
        return None

    def _unavailable(self, response: requests.Response, url: str) -> RepoUnavailableError:
        status = response.status_code
        message = self.redact(_error_message(response))
        if status == 404:
            return RepoUnavailableError("not_found", f"404 Not Found: {url}")
        if status in (403, 429) and (
            status == 429
            or response.headers.get("x-ratelimit-remaining") == "0"
            or "retry-after" in response.headers
            or _is_secondary_limit(response)
        ):
            return RepoUnavailableError("rate_limited", f"{status} rate limited: {message}")
        if status in (401, 403):
            return RepoUnavailableError("no_access", f"{status} {message}")
        if status >= 500:
            return RepoUnavailableError(
                "unreachable", f"{status} server error after {self.max_retries + 1} attempts: {url}"
            )
        return RepoUnavailableError("error", f"{status} {message}: {url}")

    def list_runs(
        self,
        owner: str,
        name: str,
        *,
        enough: Callable[[list[dict[str, Any]]], bool],
        max_pages: int = 10,
    ) -> RunsListing:
        """Page through a repo's workflow runs, newest first, until ``enough`` returns True.

        Runs are de-duplicated by id, keeping the newest attempt, since a run that appears while
        paging shifts older runs onto the next page.
        """
        url: str | None = f"{self.base_url}/repos/{owner}/{name}/actions/runs"
        params: dict[str, Any] | None = {"per_page": 100}
        runs_by_id: dict[int, dict[str, Any]] = {}
        pages = 0
        total_count: int | None = None
        renamed_to: str | None = None
        warnings: list[str] = []

        while url is not None and pages < max_pages:
            response = self.get(url, params)
            params = None  # The next link carries the query.
            pages += 1
            if renamed_to is None and any(r.status_code == 301 for r in response.history):
                renamed_to = _renamed_full_name(response) or response.url
            body = response.json()
            total_count = body.get("total_count", total_count)
            for run in body.get("workflow_runs") or []:
                previous = runs_by_id.get(run["id"])
                if previous is None or _attempt_key(run) > _attempt_key(previous):
                    runs_by_id[run["id"]] = run
            if enough(list(runs_by_id.values())):
                break
            url = response.links.get("next", {}).get("url")

        complete = url is None
        if url is not None and pages >= max_pages and not enough(list(runs_by_id.values())):
            warnings.append(
                f"{owner}/{name}: stopped after {pages} pages of runs before the look-back was covered"
            )
        if complete and total_count is not None and total_count != len(runs_by_id):
            warnings.append(
                f"{owner}/{name}: GitHub reported total_count {total_count} "
                f"but {len(runs_by_id)} distinct runs were read"
            )
        runs = sorted(runs_by_id.values(), key=_newest_first_key, reverse=True)
        return RunsListing(runs, pages, total_count, complete, renamed_to, warnings)

    def get_commit(self, owner: str, name: str, sha: str) -> dict[str, Any] | None:
        """Fetch one commit; None when GitHub has no such commit (404 or 422).

        A commit found missing is not asked for again for ``MISSING_COMMIT_RETRY`` seconds, so a
        refresh where nothing changed costs no rate limit even when a named commit is gone.
        """
        path = f"/repos/{owner}/{name}/commits/{sha}"
        if self._recently_missing(path):
            return None
        try:
            response = self.get(path)
        except RepoUnavailableError as error:
            if error.reason == "not_found" or error.detail.startswith("422"):
                self._remember_missing(path)
                return None
            raise
        data: dict[str, Any] = response.json()
        return data

    def _missing_file(self) -> Path | None:
        return self.cache_dir / "missing-commits.json" if self.cache_dir is not None else None

    def _load_missing(self) -> dict[str, float]:
        path = self._missing_file()
        if path is None:
            return self._missing_in_memory
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return {str(key): float(value) for key, value in data.items()}

    def _recently_missing(self, path: str) -> bool:
        with self._missing_lock:
            seen = self._load_missing().get(f"{self.base_url}{path}")
        return seen is not None and self.clock() - seen < MISSING_COMMIT_RETRY

    def _remember_missing(self, path: str) -> None:
        with self._missing_lock:
            missing = self._load_missing()
            missing[f"{self.base_url}{path}"] = self.clock()
            target = self._missing_file()
            if target is None:
                self._missing_in_memory = missing
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_suffix(".tmp")
            temporary.write_text(json.dumps(missing, sort_keys=True), encoding="utf-8")
            temporary.replace(target)


def _parse_float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _error_message(response: requests.Response) -> str:
    try:
        return str(response.json().get("message", "")) or response.reason
    except (ValueError, AttributeError):
        return response.reason or ""


def _is_secondary_limit(response: requests.Response) -> bool:
    return "secondary rate limit" in _error_message(response).lower()


def _attempt_key(run: dict[str, Any]) -> tuple[int, str]:
    return (int(run.get("run_attempt") or 1), str(run.get("updated_at") or ""))


def _newest_first_key(run: dict[str, Any]) -> tuple[str, int]:
    return (str(run.get("created_at") or ""), int(run["id"]))


def _renamed_full_name(response: requests.Response) -> str | None:
    runs = response.json().get("workflow_runs") or []
    if runs and isinstance(runs[0].get("repository"), dict):
        full_name = runs[0]["repository"].get("full_name")
        return str(full_name) if full_name else None
    return None
