"""AutoML-Zero's synthetic regression families and unit-test tasks (Real et al. 2020, §4.1, S1).

Every task draws its data from ``numpy.random.default_rng(task seed)``; task seeds come from
``problems.base.task_seeds`` (disjoint across splits). Features are ``x ~ N(0, 1)^F``. Draw order
within a task: the teacher's parameters, then the train features, then the valid features.
"""

from __future__ import annotations

import numpy as np

from problems.base import ProblemSuite, require_positive, task_seeds
from problems.task import Task


class RegressionSuite(ProblemSuite):
    """Common parameters and task assembly; a family fills ``_arrays(rng)``."""

    eval_type = "rms"

    def __init__(
        self,
        features_size: int = 4,
        num_train_examples: int = 100,
        num_valid_examples: int = 100,
        num_train_epochs: int = 1,
        seed: int = 0,
    ):
        require_positive(
            self.name,
            features_size=features_size,
            num_train_examples=num_train_examples,
            num_valid_examples=num_valid_examples,
            num_train_epochs=num_train_epochs,
        )
        self.features_size = features_size
        self.num_train_examples = num_train_examples
        self.num_valid_examples = num_valid_examples
        self.num_train_epochs = num_train_epochs
        self.seed = seed

    def tasks(self, split: str, n: int, seed: int) -> list[Task]:
        tasks = []
        for task_seed in task_seeds(self.seed, split, n, seed):
            arrays = self._arrays(np.random.default_rng(task_seed))
            train_x, train_y, valid_x, valid_y = (
                np.ascontiguousarray(a, np.float64) for a in arrays
            )
            tasks.append(
                Task(train_x, train_y, valid_x, valid_y, "rms", task_seed, self.num_train_epochs)
            )
        return tasks

    def _arrays(self, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """(train_x, train_y, valid_x, valid_y) of one task."""
        raise NotImplementedError


class TeacherSuite(RegressionSuite):
    """Random Gaussian features labelled by a random teacher function ``_teacher(rng)``."""

    def _teacher(self, rng: np.random.Generator):
        raise NotImplementedError

    def _arrays(self, rng):
        teacher = self._teacher(rng)
        train_x = rng.standard_normal((self.num_train_examples, self.features_size))
        valid_x = rng.standard_normal((self.num_valid_examples, self.features_size))
        return train_x, teacher(train_x), valid_x, teacher(valid_x)


class LinearSuite(TeacherSuite):
    name = "linear"
    description = "Linear regression: y = w·x, w ~ N(0, 1)^F per task"

    def _teacher(self, rng):
        weights = rng.standard_normal(self.features_size)
        return lambda x: x @ weights


class AffineSuite(TeacherSuite):
    name = "affine"
    description = "Affine regression: y = w·x + b, w ~ N(0, 1)^F, b ~ N(0, 1) per task"

    def _teacher(self, rng):
        weights = rng.standard_normal(self.features_size)
        bias = rng.standard_normal()
        return lambda x: x @ weights + bias


class NNTeacherSuite(TeacherSuite):
    name = "nn_teacher"
    description = "2-layer ReLU teacher: y = u·ReLU(M x), M ~ N(0, 1)^(F×F), u ~ N(0, 1)^F"

    def _teacher(self, rng):
        hidden = rng.standard_normal((self.features_size, self.features_size))
        output = rng.standard_normal(self.features_size)
        return lambda x: np.maximum(x @ hidden.T, 0.0) @ output


class ZerosSuite(RegressionSuite):
    name = "zeros"
    description = "Unit-test task: x = 0, y = 0"

    def _arrays(self, rng):
        shape = (self.features_size,)
        return (
            np.zeros((self.num_train_examples, *shape)),
            np.zeros(self.num_train_examples),
            np.zeros((self.num_valid_examples, *shape)),
            np.zeros(self.num_valid_examples),
        )


class OnesSuite(RegressionSuite):
    name = "ones"
    description = "Unit-test task: x = 1, y = 1"

    def _arrays(self, rng):
        shape = (self.features_size,)
        return (
            np.ones((self.num_train_examples, *shape)),
            np.ones(self.num_train_examples),
            np.ones((self.num_valid_examples, *shape)),
            np.ones(self.num_valid_examples),
        )


#: Step of the ``increment`` unit-test task.
INCREMENT = 0.1


class IncrementSuite(RegressionSuite):
    """Example ``i`` (counted from 0 in train and again in valid) is ``x = 0.1·i·1_F, y = 0.1·i``."""

    name = "increment"
    description = "Unit-test task: example i has x = 0.1·i in every feature and y = 0.1·i"

    def _arrays(self, rng):
        train_y = INCREMENT * np.arange(self.num_train_examples)
        valid_y = INCREMENT * np.arange(self.num_valid_examples)
        ones = np.ones(self.features_size)
        return np.outer(train_y, ones), train_y, np.outer(valid_y, ones), valid_y
