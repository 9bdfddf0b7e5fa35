"""Render the report as GitHub-flavoured Markdown, for job summaries and ``status.md``."""

from __future__ import annotations

import re
from urllib.parse import quote

from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.render.text import (
    STATE_MARKS,
    format_utc,
    plain,
    revision_summary,
    safe_url,
    state_word,
)

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~&])")
# RFC 3986 reserved and unreserved characters, plus "%" so existing escapes stay as they are.
# Everything else, "|", "<", ">" and spaces included, is percent-encoded: an unescaped "|" ends
# a table cell even inside a link.
_URL_SAFE = "/:?#[]@!$&'()*+,;=%-._~"


def escape(text: str | None) -> str:
    """Make GitHub data literal in Markdown: one line, with every markup character escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", plain(text))


def link(text: str, url: str | None) -> str:
    safe = safe_url(url)
    if safe is None:
        return text
    return f"[{text}](<{quote(safe, safe=_URL_SAFE)}>)"


def render_markdown(report: StatusReport, *, max_revisions: int = 10) -> str:
    """Render a table per revision (newest ``max_revisions``) with links to runs and commits."""
    title = "Downstream build status"
    if report.generator:
        title += f" for {escape(report.generator)}"
    lines = [f"## {title}", "", f"*Last updated: {format_utc(report.generated_at)}*", ""]
    if report.site_url and safe_url(report.site_url):
        lines += [f"Status page: {link('open', report.site_url)}", ""]

    for item in report.unavailable:
        lines.append(
            f"- **{escape(item.repo)} unavailable** ({item.reason}): {escape(item.detail)}"
        )
    for repo_status in report.repos:
        if repo_status.stale and repo_status.available:
            lines.append(
                f"- **{escape(repo_status.repo)} is stale**: newest run "
                f"{format_utc(repo_status.newest_run_at)}"
            )
    for warning in report.warnings:
        lines.append(f"- {escape(warning)}")
    if lines[-1] != "":
        lines.append("")

    repos = {r.repo: r for r in report.repos}
    for revision in report.revisions[:max_revisions]:
        summary = revision_summary(revision.passing, revision.total, revision.pending)
        sha = link(f"`{revision.short_sha}`", revision.commit_url)
        heading = f"### Revision {sha} ({summary})"
        if revision.regressions:
            heading += f" — regression in {len(revision.regressions)}"
        lines += [heading, ""]
        if revision.subject:
            lines += [f"> {escape(revision.subject)}", ""]
        if revision.forge_run_url and safe_url(revision.forge_run_url):
            lines += [
                f"Generator run: {link(str(revision.forge_run_id or 'run'), revision.forge_run_url)}",
                "",
            ]
        lines += ["| SRAM | Slot | Status | Workflow | Commit |", "|---|---|---|---|---|"]
        runs_by_id = {run.run_id: run for run in revision.runs}
        for cell in revision.cells:
            info = repos.get(cell.repo)
            sram = link(
                escape(info.sram if info else cell.repo), info.actions_url if info else None
            )
            slot = escape(info.slot) if info else ""
            word = escape(state_word(cell.state, cell.label))
            if cell.regression:
                word += " (regression)"
            status = f"{STATE_MARKS[cell.state]} {word}"
            deciding = [runs_by_id[run_id] for run_id in cell.run_ids if run_id in runs_by_id]
            workflow = (
                ", ".join(
                    link(
                        f"{escape(run.workflow_name)} {escape(run.label.replace('_', ' '))}",
                        run.html_url,
                    )
                    for run in deciding
                )
                or "–"
            )
            commit = (
                link(f"`{deciding[0].head_sha[:7]}`", deciding[0].commit_url) if deciding else "–"
            )
            lines.append(f"| {sram} | {slot} | {status} | {workflow} | {commit} |")
        lines.append("")

    if report.unattributed:
        lines += [f"*{len(report.unattributed)} runs name no generator commit.*", ""]
    return "\n".join(lines)
