"""Wide and combined characters in the terminal table, to a terminal and piped."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from odd_data import (
    FIXED_NOW,
    OWNER,
    OddCase,
    cli_status,
    make_run,
    repo_entry,
    report_from_server,
    sha_of,
)
from wcwidth import wcswidth

from forge_status_pipeline.models import StatusReport
from forge_status_pipeline.render import render_terminal
from forge_status_pipeline.render.terminal import display_width
from forge_status_pipeline.testing.github_server import GitHubReplayServer

OWN_SGR = re.compile(r"\x1b\[(?:0|32|31;1|33|35)m")
LONG_CJK = "存储器八千字节的超长名字存储器八千字节"
# The SRAM names mix characters of different widths: CJK (2 columns each), joined emoji
# sequences, a flag, fullwidth Latin and a combining accent. The heart with a variation selector
# is 2 columns, though its two code points measure 1 and 0 on their own.
SRAMS = [
    LONG_CJK,
    "🧪sram🔥",
    "❤️" * 12,
    "👩‍👩‍👧‍👦fam",
    "🇯🇵🇯🇵🇯🇵🇯🇵🇯🇵🇯🇵🇯🇵",
    "ｆｕｌｌｗｉｄｔｈ",
    "e\u0301cole",
]


# Indexes into SRAMS of the names too wide for their column, which end in an ellipsis.
CUT_AT = {80: {0}, 40: {0, 2, 4, 5}}
# Width of the name column: a third of the width, since no name here fits in less.
NAME_COLUMNS = {80: 26, 40: 13}


def wide_case() -> OddCase:
    forge_sha = sha_of("wide")
    entries = [repo_entry(f"chip-{index}", sram=sram) for index, sram in enumerate(SRAMS)]
    runs = {
        f"{OWNER}/chip-{index}": [
            make_run(
                500 + index,
                f"{OWNER}/chip-{index}",
                forge_sha,
                conclusion="failure" if index % 2 else "success",
            )
        ]
        for index in range(len(SRAMS))
    }
    return OddCase(entries, runs)


@pytest.fixture(scope="module")
def report() -> StatusReport:
    with GitHubReplayServer() as server:
        return report_from_server(wide_case(), server)


def _widths(output: str) -> set[int]:
    return {wcswidth(OWN_SGR.sub("", line)) for line in output.splitlines()}


@pytest.mark.parametrize("width", [80, 40])
@pytest.mark.parametrize("colour", [False, True])
def test_wide_lines_same_width(report: StatusReport, width: int, colour: bool) -> None:
    output = render_terminal(report, width=width, colour=colour)
    lines = [OWN_SGR.sub("", line) for line in output.splitlines()]

    assert _widths(output) == {width}
    assert ("\x1b[" in output) == colour
    cell_lines = [line for line in lines if line.startswith(("  ✔ ", "  ✘ "))]
    assert len(cell_lines) == len(SRAMS)
    for line in cell_lines:
        word = "passing" if line.startswith("  ✔ ") else "failing"
        assert line.rstrip().endswith(f"  {word}"), line
    # The state words form one column: the names before them all take the same width.
    word_columns = {wcswidth(line.rstrip().rsplit("  ", 1)[0]) for line in cell_lines}
    assert word_columns == {4 + NAME_COLUMNS[width]}
    # Names get at most a third of the width: 26 columns at 80, 13 at 40.
    for index, (sram, line) in enumerate(zip(SRAMS, cell_lines, strict=True)):
        name = line[4:].rstrip().rsplit("  ", 1)[0].rstrip()
        if index in CUT_AT[width]:
            assert name.endswith("…"), line
            assert sram.startswith(name[:-1]), line
        else:
            assert name == sram, line


@pytest.mark.parametrize("width", ["80", "40"])
def test_wide_piped_cli_plain(tmp_path: Path, width: str) -> None:
    case = wide_case()
    config_path = case.write_config(tmp_path / "repos.yaml")
    with GitHubReplayServer() as server:
        case.serve(server)
        code, stdout, stderr = cli_status(config_path, server.url, "--width", width)
        default_code, default_stdout, _stderr = cli_status(config_path, server.url)

    assert code == 0, stderr
    assert "\x1b" not in stdout
    assert _widths(stdout) == {int(width)}
    assert default_code == 0
    assert "\x1b" not in default_stdout
    # Piped output is not a terminal, so it gets the default of 80 columns.
    assert _widths(default_stdout) == {80}


def _run_in_terminal(config_path: Path, server_url: str, no_color: str | None) -> str:
    """Run ``forge-status status`` with stdout on a pseudo-terminal 60 columns wide."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 60, 0, 0))
    env = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "COLUMNS")}
    env.update({"GITHUB_API_URL": server_url, "FORGE_STATUS_NOW": FIXED_NOW, "TERM": "xterm"})
    if no_color is not None:
        env["NO_COLOR"] = no_color
    command = [sys.executable, "-m", "forge_status_pipeline.cli", "status"]
    process = subprocess.Popen(
        [*command, "--config", str(config_path)],
        stdout=terminal,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(terminal)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # Linux reports EIO once the other side is closed.
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    _out, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr.decode()
    # The terminal turns each "\n" into "\r\n".
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_terminal_honours_no_color(tmp_path: Path) -> None:
    case = wide_case()
    config_path = case.write_config(tmp_path / "repos.yaml")
    with GitHubReplayServer() as server:
        case.serve(server)
        coloured = _run_in_terminal(config_path, server.url, no_color=None)
        plain = _run_in_terminal(config_path, server.url, no_color="1")

    assert "\x1b[" in coloured
    assert _widths(coloured) == {60}
    assert "\x1b" not in plain
    assert _widths(plain) == {60}


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("gf180mcu-ic-1x1 passing", 23),
        ("", 0),
        ("tab\there", 8),
        ("日本語", 6),
        ("e\u0301t\u00e9", 3),
        ("👩‍🔬 ok", 5),
    ],
)
def test_display_width_by_text(text: str, width: int) -> None:
    assert display_width(text) == width
