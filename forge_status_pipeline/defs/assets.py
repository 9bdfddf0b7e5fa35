"""Software-defined assets: config, each repo's runs, the correlated runs, the report, the site."""

from collections.abc import Iterator, Sequence
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from forge_status_pipeline.badges import REPO_BADGE_DIR, render_repo_badges
from forge_status_pipeline.config import DownstreamRepo, ForgeConfig
from forge_status_pipeline.defs.resources import ForgeStatusPaths, GitHubResource
from forge_status_pipeline.fetch import RepoRuns, fetch_all_runs, fetch_generator_commits
from forge_status_pipeline.pipeline import current_time
from forge_status_pipeline.render import render_markdown
from forge_status_pipeline.render.text import revision_summary
from forge_status_pipeline.report import build_report
from forge_status_pipeline.site import check_publishable, site_files, status_schema, write_atomic
from forge_status_pipeline.store import sanitized_name

CONFIG_KEY = AssetKey("downstream_repos_config")
CORRELATED_KEY = AssetKey("correlated_runs")
REPORT_KEY = AssetKey("status_report")
READABLE_CHECK = "repo_readable"


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


@asset(key=CONFIG_KEY, group_name="config", kinds={"yaml"})
def downstream_repos_config(paths: ForgeStatusPaths) -> MaterializeResult:  # type: ignore[type-arg]
    """The downstream repos listed in downstream_repos.yaml, validated.

    A broken file fails here with the file, line and field at fault, before any request to GitHub.
    """
    config = paths.config()
    return MaterializeResult(
        metadata={
            "repos": len(config.repos),
            "generator": config.generator.full_name if config.generator else "not set",
            "lookback_revisions": config.lookback_revisions,
            "repo_list": MetadataValue.md("\n".join(f"- `{name}`" for name in config.repo_names)),
        }
    )


def build_repo_runs_assets(config: ForgeConfig) -> AssetsDefinition:
    """One asset per downstream repo, computed by one step that fetches the selected repos concurrently.

    Materializing a single repo's asset fetches only that repo; the others keep their latest runs.
    """
    keys = repo_asset_keys(config.repos)
    by_key = {keys[repo.full_name]: repo for repo in config.repos}
    specs = [
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
    check_specs = [
        AssetCheckSpec(
            READABLE_CHECK,
            asset=key,
            description="GitHub answered for this repo: it exists, the token can read it, no rate limit.",
        )
        for key in by_key
    ]

    @multi_asset(
        name="downstream_runs",
        specs=specs,
        check_specs=check_specs,
        can_subset=True,
    )
    def downstream_runs(
        context: AssetExecutionContext, github: GitHubResource, paths: ForgeStatusPaths
    ) -> Iterator[MaterializeResult | AssetCheckResult]:  # type: ignore[type-arg]
        selected = [by_key[key] for key in by_key if key in context.selected_asset_keys]
        client = github.client()
        results = fetch_all_runs(client, config, selected, concurrency=github.concurrency)
        store = paths.store()
        for result in results:
            key = keys[result.repo.full_name]
            store.save_repo_runs(result)
            yield MaterializeResult(asset_key=key, metadata=_repo_metadata(result))
            yield AssetCheckResult(
                asset_key=key,
                check_name=READABLE_CHECK,
                passed=result.available,
                severity=AssetCheckSeverity.WARN,
                metadata={
                    "repo": result.repo.full_name,
                    "reason": result.error.reason if result.error else "ok",
                    "detail": result.error.detail if result.error else "",
                },
            )
        context.log.info(
            "fetched %d repos with %d requests (%d answered 304, free of rate limit)",
            len(results),
            client.stats.sent,
            client.stats.not_modified,
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


def build_correlated_runs_asset(config: ForgeConfig) -> AssetsDefinition:
    repo_keys = list(repo_asset_keys(config.repos).values())

    @asset(key=CORRELATED_KEY, deps=repo_keys, group_name="report", kinds={"python"})
    def correlated_runs(
        context: AssetExecutionContext, github: GitHubResource, paths: ForgeStatusPaths
    ) -> MaterializeResult:  # type: ignore[type-arg]
        """Every repo's latest runs side by side, with the generator commit each names.

        Also looks up each generator commit's subject line once; commits never change, so the
        cache answers repeat lookups without a request.
        """
        store = paths.store()
        results = [_load_or_missing(store, repo) for repo in config.repos]
        commits = {}
        if config.generator is not None:
            shas = {run.forge_sha for result in results for run in result.runs if run.forge_sha}
            commits = fetch_generator_commits(
                github.client(), config.generator, shas, concurrency=github.concurrency
            )
        store.save_generator_commits(commits)
        runs = [run for result in results for run in result.runs]
        return MaterializeResult(
            metadata={
                "runs": len(runs),
                "attributed_runs": sum(1 for run in runs if run.forge_sha),
                "generator_commits": len({run.forge_sha for run in runs if run.forge_sha}),
                "unavailable_repos": sum(1 for result in results if not result.available),
            }
        )

    return correlated_runs


def _load_or_missing(store, repo: DownstreamRepo) -> RepoRuns:  # type: ignore[no-untyped-def]
    from forge_status_pipeline.models import UnavailableRepo

    loaded = store.load_repo_runs(repo)
    if loaded is not None:
        return loaded  # type: ignore[no-any-return]
    return RepoRuns(
        repo=repo,
        error=UnavailableRepo(
            repo=repo.full_name, reason="error", detail="never fetched; materialize its runs asset"
        ),
    )


def build_report_asset(config: ForgeConfig) -> AssetsDefinition:
    @asset(key=REPORT_KEY, deps=[CORRELATED_KEY], group_name="report", kinds={"python"})
    def status_report(paths: ForgeStatusPaths) -> MaterializeResult:  # type: ignore[type-arg]
        """Runs grouped by generator commit, newest first, with passing/total and regressions.

        This is what the page, the checks and the notifications read.
        """
        store = paths.store()
        results = [_load_or_missing(store, repo) for repo in config.repos]
        report = build_report(
            config,
            results,
            generated_at=current_time(),
            generator_commits=store.load_generator_commits(),
        )
        store.save_report(report)
        latest = report.latest
        metadata: dict[str, Any] = {
            "revisions": len(report.revisions),
            "unattributed_runs": len(report.unattributed),
            "unavailable_repos": len(report.unavailable),
            "overall": report.overall_state,
            "report": MetadataValue.md(render_markdown(report, max_revisions=5)),
        }
        if latest is not None:
            metadata["newest_revision"] = latest.forge_sha
            metadata["summary"] = revision_summary(latest.passing, latest.total, latest.pending)
        if config.site_url:
            metadata["page"] = MetadataValue.url(config.site_url)
        return MaterializeResult(metadata=metadata)

    return status_report


# Each rendered output is an asset of its own, written into the site folder.
SITE_OUTPUTS: dict[str, tuple[str, str, str]] = {
    "status_page": ("index.html", "html", "The interactive status page people open."),
    "status_json": ("status.json", "json", "The report as JSON, for scripts and dashboards."),
    "status_markdown": ("status.md", "markdown", "The report as Markdown, for job summaries."),
    "status_text": ("status.txt", "text", "The report as plain text, as the terminal shows it."),
    "status_badge": ("badge.json", "json", "The newest revision's state as a shields.io endpoint."),
    "status_badge_svg": ("badge.svg", "svg", "The newest revision's state as an SVG badge."),
    "status_cctray": ("cctray.xml", "xml", "Each repo's newest build, for cctray build monitors."),
    "status_feed": ("feed.xml", "xml", "An Atom feed with one entry per generator revision."),
}
SITE_KEYS = [AssetKey(name) for name in SITE_OUTPUTS]


def build_site_output_assets() -> list[AssetsDefinition]:
    """The rendered outputs, one asset each, written by one step so a full run stays quick.

    Each output can still be materialized on its own. None is written when no repo could be
    read, so a failed refresh never replaces a good page.
    """
    specs = [
        AssetSpec(
            key=AssetKey(name),
            deps=[REPORT_KEY],
            group_name="site",
            kinds={kind},
            description=f"{purpose} Written to {file_name} in the site folder.",
            metadata={"file_name": file_name},
            skippable=True,
        )
        for name, (file_name, kind, purpose) in SITE_OUTPUTS.items()
    ]

    @multi_asset(name="status_site", specs=specs, can_subset=True)
    def status_site(
        context: AssetExecutionContext, paths: ForgeStatusPaths
    ) -> Iterator[MaterializeResult]:  # type: ignore[type-arg]
        report = paths.store().load_report()
        check_publishable(report)
        site_dir = paths.site()
        selected = [
            (key, SITE_OUTPUTS[key.path[-1]][0])
            for key in SITE_KEYS
            if key in context.selected_asset_keys
        ]
        files = site_files(report, only=[file_name for _key, file_name in selected])
        for key, file_name in selected:
            path = site_dir / file_name
            write_atomic(path, files[file_name])
            if file_name == "status.json":
                write_atomic(site_dir / "status.schema.json", status_schema())
            context.log.info("wrote %s (%d bytes)", path, path.stat().st_size)
            yield MaterializeResult(
                asset_key=key,
                metadata={
                    "path": MetadataValue.path(str(path.resolve())),
                    "bytes": path.stat().st_size,
                    "revisions": len(report.revisions),
                },
            )

    return [status_site, repo_badges]


@asset(key=AssetKey("repo_badges"), deps=[REPORT_KEY], group_name="site", kinds={"json"})
def repo_badges(context: AssetExecutionContext, paths: ForgeStatusPaths) -> MaterializeResult:  # type: ignore[type-arg]
    """One shields.io endpoint per downstream repo, in badges/<owner>__<name>.json.

    Each shows the repo's newest build, for a badge per chip in a README. None is written when
    no repo could be read.
    """
    report = paths.store().load_report()
    check_publishable(report)
    site_dir = paths.site()
    files = render_repo_badges(report)
    for name, text in files.items():
        write_atomic(site_dir / name, text)
    folder = site_dir / REPO_BADGE_DIR
    context.log.info("wrote %d repo badges to %s", len(files), folder)
    return MaterializeResult(
        metadata={"badges": len(files), "path": MetadataValue.path(str(folder.resolve()))}
    )
