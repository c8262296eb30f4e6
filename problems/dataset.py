"""Your own table as a task suite: random projections and row subsamples of one dataset (AutoML-Zero §4.2).

The file is read and encoded by :mod:`problems.table` (CSV/TSV, Parquet, ``.npy``/``.npz``). The
task type is inferred from the target unless ``task`` says it: a non-numeric target, or an
integer-valued one with at most :data:`MAX_INFERRED_CLASSES` distinct values, is classification;
anything else is regression.

Rows are split once, by a generator seeded with the suite's ``seed`` alone: a fraction
``final_fraction`` of the rows (per class for classification, so every class is there) is held
out for the *final* tasks, and no search or select task ever sees those rows. Classification
with more than two classes becomes class pairs, as in ``projected_binary``: ``max(1,
round(pairs / 5))`` pairs (or ``held_out_pairs``) are held out for select and final tasks, the
others are searched on; two classes are one pair that every split uses.

A task (class pair or the whole table, task seed ``s``) takes the rows of its split (and pair),
shuffles them with ``default_rng(s)`` and keeps ``num_train_examples + num_valid_examples``.
With ``mu, sigma`` the *train* examples' column means and standard deviations (0 -> 1):
missing cells are imputed with ``mu``, ``x <- (x - mu) / sigma``, and then either projected by
``P ~ N(0, 1)^(D x F) / sqrt(D)`` from the same generator and standardized again with the
projected train statistics (``projection = "gaussian"``, AutoML-Zero's §4.2 tasks), or kept as
they are (``projection = "none"``: F is the table's encoded width D, every task sees every column,
as the final model on the user's table does). Labels are 0/1 (the pair's second class is 1); a regression target is
standardized with its train mean and standard deviation, so RMSE is in units of the target's
spread.
"""

from __future__ import annotations

import functools
import itertools
import math
from pathlib import Path

import numpy as np

from problems.base import ProblemError, ProblemSuite, require_positive, split_index, task_seeds
from problems.projected_binary import parse_pairs
from problems.table import Table, encode, file_sha256, load_table
from problems.task import Task

TASK_TYPES = ("auto", "classification", "regression")
PROJECTIONS = ("gaussian", "none")
POLICIES = {"categorical": ("onehot", "reject"), "missing": ("impute", "reject")}
MAX_INFERRED_CLASSES = 10
MAX_TRAIN, MAX_VALID = 1000, 500
# Fixed, so a dataset's held-out pairs never change with the suite's seed (as projected_binary).
_HELD_OUT_PERMUTATION_SEED = 20200101
_ROW_SPLIT_SALT = 0x5EED0D47


@functools.cache
def _demo_table() -> Table:
    """scikit-learn's bundled breast-cancer table: what the suite reads when ``path`` is empty."""
    import sklearn.datasets

    bunch = sklearn.datasets.load_breast_cancer()
    names = [*map(str, bunch.feature_names), "target"]
    columns = [bunch.data[:, i].tolist() for i in range(bunch.data.shape[1])]
    return encode("<sklearn breast_cancer>", names, [*columns, bunch.target.tolist()], "target",
                  "onehot", "impute")


class DatasetSuite(ProblemSuite):
    name = "dataset"
    description = (
        "Your own table (CSV/TSV/Parquet/.npy/.npz) and target column: projections to F dims, "
        "row subsamples, final rows held out"
    )

    def __init__(
        self,
        path: str = "",
        target: str = "",
        task: str = "auto",
        features_size: int = 8,
        num_train_examples: int = 0,
        num_valid_examples: int = 0,
        final_fraction: float = 0.3,
        categorical: str = "onehot",
        missing: str = "impute",
        held_out_pairs: str = "",
        num_train_epochs: int = 1,
        sha256: str = "",
        projection: str = "gaussian",
        seed: int = 0,
    ):
        require_positive(self.name, features_size=features_size, num_train_epochs=num_train_epochs)
        for key, value, allowed in (("task", task, TASK_TYPES), ("projection", projection, PROJECTIONS),
                                    ("categorical", categorical, POLICIES["categorical"]),
                                    ("missing", missing, POLICIES["missing"])):
            if value not in allowed:
                raise ProblemError(f"problem suite {self.name!r}: parameter {key!r} is {value!r}; "
                                   f"allowed: {', '.join(allowed)}")
        if not 0.0 < final_fraction < 1.0:
            raise ProblemError(f"problem suite {self.name!r}: parameter 'final_fraction' is "
                               f"{final_fraction!r}; allowed: a number strictly between 0 and 1")
        if num_train_examples < 0 or num_valid_examples < 0:
            raise ProblemError(f"problem suite {self.name!r}: num_train_examples and "
                               "num_valid_examples must be >= 0 (0 = chosen from the data)")
        self.path, self.target, self.task, self.seed = path, target, task, seed
        self.features_size, self.num_train_epochs = features_size, num_train_epochs
        self.final_fraction, self.categorical, self.missing = final_fraction, categorical, missing
        self.held_out_pairs, self.sha256, self.projection = held_out_pairs, sha256, projection
        self.table = self._read()
        if projection == "none":  # every column, as it is: F is the encoded width
            self.features_size = int(self.table.features.shape[1])
        self.classification = self._task_type()
        self.eval_type = "accuracy" if self.classification else "rms"
        self._labels()
        self.final_rows = self._split_rows()
        self._pairs()
        self.sizes = {split: self._sizes(split, num_train_examples, num_valid_examples)
                      for split in ("search", "select", "final")}
        self.num_train_examples, self.num_valid_examples = self.sizes["search"]

    # ------------------------------------------------------------------ reading and checking

    def _read(self) -> Table:
        if self.path == "":
            if self.target not in ("", "target"):
                raise ProblemError(f"problem suite {self.name!r}: the demo table (empty 'path') "
                                   f"has no column {self.target!r}; its target is 'target'")
            return _demo_table()
        if self.sha256:
            found = file_sha256(self.path)
            if found != self.sha256.lower():
                raise ProblemError(
                    f"data file {self.path!r} has changed since the run was configured: sha256 "
                    f"{found[:16]}..., the config records {self.sha256[:16]}... (restore the file, "
                    "or start a new run on the new data)"
                )
        return load_table(str(Path(self.path)), self.target, self.categorical, self.missing)

    def _fail(self, problem: str) -> ProblemError:
        return ProblemError(f"data file {self.table.path!r}, column {self.table.target_name!r} "
                            f"(the target): {problem}")

    def _task_type(self) -> bool:
        t = self.table
        if self.task == "regression":
            if not t.target_numeric:
                bad = next(v for v in t.target if not _is_number(v))
                raise self._fail(f"regression needs numbers, found {bad!r}")
            return False
        if self.task == "classification" or not t.target_numeric:
            return True
        distinct = set(t.target)
        return all(float(v).is_integer() for v in distinct) and len(distinct) <= MAX_INFERRED_CLASSES

    def _labels(self) -> None:
        t = self.table
        self.classes = sorted(set(t.target)) if self.classification else []
        if self.classification:
            if len(self.classes) < 2:
                raise self._fail(f"a single class {self.classes[0]!r}; classification needs two")
            index = {value: i for i, value in enumerate(self.classes)}
            self.labels = np.array([index[v] for v in t.target], dtype=np.int64)
            self.values = self.labels.astype(np.float64)
        else:
            self.values = np.asarray(t.target, dtype=np.float64)
            if np.ptp(self.values) == 0.0:
                raise self._fail(f"constant ({self.values[0]!r} on every row); nothing to learn")
            self.labels = np.zeros(len(self.values), dtype=np.int64)

    def _split_rows(self) -> np.ndarray:
        """Boolean mask of the rows held out for final tasks (seeded by the suite's seed alone)."""
        rng = np.random.default_rng([_ROW_SPLIT_SALT, self.seed % 2**64])
        final = np.zeros(len(self.values), dtype=bool)
        groups = range(len(self.classes)) if self.classification else [0]
        for group in groups:
            rows = rng.permutation(np.flatnonzero(self.labels == group))
            if len(rows) < 2:
                name = self.classes[group]
                raise self._fail(f"class {name!r} has {len(rows)} row; each class needs at least "
                                 "2 (one for search, one held out for the final tasks)")
            take = min(len(rows) - 1, max(1, round(self.final_fraction * len(rows))))
            final[rows[:take]] = True
        return final

    def _pairs(self) -> None:
        if not self.classification:
            self.search_pairs = self.held_out = [None]
            return
        all_pairs = list(itertools.combinations(range(len(self.classes)), 2))
        if len(all_pairs) == 1:
            if self.held_out_pairs.strip() not in ("", "0-1"):
                raise ProblemError(f"problem suite {self.name!r}: held_out_pairs "
                                   f"{self.held_out_pairs!r}: two classes make the single pair 0-1")
            self.search_pairs = self.held_out = all_pairs
            return
        try:
            held = list(parse_pairs(self.held_out_pairs))
        except ValueError as error:
            raise ProblemError(f"problem suite {self.name!r}: parameter 'held_out_pairs' is "
                               f"{self.held_out_pairs!r}: {error}") from None
        if not held:
            rng = np.random.default_rng(_HELD_OUT_PERMUTATION_SEED)
            chosen = rng.permutation(len(all_pairs))[: max(1, round(len(all_pairs) / 5))]
            held = [all_pairs[i] for i in sorted(chosen)]
        if any(pair not in all_pairs for pair in held) or len(held) == len(all_pairs):
            raise ProblemError(
                f"problem suite {self.name!r}: held_out_pairs {self.held_out_pairs!r} must name "
                f"pairs of classes 0..{len(self.classes) - 1} (in sorted order: "
                f"{', '.join(map(repr, self.classes[:10]))}) and leave a pair for search")
        self.search_pairs = [pair for pair in all_pairs if pair not in held]
        self.held_out = held

    def _rows(self, split: str, pair) -> np.ndarray:
        in_split = self.final_rows if split == "final" else ~self.final_rows
        if pair is None:
            return np.flatnonzero(in_split)
        return np.flatnonzero(in_split & ((self.labels == pair[0]) | (self.labels == pair[1])))

    def _sizes(self, split: str, num_train: int, num_valid: int) -> tuple[int, int]:
        pairs = self.search_pairs if split == "search" else self.held_out
        available, pair = min((len(self._rows(split, p)), p) for p in pairs)
        where = f"the {split} rows" + (f" of class pair {self._pair_names(pair)}" if pair else "")
        if num_train == 0 and num_valid == 0:
            if available < 2:
                raise ProblemError(f"data file {self.table.path!r}: too few rows: {where} number "
                                   f"{available}; a task needs at least 2 (train and valid)")
            rows = max(2, math.floor(0.8 * available))
            num_valid = min(MAX_VALID, max(1, round(0.3 * rows)))
            return min(MAX_TRAIN, rows - num_valid), num_valid
        num_train = num_train or max(1, min(MAX_TRAIN, available - max(num_valid, 1)))
        num_valid = num_valid or max(1, min(MAX_VALID, available - num_train))
        if num_train + num_valid > available:
            raise ProblemError(
                f"data file {self.table.path!r}: too few rows for the requested split: "
                f"num_train_examples {num_train} + num_valid_examples {num_valid} > {available}, "
                f"{where} (final_fraction {self.final_fraction} of the rows are held out)")
        return num_train, num_valid

    def _pair_names(self, pair) -> str:
        return f"{self.classes[pair[0]]!r}-{self.classes[pair[1]]!r}"

    # ------------------------------------------------------------------ tasks

    def task_pairs(self, split: str, n: int, seed: int) -> list:
        """The class pair of each of the first ``n`` tasks of ``split`` (None for regression)."""
        pairs = self.search_pairs if split_index(split) == 0 else self.held_out
        entropy = [self.seed % 2**64, seed % 2**64, split_index(split)]
        order = np.random.default_rng(entropy).permutation(len(pairs))
        return [pairs[order[i % len(pairs)]] for i in range(n)]

    def tasks(self, split: str, n: int, seed: int) -> list[Task]:
        pairs = self.task_pairs(split, n, seed)
        seeds = task_seeds(self.seed, split, n, seed)
        return [self._task(split, pair, s) for pair, s in zip(pairs, seeds, strict=True)]

    def task_rows(self, split: str, n: int, seed: int) -> list[np.ndarray]:
        """The table rows (train first, then valid) of each of the first ``n`` tasks of ``split``."""
        pairs = self.task_pairs(split, n, seed)
        seeds = task_seeds(self.seed, split, n, seed)
        return [self._chosen(split, pair, s)[1] for pair, s in zip(pairs, seeds, strict=True)]

    def _chosen(self, split: str, pair, task_seed: int):
        num_train, num_valid = self.sizes[split]
        rng = np.random.default_rng(task_seed)
        return rng, rng.permutation(self._rows(split, pair))[: num_train + num_valid]

    def _task(self, split: str, pair, task_seed: int) -> Task:
        num_train = self.sizes[split][0]
        rng, chosen = self._chosen(split, pair, task_seed)
        x = self.table.features[chosen]
        train, valid = slice(0, num_train), slice(num_train, None)
        with np.errstate(all="ignore"):
            mean = np.nanmean(np.where(np.isnan(x[train]).all(axis=0), 0.0, x[train]), axis=0)
        x = np.where(np.isnan(x), mean, x)
        x = _standardize(x, x[train])
        if self.projection == "none":
            z = x
        else:
            projection = rng.standard_normal((x.shape[1], self.features_size))
            z = _standardize(x @ projection / np.sqrt(x.shape[1]), None, train)
        if pair is None:
            y = _standardize(self.values[chosen][:, None], None, train)[:, 0]
        else:
            y = (self.labels[chosen] == pair[1]).astype(np.float64)
        return Task(np.ascontiguousarray(z[train]), np.ascontiguousarray(y[train]),
                    np.ascontiguousarray(z[valid]), np.ascontiguousarray(y[valid]),
                    self.eval_type, task_seed, self.num_train_epochs)

    def report(self) -> dict:
        """What was read and decided: columns encoded, dropped, imputed; task type; held-out rows."""
        return {
            "path": self.table.path, "target": self.table.target_name,
            "task": "classification" if self.classification else "regression",
            "task_inferred": self.task == "auto",
            "classes": [_plain(c) for c in self.classes] if self.classification else None,
            "search_pairs": self.search_pairs if self.classification else None,
            "held_out_pairs": self.held_out if self.classification else None,
            "final_rows": int(self.final_rows.sum()), "search_select_rows":
                int((~self.final_rows).sum()),
            "examples_per_task": {k: {"train": v[0], "valid": v[1]} for k, v in self.sizes.items()},
            "missing_values": "imputed with each task's train means" if self.missing == "impute"
            else "rejected",
            **self.table.report,
        }


def _standardize(x: np.ndarray, reference: np.ndarray | None, rows: slice | None = None):
    ref = x[rows] if reference is None else reference
    mean, std = ref.mean(axis=0), ref.std(axis=0)
    std[std == 0] = 1.0
    return (x - mean) / std


def _is_number(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _plain(value):
    return float(value) if isinstance(value, float | np.floating) else value
