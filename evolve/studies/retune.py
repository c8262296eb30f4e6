"""Constant re-tuning and fairly tuned baselines (AutoML-Zero §4.2, "constant re-tuning").

At the end of a search, the discovered algorithm's constants are re-tuned by random search on
the *select* tasks: each trial multiplies every tunable constant by its own factor
``10**u``, ``u ~ U(-3, 3)`` (log-scale x[1e-3, 1e3]), the sign and the program's instructions kept.
Trial 0 is the program as given, so re-tuning never lowers the select fitness. The hand-written
baselines get the same procedure and the same number of trials: for logistic SGD its learning
rate, for the 2-layer network its learning rate and initial weight scales (its zero means stay 0:
zero constants are never scaled). Constants that are indices (``vector_const_set`` c0, ...) are not
tuned. The tuned programs are then scored once on the *final* tasks, which no tuning step saw.

:func:`paired_interval` gives the mean per-task difference of two methods on the same tasks and
its 95% normal interval, ``mean ± 1.96 s / sqrt(n)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evolve.evaluation.scoring import TaskBatch, per_task_fitness, reduce_fitness
from primitives.interpreter import DEFAULT_MAX_ABS_ERROR
from primitives.memory import MemorySpec
from primitives.ops import OPS
from primitives.program import Program

#: Log10 range of the factors of a trial (AutoML-Zero §4.2: x[1e-3, 1e3]).
LOG10_RANGE = 3.0


def tunable_slots(program: Program) -> list[tuple[int, int]]:
    """(instruction, constant) positions re-tuning may scale: nonzero, not an index."""
    slots = []
    for row, op in enumerate(program.instructions[:, 0].tolist()):
        for col, name in enumerate(OPS[op].constants):
            if name != "index" and program.constants[row, col] != 0.0:
                slots.append((row, col))
    return slots


def trial_programs(program: Program, trials: int, rng: np.random.Generator) -> list[Program]:
    """``trials`` programs: the original first, then random log-scale rescalings of its constants.
    Every one has the original's instructions and sizes; only constants in
    :func:`tunable_slots` change."""
    if trials < 1:
        raise ValueError(f"trials {trials}: must be >= 1")
    slots = tunable_slots(program)
    out = [program.copy()]
    for _ in range(trials - 1):
        child = program.copy()
        factors = 10.0 ** rng.uniform(-LOG10_RANGE, LOG10_RANGE, size=len(slots))
        for (row, col), factor in zip(slots, factors.tolist(), strict=True):
            child.constants[row, col] *= factor
        out.append(child)
    return out


@dataclass
class Tuned:
    """A re-tuned program: its select fitness before and after, and the trials run."""

    program: Program
    select_before: float
    select_after: float
    trials: int
    tunable: int


def retune(
    program: Program,
    select: TaskBatch,
    memory: MemorySpec,
    trials: int,
    rng: np.random.Generator,
    *,
    reduction: str = "mean",
    max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
    chunk: int = 50,
) -> Tuned:
    """The best of :func:`trial_programs` on the select tasks (ties: the earliest trial)."""
    candidates = trial_programs(program, trials, rng)
    scores = []
    for start in range(0, len(candidates), chunk):
        per_task, _ = per_task_fitness(
            candidates[start : start + chunk], select, memory, max_abs_error=max_abs_error
        )
        scores.append(reduce_fitness(per_task, reduction))
    fitness = np.concatenate(scores)
    best = int(np.argmax(fitness))
    return Tuned(candidates[best], float(fitness[0]), float(fitness[best]), trials,
                 len(tunable_slots(program)))


def paired_interval(a: np.ndarray, b: np.ndarray, z: float = 1.96) -> tuple[float, float, float]:
    """(mean, low, high) of the per-task difference ``a - b`` with its normal 95% interval."""
    diff = np.asarray(a, float) - np.asarray(b, float)
    if diff.size < 2:
        raise ValueError("a paired interval needs at least 2 tasks")
    mean = float(diff.mean())
    half = z * float(diff.std(ddof=1)) / np.sqrt(diff.size)
    return mean, mean - half, mean + half


def clustered_interval(a: np.ndarray, b: np.ndarray, clusters) -> tuple[float, float, float, int]:
    """(mean, low, high, clusters) of ``a - b`` with tasks grouped by ``clusters`` (a class pair
    or a dataset per task): the mean of the cluster means and its 95% Student-t interval over
    clusters (scipy.stats.t), the design's unit when tasks of one pair are not independent."""
    from scipy import stats

    diff = np.asarray(a, float) - np.asarray(b, float)
    keys = [str(c) for c in clusters]
    if len(keys) != diff.size:
        raise ValueError(f"{len(keys)} cluster labels for {diff.size} tasks")
    means = np.array([diff[[i for i, k in enumerate(keys) if k == key]].mean()
                      for key in dict.fromkeys(keys)])
    k = means.size
    mean = float(means.mean())
    if k < 2:
        return mean, -np.inf, np.inf, k
    half = float(stats.t.ppf(0.975, k - 1) * means.std(ddof=1) / np.sqrt(k))
    return mean, mean - half, mean + half, k
