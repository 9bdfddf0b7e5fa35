"""Test doubles for the GitHub REST API: a replay server and synthetic repository data.

Names load on first use, so ``python -m forge_status_pipeline.testing.github_server`` does not
import the server module twice.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forge_status_pipeline.testing.generate import generate_repos, serve_generated
    from forge_status_pipeline.testing.github_server import GitHubReplayServer, RecordedRequest

__all__ = ["GitHubReplayServer", "RecordedRequest", "generate_repos", "serve_generated"]

_MODULE_OF_NAME = {
    "GitHubReplayServer": "forge_status_pipeline.testing.github_server",
    "RecordedRequest": "forge_status_pipeline.testing.github_server",
    "generate_repos": "forge_status_pipeline.testing.generate",
    "serve_generated": "forge_status_pipeline.testing.generate",
}


def __getattr__(name: str) -> Any:
    module_name = _MODULE_OF_NAME.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module_name), name)
