"""Render the report as one self-contained HTML page (style and script inline, no other host)."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.render.text import (
    STATE_MARKS,
    STATE_WORDS,
    format_age,
    format_duration,
    format_utc,
    revision_summary,
    safe_url,
)

_environment = Environment(
    loader=PackageLoader("forge_status_pipeline.render", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters["safe_url"] = safe_url
_environment.filters["utc"] = format_utc
_environment.filters["duration"] = format_duration


def render_html(report: StatusReport) -> str:
    """Render the status page; every value from GitHub is escaped and only https URLs are links."""
    template = _environment.get_template("status_page.html.j2")
    return template.render(
        report=report,
        now=report.generated_at,
        age=format_age,
        summary=revision_summary,
        marks=STATE_MARKS,
        words=STATE_WORDS,
        repos={status.repo: status for status in report.repos},
    )
