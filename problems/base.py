"""The problem-suite interface: a family of tasks split into disjoint search/select/final sets.

AutoML-Zero (Real et al. 2020, §4 and Supplementary S1) searches on one set of tasks, selects the
best algorithm on a second set and reports on a third, never seen by the search. A suite is one
small class: keyword parameters typed in ``__init__``, a ``name``, a one-line ``description``, and
``tasks(split, n, seed)``. Everything else (parsing parameters, validating arrays) is done at the
boundary by ``problems.registry``.
"""

from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from problems.task import SPLITS, Task

#: Parameter types a suite may declare; the registry converts command-line strings to these.
PARAM_TYPES: tuple[type, ...] = (int, float, bool, str)

# Task seeds are 3 * key + split index with key < 2**29, so they fit in int32.
_KEY_BITS = 29


class ProblemError(ValueError):
    """A problem suite, its parameters or the tasks it produced are invalid. The message says why."""


@dataclass(frozen=True)
class SuiteParameter:
    """One keyword parameter of a suite, read from its ``__init__`` signature."""

    name: str
    type: type
    default: object


class ProblemSuite:
    """Base class of a problem suite.

    Contract (checked by ``tests/problems/test_problems.py`` for every registered suite):

    - constructed with keyword parameters only, each annotated ``int``, ``float``, ``bool`` or
      ``str`` and given a default, so ``make_suite(name, {})`` works;
    - class attributes ``name`` and ``description`` (one line);
    - instance (or class) attributes ``features_size`` (F) and ``eval_type`` ("rms"/"accuracy");
    - ``tasks(split, n, seed)`` returns ``n`` tasks; the three splits are disjoint (their task seeds,
      and where it applies their class pairs, never meet) and the result depends only on
      (parameters, split, n, seed).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    features_size: int
    eval_type: str

    def tasks(self, split: str, n: int, seed: int) -> list[Task]:
        raise NotImplementedError

    @classmethod
    def parameters(cls) -> dict[str, SuiteParameter]:
        """The suite's parameters (name -> type and default), from its ``__init__`` signature."""
        if cls.__init__ is object.__init__:
            return {}
        try:
            hints = typing.get_type_hints(cls.__init__)
        except Exception as error:  # an annotation that does not resolve
            raise ProblemError(
                f"problem suite {cls.name or cls.__name__!r}: cannot read the parameter "
                f"annotations of __init__: {error}"
            ) from error
        found = {}
        for index, param in enumerate(inspect.signature(cls.__init__).parameters.values()):
            if index == 0:  # self
                continue
            kind_ok = param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY)
            param_type = hints.get(param.name)
            if not kind_ok or param_type not in PARAM_TYPES or param.default is param.empty:
                raise ProblemError(
                    f"problem suite {cls.name or cls.__name__!r}: parameter {param.name!r} must "
                    f"be a keyword parameter annotated int, float, bool or str, with a default"
                )
            found[param.name] = SuiteParameter(param.name, param_type, param.default)
        return found

    def __repr__(self) -> str:
        values = ", ".join(
            f"{name}={getattr(self, name, param.default)!r}"
            for name, param in self.parameters().items()
        )
        return f"{type(self).__name__}({values})"


def split_index(split: str) -> int:
    """0, 1, 2 for "search", "select", "final"; ProblemError for anything else."""
    if split not in SPLITS:
        raise ProblemError(f"unknown split {split!r}; allowed: {', '.join(SPLITS)}")
    return SPLITS.index(split)


def task_seeds(suite_seed: int, split: str, n: int, seed: int) -> list[int]:
    """Seeds of the first ``n`` tasks of ``split``; each is in [0, 2**31), so any RNG accepts it.

    ``task seed = 3 * key + split index``, where ``key`` is a 29-bit hash (NumPy ``SeedSequence``)
    of (suite seed, ``seed`` argument, task index, attempt). The residue mod 3 is the split, so the
    splits can never share a task seed whatever the seeds; the hash makes different ``seed``
    arguments give unrelated tasks; a key already used in the list is drawn again with the next
    attempt, so a split never repeats a task. Task ``i`` does not depend on ``n``.
    """
    offset = split_index(split)
    entropy_base = [int(suite_seed) % 2**64, int(seed) % 2**64]
    keys: list[int] = []
    used: set[int] = set()
    for index in range(n):
        attempt = 0
        while True:
            entropy = [*entropy_base, index, attempt]
            word = np.random.SeedSequence(entropy).generate_state(1, np.uint32)[0]
            key = int(word) >> (32 - _KEY_BITS)
            if key not in used:
                break
            attempt += 1
        keys.append(key)
        used.add(key)
    return [3 * key + offset for key in keys]


def require_positive(suite_name: str, **values: int) -> None:
    """ProblemError naming the suite and parameter unless every value is >= 1."""
    for name, value in values.items():
        if value < 1:
            raise ProblemError(
                f"problem suite {suite_name!r}: parameter {name!r} must be >= 1, got {value!r}"
            )
