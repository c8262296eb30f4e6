"""Scikit-learn baselines tuned on the select tasks, scored on the final tasks.

AutoML-Zero §4.2 gives its baselines the same budget as the search. Here each family
(LogisticRegression or Ridge, MLP, HistGradientBoosting) tries the settings of a small grid in a
fixed order, each scored by its mean fitness over the *select* tasks (fitted on a task's train
examples, scored on its valid examples with the executor's formula: accuracy, or
``1 - (2/pi) arctan(RMSE)``), until the grid ends or the family's share of the time budget is
spent. The best setting is then scored on the *final* tasks, the ones the discovered algorithm is
reported on. The same tasks, the same formula, no information the search did not have.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evolve.analysis.baselines import accuracy_fitness, regression_fitness
from primitives.interpreter import DEFAULT_MAX_ABS_ERROR
from problems.task import Task


@dataclass
class Tuned:
    """One family's best setting: its select and final fitness and how many settings it tried."""

    name: str
    params: dict
    select_fitness: float
    final_fitness: float
    final_std: float
    tried: int
    grid: int

    def as_dict(self) -> dict:
        return dict(vars(self))


def _grids(classification: bool) -> dict[str, tuple[type, dict, list[dict]]]:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    mlp = [{"hidden_layer_sizes": (h,), "alpha": a} for h in (16, 64) for a in (1e-4, 1.0)]
    # min_samples_leaf 20 (the default) cannot split the few train rows of a small final task.
    hgb = [{"learning_rate": r, "min_samples_leaf": n} for r in (0.05, 0.2) for n in (3, 20)]
    if classification:
        return {
            "LogisticRegression": (LogisticRegression, {"max_iter": 1000},
                                   [{"C": c} for c in (0.01, 0.1, 1.0, 10.0, 100.0)]),
            "MLPClassifier": (MLPClassifier, {"max_iter": 500, "random_state": 0}, mlp),
            "HistGradientBoostingClassifier": (HistGradientBoostingClassifier,
                                               {"random_state": 0}, hgb),
        }
    return {
        "Ridge": (Ridge, {}, [{"alpha": a} for a in (0.01, 0.1, 1.0, 10.0, 100.0)]),
        "MLPRegressor": (MLPRegressor, {"max_iter": 500, "random_state": 0}, mlp),
        "HistGradientBoostingRegressor": (HistGradientBoostingRegressor, {"random_state": 0}, hgb),
    }


def task_fitness(model_class, params: dict, tasks: Sequence[Task],
                 max_abs_error: float = DEFAULT_MAX_ABS_ERROR) -> np.ndarray:
    """Fitness of a fresh ``model_class(**params)`` on each task (0 where fitting fails)."""
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency

    scores = []
    for task in tasks:
        try:
            # One thread: on tasks of a few hundred rows OpenMP's start-up and barriers cost
            # more than they give (HistGradientBoosting took seconds per fit on two busy cores).
            with warnings.catch_warnings(), threadpool_limits(limits=1):
                warnings.simplefilter("ignore")
                pred = model_class(**params).fit(task.train_x, task.train_y).predict(task.valid_x)
        except ValueError:  # e.g. a single class among a task's train examples
            scores.append(0.0)
            continue
        scores.append(accuracy_fitness(task.valid_y, pred) if task.eval_type == "accuracy"
                      else regression_fitness(task.valid_y, pred, max_abs_error))
    return np.array(scores)


def tuned_baselines(select: Sequence[Task], final: Sequence[Task], budget_seconds: float,
                    max_abs_error: float = DEFAULT_MAX_ABS_ERROR) -> list[Tuned]:
    """Each family tuned on ``select`` within ``budget_seconds / 3``, scored on ``final``."""
    results = []
    grids = _grids(select[0].eval_type == "accuracy")
    share = budget_seconds / len(grids) if budget_seconds > 0 else float("inf")
    for name, (model_class, fixed, grid) in grids.items():
        start = time.monotonic()
        best, best_fitness, tried = None, -1.0, 0
        for params in grid:
            if tried and time.monotonic() - start >= share:
                break
            fitness = float(np.mean(task_fitness(model_class, {**fixed, **params}, select,
                                                 max_abs_error)))
            tried += 1
            if fitness > best_fitness:
                best, best_fitness = params, fitness
        final_scores = task_fitness(model_class, {**fixed, **best}, final, max_abs_error)
        results.append(Tuned(name, {k: list(v) if isinstance(v, tuple) else v
                                    for k, v in best.items()},
                             best_fitness, float(np.mean(final_scores)),
                             float(np.std(final_scores)), tried, len(grid)))
    return results
