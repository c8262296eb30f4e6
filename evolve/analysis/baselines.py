"""Programs and reference learners scored side by side on the same tasks.

Programs run through the interpreter (:func:`evolve.evaluation.scoring.per_task_fitness`), each in memory
large enough for it. Scikit-learn references are fitted on the train examples and scored on the
validation examples with the executor's formula: regression ``1 - (2/pi) arctan(RMSE)`` (0 when an
error exceeds ``max_abs_error`` or is NaN), accuracy the fraction of correct labels.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evolve.evaluation.scoring import TaskBatch, per_task_fitness, reduce_fitness
from evolve.reference_programs import BUILTIN_ALGORITHMS, load_algorithm
from primitives.interpreter import DEFAULT_MAX_ABS_ERROR
from primitives.memory import MemorySpec
from primitives.program import Program
from problems.task import Task


@dataclass
class Score:
    """Fitness of one method on each task, and their reduction."""

    name: str
    kind: str  # "program", "shipped" or "sklearn"
    per_task: np.ndarray
    fitness: float

    def as_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "fitness": self.fitness,
                "std": float(np.std(self.per_task)), "tasks": len(self.per_task)}


def regression_fitness(y: np.ndarray, pred: np.ndarray,
                       max_abs_error: float = DEFAULT_MAX_ABS_ERROR) -> float:
    err = np.asarray(y, float) - np.asarray(pred, float)
    if not np.all(np.abs(err) <= max_abs_error):
        return 0.0
    return float(1.0 - 2.0 / np.pi * np.arctan(np.sqrt(np.mean(err * err))))


def accuracy_fitness(y: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.asarray(labels, float) == np.asarray(y, float)))


def score_programs(
    programs: dict[str, Program], tasks: Sequence[Task], memory: MemorySpec | None = None, *,
    kind: str = "program", max_abs_error: float = DEFAULT_MAX_ABS_ERROR, reduction: str = "mean",
) -> list[Score]:
    batch = TaskBatch.from_tasks(tasks)
    scores = []
    for name, program in programs.items():
        need = program.required_memory()
        if memory is not None:
            need = MemorySpec(*(max(a, b) for a, b in zip(need.as_tuple(), memory.as_tuple(),
                                                          strict=True)))
        per_task, _ = per_task_fitness([program], batch, need, max_abs_error=max_abs_error)
        scores.append(Score(name, kind, per_task[0],
                            float(reduce_fitness(per_task, reduction)[0])))
    return scores


def sklearn_models(eval_type: str, strong: bool = False) -> dict[str, object]:
    """What a practitioner fits on the same task rows: linear models and a 16-unit MLP; with
    ``strong`` also a 64-unit MLP and gradient boosting (each trained to its own convergence:
    ``max_iter`` 500 epochs of Adam for the MLPs, 100 boosting rounds)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    if eval_type == "accuracy":
        models = {
            "LogisticRegression": LogisticRegression(max_iter=1000),
            "MLPClassifier(16)": MLPClassifier(hidden_layer_sizes=(16,), max_iter=500, random_state=0),
        }
        if strong:
            models["MLPClassifier(64)"] = MLPClassifier(hidden_layer_sizes=(64,), max_iter=500,
                                                        random_state=0)
            models["HistGradientBoostingClassifier"] = HistGradientBoostingClassifier(random_state=0)
        return models
    models = {
        "LinearRegression": LinearRegression(),
        "Ridge(alpha=1)": Ridge(alpha=1.0),
        "MLPRegressor(16)": MLPRegressor(hidden_layer_sizes=(16,), max_iter=500, random_state=0),
    }
    if strong:
        models["MLPRegressor(64)"] = MLPRegressor(hidden_layer_sizes=(64,), max_iter=500, random_state=0)
        models["HistGradientBoostingRegressor"] = HistGradientBoostingRegressor(random_state=0)
    return models


def score_sklearn(tasks: Sequence[Task], *, max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
                  reduction: str = "mean", linear_only: bool = False,
                  strong: bool = False) -> list[Score]:
    """Scikit-learn references (:func:`sklearn_models`); ``linear_only`` skips the (slow) MLPs."""
    from sklearn.base import clone

    eval_type = tasks[0].eval_type
    scores = []
    for name, model in sklearn_models(eval_type, strong).items():
        if linear_only and (name.startswith("MLP") or name.startswith("HistGradient")):
            continue
        per_task = []
        for task in tasks:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fitted = clone(model).fit(task.train_x, task.train_y)
                    pred = fitted.predict(task.valid_x)
            except ValueError as error:  # e.g. a single class in the train examples
                if type(error).__name__ == "InvalidParameterError":
                    raise
                per_task.append(0.0)
                continue
            per_task.append(accuracy_fitness(task.valid_y, pred) if eval_type == "accuracy"
                            else regression_fitness(task.valid_y, pred, max_abs_error))
        per_task = np.array(per_task)
        scores.append(Score(name, "sklearn", per_task,
                            float(reduce_fitness(per_task[None, :], reduction)[0])))
    return scores


def compare(programs: dict[str, Program], tasks: Sequence[Task], memory: MemorySpec | None = None,
            *, max_abs_error: float = DEFAULT_MAX_ABS_ERROR, reduction: str = "mean",
            baselines: bool = True) -> list[Score]:
    """Scores of ``programs``, then the shipped algorithms and scikit-learn references."""
    scores = score_programs(programs, tasks, memory, max_abs_error=max_abs_error,
                            reduction=reduction)
    if baselines:
        shipped = {name: load_algorithm(name) for name in BUILTIN_ALGORITHMS}
        scores += score_programs(shipped, tasks, kind="shipped", max_abs_error=max_abs_error,
                                 reduction=reduction)
        scores += score_sklearn(tasks, max_abs_error=max_abs_error, reduction=reduction)
    return scores


def format_table(scores: Sequence[Score], markdown: bool = False) -> str:
    rows = [(s.name, s.kind, f"{s.fitness:.4f}", f"{np.std(s.per_task):.4f}") for s in scores]
    head = ("method", "kind", "fitness", "std")
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|---|---|---:|---:|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines) + "\n"
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    fmt = lambda r: "  ".join(  # noqa: E731
        c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
    return "\n".join([fmt(head), fmt(["-" * w for w in widths]), *map(fmt, rows)]) + "\n"
