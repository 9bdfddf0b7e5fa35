"""Load and validate ``downstream_repos.yaml``, the list of repositories the generator regenerates."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError, field_validator

CONFIG_ENV_VAR = "FORGE_STATUS_CONFIG"
DEFAULT_CONFIG_NAME = "downstream_repos.yaml"

# GitHub's own rules: owners are 1-39 alphanumerics or single hyphens, repository names are up to
# 100 characters of letters, digits, ".", "-" and "_", and "." and ".." are reserved.
_OWNER_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_REPO_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class InvalidSettingError(ValueError):
    """An environment variable or option whose value cannot be used."""


class ConfigError(ValueError):
    """A configuration file that cannot be used, with the file, line and field at fault."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        location = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{location}: {message}")


def _check_owner(value: str) -> str:
    if not _OWNER_PATTERN.match(value):
        raise ValueError(f"{value!r} is not a valid GitHub owner name")
    return value


def _check_repo_name(value: str) -> str:
    if not _REPO_PATTERN.match(value) or value in {".", ".."}:
        raise ValueError(f"{value!r} is not a valid GitHub repository name")
    return value


class GeneratorRepo(BaseModel):
    """The repository whose commits the downstream bot commits name as ``Source commit``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    owner: StrictStr
    name: StrictStr

    _owner = field_validator("owner")(_check_owner)
    _name = field_validator("name")(_check_repo_name)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class DownstreamRepo(BaseModel):
    """One downstream repository that the generator's bot commits into."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: StrictStr
    owner: StrictStr
    sram: StrictStr = Field(description="Short display identifier, for example u8b3k.")
    slot: StrictStr = Field(description="Die slot, for example 0p5x0p5.")
    config: StrictStr = Field(description="Path of the chip config in the generator repository.")
    deploy_key_secret: StrictStr = Field(description="Secret holding the deploy key for pushes.")
    branch: StrictStr = Field(
        default="main", description="Default branch; only its runs decide the repo's status."
    )
    workflows: Annotated[list[StrictStr], Field(min_length=1)] | None = Field(
        default=None,
        description="Workflow file names or paths that count; all workflows count when unset.",
    )

    _owner = field_validator("owner")(_check_owner)
    _name = field_validator("name")(_check_repo_name)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def actions_url(self) -> str:
        return f"https://github.com/{self.full_name}/actions"

    def counts_workflow(self, workflow_path: str | None) -> bool:
        """Tell whether runs of this workflow file decide the repo's status."""
        if self.workflows is None:
            return True
        if workflow_path is None:
            return False
        file_name = workflow_path.rsplit("/", 1)[-1]
        return any(wanted in (workflow_path, file_name) for wanted in self.workflows)


class ForgeConfig(BaseModel):
    """The whole of ``downstream_repos.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    generator: GeneratorRepo | None = None
    lookback_revisions: Annotated[int, Field(ge=1, le=500, strict=True)] = 10
    max_pages: Annotated[int, Field(ge=1, le=100, strict=True)] = 10
    # At most a year (8,784 hours): infinity or 1e300 hours would overflow the date arithmetic
    # that finds stale repos.
    stale_after_hours: Annotated[float, Field(gt=0, le=24 * 366, allow_inf_nan=False)] = 72.0
    site_url: StrictStr | None = None
    repos: Annotated[list[DownstreamRepo], Field(min_length=1)]

    @property
    def repo_names(self) -> list[str]:
        return [repo.full_name for repo in self.repos]


def default_config_path() -> Path:
    """Return the config path: ``$FORGE_STATUS_CONFIG`` if set, else the working directory's."""
    return Path(os.environ.get(CONFIG_ENV_VAR) or DEFAULT_CONFIG_NAME)


def _is_key(node: yaml.Node, key: int | str) -> bool:
    """Tell whether a mapping's key node is ``key`` as pydantic names it.

    pydantic names a key that YAML read as something other than a string, such as ``7`` or
    ``~``, by its Python value: ``7`` or ``'None'``.
    """
    if not isinstance(node, yaml.ScalarNode):
        return False
    if node.value == key:
        return True
    try:
        value = yaml.constructor.SafeConstructor().construct_object(node)
    except yaml.YAMLError:
        return False
    return str(value) == str(key)


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """Find the 1-based line of the YAML node at ``loc``, or of its nearest existing parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if _is_key(k, key)]
            if not match:
                return line
            key_node, node = match[0]
            line = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                return line
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _describe_loc(loc: tuple[int | str, ...], data: Any) -> str:
    """Name a field for people: ``repos[2] (gf180mcu-ic-1x1) field 'owner'``."""
    parts: list[str] = []
    for index, key in enumerate(loc):
        # An int is a list index, unless YAML read a mapping key such as `1:` as a number.
        if isinstance(key, int) and parts and isinstance(_get(data, loc[:index]), list):
            parts[-1] += f"[{key}]"
            entry = _get(data, loc[: index + 1])
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                parts[-1] += f" ({entry['name']})"
        else:
            parts.append(str(key))
    if not parts:
        return "file"
    if len(parts) == 1:
        return f"field {parts[0]!r}"
    return f"{' '.join(parts[:-1])} field {parts[-1]!r}"


def _get(data: Any, loc: tuple[int | str, ...]) -> Any:
    for key in loc:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _explain(error: Mapping[str, Any]) -> str:
    if error["type"] == "string_type":
        return f"must be a string, got {error['input']!r}; quote it in the YAML"
    if error["type"] == "extra_forbidden":
        return "is not a known field; check its spelling"
    if error["type"] == "missing":
        return "is missing"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _reject_duplicate_keys(
    node: yaml.Node | None, loc: tuple[int | str, ...], data: Any, path: Path
) -> None:
    """Raise ConfigError for a key given twice in a mapping, which PyYAML resolves silently."""
    if isinstance(node, yaml.MappingNode):
        first_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in first_lines:
                field = _describe_loc((*loc, key), data)
                raise ConfigError(
                    path,
                    f"{field} is given twice (lines {first_lines[key]} and {line}); keep one",
                    line,
                )
            first_lines[key] = line
            _reject_duplicate_keys(value_node, (*loc, key), data, path)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _reject_duplicate_keys(item, (*loc, index), data, path)


# libyaml's parser, where PyYAML was built with it: both parses of a 200-repo file took 13 ms,
# against 158 ms with PyYAML's own parser.
# NOTE: the two differ at the edges. libyaml accepts a tab after a value or before a key's colon,
# which PyYAML's own parser rejects, so such a file loads only where PyYAML has libyaml.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose_and_load(text: str) -> tuple[yaml.Node | None, Any]:
    """Parse ``text`` into its node tree, which keeps line numbers, and into the plain data.

    These are two parses: building the data resolves merge keys (``<<: *anchor``) inside the
    nodes, and the duplicate-key check must see the mappings as written.
    """
    # _Loader is one of PyYAML's safe loaders, which build plain data only.
    return yaml.compose(text, Loader=_Loader), yaml.load(text, Loader=_Loader)  # noqa: S506


def _line_at(text: str, position: int) -> int:
    """Return the line of a reader error's ``position``: libyaml counts bytes of the UTF-8
    text, PyYAML's own reader counts characters."""
    if _Loader is yaml.SafeLoader:
        return text[:position].count("\n") + 1
    return text.encode("utf-8")[:position].count(b"\n") + 1


def parse_config(text: str, path: Path) -> ForgeConfig:
    """Validate config ``text`` read from ``path``; raise ConfigError naming the line and field."""
    try:
        root, data = _compose_and_load(text)
    except yaml.reader.ReaderError as error:
        # Raised for characters YAML forbids, such as NUL; it has a position but no line.
        # For text input PyYAML reports the offending character as its code point.
        character_line = _line_at(text, error.position)
        raise ConfigError(
            path,
            f"not valid YAML: character U+{int(error.character):04X} is not allowed in YAML text",
            character_line,
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(path, f"not valid YAML: {problem}", line) from None

    if not isinstance(data, dict):
        raise ConfigError(path, "expected a mapping with a 'repos' list at the top", 1)
    _reject_duplicate_keys(root, (), data, path)

    try:
        config = ForgeConfig.model_validate(data)
    except ValidationError as error:
        # A misspelt key also makes the field it meant "missing"; the typo is the cause, so it
        # comes first.
        errors = sorted(error.errors(), key=lambda item: item["type"] != "extra_forbidden")
        located = [
            (
                _line_of(root, tuple(item["loc"])),
                f"{_describe_loc(tuple(item['loc']), data)} {_explain(item)}",
            )
            for item in errors
        ]
        first_line, first_message = located[0]
        extra = "".join(f"\n{path}:{line}: {message}" for line, message in located[1:])
        raise ConfigError(path, first_message + extra, first_line) from None

    seen: dict[str, int] = {}
    for index, repo in enumerate(config.repos):
        key = repo.full_name.lower()
        if key in seen:
            line = _line_of(root, ("repos", index))
            raise ConfigError(
                path,
                f"repos[{index}] ({repo.name}) repeats repos[{seen[key]}]: "
                f"{repo.full_name} is listed twice",
                line,
            )
        seen[key] = index

    # Terminal, Markdown and the page name repos by their sram label, so it must tell them apart.
    labels: dict[str, int] = {}
    for index, repo in enumerate(config.repos):
        if repo.sram in labels:
            raise ConfigError(
                path,
                f"repos[{index}] ({repo.name}) field 'sram' repeats {repo.sram!r} of "
                f"repos[{labels[repo.sram]}]; give each repo its own label",
                _line_of(root, ("repos", index, "sram")),
            )
        labels[repo.sram] = index
    return config


def load_config(path: Path | str | None = None) -> ForgeConfig:
    """Read and validate the config file at ``path`` (default: see ``default_config_path``)."""
    config_path = Path(path) if path is not None else default_config_path()
    try:
        raw = config_path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            config_path,
            f"config file not found; create it, or point {CONFIG_ENV_VAR} or the CLI's --config at it",
        ) from None
    except OSError as error:
        raise ConfigError(config_path, f"cannot read config file: {error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ConfigError(
            config_path,
            f"not a YAML text file: byte 0x{raw[error.start]:02x} is not valid UTF-8; "
            "the config must be YAML saved as UTF-8",
            line,
        ) from None
    return parse_config(text, config_path)
