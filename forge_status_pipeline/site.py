"""Write the status site folder: the page, the report in every format and its JSON Schema."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from forge_status_pipeline.badges import render_badge_json, render_badge_svg, render_repo_badges
from forge_status_pipeline.feeds import render_atom, render_cctray
from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.render import render_html, render_json, render_markdown, render_terminal

SITE_DIR_ENV_VAR = "FORGE_STATUS_SITE_DIR"
DEFAULT_SITE_DIR = "_site"


class EmptyRefreshError(RuntimeError):
    """A refresh that read no repo at all; publishing it would replace a good page with nothing."""


def default_site_dir() -> Path:
    return Path(os.environ.get(SITE_DIR_ENV_VAR) or DEFAULT_SITE_DIR)


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        # mkstemp creates the file readable by its owner only; published files are for everyone.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_publishable(report: StatusReport) -> None:
    """Raise EmptyRefreshError unless at least one configured repo was read."""
    if report.repos and not any(status.available for status in report.repos):
        reasons = ", ".join(f"{item.repo}: {item.reason}" for item in report.unavailable)
        raise EmptyRefreshError(
            f"no downstream repo could be read ({reasons}); site left unchanged"
        )


def status_schema() -> str:
    return json.dumps(StatusReport.model_json_schema(), indent=2, sort_keys=True) + "\n"


_RENDERERS: dict[str, Callable[[StatusReport], str]] = {
    "index.html": render_html,
    "status.json": render_json,
    "status.md": render_markdown,
    "status.txt": lambda report: render_terminal(report, width=100),
    "status.schema.json": lambda report: status_schema(),
    "badge.json": render_badge_json,
    "badge.svg": render_badge_svg,
    "cctray.xml": render_cctray,
    "feed.xml": render_atom,
}
# Renderers whose file names depend on the report, such as one badge per configured repo.
_FILE_SET_RENDERERS: list[Callable[[StatusReport], dict[str, str]]] = [render_repo_badges]


def site_files(report: StatusReport, only: Iterable[str] | None = None) -> dict[str, str]:
    """Return the site's file names and contents for ``report`` (all, or the names in ``only``)."""
    names = list(only) if only is not None else list(_RENDERERS)
    files = {name: _RENDERERS[name](report) for name in names}
    if only is None:
        for render_files in _FILE_SET_RENDERERS:
            files.update(render_files(report))
    return files


def write_site(report: StatusReport, site_dir: Path) -> dict[str, Path]:
    """Write every site file for ``report`` into ``site_dir``; refuse a refresh that read nothing."""
    check_publishable(report)
    written: dict[str, Path] = {}
    for name, text in site_files(report).items():
        path = site_dir / name
        write_atomic(path, text)
        written[name] = path
    return written
