"""Fitness evaluation: tasks stacked for the interpreter, mean or median over tasks.

Fitness of an algorithm on a set of tasks is the mean of the per-task fitness (AutoML-Zero §3), or
optionally the upper median ``sorted(f)[n // 2]`` as AutoML-Zero's C++ computes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evolve.errors import DataError
from primitives.interpreter import DEFAULT_MAX_ABS_ERROR, EVAL_TYPE_CODES, evaluate_batch
from primitives.memory import MemorySpec
from primitives.program import Program, pack
from primitives.validate import check_packed, debug_checks
from problems.task import Task

REDUCTIONS = ("mean", "median")


@dataclass(frozen=True, eq=False)
class TaskBatch:
    """Tasks of one shape stacked as the interpreter wants them: ``x`` (T, n, F), ``y`` (T, n)."""

    train_x: np.ndarray
    train_y: np.ndarray
    valid_x: np.ndarray
    valid_y: np.ndarray
    eval_type: str
    num_epochs: int
    seeds: np.ndarray

    @classmethod
    def from_tasks(cls, tasks: Sequence[Task]) -> TaskBatch:
        if not tasks:
            raise DataError("no tasks to evaluate on")
        first = tasks[0]
        for i, task in enumerate(tasks):
            for field in ("train_x", "train_y", "valid_x", "valid_y"):
                if getattr(task, field).shape != getattr(first, field).shape:
                    raise DataError(
                        f"task {i}: {field} has shape {getattr(task, field).shape}, but task 0 has "
                        f"{getattr(first, field).shape}; tasks evaluated together must share shapes"
                    )
            if task.eval_type != first.eval_type or task.num_train_epochs != first.num_train_epochs:
                raise DataError(f"task {i}: eval_type/num_train_epochs differ from task 0")
        stack = lambda name: np.ascontiguousarray(  # noqa: E731
            np.stack([getattr(t, name) for t in tasks]), dtype=np.float64
        )
        return cls(
            stack("train_x"), stack("train_y"), stack("valid_x"), stack("valid_y"),
            first.eval_type, int(first.num_train_epochs),
            np.array([t.seed & 0xFFFFFFFFFFFFFFFF for t in tasks], dtype=np.uint64),
        )

    @property
    def num_tasks(self) -> int:
        return int(self.train_x.shape[0])

    @property
    def features_size(self) -> int:
        return int(self.train_x.shape[2])

    def head(self, num_train: int, num_valid: int) -> TaskBatch:
        """The first examples of every task, one epoch (what FEC hashes predictions on)."""
        return TaskBatch(
            np.ascontiguousarray(self.train_x[:, :num_train]),
            np.ascontiguousarray(self.train_y[:, :num_train]),
            np.ascontiguousarray(self.valid_x[:, :num_valid]),
            np.ascontiguousarray(self.valid_y[:, :num_valid]),
            self.eval_type, 1, self.seeds,
        )

    def subset(self, indices: Sequence[int] | slice) -> TaskBatch:
        return TaskBatch(
            np.ascontiguousarray(self.train_x[indices]),
            np.ascontiguousarray(self.train_y[indices]),
            np.ascontiguousarray(self.valid_x[indices]),
            np.ascontiguousarray(self.valid_y[indices]),
            self.eval_type, self.num_epochs, np.ascontiguousarray(self.seeds[indices]),
        )


class Brood(list):
    """A list of programs that also carries them packed for the interpreter (``code``, ``data``,
    ``bounds``), as the batch mutator produced them, so evaluation need not pack them again."""

    packed: tuple[np.ndarray, np.ndarray, np.ndarray]


def packed_form(programs: Sequence[Program]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(code, data, bounds)`` of ``programs``: carried along by a :class:`Brood`, else packed."""
    packed = getattr(programs, "packed", None)
    return packed if packed is not None else pack(programs)


def per_task_fitness(
    programs: Sequence[Program],
    batch: TaskBatch,
    memory: MemorySpec,
    *,
    max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
    eval_seed: int = 0,
    record: bool = False,
    prune: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Fitness of each program on each task, ``(P, T)``, and FEC hashes when ``record``.
    ``prune=False`` executes dead code too (same results; for tests and benchmarks)."""
    code, data, bounds = packed_form(programs)
    return per_task_fitness_packed(
        code, data, bounds, batch, memory, max_abs_error=max_abs_error, eval_seed=eval_seed,
        record=record, prune=prune,
    )


def per_task_fitness_packed(
    code: np.ndarray,
    data: np.ndarray,
    bounds: np.ndarray,
    batch: TaskBatch,
    memory: MemorySpec,
    *,
    max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
    eval_seed: int = 0,
    record: bool = False,
    prune: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`per_task_fitness` of packed programs; ``bounds`` may select any rows of ``code``.
    With ``EVOLVE_CHECK_PROGRAMS=1`` (the tests) every program is validated first: the kernel
    does no bounds checks, so an invalid program reaching it would be a bug upstream."""
    if debug_checks():
        check_packed(code, data, bounds, memory)
    return evaluate_batch(
        code, data, np.ascontiguousarray(bounds), batch.train_x, batch.train_y, batch.valid_x,
        batch.valid_y, eval_type=EVAL_TYPE_CODES[batch.eval_type], num_epochs=batch.num_epochs,
        memory=memory.as_tuple(), task_seeds=batch.seeds, eval_seed=eval_seed,
        max_abs_error=max_abs_error, record=record, prune=prune,
    )


def reduce_fitness(per_task: np.ndarray, reduction: str = "mean") -> np.ndarray:
    """Combine per-task fitness ``(P, T)`` into ``(P,)``: mean, or AutoML-Zero's upper median."""
    if reduction == "mean":
        return per_task.mean(axis=1)
    if reduction == "median":
        return np.sort(per_task, axis=1)[:, per_task.shape[1] // 2]
    raise ValueError(f"reduction {reduction!r}: allowed {REDUCTIONS}")


def evaluate(
    programs: Sequence[Program],
    batch: TaskBatch,
    memory: MemorySpec,
    *,
    reduction: str = "mean",
    max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
    eval_seed: int = 0,
) -> np.ndarray:
    """Combined fitness of each program over the batch's tasks."""
    fitness, _ = per_task_fitness(
        programs, batch, memory, max_abs_error=max_abs_error, eval_seed=eval_seed
    )
    return reduce_fitness(fitness, reduction)
