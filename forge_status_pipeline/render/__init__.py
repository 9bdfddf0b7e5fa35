"""Renderers for the status report: terminal, Markdown, JSON and HTML."""

from __future__ import annotations

from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.render.html import render_html
from forge_status_pipeline.render.markdown import render_markdown
from forge_status_pipeline.render.terminal import render_terminal

FORMATS = ("terminal", "md", "json", "html")


def render_json(report: StatusReport) -> str:
    return report.model_dump_json(indent=2) + "\n"


def render(
    report: StatusReport, output_format: str, *, width: int = 80, colour: bool = False
) -> str:
    """Render ``report`` in one of ``FORMATS``."""
    if output_format == "terminal":
        return render_terminal(report, width=width, colour=colour)
    if output_format == "md":
        return render_markdown(report)
    if output_format == "json":
        return render_json(report)
    if output_format == "html":
        return render_html(report)
    raise ValueError(f"unknown format {output_format!r}; choose one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "render", "render_html", "render_json", "render_markdown", "render_terminal"]
