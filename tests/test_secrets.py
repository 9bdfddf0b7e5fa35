"""The GitHub token never shows up in output, logs, exceptions, files or Dagster's records.

One test drives every way the pipeline runs: the CLI in every format, the site writer and a
Dagster run of all assets. The replay server requires the token and injects failures. Then the
test searches everything that was printed, logged or written.
"""

from __future__ import annotations

import base64
import logging
import sqlite3
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from dagster import DagsterInstance
from dagster._serdes import serialize_value

from forge_status_pipeline.cli import main
from forge_status_pipeline.config import ForgeConfig
from forge_status_pipeline.definitions import build_definitions
from forge_status_pipeline.github import GitHubClient
from forge_status_pipeline.pipeline import refresh_report
from forge_status_pipeline.site import write_site
from forge_status_pipeline.testing.github_server import GitHubReplayServer

# Distinctive, and unlike a real token's format so no secret scanner mistakes it for one.
TOKEN = "forge-status-test-token-3e9c7a51d0b2"
CONFIG_PATH = Path(__file__).resolve().parent.parent / "downstream_repos.yaml"
U8B3K_RUNS = "^/repos/mithro/gf180mcu-ic-0p5x0p5-sram-u8b3k/actions/runs$"
U8B8K_RUNS = "^/repos/mithro/gf180mcu-ic-0p5x1-sram-u8b8k/actions/runs$"
U8B9K_RUNS = "^/repos/mithro/gf180mcu-ic-1x0p5-sram-u8b9k/actions/runs$"
U8B24K_RUNS = "^/repos/mithro/gf180mcu-ic-1x1-sram-u8b24k/actions/runs$"
GENERATOR_COMMIT = "^/repos/mithro/gf180mcu-sram-forge/commits/ce7b0f5"


def token_forms() -> list[bytes]:
    """Return the token as written and base64-encoded at each of the three byte alignments."""
    forms = [TOKEN.encode()]
    for prefix in (b"", b"x", b"xx"):
        encoded = base64.b64encode(prefix + TOKEN.encode())
        # Skip the characters that depend on the prefix and on the padding.
        start = {0: 0, 1: 4, 2: 4}[len(prefix)]
        forms.append(encoded[start : len(encoded) - 4])
    return forms


def inject_failures(server: GitHubReplayServer) -> None:
    """Make every kind of failure happen once more: 401, 403, 500, a timeout and a drop."""
    server.inject(U8B8K_RUNS, status=401, body={"message": "Bad credentials"}, times=None)
    server.inject(GENERATOR_COMMIT, status=403, body={"message": "Must have admin rights"})
    server.inject(U8B9K_RUNS, status=500, times=1)
    server.inject_delay(U8B3K_RUNS, 1.0, times=1)
    server.drop_connection(U8B24K_RUNS, times=1)


@pytest.fixture
def quick_client_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every client built by the CLI or Dagster skip real back-off sleeps and time out fast.

    Only the timing options change; the client still talks real HTTP to the replay server.
    """
    original = GitHubClient.__init__

    def quick_init(self: GitHubClient, *args: Any, **options: Any) -> None:
        options.setdefault("sleep", lambda _seconds: None)
        options.setdefault("read_timeout", 0.3)
        original(self, *args, **options)

    monkeypatch.setattr(GitHubClient, "__init__", quick_init)


@pytest.fixture
def secret_server(snapshot_dir: Path) -> Iterator[GitHubReplayServer]:
    with GitHubReplayServer(snapshot_dir, expected_token=TOKEN) as server:
        # A moved repo, so redirects are followed and cached too.
        server.rename_repo("mithro", "gf180mcu-ic-1x1-sram-u8b24k", "mithro", "ic-1x1-u8b24k")
        yield server


def sqlite_texts(path: Path) -> Iterator[bytes]:
    """Yield every text and blob value of every table, zlib-decompressed where possible."""
    connection = sqlite3.connect(path)
    try:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
        for table in tables:
            try:
                rows = connection.execute(f'SELECT * FROM "{table}"').fetchall()
            except sqlite3.DatabaseError:
                continue
            for row in rows:
                for value in row:
                    if isinstance(value, str):
                        yield value.encode()
                    elif isinstance(value, bytes):
                        yield value
                        try:
                            yield zlib.decompress(value)
                        except zlib.error:
                            pass
    finally:
        connection.close()


def files_containing_token(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        contents = [path.read_bytes()]
        if contents[0].startswith(b"SQLite format 3"):
            contents.extend(sqlite_texts(path))
        if any(form in content for content in contents for form in token_forms()):
            found.append(str(path.relative_to(root)))
    return found


def test_token_never_leaks(
    secret_server: GitHubReplayServer,
    config: ForgeConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    quick_client_defaults: None,
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    dagster_home = tmp_path / "dagster-home"
    dagster_home.mkdir()
    env = {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": secret_server.url,
        "FORGE_STATUS_CONFIG": str(CONFIG_PATH),
        "FORGE_STATUS_CACHE_DIR": str(tmp_path / "cache"),
        "FORGE_STATUS_SITE_DIR": str(tmp_path / "site"),
        "FORGE_STATUS_NOW": "2025-12-16T02:10:00Z",
        "DAGSTER_HOME": str(dagster_home),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    outputs: list[str] = []

    # The CLI, in every format, to stdout and to a file, and the site command.
    runner = CliRunner()
    for output_format in ("terminal", "md", "json", "html"):
        inject_failures(secret_server)
        result = runner.invoke(main, ["-v", "status", "--format", output_format], env=env)
        outputs += [result.stdout, result.stderr, repr(result.exception)]
        assert result.exit_code == 0, result.output
    inject_failures(secret_server)
    written = tmp_path / "out" / "status.md"
    result = runner.invoke(main, ["status", "--format", "md", "-o", str(written)], env=env)
    outputs += [result.stdout, result.stderr]
    inject_failures(secret_server)
    result = runner.invoke(main, ["site"], env=env)
    outputs += [result.stdout, result.stderr]
    assert result.exit_code == 0, result.output

    # The site writer, with a client built directly and its exceptions kept.
    inject_failures(secret_server)
    client = GitHubClient(secret_server.url, TOKEN, cache_dir=tmp_path / "cache")
    report = refresh_report(config, client)
    write_site(report, tmp_path / "direct-site")
    outputs += [repr(client), report.model_dump_json()]
    outputs += [f"{item.reason}: {item.detail}" for item in report.unavailable]

    # Every asset, materialized by Dagster with the definitions a deployment loads.
    inject_failures(secret_server)
    instance = DagsterInstance.local_temp(tempdir=str(dagster_home))
    job = build_definitions().resolve_job_def("forge_status_job")
    run = job.execute_in_process(instance=instance, raise_on_error=False)
    dagster_run = instance.get_run_by_id(run.run_id)
    assert dagster_run is not None
    outputs.append(serialize_value(dagster_run))
    outputs += [serialize_value(entry) for entry in instance.all_logs(run.run_id)]
    snapshot = instance.get_job_snapshot(dagster_run.job_snapshot_id or "")
    outputs.append(serialize_value(snapshot))
    instance.dispose()

    captured = capsys.readouterr()
    outputs += [captured.out, captured.err, caplog.text]
    outputs += [record.getMessage() for record in caplog.records]
    outputs += [record.exc_text or "" for record in caplog.records]

    # The run saw the token and every failure, so the search below means something.
    authorized = [r for r in secret_server.requests if r.headers.get("Authorization")]
    assert authorized
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in authorized)
    statuses = {request.status for request in secret_server.requests}
    assert {0, 200, 301, 304, 401, 403, 500} <= statuses
    assert run.success
    assert [item.reason for item in report.unavailable] == ["no_access"]
    assert any("urllib3" in record.name for record in caplog.records)

    leaked = [index for index, text in enumerate(outputs) if TOKEN in text]
    assert leaked == []
    for folder in ("cache", "site", "direct-site", "out", "dagster-home"):
        assert (tmp_path / folder).is_dir(), folder
        assert files_containing_token(tmp_path / folder) == [], folder
