"""A discovered program as the source of a standalone estimator module (``evolve export --to python``).

The module holds the program's executor (:func:`evolve.analysis.export.export_python`, NumPy only,
as a private ``_Core`` class) and, around it, an estimator class deriving from scikit-learn's
``BaseEstimator`` and ``ClassifierMixin``/``RegressorMixin`` when scikit-learn is installed (small
stand-ins otherwise), with the behaviour of :mod:`evolve.estimators.discovered` (data prepared as
the ``dataset`` suite prepares a task, ``n_projections`` projections averaged, one-vs-one for more
than two classes, each row predicted from the trained memory).

Every string that comes from a run (its directory's name, the math) is written as a Python
literal (``repr``), never between quotes pasted by hand, so no name can end a string and run as
code. This module only *writes* source: loading a run's estimator in this process
(:func:`evolve.estimators.discovered.load_estimator`) builds it from data and executes nothing.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from string import Template

from evolve.analysis.export import docstring_literal, export_python
from primitives.interpreter import DEFAULT_MAX_ABS_ERROR
from primitives.memory import MemorySpec
from primitives.program import Program

_WRAPPER = Template('''

import copy as _copy
import inspect as _inspect

try:  # scikit-learn's base classes and validation when installed
    from sklearn.base import BaseEstimator as _Base
    from sklearn.base import ClassifierMixin as _ClassifierMixin
    from sklearn.base import RegressorMixin as _RegressorMixin
    from sklearn.utils.multiclass import check_classification_targets as _check_targets
    from sklearn.utils.validation import check_is_fitted as _check_is_fitted

    try:
        from sklearn.utils.validation import validate_data as _validate_data
    except ImportError:  # scikit-learn < 1.6

        def _validate_data(estimator, X="no_validation", y="no_validation", reset=True, **kw):
            return estimator._validate_data(X, y, reset=reset, **kw)

    HAVE_SKLEARN = True
except ImportError:  # NumPy alone: small stand-ins with the same behaviour
    HAVE_SKLEARN = False

    class _Base:
        def get_params(self, deep=True):
            names = list(_inspect.signature(type(self).__init__).parameters)[1:]
            return {name: getattr(self, name) for name in names}

        def set_params(self, **params):
            for key, value in params.items():
                if key not in self.get_params():
                    raise ValueError(f"invalid parameter {key!r} for {type(self).__name__}")
                setattr(self, key, value)
            return self

        def __repr__(self):
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({args})"

    class _ClassifierMixin:
        def score(self, X, y):
            return float(np.mean(self.predict(X) == np.asarray(y)))

    class _RegressorMixin:
        def score(self, X, y):
            y = np.asarray(y, dtype=np.float64)
            residual = np.sum((y - self.predict(X)) ** 2)
            return float(1.0 - residual / np.sum((y - y.mean()) ** 2))

    def _check_targets(y):
        if np.asarray(y).dtype.kind == "f" and not np.all(np.mod(y, 1) == 0):
            raise ValueError("Unknown label type: continuous targets for a classifier")

    def _check_is_fitted(estimator):
        if not hasattr(estimator, "models_"):
            raise AttributeError(f"this {type(estimator).__name__} is not fitted yet; call fit")

    def _validate_data(estimator, X, y=None, reset=True, y_numeric=False, **kw):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(f"X must be a non-empty 2-D array, got shape {X.shape}")
        if not np.isfinite(X).all():
            raise ValueError("Input X contains NaN or infinity")
        if reset:
            estimator.n_features_in_ = X.shape[1]
        elif X.shape[1] != estimator.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(estimator).__name__} is "
                             f"expecting {estimator.n_features_in_} features as input")
        if y is None:
            return X
        y = np.asarray(y)
        y = y.astype(np.float64) if y_numeric else y
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must be 1-D with one value per row of X, got shape {y.shape}")
        if y_numeric and not np.isfinite(y).all():
            raise ValueError("Input y contains NaN or infinity")
        return X, y


def _stats(x):
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0.0] = 1.0
    return mean, scale


def _check_int(name, value, low, allow_none=False):
    if allow_none and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        allowed = f"an integer >= {low}" + (" or None" if allow_none else "")
        raise ValueError(f"{name}={value!r}: expected {allowed}")


class ${class_name}(${mixin}, _Base):
    """${kind_title} running the discovered algorithm (AutoML-Zero's executor, NumPy only).

    Parameters
    ----------
    epochs : int
        Passes over the training rows (the first in order, later ones shuffled), as in evolution.
    features_size : int or None
        F, the projected width the algorithm was discovered at; None feeds the standardized
        columns unprojected.
    n_projections : int
        Independent random projections trained; their predictions are averaged.
    random_state : int or None
        Seeds the projections (and, through the task seed, the algorithm's random ops).
    max_abs_error : float
        Training stops when ``|y - prediction|`` is NaN or above this, as in evolution.
    """

    def __init__(self, epochs=${epochs}, features_size=${features_size}, n_projections=${n_projections},
                 random_state=0, max_abs_error=${max_abs_error}):
        self.epochs = epochs
        self.features_size = features_size
        self.n_projections = n_projections
        self.random_state = random_state
        self.max_abs_error = max_abs_error

    def _check_params(self):
        _check_int("epochs", self.epochs, 1)
        _check_int("features_size", self.features_size, 1, allow_none=True)
        _check_int("n_projections", self.n_projections, 1)
        error = self.max_abs_error
        if isinstance(error, bool) or not isinstance(error, int | float) or not error >= 0:
            raise ValueError(f"max_abs_error={error!r}: expected a number >= 0")

    def _fit_models(self, X, y):
        """One model per projection: the arrays to prepare rows with, the trained memory."""
        rng = np.random.default_rng(self.random_state)
        models = []
        for k in range(self.n_projections):
            mean, scale = _stats(X)
            z = (X - mean) / scale
            projection = mean2 = scale2 = None
            if self.features_size is not None:
                projection = rng.standard_normal((X.shape[1], self.features_size))
                projection /= np.sqrt(X.shape[1])
                z = z @ projection
                mean2, scale2 = _stats(z)
                z = (z - mean2) / scale2
            core = _Core(float(self.max_abs_error), task_seed=k, eval_seed=0)
            core.fit(np.ascontiguousarray(z), y, epochs=int(self.epochs))
            models.append({"mean": mean, "scale": scale, "projection": projection,
                           "mean2": mean2, "scale2": scale2, "s": core.s_, "v": core.v_,
                           "m": core.m_, "rng_state": int(core.rng_.state),
                           "stopped": core.stopped_})
        return models

    @staticmethod
    def _raw(X, model):
        """``s1`` after Predict on each row, from the trained memory every time."""
        z = (X - model["mean"]) / model["scale"]
        if model["projection"] is not None:
            z = (z @ model["projection"] - model["mean2"]) / model["scale2"]
        core = _Core()
        stream = _Stream(0, 0, _SALT_RANDOM_OPS)  # a stream object; its state is set per row
        out = np.empty(z.shape[0])
        F = z.shape[1]
        with np.errstate(all="ignore"):
            for i in range(z.shape[0]):
                core.s_, core.v_, core.m_ = model["s"].copy(), model["v"].copy(), model["m"].copy()
                core.rng_ = _copy.copy(stream)
                core.rng_.state = model["rng_state"]
                core.v_[0] = z[i]
                core.s_[0] = 0.0
                core._predict(F)
                out[i] = core.s_[1]
        return out
${methods}''')

_REGRESSOR_METHODS = '''
    def fit(self, X, y):
        """Train on all rows of ``X`` (standardized target, ``n_projections`` models)."""
        self._check_params()
        X, y = _validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        self.y_mean_, self.y_scale_ = float(np.mean(y)), float(np.std(y)) or 1.0
        self.models_ = self._fit_models(X, (y - self.y_mean_) / self.y_scale_)
        return self

    def predict(self, X):
        """Mean of the models' predictions, in the target's units."""
        _check_is_fitted(self)
        X = _validate_data(self, X, reset=False, dtype=np.float64)
        raw = np.mean([self._raw(X, model) for model in self.models_], axis=0)
        return raw * self.y_scale_ + self.y_mean_
'''

_CLASSIFIER_METHODS = '''
    def fit(self, X, y):
        """Train one model per class pair and projection on all rows of ``X``."""
        self._check_params()
        X, y = _validate_data(self, X, y, dtype=np.float64)
        _check_targets(y)
        self.classes_, index = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs at least two classes; y has only one "
                             f"class: {self.classes_[0]!r}")
        K = len(self.classes_)
        self.pairs_ = [(a, b) for a in range(K) for b in range(a + 1, K)]
        self.models_ = []
        for a, b in self.pairs_:
            rows = (index == a) | (index == b)
            self.models_.append(self._fit_models(X[rows], (index[rows] == b).astype(np.float64)))
        return self

    def _pair_probability(self, X, models):
        with np.errstate(all="ignore"):
            p = [_sigmoid(self._raw(X, model)) for model in models]
        # A NaN prediction counts as the pair's first class, as in evolution.
        p = np.mean(np.nan_to_num(np.array(p), nan=0.0), axis=0)
        return np.clip(p, 1e-12, 1.0 - 1e-12)

    def decision_function(self, X):
        """Binary: log-odds of the second class. More classes: votes of the class pairs plus
        their summed confidences scaled into (-1/3, 1/3) (scikit-learn's one-vs-one rule)."""
        _check_is_fitted(self)
        X = _validate_data(self, X, reset=False, dtype=np.float64)
        probs = [self._pair_probability(X, models) for models in self.models_]
        if len(self.classes_) == 2:
            return np.log(probs[0]) - np.log1p(-probs[0])
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
'''


def estimator_source(
    program: Program, *, eval_type: str = "rms", memory: MemorySpec | None = None,
    max_abs_error: float = DEFAULT_MAX_ABS_ERROR, class_name: str = "DiscoveredAlgorithm",
    features_size: int | None = None, epochs: int = 1, n_projections: int = 1,
    math_text: str = "", title: str = "An algorithm discovered by evolution (AutoML-Zero style)",
) -> str:
    """Source of the standalone module: ``class_name`` is a classifier for ``eval_type``
    ``"accuracy"``, a regressor for ``"rms"``; constructor defaults from the arguments."""
    if not class_name.isidentifier() or class_name.startswith("_"):
        raise ValueError(f"class name {class_name!r}: must be a public Python identifier")
    core = export_python(program, eval_type=eval_type, memory=memory, max_abs_error=max_abs_error,
                         class_name="_Core", docstring=False)
    classifier = eval_type == "accuracy"
    kind = "classifier" if classifier else "regressor"
    about = (f"``{class_name}``: a scikit-learn {kind} (fit / predict"
             + (" / predict_proba / decision_function" if classifier else "") + " / score). It "
             "needs only NumPy; with scikit-learn installed it derives from BaseEstimator and "
             f"{'ClassifierMixin' if classifier else 'RegressorMixin'} and validates input as "
             "scikit-learn does. To unpickle a fitted estimator, this module must be importable "
             "under the same name it was pickled from.")
    doc = [f"{title}.", "", *textwrap.wrap(about, 99)]
    if math_text.strip():
        doc += ["", "The math::", "", *("    " + line if line else "" for line in
                                       math_text.rstrip().splitlines())]
    wrapper = _WRAPPER.substitute(
        class_name=class_name, mixin="_ClassifierMixin" if classifier else "_RegressorMixin",
        kind_title="Classifier" if classifier else "Regressor", epochs=int(epochs),
        features_size=None if features_size is None else int(features_size),
        n_projections=int(n_projections), max_abs_error=float(max_abs_error),
        methods=_CLASSIFIER_METHODS if classifier else _REGRESSOR_METHODS)
    return docstring_literal(doc) + core + wrapper


def run_fields(run_dir: Path) -> dict:
    """The fields of a run directory an estimator of its program needs, read as data:
    ``algorithm`` (the pruned :class:`Program`), ``eval_type``, ``memory``, ``max_abs_error``,
    ``features_size`` and ``epochs``. The suite is constructed to learn its F and task type,
    but no task is made (a config asking for a huge F costs nothing here)."""
    from evolve.analysis.load import data_eval_type, load_source, suite_of
    from primitives.prune import prune

    source = load_source(Path(run_dir))
    config = source.config
    features_size = epochs = suite = None
    if config is not None:
        features_size = config.problem.params.get("features_size")
        epochs = config.problem.params.get("num_train_epochs")
        suite = suite_of(config)
        if config.problem.params.get("projection") == "none":
            features_size = None  # the tasks saw every column unprojected: so does the estimator
    if features_size is None and suite is not None and config.problem.params.get("projection") != "none":
        features_size = getattr(suite, "features_size", None)
    eval_type = data_eval_type(Path(run_dir)) or getattr(suite, "eval_type", None) or "rms"
    return {
        "algorithm": prune(source.program),
        "eval_type": eval_type,
        "memory": source.memory.as_tuple(),
        "max_abs_error": float(config.evaluation.max_abs_error) if config else DEFAULT_MAX_ABS_ERROR,
        "features_size": None if features_size is None else int(features_size),
        "epochs": int(epochs or 1),
    }


def run_estimator_source(run_dir: str | Path, class_name: str = "DiscoveredAlgorithm",
                         n_projections: int = 5, eval_type: str | None = None) -> str:
    """The estimator module of a run directory's discovered program (``best.txt``), with the run's
    task type, memory, ``max_abs_error``, F and epochs as the constructor defaults, and five
    projections averaged (on the diabetes run's regressor, scikit-learn's regression check data,
    R^2 0.33 with one projection, 0.54 with five)."""
    from evolve.analysis.math_view import program_math

    fields = run_fields(Path(run_dir))
    eval_type = eval_type or fields["eval_type"]
    pruned = fields["algorithm"]
    try:
        math_text = program_math(pruned, eval_type).to_text()
    except Exception:  # the math is documentation; a program SymPy cannot simplify still exports
        math_text = ""
    return estimator_source(
        pruned, eval_type=eval_type, memory=MemorySpec(*fields["memory"]), class_name=class_name,
        max_abs_error=fields["max_abs_error"], features_size=fields["features_size"],
        epochs=fields["epochs"], n_projections=n_projections, math_text=math_text,
        title=f"The algorithm discovered in {Path(run_dir).name}")
