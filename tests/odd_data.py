"""Build small, unusual GitHub data sets for the odd-data tests and run both pipeline paths on them.

Runs are plain dicts shaped like GitHub's ``workflow-run`` objects, with only the fields the
pipeline reads. Everything is served by the loopback replay server.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from forge_status_pipeline.cli import main
from forge_status_pipeline.config import parse_config
from forge_status_pipeline.correlation import parse_timestamp
from forge_status_pipeline.demo import materialize_command, pipeline_environment
from forge_status_pipeline.github import GitHubClient
from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.pipeline import refresh_report
from forge_status_pipeline.testing.github_server import GitHubReplayServer

OWNER = "odd-owner"
GENERATOR_OWNER = "mithro"
GENERATOR_NAME = "gf180mcu-sram-forge"
FIXED_NOW = "2026-12-05T06:00:00Z"
WORKFLOW_PATH = ".github/workflows/ci.yml"


def sha_of(text: str) -> str:
    """Return a stable 40-hex sha for ``text``."""
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def bot_message(forge_sha: str, forge_run_id: int = 7000, subject: str = "Regenerate") -> str:
    """Write a downstream commit message as the generator's bot does."""
    return (
        f"{subject}\n\n"
        f"Source commit: {forge_sha}\n"
        f"Workflow run: https://github.com/{GENERATOR_OWNER}/{GENERATOR_NAME}"
        f"/actions/runs/{forge_run_id}\n"
    )


def make_run(
    run_id: int,
    repo: str,
    forge_sha: str,
    *,
    status: str = "completed",
    conclusion: str | None = "success",
    created_at: str = "2026-12-04T12:00:00Z",
    updated_at: str | None = None,
    commit_timestamp: str | None = None,
    name: str = "CI",
    head_branch: str = "main",
    html_url: str | None = None,
    subject: str = "Regenerate",
    workflow_id: int = 1,
) -> dict[str, Any]:
    """Build one workflow run of ``repo`` (owner/name) whose commit names ``forge_sha``."""
    head_sha = sha_of(f"{repo}@{forge_sha}")
    return {
        "id": run_id,
        "name": name,
        "head_branch": head_branch,
        "head_sha": head_sha,
        "path": WORKFLOW_PATH if workflow_id == 1 else f".github/workflows/w{workflow_id}.yml",
        "run_number": run_id,
        "event": "push",
        "status": status,
        "conclusion": conclusion,
        "workflow_id": workflow_id,
        "html_url": html_url or f"https://github.com/{repo}/actions/runs/{run_id}",
        "created_at": created_at,
        "updated_at": updated_at or created_at,
        "run_started_at": created_at,
        "run_attempt": 1,
        "head_commit": {
            "id": head_sha,
            "message": bot_message(forge_sha, subject=subject),
            "timestamp": commit_timestamp or created_at,
        },
    }


def repo_entry(name: str, *, sram: str | None = None, slot: str = "1x1") -> dict[str, str]:
    """Build one ``repos`` entry of the config file."""
    return {
        "name": name,
        "owner": OWNER,
        "sram": sram or name,
        "slot": slot,
        "config": f"examples/{name}.yaml",
        "deploy_key_secret": "DEPLOY_KEY",
    }


@dataclass
class OddCase:
    """A config and the runs the replay server serves for it."""

    entries: list[dict[str, str]]
    runs: dict[str, list[dict[str, Any]]]
    generator_commits: dict[str, dict[str, Any]] = field(default_factory=dict)

    def config_text(self) -> str:
        data: dict[str, Any] = {"repos": self.entries}
        if self.generator_commits:
            data = {"generator": {"owner": GENERATOR_OWNER, "name": GENERATOR_NAME}, **data}
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)

    def write_config(self, path: Path) -> Path:
        path.write_text(self.config_text(), encoding="utf-8")
        return path

    def serve(self, server: GitHubReplayServer) -> None:
        for entry in self.entries:
            full_name = f"{entry['owner']}/{entry['name']}"
            server.add_repo(entry["owner"], entry["name"], runs=self.runs.get(full_name, []))
        if self.generator_commits:
            server.add_repo(
                GENERATOR_OWNER, GENERATOR_NAME, runs=[], commits=self.generator_commits
            )


def generator_commit(sha: str, message: str, html_url: str | None = None) -> dict[str, Any]:
    """Build a single-commit object of the generator repository."""
    return {
        "sha": sha,
        "html_url": html_url
        or f"https://github.com/{GENERATOR_OWNER}/{GENERATOR_NAME}/commit/{sha}",
        "commit": {"message": message},
    }


def cli_status(config_path: Path, server_url: str, *args: str) -> tuple[int, str, str]:
    """Run ``forge-status status`` in this process, piped, and return code, stdout, stderr."""
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["status", "--config", str(config_path), *args],
        env={"GITHUB_API_URL": server_url, "FORGE_STATUS_NOW": FIXED_NOW, "NO_COLOR": None},
    )
    return result.exit_code, result.stdout, result.stderr


def dagster_environment(tmp_path: Path, config_path: Path, server_url: str) -> dict[str, str]:
    """Return an environment that keeps a Dagster run's files in ``tmp_path / "dagster"``."""
    work_dir = tmp_path / "dagster"
    return pipeline_environment(
        server_url, config_path, work_dir, site_dir=work_dir / "site", now=FIXED_NOW
    )


def dagster_status_json(tmp_path: Path, config_path: Path, server_url: str) -> dict[str, Any]:
    """Materialize every asset in a subprocess and return the status.json it wrote."""
    command = materialize_command()
    env = dagster_environment(tmp_path, config_path, server_url)
    completed = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240, check=False
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    text = (tmp_path / "dagster" / "site" / "status.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def report_from_server(case: OddCase, server: GitHubReplayServer) -> StatusReport:
    """Serve ``case`` and build its report over HTTP, as ``forge-status status`` does."""
    case.serve(server)
    config = parse_config(case.config_text(), Path("odd.yaml"))
    client = GitHubClient(server.url, sleep=lambda _seconds: None)
    return refresh_report(config, client, concurrency=2, now=parse_timestamp(FIXED_NOW))


def without_generated_at(report: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in report.items() if key != "generated_at"}


# The cases. Each repo's name says what its runs hold, so a failing assert names the input.

CONCLUSIONS = [
    "success",
    "failure",
    "cancelled",
    "timed_out",
    "startup_failure",
    "action_required",
    "neutral",
    "skipped",
    "stale",
]


def conclusions_case() -> OddCase:
    """Nine repos built at one revision, all completed, one per documented conclusion."""
    forge_sha = sha_of("conclusions")
    entries = [repo_entry(f"chip-{c.replace('_', '-')}", sram=f"s-{c}") for c in CONCLUSIONS]
    runs = {
        f"{OWNER}/{entry['name']}": [
            make_run(100 + index, f"{OWNER}/{entry['name']}", forge_sha, conclusion=conclusion)
        ]
        for index, (entry, conclusion) in enumerate(zip(entries, CONCLUSIONS, strict=True))
    }
    return OddCase(entries, runs)


# (repo name, status, conclusion as GitHub sent it)
UNFINISHED = [
    ("chip-done", "completed", "success"),
    ("chip-running", "in_progress", None),
    ("chip-pending", "pending", None),
    ("chip-waiting", "waiting", ""),
    ("chip-new-status", "deferred_by_policy", None),
]


def unfinished_case() -> OddCase:
    """Five repos at one revision: one passed, three unfinished, one in an undocumented status."""
    forge_sha = sha_of("unfinished")
    entries = [repo_entry(name) for name, _status, _conclusion in UNFINISHED]
    runs = {
        f"{OWNER}/{name}": [
            make_run(
                200 + index,
                f"{OWNER}/{name}",
                forge_sha,
                status=status,
                conclusion=conclusion,
            )
        ]
        for index, (name, status, conclusion) in enumerate(UNFINISHED)
    }
    return OddCase(entries, runs)


BRANCH_MARKUP = "<img src=x onerror=alert(1)>"
WORKFLOW_MARKUP = 'deploy" onmouseover="alert(2)'
SUBJECT_MARKUP = "</td><script>alert(3)</script>"
URL_MARKUP = "javascript:alert(4)"
SRAM_MARKUP = "u8 <b>&'x'</b>"
SLOT_MARKUP = "0p5 & 'q'"
# A real https link whose "|" and spaces must not end a Markdown table cell.
PIPE_URL = "https://example.com/runs/a|b c"
# Terminal escapes: recolour, clear screen, set the window title, 8-bit CSI, carriage return,
# backspace and a right-to-left override.
TERMINAL_ESCAPES = "\x1b[5;41m\x1b[2J\x1b]0;owned\x07\x9b31m\r\x08\u202e"


def markup_case() -> OddCase:
    """One repo whose names, subjects and links are markup, table syntax and terminal escapes."""
    forge_sha = sha_of("markup")
    full_name = f"{OWNER}/chip-markup"
    entry = repo_entry("chip-markup", sram=SRAM_MARKUP + TERMINAL_ESCAPES, slot=SLOT_MARKUP)
    runs = [
        make_run(
            303,
            full_name,
            forge_sha,
            name=WORKFLOW_MARKUP + " | second\ncell" + TERMINAL_ESCAPES,
            html_url=URL_MARKUP,
            subject=SUBJECT_MARKUP,
        ),
        make_run(302, full_name, forge_sha, name="docs | build", workflow_id=2, html_url=PIPE_URL),
        make_run(301, full_name, forge_sha, head_branch=BRANCH_MARKUP, conclusion="failure"),
    ]
    message = SUBJECT_MARKUP + " | x" + TERMINAL_ESCAPES + "\n\nSecond line"
    commits = {forge_sha: generator_commit(forge_sha, message)}
    return OddCase([entry], {full_name: runs}, commits)


class PageParser(HTMLParser):
    """Collect a page's elements, the text of each list item and table row, and its scripts."""

    BLOCKS = ("li", "tr")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.blocks: list[str] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.text: list[str] = []
        self._open_blocks: list[tuple[str, list[str]]] = []
        self._script: tuple[dict[str, str | None], list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag in self.BLOCKS:
            self._open_blocks.append((tag, []))
        if tag == "script":
            self._script = (dict(attrs), [])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script[0], "".join(self._script[1])))
            self._script = None
        if tag in self.BLOCKS:
            for index in range(len(self._open_blocks) - 1, -1, -1):
                if self._open_blocks[index][0] == tag:
                    self.blocks.append("".join(self._open_blocks.pop(index)[1]))
                    break

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script[1].append(data)
            return
        self.text.append(data)
        for _tag, parts in self._open_blocks:
            parts.append(data)


def parse_page(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    return parser


def table_cells(row: str) -> list[str]:
    """Split a Markdown table row on its unescaped pipes, as GitHub does, and unescape each cell."""
    cells: list[str] = []
    current = ""
    index = 0
    while index < len(row):
        char = row[index]
        if char == "\\" and index + 1 < len(row):
            current += row[index + 1]
            index += 2
            continue
        if char == "|":
            cells.append(current)
            current = ""
        else:
            current += char
        index += 1
    cells.append(current)
    # A row starts and ends with a pipe, which leaves an empty piece at each end.
    return [cell.strip() for cell in cells[1:-1]]


def table_rows(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("|")]
