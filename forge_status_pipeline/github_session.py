"""The HTTP session behind the GitHub client: headers, the response cache and request counts."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import requests
from requests_cache import (
    DEFAULT_IGNORED_PARAMS,
    EXPIRE_IMMEDIATELY,
    NEVER_EXPIRE,
    CachedSession,
    SerializerPipeline,
    Stage,
)
from requests_cache.serializers.preconf import json_preconf_stage

API_VERSION = "2022-11-28"
USER_AGENT = "forge-status/0.1 (+https://github.com/mithro/gf180mcu-sram-forge)"
CACHE_DIR_ENV_VAR = "FORGE_STATUS_CACHE_DIR"
# requests-cache's own "json" serializer indents its output, which makes the standard library fall
# back to its pure-Python encoder: about 12 ms per cached runs page. Compact output uses the C one.
KEY_VERSION = "forge-status-1"
COMPACT_JSON_SERIALIZER = SerializerPipeline(
    [json_preconf_stage, Stage(dumps=partial(json.dumps, separators=(",", ":")), loads=json.loads)],
    name="json",
    is_binary=False,
)


def default_cache_dir() -> Path:
    """Pick the cache folder: ``$FORGE_STATUS_CACHE_DIR``, else ``.forge-status-cache`` here.

    It does not follow ``DAGSTER_HOME``, so the CLI and Dagster runs with or without a Dagster
    home share the same cached responses and per-repo results.
    """
    if os.environ.get(CACHE_DIR_ENV_VAR):
        return Path(os.environ[CACHE_DIR_ENV_VAR])
    return Path(".forge-status-cache")


def cache_key(request: requests.PreparedRequest | requests.Request, **_settings: Any) -> str:
    """Key a cached response by method and full URL.

    requests-cache's default key also normalizes headers, query and body, which costs about a
    millisecond per request. This client sends only GETs whose URLs it builds itself, with no
    body and no credentials in the URL, so the method and URL alone identify a response.
    """
    text = f"{KEY_VERSION} {request.method} {request.url}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def open_session(cache_dir: Path | None) -> requests.Session:
    """Open a session with GitHub's headers, caching in ``cache_dir`` when one is given.

    Cached responses are revalidated with ``If-None-Match`` on every use, except commits, which
    never change. The session carries no Authorization header: the client adds it per request.
    """
    session: requests.Session
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        session = CachedSession(
            str(cache_dir / "http"),
            backend="filesystem",
            serializer=COMPACT_JSON_SERIALIZER,
            # Bodies are stored as base64 text: parsing them into JSON objects to store
            # readable files costs more CPU than the request's latency saves.
            decode_content=False,
            expire_after=EXPIRE_IMMEDIATELY,
            urls_expire_after={"*/commits/*": NEVER_EXPIRE},
            allowable_codes=(200,),
            cache_control=False,
            stale_if_error=False,
            # Stored requests get "REDACTED" in place of these headers, Authorization among
            # them. The client follows redirects itself, so no stored history contains the token.
            ignored_parameters=DEFAULT_IGNORED_PARAMS,
            key_fn=cache_key,
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
    return session


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

    def count(self, response: requests.Response) -> None:
        """Count one response: sent, revalidated with a 304, or read from the cache alone."""
        if not getattr(response, "from_cache", False):
            self.add(sent=1)
        elif getattr(response, "revalidated", False):
            self.add(sent=1, not_modified=1)
        else:
            self.add(served_from_cache=1)

    @property
    def rate_limited_requests(self) -> int:
        """Requests that cost rate-limit points: everything sent except 304 responses."""
        return self.sent - self.not_modified
