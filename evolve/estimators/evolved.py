"""``EvolvedClassifier`` and ``EvolvedRegressor``: ``fit(X, y)`` discovers an algorithm for your data.

``X`` and ``y`` may be held as users hold them: NumPy arrays, pandas DataFrames and Series, with
text, categorical, boolean or missing cells (:mod:`evolve.estimators.encoding` turns them into
float features and label codes, learned on the fit rows). ``fit`` writes the encoded rows to
``data.npz`` in a new run directory, runs a campaign of the ``dataset`` preset on it (tasks are
random projections and row subsamples of ``X``, the final rows held out,
:mod:`problems.dataset`), then trains the discovered algorithm on all of ``X``
(:mod:`evolve.estimators.discovered`) and predicts with it. Nothing is pickled, and a ``fit``
that fails or is interrupted leaves no scratch folder behind (a folder under ``run_root`` is
kept once its campaign has started: it can be resumed). Fitted attributes: ``program_``
(pruned), ``math_``, ``run_dir_``, ``summary_``, ``estimator_`` (the discovered algorithm's
estimator, fitted), ``encoder_``, and ``classes_``/``n_features_in_``/``feature_names_in_`` as
scikit-learn defines them.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from evolve.estimators.encoding import (
    ColumnEncoder,
    as_number,
    columns_of,
    encode_labels,
    is_missing,
)


class _Evolved(BaseEstimator):
    _task = ""

    def __init__(self, budget_minutes: float = 1.0, max_evaluations: int = 0, seed: int = 0,
                 features_size: int | None = None, epochs: int | None = None, n_projections: int = 5,
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

    def _encode_X(self, X) -> np.ndarray:
        names, _ = columns_of(X)
        self.encoder_ = ColumnEncoder().fit(X)
        self.n_features_in_ = len(names)
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.array(names, dtype=object)
        return self.encoder_.transform(X)

    def _discover(self, X: np.ndarray, y: np.ndarray) -> None:
        from evolve.api import run_campaign, scratch_run_dir
        from evolve.estimators.discovered import load_estimator

        folder = scratch_run_dir(self.run_root, f"evolved-{self._task}")
        try:
            data = folder / "data.npz"
            temp = folder / "data.tmp.npz"
            np.savez(temp, X=X, y=y)
            os.replace(temp, data)
            overrides = list(self.overrides)
            if self.features_size is not None:  # projected tasks and models, as AutoML-Zero's
                overrides += ['problem.projection="gaussian"',
                              f"problem.features_size={int(self.features_size)}"]
            if self.epochs is not None:
                overrides.append(f"problem.num_train_epochs={int(self.epochs)}")
            result = run_campaign(self.preset, data=data, target="y", task=self._task,
                                  seed=int(self.seed), budget_minutes=float(self.budget_minutes),
                                  max_evaluations=int(self.max_evaluations), overrides=overrides,
                                  run_dir=folder / "run", on_progress=self.on_progress,
                                  quiet=not self.verbose)
            if result.program is None:
                raise RuntimeError(f"the campaign in {result.run_dir} found no program")
            self.program_, self.math_ = result.pruned, result.math
            self.run_dir_, self.summary_ = result.run_dir, result.summary
            if self.features_size is not None:
                self.estimator_ = load_estimator(result.run_dir, n_projections=self.n_projections,
                                                 epochs=self.epochs or 1, random_state=self.seed)
                self.estimator_.fit(X, y)
            else:
                self.estimator_ = self._final_model(result, X, y)
        except BaseException:
            started = (folder / "run" / "config.toml").exists()
            if self.run_root is None or not started:  # nothing a user could resume
                shutil.rmtree(folder, ignore_errors=True)
            raise

    def _final_model(self, result, X: np.ndarray, y: np.ndarray):
        """The discovered algorithm or its starting point, with the epochs, chosen by
        cross-validation on ``X, y`` (:func:`evolve.tables.final_model.choose_model`), trained on
        every row of ``X``; ``choice_`` says which and why."""
        from evolve.analysis.load import load_source
        from evolve.engine.search_context import load_program
        from evolve.tables.final_model import EPOCHS, choose_model, fit_final
        from primitives.prune import prune
        from primitives.text import format_program

        source = load_source(result.run_dir)
        config = source.config
        candidates = {"discovered": format_program(result.pruned)}
        if config.algorithm.initial not in ("random", "no_op"):
            start = format_program(prune(load_program(config.algorithm.initial, "algorithm.initial")))
            if start != candidates["discovered"]:
                candidates["start"] = start
        memory = source.memory.as_tuple()
        epochs = (int(self.epochs),) if self.epochs is not None else EPOCHS
        self.choice_ = choose_model(self._task, candidates, X, y, memory=memory, seed=int(self.seed),
                                    max_abs_error=config.evaluation.max_abs_error, epochs=epochs)
        self.choice_, model = fit_final(self._task, self.choice_, candidates, X, y, memory,
                                        config.evaluation.max_abs_error, int(self.seed))
        return model

    def _features(self, X) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return self.encoder_.transform(X)

    def predict(self, X):
        return self._predictions(self.estimator_.predict(self._features(X)))

    def _predictions(self, raw):
        return raw


class EvolvedClassifier(ClassifierMixin, _Evolved):
    """A classifier whose learning algorithm is discovered by evolution on ``X, y`` (see the
    module docstring); ``budget_minutes``/``max_evaluations`` bound the search (0: no limit).
    Labels may be of any one type (text, numbers, booleans); ``classes_`` holds them sorted."""

    _task = "classification"

    def fit(self, X, y):
        self.classes_, codes = encode_labels(y)
        if len(self.classes_) < 2:
            raise ValueError(f"y has only one class ({self.classes_[0]!r}); at least two are needed")
        features = self._encode_X(X)
        if features.shape[0] != len(codes):
            raise ValueError(f"X has {features.shape[0]} rows and y {len(codes)} labels")
        self._discover(features, codes)
        return self

    def _predictions(self, raw):
        return self.classes_[np.asarray(raw).astype(np.int64)]

    def predict_proba(self, X):
        return self.estimator_.predict_proba(self._features(X))

    def decision_function(self, X):
        return self.estimator_.decision_function(self._features(X))


class EvolvedRegressor(RegressorMixin, _Evolved):
    """A regressor whose learning algorithm is discovered by evolution on ``X, y``."""

    _task = "regression"

    def fit(self, X, y):
        cells = np.asarray(y.to_numpy(dtype=object) if hasattr(y, "to_numpy") else y, dtype=object)
        cells = cells.reshape(-1) if cells.ndim == 2 and cells.shape[1] == 1 else cells
        if cells.ndim != 1:
            raise ValueError(f"y has shape {cells.shape}: expected one target per row (1-D)")
        target = np.array([np.nan if is_missing(c) else (as_number(c) if as_number(c) is not None
                                                          else np.inf) for c in cells])
        if not np.isfinite(target).all():
            bad = int(np.argmax(~np.isfinite(target)))
            raise ValueError(f"y: row {bad} holds {cells[bad]!r}; a finite number is needed for "
                             "every row (drop or fill the others)")
        features = self._encode_X(X)
        if features.shape[0] != len(target):
            raise ValueError(f"X has {features.shape[0]} rows and y {len(target)} targets")
        self._discover(features, target)
        return self
