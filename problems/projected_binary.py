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

Search tasks use the pairs that are not held out; select and final tasks use the held-out pairs
(and disjoint task seeds, see ``problems.base.task_seeds``). Default held-out pairs: a fixed seeded
permutation of all pairs picks ``max(1, round(pairs / 5))`` of them: 9 of the 45 pairs of digits
and of mnist1d, 1 of wine's and of iris' 3. breast_cancer has a single pair: every split uses
it, with disjoint seeds.
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


@functools.cache
def load_dataset(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """(features float64 (n, D), integer labels (n,)) of a dataset, read-only and cached (so a
    process generates MNIST-1D once)."""
    if dataset == "mnist1d":
        features, labels = _make_mnist1d()
    else:
        import sklearn.datasets  # lazily: only this suite needs scikit-learn

        bunch = getattr(sklearn.datasets, f"load_{dataset}")()
        features, labels = bunch.data, bunch.target
    features = np.ascontiguousarray(features, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    features.flags.writeable = False
    labels.flags.writeable = False
    return features, labels


def _make_mnist1d() -> tuple[np.ndarray, np.ndarray]:
    """MNIST-1D by ``mnist1d.data.make_dataset(get_dataset_args())``, train and test pooled.

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
        data = make_dataset(get_dataset_args())
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
        seed: int = 0,
    ):
        if dataset not in DATASET_SIZES:
            raise ProblemError(
                f"problem suite {self.name!r}: parameter 'dataset' is {dataset!r}; "
                f"allowed: {', '.join(DATASET_SIZES)}"
            )
        require_positive(self.name, features_size=features_size, num_train_epochs=num_train_epochs)
        self.dataset, self.features_size, self.seed = dataset, features_size, seed
        self.num_train_epochs = num_train_epochs
        self.held_out_pairs = held_out_pairs
        labels = load_dataset(dataset)[1]
        counts = np.bincount(labels)
        all_pairs = list(itertools.combinations(range(len(counts)), 2))
        self.search_pairs, self.held_out = self._split_pairs(all_pairs, held_out_pairs)
        smallest = min(int(counts[a] + counts[b]) for a, b in all_pairs)
        self.num_train_examples, self.num_valid_examples = self._sizes(
            num_train_examples, num_valid_examples, smallest
        )

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
        pairs = self.search_pairs if split_index(split) == 0 else self.held_out
        entropy = [self.seed % 2**64, seed % 2**64, split_index(split)]
        order = np.random.default_rng(entropy).permutation(len(pairs))
        return [pairs[order[i % len(pairs)]] for i in range(n)]

    def tasks(self, split: str, n: int, seed: int) -> list[Task]:
        pairs = self.task_pairs(split, n, seed)
        return [
            self._task(pair, task_seed)
            for pair, task_seed in zip(pairs, task_seeds(self.seed, split, n, seed), strict=True)
        ]

    def _task(self, pair: tuple[int, int], task_seed: int) -> Task:
        features, labels = load_dataset(self.dataset)
        chosen = np.flatnonzero((labels == pair[0]) | (labels == pair[1]))
        rng = np.random.default_rng(task_seed)
        chosen = rng.permutation(chosen)[: self.num_train_examples + self.num_valid_examples]
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
