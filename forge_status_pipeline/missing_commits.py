"""Commits that GitHub did not have, remembered so an unchanged refresh does not ask again."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

# A commit that GitHub did not have is asked for again after a day, in case it was pushed late.
MISSING_COMMIT_RETRY = 24 * 3600.0
MISSING_COMMITS_FILE = "missing-commits.json"


class MissingCommits:
    """Commit URLs that got 404 or 422, with the epoch second each was last requested.

    Kept in ``cache_dir/missing-commits.json`` when a cache folder is given, else in memory. A
    commit counts as missing for ``MISSING_COMMIT_RETRY`` seconds after it was last asked for.
    """

    def __init__(self, cache_dir: Path | None, clock: Callable[[], float]) -> None:
        self._path = cache_dir / MISSING_COMMITS_FILE if cache_dir is not None else None
        self._clock = clock
        self._lock = threading.Lock()
        self._in_memory: dict[str, float] = {}

    def is_missing(self, url: str) -> bool:
        with self._lock:
            seen = self._load().get(url)
        return seen is not None and self._clock() - seen < MISSING_COMMIT_RETRY

    def remember(self, url: str) -> None:
        with self._lock:
            missing = self._load()
            missing[url] = self._clock()
            if self._path is None:
                self._in_memory = missing
                return
            self._write(self._path, missing)

    def _load(self) -> dict[str, float]:
        if self._path is None:
            return dict(self._in_memory)
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError as error:
            log.warning("ignoring unreadable %s: %s", self._path, error)
            return {}
        if not isinstance(data, dict):
            return {}
        return {
            str(key): float(value)
            for key, value in data.items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }

    @staticmethod
    def _write(path: Path, missing: dict[str, float]) -> None:
        # A temporary file of its own, then one rename: a concurrent writer in another process
        # can win, but no reader ever sees half a file.
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(missing, stream, sort_keys=True)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
