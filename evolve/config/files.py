"""Config sources: presets and TOML files, ``--set section.key=value`` overrides."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from evolve.config.schema import Config, deep_copy
from evolve.config.validation import config_from_dict
from evolve.errors import ConfigError
from problems.files import UnreadableFileError, read_text


def parse_override(text: str) -> tuple[list[str], Any]:
    """``section.key=value`` -> (path, value); the value is read as TOML, else as a string."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected section.key=value")
    key, raw = text.split("=", 1)
    path = key.strip().split(".")
    if not all(path) or len(path) > 3:
        raise ConfigError(f"--set {text!r}: expected section.key=value")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    except RecursionError:
        raise ConfigError(f"--set {key.strip()}: the value is nested too deeply") from None
    return path, value


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    data = deep_copy(data)
    for text in overrides:
        path, value = parse_override(text)
        node = data
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {text!r}: {part!r} is not a section")
            node = child
        node[path[-1]] = value
    return data




def preset_names() -> list[str]:
    folder = resources.files("evolve") / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def read_toml(text: str, source: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{source}: not usable TOML: values nested too deeply") from None


def load_source(source: str) -> dict:
    """The raw mapping of a preset name or a TOML file path."""
    if source in preset_names():
        text = (resources.files("evolve") / "presets" / f"{source}.toml").read_text()
        return read_toml(text, f"preset {source}")
    path = Path(source)
    if not path.is_file():
        raise ConfigError(
            f"{source!r} is neither a preset ({', '.join(preset_names())}) nor a TOML file"
        )
    try:
        text = read_text(path, what="config file")
    except UnreadableFileError as exc:
        raise ConfigError(str(exc)) from None
    return read_toml(text, source)


def load_config(source: str, overrides: list[str] | None = None) -> Config:
    """A preset name or TOML path, with ``--set`` overrides, validated."""
    return config_from_dict(apply_overrides(load_source(source), overrides or []))
