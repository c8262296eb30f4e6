"""``EvolvedClassifier`` and ``EvolvedRegressor``: ``fit(X, y)`` discovers an algorithm for your data.

``fit`` writes ``X, y`` to ``data.npz`` in a new run directory, runs a campaign of the ``dataset``
preset on it (tasks are random projections and row subsamples of ``X``, the final rows held out,
:mod:`problems.dataset`), then trains the discovered algorithm on all of ``X``
(:mod:`evolve.estimators.discovered`) and predicts with it. Fitted attributes: ``program_`` (pruned),
``math_``, ``run_dir_``, ``summary_``, ``estimator_`` (the exported estimator, fitted), and
``classes_``/``n_features_in_`` as scikit-learn defines them.
"""

from __future__ import annotations

import os

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # scikit-learn < 1.6

    def validate_data(estimator, X="no_validation", y="no_validation", reset=True, **kw):
        return estimator._validate_data(X, y, reset=reset, **kw)


class _Evolved(BaseEstimator):
    _task = ""

    def __init__(self, budget_minutes: float = 1.0, max_evaluations: int = 0, seed: int = 0,
                 features_size: int = 8, epochs: int = 1, n_projections: int = 5,
                 preset: str = "dataset", overrides: tuple = (), run_root: str | None = None,
                 on_progress=None, verbose: bool = False):
        self.budget_minutes = budget_minutes
        self.max_evaluations = max_evaluations
        self.seed = seed
        self.features_size = features_size
        self.epochs = epochs
        self.n_projections = n_projections
        self.preset = preset
        self.overrides = overrides
        self.run_root = run_root
        self.on_progress = on_progress
        self.verbose = verbose

    def _discover(self, X: np.ndarray, y: np.ndarray) -> None:
        from evolve.api import run_campaign, scratch_run_dir
        from evolve.estimators.discovered import load_estimator

        folder = scratch_run_dir(self.run_root, f"evolved-{self._task}")
        data = folder / "data.npz"
        temp = folder / "data.tmp.npz"
        np.savez(temp, X=X, y=y)
        os.replace(temp, data)
        overrides = [*self.overrides, f"problem.features_size={int(self.features_size)}",
                     f"problem.num_train_epochs={int(self.epochs)}"]
        result = run_campaign(self.preset, data=data, target="y", task=self._task,
                              seed=int(self.seed), budget_minutes=float(self.budget_minutes),
                              max_evaluations=int(self.max_evaluations), overrides=overrides,
                              run_dir=folder / "run", on_progress=self.on_progress,
                              quiet=not self.verbose)
        if result.program is None:
            raise RuntimeError(f"the campaign in {result.run_dir} found no program")
        self.program_, self.math_ = result.pruned, result.math
        self.run_dir_, self.summary_ = result.run_dir, result.summary
        self.estimator_ = load_estimator(result.run_dir, n_projections=self.n_projections,
                                         epochs=self.epochs, random_state=self.seed)
        self.estimator_.fit(X, y)

    def predict(self, X):
        check_is_fitted(self, "estimator_")
        X = validate_data(self, X, reset=False)
        return self.estimator_.predict(X)


class EvolvedClassifier(ClassifierMixin, _Evolved):
    """A classifier whose learning algorithm is discovered by evolution on ``X, y`` (see the
    module docstring); ``budget_minutes``/``max_evaluations`` bound the search (0: no limit)."""

    _task = "classification"

    def fit(self, X, y):
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        self._discover(X, y)
        return self

    def predict_proba(self, X):
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(validate_data(self, X, reset=False))

    def decision_function(self, X):
        check_is_fitted(self, "estimator_")
        return self.estimator_.decision_function(validate_data(self, X, reset=False))


class EvolvedRegressor(RegressorMixin, _Evolved):
    """A regressor whose learning algorithm is discovered by evolution on ``X, y``."""

    _task = "regression"

    def fit(self, X, y):
        X, y = validate_data(self, X, y, y_numeric=True)
        self._discover(X, np.asarray(y, dtype=np.float64))
        return self
