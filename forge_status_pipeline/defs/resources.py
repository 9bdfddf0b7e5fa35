"""Dagster resources: the GitHub client and where the pipeline keeps its files."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import ConfigurableResource, EnvVar
from pydantic import Field

from forge_status_pipeline.config import (
    ForgeConfig,
    InvalidSettingError,
    default_config_path,
    load_config,
)
from forge_status_pipeline.fetch import DEFAULT_CONCURRENCY
from forge_status_pipeline.github import DEFAULT_API_URL, GitHubClient, default_cache_dir
from forge_status_pipeline.site import default_site_dir
from forge_status_pipeline.store import StateStore


class GitHubResource(ConfigurableResource):  # type: ignore[type-arg]
    """GitHub's REST API, or any server that speaks it (``GITHUB_API_URL``)."""

    api_url: str = Field(default=DEFAULT_API_URL, description="Base URL of the REST API.")
    token: str | None = Field(
        default=None, description="Token for the API; public repos work without one."
    )
    concurrency: int = Field(default=DEFAULT_CONCURRENCY, description="Repos fetched at once.")
    cache_dir: str | None = Field(
        default=None, description="Folder for cached responses (default: see README)."
    )

    def client(self) -> GitHubClient:
        return GitHubClient(
            self.api_url, self.token, cache_dir=Path(self.cache_dir or default_cache_dir())
        )


class ForgeStatusPaths(ConfigurableResource):  # type: ignore[type-arg]
    """The config file, the folder for intermediate results and the site folder."""

    config_path: str | None = Field(default=None, description="downstream_repos.yaml to read.")
    state_dir: str | None = Field(default=None, description="Intermediate results folder.")
    site_dir: str | None = Field(default=None, description="Where the site is written.")

    def config(self) -> ForgeConfig:
        return load_config(Path(self.config_path) if self.config_path else default_config_path())

    def store(self) -> StateStore:
        return StateStore(Path(self.state_dir) if self.state_dir else default_cache_dir() / "state")

    def site(self) -> Path:
        return Path(self.site_dir) if self.site_dir else default_site_dir()


def _concurrency_from_env() -> int:
    value = os.environ.get("FORGE_STATUS_CONCURRENCY")
    if not value:
        return DEFAULT_CONCURRENCY
    if not value.isdigit() or not 1 <= int(value) <= 32:
        raise InvalidSettingError(
            f"FORGE_STATUS_CONCURRENCY={value!r} is not a whole number from 1 to 32"
        )
    return int(value)


def github_resource_from_env() -> GitHubResource:
    """Build the GitHub resource so the token is read through EnvVar at run time, never stored."""
    token_var = next((name for name in ("GITHUB_TOKEN", "GH_TOKEN") if os.environ.get(name)), None)
    return GitHubResource(
        api_url=os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL,
        token=EnvVar(token_var) if token_var else None,
        concurrency=_concurrency_from_env(),
    )
