"""The resolved config as commented TOML (saved with every run as ``config.toml``)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from evolve.config.schema import SECTIONS, Config
from evolve.config.validation import describe_allowed, field_type


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to TOML")


def _toml_string(text: str) -> str:
    """A TOML basic string that reads back as ``text`` (control characters escaped)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    """A bare key when TOML allows one (A-Za-z0-9_-), else a quoted one."""
    bare = key and all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in key)
    return key if bare else _toml_string(key)


def to_toml(config: Config, comments: bool = True) -> str:
    """The full config as TOML, each field preceded by its documentation when ``comments``."""
    lines: list[str] = []

    def doc(f: dataclasses.Field) -> None:
        if comments:
            allowed = describe_allowed(dict(f.metadata), field_type(f))
            lines.append(f"# {f.metadata['doc']} ({allowed})")

    for f in dataclasses.fields(Config):
        if f.name in SECTIONS:
            continue
        doc(f)
        lines.append(f"{f.name} = {_toml_value(getattr(config, f.name))}")
    for section in SECTIONS:
        obj = getattr(config, section)
        lines.append("")
        if comments:
            lines.append(f"# {type(obj).__doc__.strip()}")
        lines.append(f"[{section}]")
        if section == "problem":
            lines.append(f"name = {_toml_value(obj.name)}")
            for key, value in obj.params.items():
                lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
            if obj.select:
                lines.append("")
                if comments:
                    lines.append("# parameter overrides for the select and final splits")
                lines.append("[problem.select]")
                for key, value in obj.select.items():
                    lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
            continue
        for f in dataclasses.fields(obj):
            doc(f)
            lines.append(f"{f.name} = {_toml_value(getattr(obj, f.name))}")
    return "\n".join(lines) + "\n"
