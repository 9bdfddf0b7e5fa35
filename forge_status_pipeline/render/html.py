"""Render the report as one self-contained HTML page (style and script inline, no other host).

Everything from GitHub is escaped by Jinja's autoescape or, in the embedded JSON, by
``script_json``; only https URLs become links. The Content-Security-Policy names the page's
one script and one style sheet by their SHA-256 hashes and allows nothing else to load or run.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib.resources import files

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.render.page_data import page_data, script_json
from forge_status_pipeline.render.page_model import (
    PAGE_MARKS,
    PAGE_WORDS,
    build_page_view,
    repo_refs,
)
from forge_status_pipeline.render.text import format_duration, format_utc, safe_url

_environment = Environment(
    loader=PackageLoader("forge_status_pipeline.render", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters["safe_url"] = safe_url
_environment.filters["utc"] = format_utc
_environment.filters["duration"] = format_duration

# The page's script, in the order the parts depend on each other.
SCRIPT_PARTS = ("page_core.js", "page_runs.js", "page_grid.js", "page_state.js")


@cache
def page_asset(name: str) -> str:
    """Read a file of ``render/static``; it is inlined verbatim, so it must not close its element."""
    text = files("forge_status_pipeline.render").joinpath("static", name).read_text("utf-8")
    for sequence in ("</", "<!--", "<script"):
        if sequence in text.lower():
            raise ValueError(
                f"static/{name} contains {sequence!r}, which breaks its inline element"
            )
    return text


def page_script() -> str:
    """Join the script's parts into one strict-mode function, so they share one private scope."""
    parts = "\n".join(page_asset(name) for name in SCRIPT_PARTS)
    return f'(() => {{\n"use strict";\n\n{parts}}})();\n'


def csp_hash(source: str) -> str:
    """Return the CSP source expression that allows exactly this inline script or style."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(script: str, style: str) -> str:
    """Allow the page's own script and style, and no fetch, image, frame, form or base URL."""
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {csp_hash(script)}",
            f"style-src {csp_hash(style)}",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def render_html(report: StatusReport) -> str:
    """Render the status page for ``report``; the same report always gives the same bytes."""
    script = page_script()
    style = page_asset("page.css")
    view = build_page_view(report)
    data = page_data(report, repo_refs(report))
    template = _environment.get_template("status_page.html.j2")
    return template.render(
        page=view,
        words=PAGE_WORDS,
        marks=PAGE_MARKS,
        csp=content_security_policy(script, style),
        script=Markup(script),  # noqa: S704 - a file of this package, checked by page_asset
        style=Markup(style),  # noqa: S704 - a file of this package, checked by page_asset
        data_json=Markup(script_json(data)),  # noqa: S704 - escaped by script_json
    )
