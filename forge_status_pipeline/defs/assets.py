"""Software-defined assets: config, each repo's runs, the correlated runs, the report, the site."""

from collections.abc import Iterator, Sequence
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from forge_status_pipeline.badges import render_repo_badges
from forge_status_pipeline.config import DownstreamRepo, ForgeConfig
from forge_status_pipeline.defs.resources import ForgeStatusPaths, GitHubResource
from forge_status_pipeline.fetch import RepoRuns, iter_repo_runs
from forge_status_pipeline.site import check_publishable, site_files, write_atomic
from forge_status_pipeline.store import sanitized_name

CONFIG_KEY = AssetKey("downstream_repos_config")
CORRELATED_KEY = AssetKey("correlated_runs")
REPORT_KEY = AssetKey("status_report")


def repo_asset_keys(repos: Sequence[DownstreamRepo]) -> dict[str, AssetKey]:
    """Key each repo's runs asset as ``downstream_runs/<owner>__<name>``, unique even after
    characters outside ``[A-Za-z0-9_]`` became ``_``."""
    names = [sanitized_name(repo) for repo in repos]
    keys: dict[str, AssetKey] = {}
    for repo, name in zip(repos, names, strict=True):
        if names.count(name) > 1:
            from forge_status_pipeline.store import repo_slug

            name = repo_slug(repo)
        keys[repo.full_name] = AssetKey(["downstream_runs", name])
    return keys


CONFIG_DESCRIPTION = (
    "The downstream repos listed in downstream_repos.yaml, validated. A broken file fails with "
    "the file, line and field at fault, before any request to GitHub."
)


def _config_metadata(config: ForgeConfig) -> dict[str, Any]:
    return {
        "repos": len(config.repos),
        "generator": config.generator.full_name if config.generator else "not set",
        "lookback_revisions": config.lookback_revisions,
        "repo_list": MetadataValue.md("\n".join(f"- `{name}`" for name in config.repo_names)),
    }


def build_repo_runs_assets(config: ForgeConfig) -> AssetsDefinition:
    """Build one asset per downstream repo, all computed by one step that fetches them concurrently.

    Materializing a single repo's asset fetches only that repo; the others keep their latest runs.
    The config asset is computed by the same step, since each Dagster step has a fixed cost.
    There is no per-repo asset check: each would add two stored events per repo, which doubled
    a 200-repo run, and the report's ``all_repos_read`` check names every unreadable repo.
    """
    keys = repo_asset_keys(config.repos)
    by_key = {keys[repo.full_name]: repo for repo in config.repos}
    config_spec = AssetSpec(
        key=CONFIG_KEY,
        group_name="config",
        kinds={"yaml"},
        description=CONFIG_DESCRIPTION,
        skippable=True,
    )
    specs = [config_spec] + [
        AssetSpec(
            key=keys[repo.full_name],
            deps=[CONFIG_KEY],
            group_name="downstream_runs",
            kinds={"github"},
            description=(
                f"Workflow runs of {repo.full_name} ({repo.sram}, slot {repo.slot}), newest first, "
                "each tied to the generator commit named in its commit message."
            ),
            metadata={"repo": repo.full_name, "actions_url": MetadataValue.url(repo.actions_url)},
            skippable=True,
        )
        for repo in config.repos
    ]

    @multi_asset(
        name="downstream_runs",
        specs=specs,
        can_subset=True,
    )
    def downstream_runs(
        context: AssetExecutionContext, github: GitHubResource, paths: ForgeStatusPaths
    ) -> Iterator[MaterializeResult]:  # type: ignore[type-arg]
        if CONFIG_KEY in context.selected_asset_keys:
            # Definitions were built from the config file when the code location loaded; read
            # it again so the materialization shows the file as it is now.
            yield MaterializeResult(asset_key=CONFIG_KEY, metadata=_config_metadata(paths.config()))
        selected = [by_key[key] for key in by_key if key in context.selected_asset_keys]
        client = github.client()
        store = paths.store()
        fetched = 0
        unreadable: list[str] = []
        # Each repo is stored and reported as soon as it is read, while the rest are in flight.
        for result in iter_repo_runs(client, config, selected, concurrency=github.concurrency):
            store.save_repo_runs(result)
            fetched += 1
            if result.error is not None:
                unreadable.append(f"{result.repo.full_name} ({result.error.reason})")
            yield MaterializeResult(
                asset_key=keys[result.repo.full_name], metadata=_repo_metadata(result)
            )
        context.log.info(
            "fetched %d repos with %d requests (%d returned 304, free of rate limit)",
            fetched,
            client.stats.sent,
            client.stats.not_modified,
        )
        if unreadable:
            context.log.warning(
                "%d of %d repos could not be read: %s",
                len(unreadable),
                fetched,
                ", ".join(sorted(unreadable)),
            )

    return downstream_runs


def _repo_metadata(result: RepoRuns) -> dict[str, Any]:
    attributed = sum(1 for run in result.runs if run.forge_sha)
    metadata: dict[str, Any] = {
        "repo": result.repo.full_name,
        "available": result.available,
        "runs": len(result.runs),
        "attributed_runs": attributed,
        "pages": result.pages,
    }
    if result.error is not None:
        metadata["reason"] = result.error.reason
        metadata["detail"] = result.error.detail
    if result.renamed_to:
        metadata["renamed_to"] = result.renamed_to
    return metadata


# Each rendered output is an asset of its own, written into the site folder: its files, kinds
# and what it is for.
SITE_OUTPUTS: dict[str, tuple[tuple[str, ...], set[str], str]] = {
    "status_page": (("index.html",), {"html"}, "The interactive status page people open."),
    "status_json": (
        ("status.json", "status.schema.json"),
        {"json"},
        "The report as JSON, for scripts and dashboards, with its JSON Schema.",
    ),
    "status_markdown": (("status.md",), {"markdown"}, "The report as Markdown, for job summaries."),
    "status_text": (
        ("status.txt",),
        {"text"},
        "The report as plain text, as the terminal shows it.",
    ),
    "status_badges_and_feeds": (
        ("badge.json", "badge.svg", "cctray.xml", "feed.xml"),
        {"json", "svg", "xml"},
        "The newest revision's state as a shields.io endpoint and an SVG badge, each repo's "
        "newest build for cctray build monitors, an Atom feed with one entry per generator "
        "revision, and one shields.io endpoint per repo in badges/.",
    ),
}
SITE_KEYS = [AssetKey(name) for name in SITE_OUTPUTS]
BADGES_AND_FEEDS_KEY = AssetKey("status_badges_and_feeds")


def build_site_output_assets() -> list[AssetsDefinition]:
    """Build the rendered outputs, one asset each, written by one step so a full run stays quick.

    Each output can still be materialized on its own. None is written when no repo could be
    read, so a failed refresh never replaces a good page.
    """
    specs = [
        AssetSpec(
            key=AssetKey(name),
            deps=[REPORT_KEY],
            group_name="site",
            kinds=kinds,
            description=f"{purpose} Written to {', '.join(file_names)} in the site folder.",
            metadata={"files": ", ".join(file_names)},
            skippable=True,
        )
        for name, (file_names, kinds, purpose) in SITE_OUTPUTS.items()
    ]

    @multi_asset(name="status_site", specs=specs, can_subset=True)
    def status_site(
        context: AssetExecutionContext, paths: ForgeStatusPaths
    ) -> Iterator[MaterializeResult]:  # type: ignore[type-arg]
        report = paths.store().load_report()
        check_publishable(report)
        site_dir = paths.site()
        for key in SITE_KEYS:
            if key not in context.selected_asset_keys:
                continue
            file_names = SITE_OUTPUTS[key.path[-1]][0]
            files = site_files(report, only=file_names)
            if key == BADGES_AND_FEEDS_KEY:
                files.update(render_repo_badges(report))
            for name, text in files.items():
                write_atomic(site_dir / name, text)
            main_file = site_dir / file_names[0]
            context.log.info("wrote %s in %s", ", ".join(sorted(files)), site_dir)
            yield MaterializeResult(
                asset_key=key,
                metadata={
                    "path": MetadataValue.path(str(main_file.resolve())),
                    "bytes": main_file.stat().st_size,
                    "files": len(files),
                    "revisions": len(report.revisions),
                },
            )

    return [status_site]
