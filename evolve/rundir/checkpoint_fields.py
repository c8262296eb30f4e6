"""Checkpoint metadata and arrays read back by type and range, before any is used.

A checkpoint is data from disk: a number may be a string, ``Infinity``, ``1e40`` or ``-10**12``;
an array may have any dtype or shape. Each reader here takes one field and either returns it as
the type the campaign uses or raises :class:`ValueError` naming the field, the value and the
allowed range (the campaign's ``restore`` turns that into one :class:`CheckpointError`, and resume
then tries the previous checkpoint).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

MAX_COUNT = 2**62  # individuals, evaluations, rows: far beyond any run, far below int64 overflow
MAX_SECONDS = 1e12


def count(meta: dict, key: str, low: int = 0, high: int = MAX_COUNT) -> int:
    """An integer field in ``[low, high]`` (a JSON integer, not a float, bool or string)."""
    value = meta[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{key} = {_short(value)}: expected an integer in [{low}, {high}]")
    return value


def optional_count(meta: dict, key: str) -> int | None:
    return None if meta.get(key) is None else count(meta, key)


def number(meta: dict, key: str, low: float, high: float) -> float:
    """A finite number in ``[low, high]``."""
    value = meta[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{key} = {_short(value)}: expected a finite number in [{low}, {high}]")
    return float(value)


def optional_number(meta: dict, key: str, low: float, high: float) -> float | None:
    return None if meta.get(key) is None else number(meta, key, low, high)


def flag(meta: dict, key: str) -> bool:
    value = meta[key]
    if not isinstance(value, bool):
        raise ValueError(f"{key} = {_short(value)}: expected true or false")
    return value


def stream_state(meta: dict, key: str) -> int:
    """A :class:`primitives.rng.Stream` state: an integer in [0, 2**64)."""
    return count(meta, key, 0, 2**64 - 1)


def pcg64_state(meta: dict, key: str) -> dict:
    """NumPy's ``PCG64.state`` dict, every integer in its range (128-bit state and increment)."""
    value = meta[key]
    bad = ValueError(f"{key} = {_short(value)}: expected a PCG64 bit-generator state")
    if not isinstance(value, dict) or value.get("bit_generator") != "PCG64" or not isinstance(value.get("state"), dict):
        raise bad
    inner = value["state"]
    for part, high in ((inner, {"state": 2**128 - 1, "inc": 2**128 - 1}),
                       (value, {"has_uint32": 1, "uinteger": 2**32 - 1})):
        for name, limit in high.items():
            v = part.get(name)
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= limit:
                raise bad
    if set(value) != {"bit_generator", "state", "has_uint32", "uinteger"} or set(inner) != {"state", "inc"}:
        raise bad
    return value


def scores(meta: dict, key: str, limit: int = 10**6) -> list[float]:
    """A list of finite numbers (at most ``limit``)."""
    value = meta[key]
    if not isinstance(value, list) or len(value) > limit or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value
    ):
        raise ValueError(f"{key}: expected a list of at most {limit} finite numbers")
    return [float(v) for v in value]


def fitness_array(arrays: dict[str, np.ndarray], key: str, n: int) -> np.ndarray:
    """``n`` fitness values, each finite in [0, 1] (the interpreter's scores)."""
    value = np.asarray(arrays[key])
    if value.dtype.kind not in "fiu" or value.shape != (n,):
        raise ValueError(f"{key}: expected {n} numbers, got {value.dtype} {value.shape}")
    value = value.astype(np.float64)
    bad = ~(np.isfinite(value) & (value >= 0.0) & (value <= 1.0))
    if bad.any():
        k = int(np.argmax(bad))
        raise ValueError(f"{key}[{k}] = {value[k]!r}: fitness must be a finite number in [0, 1]")
    return value


def int_array(arrays: dict[str, np.ndarray], key: str, n: int, low: int, high: int) -> np.ndarray:
    """``n`` integers in ``[low, high]`` (stored as integers, or as floats of integer value)."""
    value = np.asarray(arrays[key])
    if value.dtype.kind not in "iuf" or value.shape != (n,):
        raise ValueError(f"{key}: expected {n} integers, got {value.dtype} {value.shape}")
    if value.dtype.kind == "f" and not (np.isfinite(value) & (value == np.round(value))).all():
        raise ValueError(f"{key}: values must be whole numbers")
    if n and (value.min() < low or value.max() > high):
        raise ValueError(f"{key}: values must be in [{low}, {high}]")
    return value.astype(np.int64)


def float_array(arrays: dict[str, np.ndarray], key: str, n: int, allow_inf: bool = False) -> np.ndarray:
    value = np.asarray(arrays[key])
    if value.dtype.kind not in "fiu" or value.shape != (n,):
        raise ValueError(f"{key}: expected {n} numbers, got {value.dtype} {value.shape}")
    value = value.astype(np.float64)
    if np.isnan(value).any() or (not allow_inf and np.isinf(value).any()):
        raise ValueError(f"{key}: values must be {'numbers' if allow_inf else 'finite'} (no NaN)")
    return value


def config_differences(saved: Any, current: Any, prefix: str = "") -> list[str]:
    """Dotted names of the fields where two configs (dataclass trees) differ, with both values."""
    out: list[str] = []
    for f in dataclasses.fields(saved):
        a, b = getattr(saved, f.name), getattr(current, f.name)
        path = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(a):
            out.extend(config_differences(a, b, path + "."))
        elif a != b:
            out.append(f"{path} (checkpoint {_short(a)}, config.toml {_short(b)})")
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
