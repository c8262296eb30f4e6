"""A discovered program as a scikit-learn estimator, built from data: the program's arrays run by
:class:`primitives.executor.ProgramExecutor`, never from generated source.

:func:`load_estimator` reads a run directory (``best.txt`` parsed as program text, ``config.toml``
as TOML, ``data.json`` as JSON, each through the bounded reader :mod:`problems.files`) and returns
a :class:`DiscoveredClassifier` or :class:`DiscoveredRegressor` whose parameters are those fields.
Nothing read from the run directory is executed, pasted into source or unpickled.

Data are prepared as the ``dataset`` suite prepares a task (``problems/dataset.py``): columns
standardized with the fit rows' statistics, projected by a seeded Gaussian
``P ~ N(0, 1)^(D x F) / sqrt(D)`` to ``features_size`` dims (``None``: no projection) and
standardized again; a regression target standardized (predictions mapped back).
``n_projections`` independent projections are trained and their predictions averaged. More than
two classes: one binary model per class pair (one-vs-one), votes, ties broken by the summed
confidences as scikit-learn's ``OneVsOneClassifier`` does.

Each row is predicted from the memory as training left it (Predict's writes are discarded after
every row), so a prediction never depends on which rows came before it, as scikit-learn requires.
Evolution's validation lets Predict carry memory from one validation example to the next, as
AutoML-Zero's executor does (Real et al. 2020, §3).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from primitives import libm
from primitives.executor import DEFAULT_MAX_ABS_ERROR, ProgramExecutor
from primitives.memory import MemorySpec
from primitives.program import Program

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # scikit-learn < 1.6

    def validate_data(estimator, X="no_validation", y="no_validation", reset=True, **kw):
        return estimator._validate_data(X, y, reset=reset, **kw)


MEMORY_SHARE = 0.5  # the trained models may take at most this share of the memory available


def _stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[~(scale > 0.0)] = 1.0
    return mean, scale


def _check_int(name: str, value: object, low: int, allow_none: bool = False) -> None:
    if allow_none and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        allowed = f"an integer >= {low}" + (" or None" if allow_none else "")
        raise ValueError(f"{name}={value!r}: expected {allowed}")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` with the C library's ``exp``, element by element (as the kernel)."""
    return np.array([libm.sigmoid(float(v)) for v in np.ravel(x)]).reshape(np.shape(x))


class _Discovered(BaseEstimator):
    """Common parameters; see :class:`DiscoveredClassifier` and :class:`DiscoveredRegressor`."""

    _eval_type = "rms"
    _default_algorithm = "linear_sgd"

    def __init__(self, algorithm: str | Program | None = None, memory: tuple | None = None,
                 epochs: int = 1, features_size: int | None = None, n_projections: int = 1,
                 random_state: int | None = 0, max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
                 input_scale: float = 1.0):
        self.algorithm = algorithm
        self.memory = memory
        self.epochs = epochs
        self.features_size = features_size
        self.n_projections = n_projections
        self.random_state = random_state
        self.max_abs_error = max_abs_error
        self.input_scale = input_scale

    # ---- parameters -----------------------------------------------------------------------
    def _program(self) -> Program:
        from primitives.text import parse_program

        algorithm = self._default_algorithm if self.algorithm is None else self.algorithm
        if isinstance(algorithm, Program):
            return algorithm
        if not isinstance(algorithm, str):
            raise ValueError(f"algorithm={algorithm!r}: expected program text, a shipped "
                             "algorithm's name, a Program or None")
        from evolve.reference_programs import BUILTIN_ALGORITHMS, load_algorithm

        if algorithm in BUILTIN_ALGORITHMS:
            return load_algorithm(algorithm)
        return parse_program(algorithm, source="algorithm")

    def _check_params(self, n_columns: int, n_models: int) -> None:
        _check_int("epochs", self.epochs, 1)
        _check_int("features_size", self.features_size, 1, allow_none=True)
        _check_int("n_projections", self.n_projections, 1)
        error = self.max_abs_error
        if isinstance(error, bool) or not isinstance(error, int | float) or not error >= 0:
            raise ValueError(f"max_abs_error={error!r}: expected a number >= 0")
        scale = self.input_scale
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0 < scale < 1e6:
            raise ValueError(f"input_scale={scale!r}: expected a number in (0, 1e6)")
        if self.memory is not None:
            try:
                MemorySpec(*self.memory)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"memory={self.memory!r}: expected (scalars, vectors, matrices) "
                                 f"({exc})") from None
        F = n_columns if self.features_size is None else int(self.features_size)
        memory = self._executor().memory
        per_model = (memory.scalars + memory.vectors * F + max(memory.matrices, 1) * F * F
                     + (0 if self.features_size is None else n_columns * F)) * 8
        need = per_model * n_models * int(self.n_projections)
        from evolve.engine.resources import GB, available_bytes

        have = available_bytes()
        if need > MEMORY_SHARE * have:
            raise ValueError(
                f"features_size={F}: the trained models would need about {need / GB:.3g} GB "
                f"({n_models * int(self.n_projections)} models of {memory.matrices} F x F matrices), "
                f"{have / GB:.1f} GB are available; lower features_size or n_projections")

    def _executor(self) -> ProgramExecutor:
        memory = None if self.memory is None else MemorySpec(*self.memory)
        return ProgramExecutor(self._program(), memory=memory, eval_type=self._eval_type,
                               max_abs_error=float(self.max_abs_error))

    # ---- training and prediction ------------------------------------------------------------
    def _fit_models(self, X: np.ndarray, y: np.ndarray) -> list[dict]:
        """One model per projection: the arrays that prepare rows, the trained memory."""
        rng = np.random.default_rng(self.random_state)
        models = []
        for k in range(int(self.n_projections)):
            mean, scale = _stats(X)
            z = (X - mean) / scale
            projection = mean2 = scale2 = None
            if self.features_size is not None:
                projection = rng.standard_normal((X.shape[1], int(self.features_size)))
                projection /= np.sqrt(X.shape[1])
                z = z @ projection
                mean2, scale2 = _stats(z)
                z = (z - mean2) / scale2
            if self.input_scale != 1.0:
                z = z * float(self.input_scale)
            state, stopped = self.executor_.train(z, y, epochs=int(self.epochs), task_seed=k)
            models.append({"mean": mean, "scale": scale, "projection": projection,
                           "mean2": mean2, "scale2": scale2, "state": state, "stopped": stopped})
        return models

    def _raw(self, X: np.ndarray, model: dict) -> np.ndarray:
        """``s1`` after Predict on each row, from the trained memory every time."""
        with np.errstate(all="ignore"):
            z = (X - model["mean"]) / model["scale"]
            if model["projection"] is not None:
                z = (z @ model["projection"] - model["mean2"]) / model["scale2"]
            if self.input_scale != 1.0:
                z = z * float(self.input_scale)
        return self.executor_.predict_rows(model["state"], np.ascontiguousarray(z))


class DiscoveredRegressor(RegressorMixin, _Discovered):
    """A regressor running a discovered algorithm (AutoML-Zero's executor over the op table).

    Parameters
    ----------
    algorithm : str, Program or None
        Program text (as ``best.txt`` holds it), a shipped algorithm's name, or None for
        ``linear_sgd``. Parsed, never executed.
    memory : (scalars, vectors, matrices) or None
        The algorithm's memory (None: the smallest that holds its addresses).
    epochs : int
        Passes over the training rows (the first in order, later ones shuffled), as in evolution.
    features_size : int or None
        F, the projected width; None feeds the standardized columns unprojected.
    n_projections : int
        Independent random projections trained; their predictions are averaged.
    random_state : int or None
        Seeds the projections.
    max_abs_error : float
        Training stops when ``|y - prediction|`` is NaN or above this, as in evolution.
    input_scale : float
        The prepared (standardized) inputs are multiplied by this before the algorithm sees them;
        ``1 / sqrt(D)`` keeps ``|x|^2`` near 1 on D columns, where a learning rate tuned at
        small F would diverge.
    """

    def fit(self, X, y):
        """Train on all rows of ``X`` (standardized target, ``n_projections`` models)."""
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        self._check_params(X.shape[1], 1)
        self.executor_ = self._executor()
        self.y_mean_, self.y_scale_ = float(np.mean(y)), float(np.std(y)) or 1.0
        self.models_ = self._fit_models(X, (y - self.y_mean_) / self.y_scale_)
        return self

    def predict(self, X):
        """Mean of the models' predictions, in the target's units."""
        check_is_fitted(self, "models_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        raw = np.mean([self._raw(X, model) for model in self.models_], axis=0)
        return raw * self.y_scale_ + self.y_mean_


class DiscoveredClassifier(ClassifierMixin, _Discovered):
    """A classifier running a discovered algorithm; parameters as :class:`DiscoveredRegressor`
    (``algorithm=None`` is ``logistic_sgd``), and ``multiclass``. Two classes: one model per
    projection. More: with ``multiclass="ovo"`` one model per class pair and projection, combined
    by scikit-learn's one-vs-one rule; with ``"ovr"`` one model per class (that class against the
    rest) and projection, the class of the highest mean ``sigmoid(s1)`` predicted."""

    _eval_type = "accuracy"
    _default_algorithm = "logistic_sgd"

    def __init__(self, algorithm: str | Program | None = None, memory: tuple | None = None,
                 epochs: int = 1, features_size: int | None = None, n_projections: int = 1,
                 random_state: int | None = 0, max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
                 input_scale: float = 1.0, multiclass: str = "ovo"):
        super().__init__(algorithm=algorithm, memory=memory, epochs=epochs,
                         features_size=features_size, n_projections=n_projections,
                         random_state=random_state, max_abs_error=max_abs_error,
                         input_scale=input_scale)
        self.multiclass = multiclass

    def fit(self, X, y):
        """Train one model per class pair and projection on all rows of ``X``."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, index = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs at least two classes; y has only one "
                             f"class: {self.classes_[0]!r}")
        K = len(self.classes_)
        if self.multiclass not in ("ovo", "ovr"):
            raise ValueError(f"multiclass={self.multiclass!r}: expected 'ovo' (class pairs) or "
                             "'ovr' (each class against the rest)")
        self.executor_ = self._executor()
        self.models_ = []
        if self.multiclass == "ovr" and K > 2:
            self.pairs_ = []
            self._check_params(X.shape[1], K)
            for k in range(K):
                self.models_.append(self._fit_models(X, (index == k).astype(np.float64)))
            return self
        self.pairs_ = [(a, b) for a in range(K) for b in range(a + 1, K)]
        self._check_params(X.shape[1], len(self.pairs_))
        for a, b in self.pairs_:
            rows = (index == a) | (index == b)
            self.models_.append(self._fit_models(X[rows], (index[rows] == b).astype(np.float64)))
        return self

    def _pair_probability(self, X: np.ndarray, models: list[dict]) -> np.ndarray:
        with np.errstate(all="ignore"):
            p = [_sigmoid(self._raw(X, model)) for model in models]
        # A NaN prediction counts as the pair's first class, as in evolution.
        p = np.mean(np.nan_to_num(np.array(p), nan=0.0), axis=0)
        return np.clip(p, 1e-12, 1.0 - 1e-12)

    def decision_function(self, X):
        """Binary: log-odds of the second class. More classes: votes of the class pairs plus
        their summed confidences scaled into (-1/3, 1/3) (scikit-learn's one-vs-one rule)."""
        check_is_fitted(self, "models_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        probs = [self._pair_probability(X, models) for models in self.models_]
        if len(self.classes_) == 2:
            return np.log(probs[0]) - np.log1p(-probs[0])
        if not self.pairs_:  # one-vs-rest: each class's log-odds against the rest
            p = np.stack(probs, axis=1)
            return np.log(p) - np.log1p(-p)
        votes = np.zeros((X.shape[0], len(self.classes_)))
        confidence = np.zeros_like(votes)
        for (a, b), p in zip(self.pairs_, probs, strict=True):
            votes[:, b] += p > 0.5
            votes[:, a] += p <= 0.5
            confidence[:, b] += p - 0.5
            confidence[:, a] -= p - 0.5
        return votes + confidence / (3.0 * (np.abs(confidence) + 1.0))

    def predict_proba(self, X):
        """Binary: ``[1 - p, p]``, ``p`` the mean of the models' ``sigmoid(s1)``. More classes:
        the softmax of ``decision_function`` (its argmax is ``predict``)."""
        decision = self.decision_function(X)
        if decision.ndim == 1:
            p = 1.0 / (1.0 + np.exp(-decision))
            return np.stack([1.0 - p, p], axis=1)
        e = np.exp(decision - decision.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X):
        decision = self.decision_function(X)
        if decision.ndim == 1:
            return self.classes_[(decision > 0).astype(np.int64)]
        return self.classes_[np.argmax(decision, axis=1)]


def load_estimator(run_dir: str | Path, n_projections: int = 5, **params):
    """An unfitted estimator of the algorithm a run discovered: a :class:`DiscoveredClassifier`
    or :class:`DiscoveredRegressor` with the run's program, memory, ``max_abs_error``, F and
    epochs as its parameters (``params`` override them). Built from the run's data; nothing in
    the run directory is executed."""
    from evolve.analysis.export_estimator import run_fields
    from primitives.text import format_program

    fields = run_fields(Path(run_dir))
    fields["algorithm"] = format_program(fields["algorithm"])
    cls = DiscoveredClassifier if fields.pop("eval_type") == "accuracy" else DiscoveredRegressor
    estimator = cls(n_projections=n_projections, **fields)
    return estimator.set_params(**params) if params else estimator
