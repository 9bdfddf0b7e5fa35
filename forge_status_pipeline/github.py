"""A small GitHub REST client: auth, timeouts, conditional requests, retries and rate limits."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests_cache import CachedSession

from forge_status_pipeline.config import InvalidSettingError
from forge_status_pipeline.github_session import (
    CACHE_DIR_ENV_VAR,
    RequestStats,
    default_cache_dir,
    open_session,
)
from forge_status_pipeline.missing_commits import MissingCommits
from forge_status_pipeline.models import UnavailableReason
from forge_status_pipeline.rate_limits import (
    RESET_MARGIN,
    RequestGate,
    RetryPlan,
    RetryPolicy,
    budget_spent_until,
    describe_instant,
    plan_retry,
)
from forge_status_pipeline.runs_listing import RunsCollector, RunsListing, full_name_from_runs

log = logging.getLogger(__name__)

__all__ = [
    "CACHE_DIR_ENV_VAR",
    "DEFAULT_API_URL",
    "GitHubClient",
    "RepoUnavailableError",
    "RequestStats",
    "RunsListing",
    "default_cache_dir",
    "token_from_env",
]

DEFAULT_API_URL = "https://api.github.com"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
MAX_REDIRECTS = 5
# Dropped connections and cut-off bodies are as transient as a 5xx, so they are retried too.
TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
_REPOSITORY_ID_URL = re.compile(r"^(?P<base>.*/repositories/[0-9]+)(?:/|$)")


class RepoUnavailableError(Exception):
    """A repo that could not be read, with a reason the report shows.

    ``status`` is the HTTP status of GitHub's response, or None when no response came. ``sent``
    is False when the request was never sent because a rate limit had stopped the client.
    """

    def __init__(
        self,
        reason: UnavailableReason,
        detail: str,
        *,
        status: int | None = None,
        sent: bool = True,
    ) -> None:
        self.reason: UnavailableReason = reason
        self.detail = detail
        self.status = status
        self.sent = sent
        super().__init__(f"{reason}: {detail}")


@dataclass(frozen=True)
class _Fetched:
    response: requests.Response
    # Target URL of the last permanent redirect on the way, if any.
    moved_to: str | None


def token_from_env() -> str | None:
    return os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN") or None


class GitHubClient:
    """Talks to GitHub's REST API, or to any server that speaks it, such as a loopback replay.

    Each response's ETag and body are kept in ``cache_dir`` so a later refresh sends
    ``If-None-Match`` and an unchanged response comes back as a free 304. Commits never change, so
    a cached commit is reused without asking. The token is only sent to the scheme, host and port
    of ``base_url``, never to a host that a redirect or a ``Link`` header points elsewhere.

    ``sleep`` and ``clock`` (epoch seconds) are injectable so tests of the waits run instantly.
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
        if not base_url.startswith(("http://", "https://")):
            raise InvalidSettingError(
                f"API base URL {base_url!r} needs an http:// or https:// scheme; "
                "check GITHUB_API_URL"
            )
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._origin = _origin(self.base_url)
        self.cache_dir = cache_dir
        self.timeout = (connect_timeout, read_timeout)
        self.policy = RetryPolicy(max_retries, max_rate_limit_wait, backoff_base)
        self.sleep = sleep
        self.clock = clock
        self.stats = RequestStats()
        self._gate = RequestGate(clock, sleep)
        self._missing = MissingCommits(cache_dir, clock)
        self._local = threading.local()

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
        if session is None:
            session = open_session(self.cache_dir)
            self._local.session = session
        return session

    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def get(self, path_or_url: str, params: dict[str, Any] | None = None) -> requests.Response:
        """Send a GET, following redirects and retrying 5xx, connection errors and rate limits.

        Raise RepoUnavailableError when the response is an error that retrying did not fix.
        """
        return self._get(path_or_url, params).response

    def _get(self, path_or_url: str, params: dict[str, Any] | None) -> _Fetched:
        url = self._url(path_or_url)
        first_url = url
        moved_to: str | None = None
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._get_with_retries(url, params)
            if response.status_code not in REDIRECT_STATUSES:
                return _Fetched(response, moved_to)
            location = response.headers.get("Location")
            if not location:
                raise RepoUnavailableError(
                    "error",
                    f"{response.status_code} redirect without a Location header: {url}",
                    status=response.status_code,
                )
            url = urljoin(url, location)
            params = None  # The Location carries the query.
            if response.status_code in PERMANENT_REDIRECTS:
                moved_to = url
            log.info("%s redirected with %d to %s", first_url, response.status_code, url)
        raise RepoUnavailableError("error", f"more than {MAX_REDIRECTS} redirects from {first_url}")

    def _get_with_retries(self, url: str, params: dict[str, Any] | None) -> requests.Response:
        """Send one GET and retry the failures that waiting might fix; 3xx are returned as is."""
        attempt = 0
        while True:
            self._wait_for_gate()
            try:
                response = self._send(url, params)
            except TRANSIENT_ERRORS as error:
                kind = "timed out" if isinstance(error, requests.Timeout) else "connection failed"
                if attempt >= self.policy.max_retries:
                    raise RepoUnavailableError(
                        "unreachable", f"{kind} after {attempt + 1} attempts: {url}"
                    ) from None
                self._back_off(self.policy.backoff(attempt), f"{kind} for {url}", attempt + 1)
                attempt += 1
                continue
            except requests.RequestException as error:
                detail = self.redact(f"request failed: {type(error).__name__}: {url}")
                raise RepoUnavailableError("error", detail) from None
            self.stats.count(response)

            if response.status_code < 400:
                self._note_budget(response)
                return response
            plan = plan_retry(
                response.status_code,
                response.headers,
                _error_message(response),
                attempt,
                self.policy,
                self.clock(),
            )
            if plan.wait is None:
                raise self._give_up(response, url, plan, attempt)
            failure = f"GitHub responded with {response.status_code} for {url}"
            if plan.kind is not None:
                failure = f"{failure} ({plan.kind} rate limit)"
                # A rate limit is the token's, so every thread of this client waits it out.
                self._gate.pause_until(self.clock() + plan.wait)
                self._log_retry(plan.wait, failure, attempt + 1)
            else:
                self._back_off(plan.wait, failure, attempt + 1)
            attempt += 1

    def _send(self, url: str, params: dict[str, Any] | None) -> requests.Response:
        headers: dict[str, str] = {}
        if self._token and _origin(url) == self._origin:
            headers["Authorization"] = f"Bearer {self._token}"
        session = self._session()
        options: dict[str, Any] = {
            "params": params,
            "headers": headers,
            "timeout": self.timeout,
            "allow_redirects": False,
        }
        try:
            return session.get(url, **options)
        except requests.RequestException:
            raise
        except (OSError, ValueError, KeyError, TypeError) as error:
            if not isinstance(session, CachedSession):
                raise
            # A cache file that is not UTF-8, or a folder in its place, is a local fault, so the
            # request goes to GitHub. (requests-cache itself skips a file that is cut short.)
            log.warning("cached response for %s could not be read: %r; asking GitHub", url, error)
            if _forget_cached(session, url, params):
                return session.get(url, **options)
            # Each thread has a session of its own, so turning its cache off affects no other.
            with session.cache_disabled():
                return session.get(url, **options)

    def _wait_for_gate(self) -> None:
        reason = self._gate.blocked()
        if reason is not None:
            raise RepoUnavailableError("rate_limited", reason, sent=False)
        self._gate.wait_turn()

    def _log_retry(self, delay: float, failure: str, retry: int) -> None:
        self.stats.add(retries=1)
        log.warning(
            "%s; retrying in %.1f s (retry %d of %d)",
            failure,
            delay,
            retry,
            self.policy.max_retries,
        )

    def _back_off(self, delay: float, failure: str, retry: int) -> None:
        self._log_retry(delay, failure, retry)
        self.sleep(delay)

    def _note_budget(self, response: requests.Response) -> None:
        """Stop or pause every thread when a fresh response shows the rate-limit budget is spent."""
        if getattr(response, "from_cache", False) and not getattr(response, "revalidated", False):
            return  # Headers stored with an old response tell nothing about the budget now.
        reset = budget_spent_until(response.headers)
        if reset is None:
            return
        wait = reset - self.clock() + RESET_MARGIN
        if wait <= self.policy.max_rate_limit_wait:
            self._gate.pause_until(reset + RESET_MARGIN)
            log.warning(
                "rate limit budget spent; pausing requests until %s", describe_instant(reset)
            )
        elif self._gate.block_until(reset, "rate limit budget spent"):
            log.warning(
                "rate limit budget spent until %s, past the %.0f s this client waits; "
                "skipping the rest of this refresh",
                describe_instant(reset),
                self.policy.max_rate_limit_wait,
            )

    def _give_up(
        self, response: requests.Response, url: str, plan: RetryPlan, attempt: int
    ) -> RepoUnavailableError:
        status = response.status_code
        message = self.redact(_error_message(response))
        if plan.kind is not None:
            if plan.blocked_until is not None and self._gate.block_until(
                plan.blocked_until, f"{plan.kind} rate limit"
            ):
                log.warning(
                    "%s rate limit: GitHub requests a wait until %s, past the %.0f s this client "
                    "waits; skipping the rest of this refresh",
                    plan.kind,
                    describe_instant(plan.blocked_until),
                    self.policy.max_rate_limit_wait,
                )
            return RepoUnavailableError(
                "rate_limited", f"{status} {plan.kind} rate limit: {message}", status=status
            )
        if status == 404:
            return RepoUnavailableError("not_found", f"404 Not Found: {url}", status=status)
        if status in (401, 403):
            return RepoUnavailableError("no_access", f"{status} {message}: {url}", status=status)
        if status >= 500:
            return RepoUnavailableError(
                "unreachable",
                f"{status} server error after {attempt + 1} attempts: {url}",
                status=status,
            )
        return RepoUnavailableError("error", f"{status} {message}: {url}", status=status)

    def list_runs(
        self,
        owner: str,
        name: str,
        *,
        enough: Callable[[list[dict[str, Any]]], bool],
        max_pages: int = 10,
    ) -> RunsListing:
        """Page through a repo's workflow runs, newest first, until ``enough`` returns True."""
        url: str | None = f"{self.base_url}/repos/{owner}/{name}/actions/runs"
        params: dict[str, Any] | None = {"per_page": 100}
        collector = RunsCollector(f"{owner}/{name}")
        renamed_to: str | None = None
        covered = False

        while url is not None and collector.pages < max_pages:
            fetched = self._get(url, params)
            params = None  # The next link carries the query.
            body = fetched.response.json()
            if collector.pages == 0 and fetched.moved_to is not None:
                renamed_to = self._new_full_name(owner, name, fetched.moved_to, body)
            collector.add_page(body)
            covered = enough(collector.runs())
            if covered:
                break
            url = fetched.response.links.get("next", {}).get("url")

        return collector.finish(covered=covered, complete=url is None, renamed_to=renamed_to)

    def _new_full_name(self, owner: str, name: str, moved_to: str, body: dict[str, Any]) -> str:
        """Find the current name of a moved repo, for the warning to update the config.

        The runs name their repository. When they still carry the old name, one more request
        reads the repository object at the ``/repositories/<id>`` URL that GitHub redirected to.
        """
        old = f"{owner}/{name}".lower()
        from_runs = full_name_from_runs(body)
        if from_runs is not None and from_runs.lower() != old:
            return from_runs
        match = _REPOSITORY_ID_URL.match(moved_to)
        if match is None:
            return moved_to
        try:
            repository = self.get(match["base"]).json()
        except (RepoUnavailableError, ValueError) as error:
            log.info("could not read the new name of %s/%s: %s", owner, name, error)
            return moved_to
        full_name = repository.get("full_name") if isinstance(repository, dict) else None
        return str(full_name) if full_name else moved_to

    def get_commit(self, owner: str, name: str, sha: str) -> dict[str, Any] | None:
        """Fetch one commit; None when GitHub has no such commit (404 or 422).

        A commit found missing is not asked for again for a day (see MissingCommits), so a
        refresh where nothing changed costs no rate limit even when a named commit is gone.
        """
        url = self._url(f"/repos/{owner}/{name}/commits/{sha}")
        if self._missing.is_missing(url):
            return None
        try:
            response = self.get(url)
        except RepoUnavailableError as error:
            if error.status in (404, 422):
                self._missing.remember(url)
                return None
            raise
        data: dict[str, Any] = response.json()
        return data


def _forget_cached(session: CachedSession, url: str, params: dict[str, Any] | None) -> bool:
    """Remove the cached response to a GET of ``url``; return whether none is left."""
    key = session.cache.create_key(requests.Request("GET", url, params=params).prepare())
    with contextlib.suppress(KeyError):
        del session.cache.responses[key]
    return key not in session.cache.responses


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def _error_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return response.reason or ""
