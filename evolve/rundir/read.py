"""Reading run directories as they are written, for ``evolve runs`` and ``evolve dashboard``.

Read-only and forgiving: a run may be writing while it is read, so a half-written last row of
``progress.csv`` is skipped, a ``summary.json`` that does not parse marks the run *failed* (with
the reason) instead of raising, and nothing here ever creates, changes or locks a file.

A run's status:
- ``finished``: ``summary.json`` parses (``stopped_by`` says why it stopped);
- ``interrupted``: the same, stopped by Ctrl-C / SIGTERM (``evolve resume`` continues it);
- ``running``: no summary yet, and ``progress.csv`` or the checkpoint changed in the last
  ``STALE_SECONDS`` (or ten progress intervals, whichever is longer);
- ``failed``: a corrupt summary, or no summary and nothing written for longer (killed or crashed).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

from problems.files import UnreadableFileError, read_npz
from problems.files import read_text as bounded_read_text

STALE_SECONDS = 120.0  # a cold compile on a busy machine can take a minute before the first row
MAX_DEPTH = 4  # how deep below a given directory runs are looked for
MAX_BYTES = 64 * 1024 * 1024  # a file larger than this is not read (a dashboard must stay light)
STATUSES = ("running", "finished", "interrupted", "failed")


@dataclass
class RunInfo:
    """One run directory's row in ``evolve runs`` and the dashboard's table."""

    path: str
    name: str
    status: str
    reason: str
    seed: int | None
    method: str | None
    islands: int | None
    experiment: int | None
    individuals: int | None
    seconds: float | None
    best_fitness: float | None
    select_fitness: float | None
    final_fitness: float | None
    individuals_per_second: float | None
    stopped_by: str | None
    success: bool | None
    modified: float

    def as_dict(self) -> dict:
        return asdict(self)


def read_text(path: Path) -> str | None:
    """The file's text, or ``None`` if it is missing, unreadable or too large."""
    try:
        return bounded_read_text(path, limit=MAX_BYTES, what="run file", errors="replace")
    except UnreadableFileError:
        return None


def _number(text: str) -> float | int | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def read_csv_rows(path: Path) -> list[dict]:
    """Rows of a numeric CSV (``progress.csv``, ``islands.csv``) with a header; a row that has the
    wrong number of fields or a non-number (a half-written last line) is left out."""
    text = read_text(path)
    if not text:
        return []
    if not text.endswith("\n"):  # the writer is in the middle of a row
        text = text[: text.rfind("\n") + 1]
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        return []
    rows = []
    for fields in reader:
        if len(fields) != len(header):
            continue
        values = [_number(f) for f in fields]
        if any(v is None for v in values):
            continue
        rows.append(dict(zip(header, values, strict=True)))
    return rows


def read_json(path: Path) -> tuple[dict | None, str | None]:
    """``(data, None)``, ``(None, None)`` when the file is missing, ``(None, why)`` when corrupt."""
    text = read_text(path)
    if text is None:
        return None, ("unreadable or too large" if path.exists() else None)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"{path.name} is not valid JSON ({exc.msg} at line {exc.lineno})"
    if not isinstance(data, dict):
        return None, f"{path.name} is not a JSON object"
    return data, None


def read_config(run_dir: Path) -> dict:
    text = read_text(run_dir / "config.toml")
    try:
        return tomllib.loads(text) if text else {}
    except tomllib.TOMLDecodeError:
        return {}


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def is_run_dir(path: Path) -> bool:
    return (path / "config.toml").is_file()


def is_experiment_dir(path: Path) -> bool:
    return (path / "experiment.json").is_file()


def find_runs(roots: list[Path], max_depth: int = MAX_DEPTH) -> list[Path]:
    """Run directories (those holding ``config.toml``) at or below each root, depth-limited,
    not following symbolic links, hidden folders skipped; sorted, each once."""
    found: set[Path] = set()
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            continue
        base = len(root.parts)
        for folder, dirs, files in os.walk(root, followlinks=False):
            here = Path(folder)
            if "config.toml" in files:
                found.add(here)
                dirs[:] = []  # a run directory holds no runs
                continue
            if len(here.parts) - base >= max_depth:
                dirs[:] = []
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
    return sorted(found)


def find_experiments(roots: list[Path], max_depth: int = MAX_DEPTH) -> list[Path]:
    found: set[Path] = set()
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            continue
        base = len(root.parts)
        for folder, dirs, files in os.walk(root, followlinks=False):
            if "experiment.json" in files:
                found.add(Path(folder))
            if "config.toml" in files or len(Path(folder).parts) - base >= max_depth:
                dirs[:] = []
            dirs[:] = [d for d in dirs if not d.startswith((".", "__"))]
    return sorted(found)


def checkpoint_meta(run_dir: Path) -> dict:
    """The small JSON block of ``checkpoint.npz`` (no other member is inflated), or ``{}``."""

    path = run_dir / "checkpoint.npz"
    try:
        arrays = read_npz(path, limit=MAX_BYTES, what="checkpoint", names=frozenset({"meta"}))
        if "meta" not in arrays:
            return {}
        meta = json.loads(arrays["meta"].tobytes().decode())
    except (UnreadableFileError, ValueError, UnicodeDecodeError, RecursionError):
        return {}  # being replaced, truncated, or not a checkpoint at all
    return meta if isinstance(meta, dict) else {}


def run_info(run_dir: Path, now: float | None = None) -> RunInfo:
    """The status and headline numbers of one run directory (never raises on its contents)."""
    run_dir = Path(run_dir)
    now = time.time() if now is None else now
    config = read_config(run_dir)
    summary, error = read_json(run_dir / "summary.json")
    rows = read_csv_rows(run_dir / "progress.csv")
    last = rows[-1] if rows else {}
    section = lambda name: config.get(name) if isinstance(config.get(name), dict) else {}  # noqa: E731
    progress_seconds = section("campaign").get("progress_seconds", 1.0)
    stale = max(STALE_SECONDS, 10 * progress_seconds if isinstance(progress_seconds, int | float) else 0)
    modified = max(_mtime(run_dir / n) for n in ("progress.csv", "checkpoint.npz", "summary.json", "config.toml"))
    reason = ""
    if summary is not None:
        stopped = summary.get("stopped_by")
        status = "interrupted" if stopped == "interrupted" else "finished"
        reason = str(stopped)
    elif error is not None:
        status, reason = "failed", error
    elif now - modified <= stale:
        status = "running"
    else:
        status = "failed"
        reason = f"no summary.json and nothing written for {now - modified:.0f} s (killed or crashed?)"
    if summary is None and status == "running":  # the select fitness so far is in the checkpoint
        meta = checkpoint_meta(run_dir)
        select = meta.get("candidate_select")
        if meta.get("has_candidate") and isinstance(select, int | float) and select >= 0:
            summary = {"select_fitness": float(select)}
    summary = summary or {}

    def pick(key: str, kind: type):
        value = summary.get(key, last.get(key))
        try:
            return None if value is None else kind(value)
        except (TypeError, ValueError, OverflowError):
            return None

    name = config.get("name") if isinstance(config.get("name"), str) else run_dir.name
    return RunInfo(
        path=str(run_dir), name=name, status=status, reason=reason,
        seed=pick("seed", int) if "seed" in summary else _int(config.get("seed")),
        method=section("search").get("method") if isinstance(section("search").get("method"), str) else None,
        islands=_int(section("campaign").get("islands", 1)),
        experiment=pick("experiments", int) if "experiments" in summary else _int(last.get("experiment")),
        individuals=pick("individuals", int), seconds=pick("seconds", float),
        best_fitness=_float(summary.get("search_fitness", last.get("best_fitness"))),
        select_fitness=pick("select_fitness", float), final_fitness=pick("final_fitness", float),
        individuals_per_second=pick("individuals_per_second", float),
        stopped_by=summary.get("stopped_by") if isinstance(summary.get("stopped_by"), str) else None,
        success=summary.get("success") if isinstance(summary.get("success"), bool) else None,
        modified=modified,
    )


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def format_table(infos: list[RunInfo]) -> str:
    """``evolve runs``: one line per run."""
    head = ("status", "seed", "individuals", "ind/s", "best", "select", "final", "path")
    fmt = lambda v, spec: "-" if v is None else format(v, spec)  # noqa: E731
    rows = [(i.status, fmt(i.seed, "d"), fmt(i.individuals, ","), fmt(i.individuals_per_second, ",.0f"),
             fmt(i.best_fitness, ".5f"), fmt(i.select_fitness, ".5f"), fmt(i.final_fitness, ".5f"), i.path)
            for i in infos]
    widths = [max(len(str(r[k])) for r in [head, *rows]) for k in range(len(head))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in [head, *rows]]
    return "\n".join(lines)
