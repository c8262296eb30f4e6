"""A user's ``X`` and ``y`` as they hold them — NumPy arrays, pandas DataFrames and Series, text,
categorical, boolean and missing cells — as float features and label codes.

:class:`ColumnEncoder` learns, from the training rows only, one rule per column:

- **numeric** (every present cell a finite number; booleans count as 0/1): the value, a missing
  cell replaced by the column's training mean;
- **one-hot** (any present cell that is not a number: text, categories): one 0/1 column per
  value seen in training, sorted; a missing or unseen value is all zeros; more than
  :data:`~problems.table.MAX_CATEGORIES` values is refused (an identifier or free text);
- **dropped**: a column with at most one distinct present value carries no information.

A cell is missing when it is ``None``, NaN, pandas' ``NA``/``NaT`` or one of
:data:`~problems.table.MISSING_TOKENS` (the same rule as ``evolve run --data``). Labels
(:func:`encode_labels`) become codes ``0..K-1`` of ``classes_`` (sorted), whatever their type.
Every bad input is one ``ValueError`` naming the column and the value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from problems.table import MAX_CATEGORIES, MAX_MAGNITUDE, MISSING_TOKENS


def is_missing(cell: object) -> bool:
    """``None``, NaN, pandas' ``NA``/``NaT``, or a missing-value token such as ``""`` or ``"?"``."""
    if cell is None:
        return True
    if type(cell).__name__ in ("NAType", "NaTType"):
        return True
    if isinstance(cell, float | np.floating):
        return math.isnan(cell)
    return isinstance(cell, str | np.str_) and cell.strip().lower() in MISSING_TOKENS


def as_number(cell: object) -> float | None:
    """The cell as a finite float (booleans as 0/1, numeric text parsed), else ``None``."""
    if isinstance(cell, bool | np.bool_):
        return float(cell)
    if isinstance(cell, int | float | np.integer | np.floating):
        value = float(cell)
    elif isinstance(cell, str | np.str_):
        try:
            value = float(str(cell).strip())
        except ValueError:
            return None
    else:
        return None
    return value if math.isfinite(value) else None


def columns_of(X: object) -> tuple[list[str], list[np.ndarray]]:
    """Column names and columns (object arrays of cells) of a DataFrame, a 2-D array or a list of
    rows; names are ``"0"``, ``"1"`` ... where the input has none."""
    if hasattr(X, "columns") and hasattr(X, "iloc"):  # a pandas DataFrame (pandas not imported)
        names = [str(c) for c in X.columns]
        cols = [np.asarray(X.iloc[:, i].to_numpy(dtype=object), dtype=object)
                for i in range(X.shape[1])]
        return names, cols
    array = np.asarray(X, dtype=object) if not isinstance(X, np.ndarray) else X
    if array.ndim == 1:
        raise ValueError(f"X has shape {array.shape}: expected 2-D (rows, columns); reshape a single "
                         "feature with X.reshape(-1, 1)")
    if array.ndim != 2:
        raise ValueError(f"X has shape {array.shape}: expected 2-D (rows, columns)")
    return [str(i) for i in range(array.shape[1])], [array[:, i] for i in range(array.shape[1])]


@dataclass
class ColumnEncoder:
    """Per-column rules learned on training rows (see the module docstring)."""

    names: list[str] = field(default_factory=list)
    rules: list[tuple] = field(default_factory=list)  # ("numeric", mean) | ("onehot", values) | ("drop",)

    def fit(self, X: object) -> ColumnEncoder:
        names, cols = columns_of(X)
        if not cols or len(cols[0]) == 0:
            raise ValueError("X has no rows or no columns")
        self.names, self.rules = names, []
        for name, col in zip(names, cols, strict=True):
            present = [c for c in col if not is_missing(c)]
            numbers = [as_number(c) for c in present]
            if all(v is not None for v in numbers):
                big = next((v for v in numbers if abs(v) > MAX_MAGNITUDE), None)
                if big is not None:
                    raise ValueError(f"X column {name!r}: value {big!r} is too large to standardize; "
                                     f"magnitudes up to {MAX_MAGNITUDE:g} are allowed")
                if len(set(numbers)) <= 1:
                    self.rules.append(("drop",))
                else:
                    self.rules.append(("numeric", float(np.mean(numbers))))
                continue
            values = sorted({str(c).strip() for c in present})
            if len(values) > MAX_CATEGORIES:
                bad = next(str(c) for c, v in zip(present, numbers, strict=True) if v is None)
                raise ValueError(f"X column {name!r}: not numeric (value {bad!r}) and has {len(values)} "
                                 f"distinct values, more than {MAX_CATEGORIES} categories; drop the "
                                 "column or encode it yourself")
            self.rules.append(("onehot", values) if len(values) > 1 else ("drop",))
        if all(rule[0] == "drop" for rule in self.rules):
            raise ValueError("X: every column is constant or empty; nothing to learn from")
        return self

    @property
    def feature_names(self) -> list[str]:
        out = []
        for name, rule in zip(self.names, self.rules, strict=True):
            if rule[0] == "numeric":
                out.append(name)
            elif rule[0] == "onehot":
                out += [f"{name}={v}" for v in rule[1]]
        return out

    def transform(self, X: object) -> np.ndarray:
        names, cols = columns_of(X)
        if len(cols) != len(self.rules):
            raise ValueError(f"X has {len(cols)} columns; the model was fitted on {len(self.rules)}")
        blocks = []
        for name, col, rule in zip(names, cols, self.rules, strict=True):
            if rule[0] == "numeric":
                values = np.empty(len(col))
                for i, cell in enumerate(col):
                    v = None if is_missing(cell) else as_number(cell)
                    if v is None and not is_missing(cell):
                        raise ValueError(f"X column {name!r}: value {cell!r} is not a number "
                                         "(the column was numeric when fitted)")
                    values[i] = rule[1] if v is None else v
                blocks.append(values)
            elif rule[0] == "onehot":
                text = [None if is_missing(c) else str(c).strip() for c in col]
                blocks += [np.array([1.0 if t == v else 0.0 for t in text]) for v in rule[1]]
        return np.ascontiguousarray(np.stack(blocks, axis=1), dtype=np.float64)


def encode_labels(y: object) -> tuple[np.ndarray, np.ndarray]:
    """``(classes_, codes)``: the sorted distinct labels and each row's index among them."""
    cells = np.asarray(y.to_numpy(dtype=object) if hasattr(y, "to_numpy") else y, dtype=object)
    if cells.ndim == 2 and cells.shape[1] == 1:
        cells = cells[:, 0]
    if cells.ndim != 1:
        raise ValueError(f"y has shape {cells.shape}: expected one label per row (1-D)")
    absent = [i for i, c in enumerate(cells) if is_missing(c)]
    if absent:
        raise ValueError(f"y: {len(absent)} rows have no label (first: row {absent[0]}); drop or "
                         "fill them")
    kinds = {type(c).__name__ for c in cells}
    numbers = [as_number(c) for c in cells]
    if all(isinstance(c, bool | np.bool_) for c in cells):
        values = np.array([bool(c) for c in cells])
    elif all(v is not None for v in numbers) and not any(isinstance(c, str | np.str_) for c in cells):
        values = np.array(numbers)
        if np.all(values == np.round(values)):
            values = values.astype(np.int64)
    elif all(isinstance(c, str | np.str_) for c in cells):
        values = np.array([str(c) for c in cells])
    else:
        raise ValueError(f"y mixes label types ({', '.join(sorted(kinds))}); give labels of one type")
    classes, codes = np.unique(values, return_inverse=True)
    return classes, codes.astype(np.int64)
