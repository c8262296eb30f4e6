"""The run directory: canonical results on disk, written atomically, never pickled.

``results/<run-id>/`` holds ``config.toml`` (resolved config), ``progress.csv`` (one row per
progress tick), ``hall_of_fame.txt`` (programs as text with fitness), ``best.txt`` (the discovered
program), ``summary.json`` and ``checkpoint.npz`` (+ ``checkpoint.prev.npz``, the previous good one).
Every file is written to a temporary file and renamed into place, so a killed run never leaves a
half-written file; opening someone's results never executes code (JSON, NPZ without pickle, TOML,
text).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from evolve.errors import CheckpointError
from evolve.rundir.schema import CHECKPOINT, PREVIOUS_CHECKPOINT
from primitives.memory import MAX_MEMORY, MemorySpec, ProgramError
from primitives.program import Program
from primitives.text import format_program
from primitives.validate import check_arrays
from problems.files import ARCHIVE_LIMIT, DATA_LIMIT, UnreadableFileError, read_npz, read_text

_ANY_MEMORY = MemorySpec(*MAX_MEMORY)

PROGRESS_COLUMNS = (
    "experiment",
    "individuals",
    "evaluations",
    "seconds",
    "best_fitness",
    "mean_fitness",
    "fec_hit_rate",
    "individuals_per_second",
)
CHECKPOINT_VERSION = 1
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` via a temporary file in the same folder, fsync, rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are ordinary files
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None and exc.errno:  # name the file (a full disk)
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def new_dir(root: Path, prefix: str, suffix: str = "") -> Path:
    """A fresh ``root/<prefix>-<UTC time><suffix>`` folder (numbered if it exists)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    base = Path(root) / f"{prefix}-{stamp}{suffix}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = Path(f"{base}-{n}")
    path.mkdir(parents=True)
    return path


def new_run_dir(root: Path, name: str, seed: int) -> Path:
    """A fresh ``root/<name>-<UTC time>-s<seed>`` run directory."""
    return new_dir(root, name, f"-s{seed}")


# ---------------------------------------------------------------------------- programs as text


def programs_to_text(programs: Sequence[Program], fitness: Sequence[float], label: str = "fitness") -> str:
    blocks = []
    for rank, (program, fit) in enumerate(zip(programs, fitness, strict=True), start=1):
        blocks.append(f"# rank {rank} {label} {float(fit)!r}\n" + format_program(program))
    return "\n".join(blocks)


# ---------------------------------------------------------------------------- progress log


class ProgressLog:
    """``progress.csv``: appended and flushed row by row; truncated to the checkpoint on resume."""

    def __init__(self, path: Path, keep_rows: int | None = None) -> None:
        self.path = Path(path)
        rows: list[list[str]] = []
        if keep_rows is not None and self.path.exists():
            try:  # rows a reader cannot take (not UTF-8, a huge field) are not kept
                text = read_text(self.path, limit=DATA_LIMIT, what="progress log", errors="replace")
                rows = list(csv.reader(io.StringIO(text, newline="")))[1 : 1 + keep_rows]
            except (csv.Error, UnreadableFileError):
                rows = []
            rows = [row for row in rows if len(row) == len(PROGRESS_COLUMNS)]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(PROGRESS_COLUMNS)
        writer.writerows(rows)
        atomic_write_text(self.path, buffer.getvalue())
        self.rows = len(rows)
        self.handle = self.path.open("a", newline="")
        self.writer = csv.writer(self.handle)

    def append(self, row: dict) -> None:
        self.writer.writerow([_fmt(row[c]) for c in PROGRESS_COLUMNS])
        self.handle.flush()
        self.rows += 1

    def close(self) -> None:
        self.handle.close()


def _fmt(value: object) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


# ---------------------------------------------------------------------------- checkpoints


def programs_to_arrays(programs: Sequence[Program], prefix: str) -> dict[str, np.ndarray]:
    sizes = np.array([p.sizes for p in programs], dtype=np.int64).reshape(-1, 3)
    instructions = np.concatenate([p.instructions for p in programs]) if programs else np.zeros((0, 4), np.int64)
    constants = np.concatenate([p.constants for p in programs]) if programs else np.zeros((0, 3))
    return {f"{prefix}_sizes": sizes, f"{prefix}_instructions": instructions, f"{prefix}_constants": constants}


def programs_from_arrays(
    arrays: dict[str, np.ndarray], prefix: str, memory: MemorySpec | None = None
) -> list[Program]:
    """The programs stored under ``prefix`` (``_sizes``, ``_instructions``, ``_constants``),
    validated (:func:`primitives.validate.check_arrays`: dtypes, shapes, op codes, addresses
    within ``memory`` when given, no writes to s0/v0, finite constants) before any is built."""
    try:
        raw = [arrays[f"{prefix}_{name}"] for name in ("sizes", "instructions", "constants")]
    except KeyError as exc:
        raise CheckpointError(f"checkpoint has no {exc.args[0]} array") from None
    try:
        # without a memory, everything but the addresses' upper bound is checked
        sizes, instructions, constants = check_arrays(*raw, memory or _ANY_MEMORY, what=prefix)
    except ProgramError as exc:
        raise CheckpointError(f"checkpoint {prefix} programs are invalid: {exc}") from None
    programs, offset = [], 0
    for row in sizes:
        n = int(row.sum())
        programs.append(Program(instructions[offset : offset + n].copy(), constants[offset : offset + n].copy(), row))
        offset += n
    return programs


def checkpoint_digest(meta: dict, arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the checkpoint's content: the metadata (canonical JSON, without its own
    ``sha256`` field) and every array's name, dtype, shape and bytes, names in sorted order.

    It detects a checkpoint edited so that it still parses (a changed fitness, a swapped
    population row); it is not a signature: whoever edits the arrays can recompute it."""
    digest = hashlib.sha256()
    body = {k: v for k, v in meta.items() if k != "sha256"}
    digest.update(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"\0{name}\0{array.dtype.str}\0{array.shape}\0".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def save_checkpoint(run_dir: Path, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write ``checkpoint.npz`` atomically; the previous one becomes ``checkpoint.prev.npz``.

    The metadata carries ``sha256``, :func:`checkpoint_digest` of everything else."""
    buffer = io.BytesIO()
    payload = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    full_meta = {"version": CHECKPOINT_VERSION, **meta}
    full_meta["sha256"] = checkpoint_digest(full_meta, payload)
    payload["meta"] = np.frombuffer(json.dumps(full_meta).encode(), dtype=np.uint8)
    np.savez(buffer, **payload)
    run_dir = Path(run_dir)
    current = run_dir / CHECKPOINT
    # the new one is written in full first (a full disk fails here, the old one untouched)
    staged = run_dir / f".{CHECKPOINT}.new"
    atomic_write_bytes(staged, buffer.getvalue())
    if current.exists():
        os.replace(current, run_dir / PREVIOUS_CHECKPOINT)
    os.replace(staged, current)


def _read_checkpoint(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """``(meta, arrays)`` of one checkpoint file, or :class:`CheckpointError` saying why not:
    not a regular file, too large, not an npz, a member that is not a plain array, no or
    unparsable metadata, another version, or content that does not match its checksum."""
    try:
        arrays = read_npz(path, limit=ARCHIVE_LIMIT, what="checkpoint")
    except UnreadableFileError as exc:
        raise CheckpointError(f"{exc}") from None
    raw = arrays.pop("meta", None)
    if raw is None:
        raise CheckpointError(f"checkpoint {str(path)!r}: has no 'meta' member; not a checkpoint")
    try:
        meta = json.loads(raw.tobytes().decode())
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise CheckpointError(
            f"checkpoint {str(path)!r}: its 'meta' member is not JSON ({type(exc).__name__})") from None
    if not isinstance(meta, dict) or meta.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"checkpoint {str(path)!r}: not a version-{CHECKPOINT_VERSION} checkpoint")
    recorded = meta.get("sha256")
    if recorded is not None and recorded != checkpoint_digest(meta, arrays):
        raise CheckpointError(
            f"checkpoint {str(path)!r}: its content does not match its SHA-256 (edited or damaged)")
    return meta, arrays


def load_checkpoint(
    run_dir: Path, accept: Callable[[dict, dict[str, np.ndarray]], object] | None = None
) -> tuple[dict, dict[str, np.ndarray], list[str]]:
    """The newest good checkpoint; falls back to the previous one and says so in ``warnings``.

    A checkpoint is good when it reads back and, if given, ``accept(meta, arrays)`` does not
    raise :class:`CheckpointError` (a readable checkpoint whose content is invalid)."""
    run_dir = Path(run_dir)
    warnings: list[str] = []
    for name in (CHECKPOINT, PREVIOUS_CHECKPOINT):
        path = run_dir / name
        if not path.exists():
            continue
        try:
            meta, arrays = _read_checkpoint(path)
            if accept is not None:
                accept(meta, arrays)
        except CheckpointError as exc:
            warnings.append(f"{exc}; trying the previous checkpoint" if name == CHECKPOINT else str(exc))
            continue
        return meta, arrays, warnings
    detail = ("; ".join(warnings)) if warnings else "no checkpoint.npz"
    raise CheckpointError(f"{run_dir}: cannot resume: {detail}")


def has_checkpoint(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a checkpoint (current or previous), good or not."""
    return any((Path(run_dir) / name).exists() for name in (CHECKPOINT, PREVIOUS_CHECKPOINT))


def write_json(path: Path, data: dict) -> None:
    """Strict JSON (a non-finite number becomes null: ``NaN`` is not JSON), written atomically."""
    atomic_write_text(path, json.dumps(_finite(data), indent=2, sort_keys=True, allow_nan=False) + "\n")


def _finite(value: object) -> object:
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
