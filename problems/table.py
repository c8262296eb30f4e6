"""Reading a user's table (CSV/TSV, Parquet, NumPy ``.npy``/``.npz``) into numeric features + target.

Readers: the standard library's ``csv`` module (the dialect sniffed from the first 64 KiB among
``,`` ``;`` tab ``|``), ``pyarrow.parquet`` when installed, ``numpy.load`` with
``allow_pickle=False`` (opening someone's data never executes code). A cell is *missing* when it is
empty or one of :data:`MISSING_TOKENS`; a column is *numeric* when every present cell parses as a
finite float, otherwise *categorical*.

Encoding, decided here once for the whole file (labels are never looked at, so nothing about the
target leaks into the features):

- a categorical column is one-hot encoded (one 0/1 column per value, sorted; a missing cell is all
  zeros) when ``categorical = "onehot"``, or rejected when ``"reject"``; more than
  :data:`MAX_CATEGORIES` values is rejected (an identifier or free text, not a category);
- a constant column (one value, or all missing) is dropped and recorded;
- missing numeric cells stay NaN for the suite to impute with each task's *train* means
  (``missing = "impute"``), or are rejected (``"reject"``);
- the target may not be missing anywhere (a missing label is an error, never silently dropped).

Every bad input is one :class:`~problems.base.ProblemError` naming the file, the column and the
problem.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from problems.base import ProblemError
from problems.files import DATA_LIMIT, read_bytes, read_npy, read_npz

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-", "missing"})
MAX_CATEGORIES = 50
# Standardizing a column squares its values: beyond this magnitude the squares (and the variance)
# overflow to infinity, so such a value is refused with the file and column named.
MAX_MAGNITUDE = 1e150
TEXT_SUFFIXES = {".csv": None, ".tsv": "\t", ".tab": "\t", ".txt": None}
BINARY_SUFFIXES = (".parquet", ".pq", ".npy", ".npz")
_SNIFF_BYTES = 65536


@dataclass(frozen=True)
class Table:
    """A file read and encoded: ``features`` (n, D) float64 with NaN where missing, the raw target
    cells, and what was done to each column (``report``)."""

    path: str
    features: np.ndarray
    feature_names: tuple[str, ...]
    target_name: str
    target: tuple  # one cell per row: float for numeric targets, str otherwise
    target_numeric: bool
    report: dict = field(default_factory=dict)


def file_sha256(path: str | Path) -> str:
    """SHA-256 of the file's bytes (hex): recorded in a run's config, checked when it is read."""
    digest = hashlib.sha256()
    digest.update(read_bytes(path, limit=DATA_LIMIT, what="data file"))
    return digest.hexdigest()


def _is_missing(cell: object) -> bool:
    if cell is None:
        return True
    if isinstance(cell, float):
        return math.isnan(cell)
    return isinstance(cell, str) and cell.strip().lower() in MISSING_TOKENS


def _as_float(cell: object) -> float | None:
    """The cell as a finite float, or None (a string that is not a number, inf, a bool...)."""
    if isinstance(cell, bool | np.bool_):
        return None
    if isinstance(cell, int | float | np.integer | np.floating):
        value = float(cell)
    elif isinstance(cell, str):
        try:
            value = float(cell.strip())
        except ValueError:
            return None
    else:
        return None
    return value if math.isfinite(value) else None


# ---------------------------------------------------------------------------- readers


def _read_text(path: Path, delimiter: str | None) -> tuple[list[str], list[list[object]]]:
    try:
        text = read_bytes(path, limit=DATA_LIMIT, what="data file").decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ProblemError(
            f"data file {str(path)!r}: not UTF-8 text (byte {error.start}); save it as UTF-8 CSV"
        ) from None
    if "\x00" in text:
        raise ProblemError(f"data file {str(path)!r}: holds NUL bytes, not a text table")
    if not text.strip():
        raise ProblemError(f"data file {str(path)!r}: is empty (a header row and data rows needed)")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:_SNIFF_BYTES], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
                if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise ProblemError(f"data file {str(path)!r}: not a readable CSV table: {error}") from None
    if not rows:
        raise ProblemError(f"data file {str(path)!r}: has no rows")
    header = [name.strip() for name in rows[0]]
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ProblemError(
                f"data file {str(path)!r}: data row {line - 1} has {len(row)} fields, the header "
                f"has {len(header)} (delimiter {delimiter!r})"
            )
    return header, [list(column) for column in zip(*rows[1:], strict=True)] if rows[1:] else [
        [] for _ in header
    ]


def _read_parquet(path: Path) -> tuple[list[str], list[list[object]]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ProblemError(
            f"data file {str(path)!r}: reading Parquet needs pyarrow (`pip install pyarrow`), "
            "or save the table as CSV"
        ) from None
    data = read_bytes(path, limit=DATA_LIMIT, what="data file")
    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as error:  # pyarrow raises its own error types for a bad file
        raise ProblemError(f"data file {str(path)!r}: not a readable Parquet file: {error}") from None
    return [str(name) for name in table.column_names], [col.to_pylist() for col in table.columns]


def _read_numpy(path: Path) -> tuple[list[str], list[list[object]]]:
    if path.suffix.lower() == ".npy":
        loaded = read_npy(path, limit=DATA_LIMIT, what="data file")
    else:
        loaded = read_npz(path, limit=DATA_LIMIT, what="data file")
    if isinstance(loaded, np.ndarray):  # .npy: a 2-D array, columns named "0", "1", ...
        if loaded.ndim != 2:
            raise ProblemError(
                f"data file {str(path)!r}: a .npy table must be 2-D, got shape {loaded.shape}"
            )
        return [str(i) for i in range(loaded.shape[1])], [loaded[:, i].tolist()
                                                            for i in range(loaded.shape[1])]
    header, columns = [], []  # .npz: 1-D arrays are columns; a 2-D array X gives columns X0, ...
    for key, array in loaded.items():
        if array.dtype.kind not in "biufUS":
            raise ProblemError(
                f"data file {str(path)!r}: array {key!r} has dtype {array.dtype}; numbers or "
                "strings expected"
            )
        if array.ndim == 1:
            header.append(key)
            columns.append(array.tolist())
        elif array.ndim == 2:
            header += [f"{key}{i}" for i in range(array.shape[1])]
            columns += [array[:, i].tolist() for i in range(array.shape[1])]
        else:
            raise ProblemError(
                f"data file {str(path)!r}: array {key!r} has shape {array.shape}; 1-D columns "
                "or a 2-D feature matrix expected"
            )
    if not header:
        raise ProblemError(f"data file {str(path)!r}: the .npz holds no arrays")
    lengths = {len(column) for column in columns}
    if len(lengths) > 1:
        raise ProblemError(
            f"data file {str(path)!r}: arrays have different lengths {sorted(lengths)}"
        )
    return header, columns


def read_columns(path: str | Path) -> tuple[list[str], list[list[object]]]:
    """(column names, columns of cells) of a table file; ProblemError for anything unreadable."""
    path = Path(path)
    if not path.exists():
        raise ProblemError(f"data file {str(path)!r}: no such file")
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        header, columns = _read_text(path, TEXT_SUFFIXES[suffix])
    elif suffix in (".parquet", ".pq"):
        header, columns = _read_parquet(path)
    elif suffix in (".npy", ".npz"):
        header, columns = _read_numpy(path)
    else:
        allowed = ", ".join([*TEXT_SUFFIXES, *BINARY_SUFFIXES])
        raise ProblemError(f"data file {str(path)!r}: unknown suffix {suffix!r}; allowed: {allowed}")
    seen: set[str] = set()
    for index, name in enumerate(header):
        if not name:
            raise ProblemError(f"data file {str(path)!r}: column {index + 1} has no name in the header")
        if name in seen:
            raise ProblemError(f"data file {str(path)!r}: column name {name!r} appears twice")
        seen.add(name)
    return header, columns


# ---------------------------------------------------------------------------- encoding


def _resolve_target(path: str, header: list[str], target: str) -> int:
    if target == "":
        return len(header) - 1
    if target in header:
        return header.index(target)
    shown = ", ".join(repr(name) for name in header[:12]) + (" ..." if len(header) > 12 else "")
    raise ProblemError(f"data file {path!r}: no column {target!r}; columns: {shown}")


def _check_magnitude(path: str, name: str, numbers: list) -> None:
    big = next((i for i, v in enumerate(numbers) if v is not None and abs(v) > MAX_MAGNITUDE), None)
    if big is not None:
        raise ProblemError(
            f"data file {path!r}, column {name!r}: value {numbers[big]!r} is too large to "
            f"standardize; magnitudes up to {MAX_MAGNITUDE:g} are allowed (rescale the column)"
        )


def encode(path: str, header: list[str], columns: list[list[object]], target: str,
           categorical: str, missing: str) -> Table:
    """The encoded :class:`Table` (see the module docstring for the rules)."""
    t = _resolve_target(path, header, target)
    target_name, target_cells = header[t], columns[t]
    n = len(target_cells)
    if n == 0:
        raise ProblemError(f"data file {path!r}: has a header but no data rows")
    absent = [i for i, cell in enumerate(target_cells) if _is_missing(cell)]
    if absent:
        raise ProblemError(
            f"data file {path!r}, column {target_name!r} (the target): {len(absent)} rows have no "
            f"value (first: data row {absent[0] + 1}); drop or fill them"
        )
    numeric_target = [_as_float(cell) for cell in target_cells]
    target_numeric = all(value is not None for value in numeric_target)
    if target_numeric:
        _check_magnitude(path, target_name, numeric_target)
    target_values = tuple(numeric_target) if target_numeric else tuple(
        str(cell).strip() for cell in target_cells)
    blocks, names, report = [], [], {"dropped_constant": [], "one_hot": {}, "missing": {}}
    for name, cells in zip(header, columns, strict=True):
        if name == target_name:
            continue
        present = [cell for cell in cells if not _is_missing(cell)]
        numbers = [_as_float(cell) for cell in present]
        is_numeric = all(value is not None for value in numbers)
        distinct = set(numbers) if is_numeric else {str(cell).strip() for cell in present}
        if len(distinct) <= 1:
            report["dropped_constant"].append(name)
            continue
        missing_rows = n - len(present)
        if missing_rows:
            if missing == "reject":
                first = next(i for i, cell in enumerate(cells) if _is_missing(cell))
                raise ProblemError(
                    f"data file {path!r}, column {name!r}: {missing_rows} missing values (first: "
                    f"data row {first + 1}); missing = \"reject\" (use \"impute\" for train means)"
                )
            report["missing"][name] = missing_rows
        if is_numeric:
            _check_magnitude(path, name, numbers)
            blocks.append(np.array([np.nan if _is_missing(c) else _as_float(c) for c in cells]))
            names.append(name)
            continue
        values = sorted({str(cell).strip() for cell in present})
        bad = next(str(cell) for cell, v in zip(present, numbers, strict=True) if v is None)
        if categorical == "reject":
            raise ProblemError(
                f"data file {path!r}, column {name!r}: not numeric (value {bad!r}); "
                "categorical = \"reject\" (use \"onehot\" to encode it)"
            )
        if len(values) > MAX_CATEGORIES:
            raise ProblemError(
                f"data file {path!r}, column {name!r}: not numeric (value {bad!r}) and has "
                f"{len(values)} distinct values, more than {MAX_CATEGORIES} categories; drop the "
                "column or encode it yourself"
            )
        text = [None if _is_missing(cell) else str(cell).strip() for cell in cells]
        for value in values:
            blocks.append(np.array([1.0 if cell == value else 0.0 for cell in text]))
            names.append(f"{name}={value}")
        report["one_hot"][name] = values
    if not blocks:
        raise ProblemError(
            f"data file {path!r}: no feature column is left besides the target {target_name!r} "
            f"(dropped as constant: {', '.join(report['dropped_constant']) or 'none'})"
        )
    features = np.ascontiguousarray(np.stack(blocks, axis=1), dtype=np.float64)
    features.flags.writeable = False
    report.update(rows=n, columns=len(header), features=len(names),
                  missing_policy=missing, categorical_policy=categorical)
    return Table(path, features, tuple(names), target_name, target_values, target_numeric, report)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, size: int, mtime_ns: int, target: str, categorical: str,
                 missing: str) -> Table:
    header, columns = read_columns(path)
    return encode(path, header, columns, target, categorical, missing)


def load_table(path: str, target: str = "", categorical: str = "onehot",
               missing: str = "impute") -> Table:
    """The encoded table of ``path`` (cached while the file's size and mtime do not change)."""
    if os.path.isdir(path):
        raise ProblemError(f"data file {path!r}: is a directory, not a table file")
    if not os.path.exists(path):
        raise ProblemError(f"data file {path!r}: no such file")
    try:
        stat = os.stat(path)
    except OSError as error:
        raise ProblemError(f"data file {path!r}: {error.strerror or 'cannot be read'}") from None
    return _load_cached(path, stat.st_size, stat.st_mtime_ns, target, categorical, missing)
