"""Projected binary classification on real datasets (AutoML-Zero §4.2).

Datasets: the ones bundled with scikit-learn (digits, breast_cancer, wine, iris) and MNIST-1D
(Greydanus 2020, "Scaling down deep learning"): 5000 one-dimensional signals of length 40, 500
per digit class, generated procedurally by the ``mnist1d`` package from its templates with its
default arguments (``get_dataset_args()``, seed 42; its train and test parts are pooled, the
splits here are by class pair and task seed). Nothing is downloaded.

A task is (class pair, task seed). For a pair (a, b), a < b, take the examples of both classes
(label 0 for ``a``, 1 for ``b``), shuffle them with ``default_rng(task seed)``, take the first
``num_train_examples`` as train and the next ``num_valid_examples`` as valid, project the features by
a Gaussian matrix ``P ~ N(0, 1)^(D×F) / sqrt(D)`` drawn from the same generator (D = the dataset's
dimension), and standardize every projected feature with the *train* mean and std (std 0 -> 1).

Two protocols (``protocol``):

- ``"disjoint"`` (the real-data presets' default): nothing is shared between search, select and
  final. The class pairs are split three ways: ``final_pairs`` (default: a fixed seeded
  permutation picks ``max(1, round(pairs / 5))``), ``select_pairs`` (as many more), the rest
  searched; no final pair is ever searched or selected on. The *examples* are split three ways
  too, by a fixed seeded permutation within each class (half search, a quarter select, a quarter
  final), and a task of a split takes only that split's examples: a final task's examples are in
  no search or select task under any pair or projection. A dataset with a single pair
  (breast_cancer) shares the pair and splits only the examples. MNIST-1D is generated with
  ``mnist1d_samples`` signals (default 5000; more are generated, not copied, when asked).
- ``"shared"`` (the earlier protocol, kept for comparison): search tasks use the pairs that are not
  held out, select and final tasks the same held-out pairs (``held_out_pairs``, default as
  ``final_pairs``), all drawing from every example of their pairs.

Task seeds are disjoint between splits in both (``problems.base.task_seeds``).
Within a split, task ``i`` takes pair ``order[i % pairs]``, ``order`` a permutation seeded by
(suite seed, ``seed`` argument, split).
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from problems.base import ProblemError, ProblemSuite, require_positive, split_index, task_seeds
from problems.task import Task

#: Bundled dataset -> (default train examples, default valid examples) per task. Each sum fits the
#: smallest class pair: digits 351 examples, breast_cancer 569, wine 107, iris 100.
DATASET_SIZES = {
    "digits": (200, 150),
    "breast_cancer": (400, 150),
    "wine": (60, 40),
    "iris": (60, 40),
    "mnist1d": (400, 300),
}

# Fixed, so the held-out pairs of a dataset never change with the suite's seed.
_HELD_OUT_PERMUTATION_SEED = 20200101


PROTOCOLS = ("shared", "disjoint")
# Examples per class: search, select, final (the rest of a class after the first two is final).
ROW_FRACTIONS = (0.5, 0.25)
_ROW_SPLIT_SEED = 20261208


@functools.cache
def load_dataset(dataset: str, mnist1d_samples: int = 5000) -> tuple[np.ndarray, np.ndarray]:
    """(features float64 (n, D), integer labels (n,)) of a dataset, read-only and cached (so a
    process generates MNIST-1D once)."""
    if dataset == "mnist1d":
        features, labels = _make_mnist1d(mnist1d_samples)
    else:
        import sklearn.datasets  # lazily: only this suite needs scikit-learn

        bunch = getattr(sklearn.datasets, f"load_{dataset}")()
        features, labels = bunch.data, bunch.target
    features = np.ascontiguousarray(features, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    features.flags.writeable = False
    labels.flags.writeable = False
    return features, labels


def _make_mnist1d(samples: int = 5000) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-1D by ``mnist1d.data.make_dataset(get_dataset_args())`` (``num_samples = samples``),
    train and test pooled.

    The generator seeds NumPy's and Python's global RNGs (``mnist1d.utils.set_seed``); both are
    put back as they were, so loading the dataset changes no other random stream."""
    import random

    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as error:  # an optional dependency that did not install
        raise ProblemError(
            f"problem suite 'projected_binary': dataset 'mnist1d' needs the mnist1d package "
            f"(pip install mnist1d): {error}"
        ) from None
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        args = get_dataset_args()
        args.num_samples = int(samples)
        data = make_dataset(args)
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    features = np.concatenate([data["x"], data["x_test"]])
    labels = np.concatenate([data["y"], data["y_test"]])
    return features, labels


def parse_pairs(text: str) -> tuple[tuple[int, int], ...]:
    """``"0-1,2-3"`` -> ``((0, 1), (2, 3))``; each pair sorted; ``""`` -> ``()``."""
    pairs = []
    for item in text.replace(" ", "").split(","):
        if not item:
            continue
        parts = item.split("-")
        if len(parts) != 2 or not all(part.isdigit() for part in parts) or parts[0] == parts[1]:
            raise ValueError(f"{item!r} is not a pair of two different class numbers like '0-1'")
        low, high = sorted(int(part) for part in parts)
        pairs.append((low, high))
    return tuple(dict.fromkeys(pairs))


class ProjectedBinarySuite(ProblemSuite):
    name = "projected_binary"
    description = (
        "Binary classification of class pairs of sklearn's bundled datasets or MNIST-1D, "
        "projected to F dims"
    )
    eval_type = "accuracy"

    def __init__(
        self,
        dataset: str = "digits",
        features_size: int = 16,
        num_train_examples: int = 0,
        num_valid_examples: int = 0,
        held_out_pairs: str = "",
        num_train_epochs: int = 1,
        protocol: str = "shared",
        final_pairs: str = "",
        select_pairs: str = "",
        mnist1d_samples: int = 5000,
        seed: int = 0,
    ):
        if protocol not in PROTOCOLS:
            raise ProblemError(f"problem suite {self.name!r}: parameter 'protocol' is {protocol!r}; "
                               f"allowed: {', '.join(PROTOCOLS)}")
        if not isinstance(mnist1d_samples, int) or not 1000 <= mnist1d_samples <= 200_000:
            raise ProblemError(f"problem suite {self.name!r}: parameter 'mnist1d_samples' is "
                               f"{mnist1d_samples!r}; allowed: an integer in [1000, 200000]")
        if dataset not in DATASET_SIZES:
            raise ProblemError(
                f"problem suite {self.name!r}: parameter 'dataset' is {dataset!r}; "
                f"allowed: {', '.join(DATASET_SIZES)}"
            )
        require_positive(self.name, features_size=features_size, num_train_epochs=num_train_epochs)
        self.dataset, self.features_size, self.seed = dataset, features_size, seed
        self.num_train_epochs = num_train_epochs
        self.held_out_pairs, self.protocol = held_out_pairs, protocol
        self.mnist1d_samples = mnist1d_samples if dataset == "mnist1d" else 5000
        labels = load_dataset(dataset, self.mnist1d_samples)[1]
        counts = np.bincount(labels)
        all_pairs = list(itertools.combinations(range(len(counts)), 2))
        if protocol == "shared":
            self.search_pairs, self.held_out = self._split_pairs(all_pairs, held_out_pairs)
            self.pairs_of = {"search": self.search_pairs, "select": self.held_out,
                             "final": self.held_out}
            self.rows_of = None
            smallest = min(int(counts[a] + counts[b]) for a, b in all_pairs)
        else:
            self.pairs_of = self._three_way_pairs(all_pairs, final_pairs, select_pairs)
            self.search_pairs, self.held_out = self.pairs_of["search"], self.pairs_of["final"]
            self.rows_of = self._three_way_rows(labels)
            smallest = min(int(np.isin(labels[self.rows_of[split]], pair).sum())
                           for split, pairs in self.pairs_of.items() for pair in pairs)
        self.num_train_examples, self.num_valid_examples = self._sizes(
            num_train_examples, num_valid_examples, smallest
        )

    def _three_way_pairs(self, all_pairs, final_text: str, select_text: str) -> dict:
        """Search, select and final pairs, disjoint (a single pair is shared by all three)."""
        if len(all_pairs) == 1:
            return {"search": all_pairs, "select": all_pairs, "final": all_pairs}
        try:
            final, select = list(parse_pairs(final_text)), list(parse_pairs(select_text))
        except ValueError as error:
            raise ProblemError(f"problem suite {self.name!r}: final_pairs/select_pairs: {error}") from None
        count = max(1, round(len(all_pairs) / 5))
        order = [all_pairs[i] for i in np.random.default_rng(_HELD_OUT_PERMUTATION_SEED).permutation(len(all_pairs))]
        if not final:
            final = sorted([p for p in order if p not in select][:count])
        if not select:
            select = sorted([p for p in order if p not in final][:count])
        search = [p for p in all_pairs if p not in final and p not in select]
        bad = [p for p in final + select if p not in all_pairs]
        if bad or set(final) & set(select) or not search:
            raise ProblemError(
                f"problem suite {self.name!r}: final_pairs {final_text!r} and select_pairs "
                f"{select_text!r} must name disjoint class pairs of {self.dataset!r} and leave at "
                "least one pair for search")
        return {"search": search, "select": select, "final": final}

    def _three_way_rows(self, labels: np.ndarray) -> dict:
        """Indices of each split's examples: per class, a fixed permutation cut 50/25/25."""
        rng = np.random.default_rng([_ROW_SPLIT_SEED, len(labels)])
        parts: dict[str, list] = {"search": [], "select": [], "final": []}
        for c in range(int(labels.max()) + 1):
            rows = rng.permutation(np.flatnonzero(labels == c))
            a = round(ROW_FRACTIONS[0] * len(rows))
            b = a + round(ROW_FRACTIONS[1] * len(rows))
            parts["search"].append(rows[:a])
            parts["select"].append(rows[a:b])
            parts["final"].append(rows[b:])
        return {k: np.sort(np.concatenate(v)) for k, v in parts.items()}

    def _split_pairs(self, all_pairs, held_out_text):
        try:
            held_out = list(parse_pairs(held_out_text))
        except ValueError as error:
            raise ProblemError(
                f"problem suite {self.name!r}: parameter 'held_out_pairs' is "
                f"{held_out_text!r}: {error}"
            ) from None
        if len(all_pairs) == 1:
            if held_out not in ([], all_pairs):
                raise ProblemError(
                    f"problem suite {self.name!r}: held_out_pairs {held_out_text!r}:"
                    f" dataset {self.dataset!r} has the single pair {all_pairs[0]}"
                )
            return all_pairs, all_pairs
        if not held_out:
            rng = np.random.default_rng(_HELD_OUT_PERMUTATION_SEED)
            chosen = rng.permutation(len(all_pairs))[: max(1, round(len(all_pairs) / 5))]
            held_out = [all_pairs[i] for i in sorted(chosen)]
        unknown = [pair for pair in held_out if pair not in all_pairs]
        if unknown or len(held_out) == len(all_pairs):
            raise ProblemError(
                f"problem suite {self.name!r}: held_out_pairs {held_out_text!r} must name class "
                f"pairs of {self.dataset!r} (classes 0..{all_pairs[-1][1]}) and leave at least one "
                f"pair for search"
            )
        return [pair for pair in all_pairs if pair not in held_out], held_out

    def _sizes(self, num_train, num_valid, smallest):
        default_train, default_valid = DATASET_SIZES[self.dataset]
        if num_train < 0 or num_valid < 0:
            raise ProblemError(
                f"problem suite {self.name!r}: num_train_examples and "
                f"num_valid_examples must be >= 0 (0 = dataset default)"
            )
        if num_train == 0 and num_valid == 0 and default_train + default_valid > smallest:
            # the split's smallest pair is smaller than the defaults (the disjoint protocol's
            # quarter of the examples): keep the defaults' train/valid proportion
            num_train = max(1, int(smallest * default_train / (default_train + default_valid)))
            num_valid = max(1, smallest - num_train)
        if num_train == 0:
            num_train = max(1, min(default_train, smallest - max(num_valid, 1)))
        if num_valid == 0:
            num_valid = max(1, min(default_valid, smallest - num_train))
        if num_train + num_valid > smallest:
            raise ProblemError(
                f"problem suite {self.name!r}: num_train_examples {num_train} + num_valid_examples"
                f" {num_valid} exceed the {smallest} examples of {self.dataset!r}'s smallest pair"
            )
        return num_train, num_valid

    def task_pairs(self, split: str, n: int, seed: int) -> list[tuple[int, int]]:
        """The class pair of each of the first ``n`` tasks of ``split``."""
        pairs = self.pairs_of[("search", "select", "final")[split_index(split)]]
        entropy = [self.seed % 2**64, seed % 2**64, split_index(split)]
        order = np.random.default_rng(entropy).permutation(len(pairs))
        return [pairs[order[i % len(pairs)]] for i in range(n)]

    def tasks(self, split: str, n: int, seed: int) -> list[Task]:
        pairs = self.task_pairs(split, n, seed)
        name = ("search", "select", "final")[split_index(split)]
        return [
            self._task(pair, task_seed, name)
            for pair, task_seed in zip(pairs, task_seeds(self.seed, split, n, seed), strict=True)
        ]

    def task_rows(self, split: str, n: int, seed: int) -> list[np.ndarray]:
        """The dataset rows (train first, then valid) of each of the first ``n`` tasks."""
        pairs = self.task_pairs(split, n, seed)
        name = ("search", "select", "final")[split_index(split)]
        return [self._chosen(pair, s, name)[1]
                for pair, s in zip(pairs, task_seeds(self.seed, split, n, seed), strict=True)]

    def _chosen(self, pair: tuple[int, int], task_seed: int, split: str):
        labels = load_dataset(self.dataset, self.mnist1d_samples)[1]
        in_pair = (labels == pair[0]) | (labels == pair[1])
        if self.rows_of is not None:
            allowed = np.zeros(len(labels), dtype=bool)
            allowed[self.rows_of[split]] = True
            in_pair &= allowed
        rng = np.random.default_rng(task_seed)
        chosen = rng.permutation(np.flatnonzero(in_pair))[: self.num_train_examples + self.num_valid_examples]
        return rng, chosen

    def _task(self, pair: tuple[int, int], task_seed: int, split: str = "search") -> Task:
        features, labels = load_dataset(self.dataset, self.mnist1d_samples)
        rng, chosen = self._chosen(pair, task_seed, split)
        projection = rng.standard_normal((features.shape[1], self.features_size))
        projected = features[chosen] @ projection / np.sqrt(features.shape[1])
        binary = (labels[chosen] == pair[1]).astype(np.float64)
        train = slice(0, self.num_train_examples)
        valid = slice(self.num_train_examples, None)
        mean = projected[train].mean(axis=0)
        std = projected[train].std(axis=0)
        std[std == 0] = 1.0
        standardized = (projected - mean) / std
        return Task(
            np.ascontiguousarray(standardized[train]),
            np.ascontiguousarray(binary[train]),
            np.ascontiguousarray(standardized[valid]),
            np.ascontiguousarray(binary[valid]),
            "accuracy",
            task_seed,
            self.num_train_epochs,
        )
