"""Asset checks on the status report, computed by the pure verdicts in ``verdicts.py``.

None of them blocks anything: a regression is exactly what the page must show, so a failing
check never stops the site from being written. The severity gives a failure's urgency: ERROR
for a new regression, WARN for the rest.
"""

from collections.abc import Iterator

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    MetadataValue,
    multi_asset_check,
)

from forge_status_pipeline.defs.assets import REPORT_KEY
from forge_status_pipeline.defs.resources import ForgeStatusPaths
from forge_status_pipeline.verdicts import VERDICTS, Verdict

CHECK_DESCRIPTIONS = {
    "newest_revision_passing": (
        "The newest generator revision passes in every repo rebuilt from it. Builds still "
        "running do not fail it. Severity WARN: a repo may have been failing before this revision."
    ),
    "no_new_regressions": (
        "No repo's newest build fails where its previous decided build passed. Severity ERROR: "
        "a generator commit broke a downstream build. Does not block the site, which shows it."
    ),
    "all_repos_read": (
        "GitHub returned every configured repo's runs (it exists, the token can read it, no rate "
        "limit). Severity WARN: the page marks unreadable repos and keeps the rest."
    ),
    "no_stale_repos": (
        "Every readable repo ran a build within stale_after_hours of the report. Severity WARN: "
        "the repo's status may be out of date."
    ),
}


def verdict_result(verdict: Verdict, check_name: str) -> AssetCheckResult:
    """Turn a verdict into a check result whose metadata names the repos and revisions."""
    return AssetCheckResult(
        asset_key=REPORT_KEY,
        check_name=check_name,
        passed=verdict.passed,
        severity=AssetCheckSeverity(verdict.severity),
        description=verdict.summary,
        metadata={
            "summary": verdict.summary,
            "repos": MetadataValue.json(verdict.repos),
            "revisions": MetadataValue.json(verdict.revisions),
            "details": MetadataValue.json(verdict.details),
        },
    )


def build_report_checks() -> list[AssetChecksDefinition]:
    """Build the four report checks, evaluated in one step since each reads the same report file.

    Each can still be run on its own from the UI: the step evaluates only the selected checks.
    """
    specs = [
        AssetCheckSpec(name, asset=REPORT_KEY, description=CHECK_DESCRIPTIONS[name], blocking=False)
        for name in VERDICTS
    ]

    @multi_asset_check(specs=specs, can_subset=True, name="status_report_checks")
    def status_report_checks(
        context: AssetCheckExecutionContext, paths: ForgeStatusPaths
    ) -> Iterator[AssetCheckResult]:
        report = paths.store().load_report()
        for check_key in context.selected_asset_check_keys:
            verdict = VERDICTS[check_key.name](report)
            yield verdict_result(verdict, check_key.name)

    return [status_report_checks]
