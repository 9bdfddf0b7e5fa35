"""A broken config stops the CLI and the Dagster code location before any request to GitHub."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from odd_data import dagster_environment

from forge_status_pipeline.cli import main
from forge_status_pipeline.demo import materialize_command
from forge_status_pipeline.testing.github_server import GitHubReplayServer

ENTRY = """\
  - name: chip-a
    owner: mithro
    sram: u8b3k
    slot: 0p5x0p5
    config: examples/a.yaml
    deploy_key_secret: KEY_A
"""
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"

# (case, file contents, line, part of the message naming the field or fault)
BROKEN_CONFIGS: list[tuple[str, bytes, int, str]] = [
    (
        "missing-name",
        ("repos:\n" + ENTRY.replace("  - name: chip-a\n    owner", "  - owner")).encode(),
        2,
        "repos[0] field 'name' is missing",
    ),
    (
        "unknown-key",
        ("repos:\n" + ENTRY.replace("    owner:", "    ownr:")).encode(),
        3,
        "repos[0] (chip-a) field 'ownr' is not a known field",
    ),
    ("empty-repos", b"repos: []\n", 1, "field 'repos' List should have at least 1 item"),
    ("listed-twice", ("repos:\n" + ENTRY + ENTRY).encode(), 8, "mithro/chip-a is listed twice"),
    (
        "invalid-name",
        ("repos:\n" + ENTRY.replace("name: chip-a", "name: chip a!")).encode(),
        2,
        "'chip a!' is not a valid GitHub repository name",
    ),
    ("not-yaml-binary", PNG_BYTES, 1, "not a YAML text file: byte 0x89 is not valid UTF-8"),
    ("not-yaml-ini", b"[repos]\nname = chip-a\n", 2, "not valid YAML"),
    (
        "not-yaml-nul",
        ("repos:\n" + ENTRY.replace("chip-a", "chip\x00a")).encode(),
        2,
        "character U+0000 is not allowed",
    ),
    (
        "not-yaml-nul-after-accents",
        ("# réglé à côté\nrepos:\n" + ENTRY.replace("chip-a", "chip\x00a")).encode(),
        3,
        "character U+0000 is not allowed",
    ),
    (
        "key-given-twice",
        (
            "repos:\n" + ENTRY.replace("    owner: mithro\n", "    owner: mithro\n    owner: x\n")
        ).encode(),
        4,
        "repos[0] (chip-a) field 'owner' is given twice (lines 3 and 4)",
    ),
]
CASE_IDS = [case for case, _content, _line, _fragment in BROKEN_CONFIGS]


def _write(tmp_path: Path, case: str, content: bytes) -> Path:
    path = tmp_path / f"{case}.yaml"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(("case", "content", "line", "fragment"), BROKEN_CONFIGS, ids=CASE_IDS)
def test_broken_config_cli_sends_nothing(
    tmp_path: Path, case: str, content: bytes, line: int, fragment: str
) -> None:
    path = _write(tmp_path, case, content)
    with GitHubReplayServer() as server:
        result = CliRunner().invoke(
            main, ["status", "--config", str(path)], env={"GITHUB_API_URL": server.url}
        )
        requests = list(server.requests)

    assert result.exit_code == 1
    assert requests == []
    first_line = result.stderr.splitlines()[0]
    assert first_line.startswith(f"Error: {path}:{line}: "), result.stderr
    assert fragment in first_line


@pytest.mark.parametrize(("case", "content", "line", "fragment"), BROKEN_CONFIGS, ids=CASE_IDS)
def test_broken_config_stops_dagster(
    tmp_path: Path, case: str, content: bytes, line: int, fragment: str
) -> None:
    path = _write(tmp_path, case, content)
    cli = CliRunner().invoke(
        main, ["status", "--config", str(path)], env={"GITHUB_API_URL": "http://127.0.0.1:9"}
    )
    cli_message = cli.stderr.removeprefix("Error: ").strip()
    env = dict(os.environ, FORGE_STATUS_CONFIG=str(path), GITHUB_API_URL="http://127.0.0.1:9")

    completed = subprocess.run(
        [sys.executable, "-c", "import forge_status_pipeline.definitions"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode != 0
    assert f"forge_status_pipeline.config.ConfigError: {path}:{line}: " in completed.stderr
    assert fragment in completed.stderr
    assert cli_message
    assert cli_message in completed.stderr


def test_broken_config_materialize_sends_nothing(tmp_path: Path) -> None:
    _case, content, line, fragment = BROKEN_CONFIGS[1]
    path = _write(tmp_path, "unknown-key", content)
    command = materialize_command()
    with GitHubReplayServer() as server:
        env = dagster_environment(tmp_path, path, server.url)
        completed = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=240, check=False
        )
        requests = list(server.requests)

    assert completed.returncode != 0
    assert requests == []
    assert f"{path}:{line}: {fragment}" in completed.stderr
