from __future__ import annotations

from pathlib import Path

import pytest

from forge_status_pipeline.config import ConfigError, load_config, parse_config

VALID_ENTRY = """\
  - name: chip-a
    owner: mithro
    sram: u8b3k
    slot: 0p5x0p5
    config: examples/a.yaml
    deploy_key_secret: KEY_A
"""


def parse(text: str) -> None:
    parse_config(text, Path("repos.yaml"))


def test_config_loads_the_four_repos(config_copy: Path) -> None:
    config = load_config(config_copy)

    assert [repo.sram for repo in config.repos] == ["u8b3k", "u8b8k", "u8b9k", "u8b24k"]
    assert config.repos[3].full_name == "mithro/gf180mcu-ic-1x1-sram-u8b24k"
    assert config.repos[0].deploy_key_secret == "DEPLOY_KEY_0P5X0P5"
    assert config.generator is not None
    assert config.generator.full_name == "mithro/gf180mcu-sram-forge"
    assert config.lookback_revisions == 10


def test_config_env_var_overrides_default(
    config_copy: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path / "..")
    monkeypatch.setenv("FORGE_STATUS_CONFIG", str(config_copy))

    assert len(load_config().repos) == 4


def test_config_missing_file_names_env_var(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="FORGE_STATUS_CONFIG"):
        load_config(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        # A missing name: the entry starts on line 2.
        (
            "repos:\n  - owner: mithro\n    sram: a\n    slot: b\n    config: c\n    deploy_key_secret: d\n",
            2,
            "repos[0] field 'name' is missing",
        ),
        # A typo in a key is named on its own line.
        (
            "repos:\n" + VALID_ENTRY.replace("    owner: mithro", "    ownr: mithro"),
            3,
            "repos[0] (chip-a) field 'ownr' is not a known field",
        ),
        ("repos: []\n", 1, "field 'repos' List should have at least 1 item"),
        ("repos:\n" + VALID_ENTRY + VALID_ENTRY, 8, "mithro/chip-a is listed twice"),
        (
            "repos:\n" + VALID_ENTRY.replace("name: chip-a", "name: chip a!"),
            2,
            "'chip a!' is not a valid GitHub repository name",
        ),
        # YAML reads yes as a boolean; a name must not silently become "True".
        (
            "repos:\n" + VALID_ENTRY.replace("name: chip-a", "name: yes"),
            2,
            "field 'name' must be a string, got True; quote it",
        ),
        (
            "repos:\n" + VALID_ENTRY.replace("sram: u8b3k", "sram: 123"),
            4,
            "field 'sram' must be a string, got 123",
        ),
        ("repos:\n  - name: [unclosed\n", 3, "not valid YAML"),
        # YAML reads a key such as 7 as a number, which is not a list index.
        ("repos:\n" + VALID_ENTRY + "    7: x\n", 8, "repos[0] (chip-a) field '7' Keys should be"),
        ("1: x\nrepos:\n" + VALID_ENTRY, 1, "field '1' Keys should be strings"),
        ("repos:\n" + VALID_ENTRY + "~: x\n", 8, "field 'None' Keys should be strings"),
        (
            "stale_after_hours: .inf\nrepos:\n" + VALID_ENTRY,
            1,
            "field 'stale_after_hours' Input should be a finite number",
        ),
        (
            "stale_after_hours: 1e300\nrepos:\n" + VALID_ENTRY,
            1,
            "field 'stale_after_hours' Input should be less than or equal to 8784",
        ),
        ("just a sentence\n", 1, "expected a mapping with a 'repos' list"),
    ],
)
def test_config_error_names_line_and_field(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text)

    message = str(caught.value)
    assert message.startswith(f"repos.yaml:{line}: "), message
    assert fragment in message


def test_config_workflow_filter() -> None:
    text = "repos:\n" + VALID_ENTRY + "    workflows: [ci.yml]\n"
    config = parse_config(text, Path("repos.yaml"))
    repo = config.repos[0]

    assert repo.counts_workflow(".github/workflows/ci.yml")
    assert not repo.counts_workflow(".github/workflows/docs.yml")
    assert not repo.counts_workflow(None)


def test_config_rejects_repeated_sram_label() -> None:
    second = VALID_ENTRY.replace("name: chip-a", "name: chip-b")
    with pytest.raises(ConfigError) as caught:
        parse("repos:\n" + VALID_ENTRY + second)

    message = str(caught.value)
    assert message.startswith("repos.yaml:10: ")
    assert "field 'sram' repeats 'u8b3k' of repos[0]" in message


def test_config_rejects_empty_workflow_list() -> None:
    with pytest.raises(ConfigError) as caught:
        parse("repos:\n" + VALID_ENTRY + "    workflows: []\n")

    assert "field 'workflows'" in str(caught.value)


def test_config_merge_key_overrides_anchor() -> None:
    # A second repo that copies the first with `<<` and overrides some fields is not a key
    # given twice.
    text = "repos:\n" + VALID_ENTRY.replace("  - name: chip-a\n", "  - &first\n    name: chip-a\n")
    text += "  - <<: *first\n    name: chip-b\n    sram: u8b24k\n"

    config = parse_config(text, Path("repos.yaml"))

    assert [repo.name for repo in config.repos] == ["chip-a", "chip-b"]
    assert [repo.sram for repo in config.repos] == ["u8b3k", "u8b24k"]
    assert config.repos[1].deploy_key_secret == "KEY_A"
