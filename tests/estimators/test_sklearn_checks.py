"""The estimators of a discovered program are real scikit-learn estimators.

``parametrize_with_checks`` runs every check of scikit-learn's estimator suite on the data-built
classifier and regressor (:mod:`evolve.estimators.discovered`) and on the exported module's
(logistic regression by SGD, ``logistic_sgd``, and ``linear_sgd``); the two give the same bits. No check
is skipped by hand and none is marked as an expected failure (no ``_xfail_checks`` tag). Two
checks skip themselves unless the environment allows them: the DataFrame check needs pandas (in
the ``test`` extra) and the array-API check needs ``SCIPY_ARRAY_API=1`` before SciPy is imported,
so ``test_array_api_check_runs_too`` runs that one in a process that sets it.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from exported import load_module
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from evolve.analysis.export_estimator import estimator_source
from evolve.estimators import DiscoveredClassifier, DiscoveredRegressor
from evolve.reference_programs import load_algorithm
from primitives.prune import prune


def _module(algorithm: str, eval_type: str, **defaults):
    source = estimator_source(prune(load_algorithm(algorithm)), eval_type=eval_type, **defaults)
    return load_module(source)


CLASSIFIER = _module("logistic_sgd", "accuracy", features_size=8, epochs=3).DiscoveredAlgorithm
REGRESSOR = _module("linear_sgd", "rms", features_size=8, epochs=3).DiscoveredAlgorithm


@parametrize_with_checks([CLASSIFIER(), REGRESSOR(),
                          DiscoveredClassifier(features_size=8, epochs=3),
                          DiscoveredRegressor(features_size=8, epochs=3)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("algorithm", ["logistic_sgd", "nn_2layer", "linear_sgd"])
def test_data_built_estimator_gives_the_exported_modules_bits(algorithm):
    """The estimator run as data and the exported module's run as source agree exactly."""
    X, y = load_wine(return_X_y=True)
    kind = "accuracy" if algorithm == "logistic_sgd" else "rms"
    params = {"features_size": 6, "epochs": 2, "n_projections": 2}
    module = _module(algorithm, kind, **params)
    if kind == "accuracy":
        ours = DiscoveredClassifier(algorithm=algorithm, **params).fit(X, y)
        theirs = module.DiscoveredAlgorithm().fit(X, y)
        np.testing.assert_array_equal(ours.decision_function(X), theirs.decision_function(X))
    else:
        target = X[:, 0] * 2.0 - X[:, 3]
        ours = DiscoveredRegressor(algorithm=algorithm, **params).fit(X[:, 1:], target)
        theirs = module.DiscoveredAlgorithm().fit(X[:, 1:], target)
        np.testing.assert_array_equal(ours.predict(X[:, 1:]), theirs.predict(X[:, 1:]))


def test_pipeline_cross_val_score_and_grid_search():
    X, y = load_breast_cancer(return_X_y=True)
    pipe = Pipeline([("scale", StandardScaler()), ("evolved", CLASSIFIER(n_projections=2))])
    scores = cross_val_score(pipe, X, y, cv=3)
    assert np.isfinite(scores).all() and scores.mean() > 0.85
    grid = GridSearchCV(pipe, {"evolved__epochs": [1, 2]}, cv=2).fit(X, y)
    assert grid.best_params_["evolved__epochs"] in (1, 2) and grid.best_score_ > 0.85
    X, y = load_diabetes(return_X_y=True)
    scores = cross_val_score(Pipeline([("s", StandardScaler()), ("e", REGRESSOR())]), X, y, cv=3)
    assert np.isfinite(scores).all()


def test_multiclass_by_class_pairs_clone_and_pickle():
    X, y = load_wine(return_X_y=True)
    names = np.array(["barolo", "grignolino", "barbera"])[y]
    model = CLASSIFIER(features_size=None).fit(X, names)
    assert list(model.classes_) == ["barbera", "barolo", "grignolino"]
    assert len(model.pairs_) == 3 and model.score(X, names) > 0.9
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 3) and np.allclose(proba.sum(axis=1), 1.0)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    fresh = clone(model)
    assert fresh.get_params() == model.get_params() and not hasattr(fresh, "models_")


def test_read_only_arrays_and_bad_input_are_rejected_clearly():
    X, y = load_breast_cancer(return_X_y=True)
    X.flags.writeable = False
    y.flags.writeable = False
    model = CLASSIFIER().fit(X, y)
    assert model.predict(X).shape == y.shape and model.n_features_in_ == 30
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.predict(bad)
    with pytest.raises(ValueError, match="30 features"):
        model.predict(X[:, :5])
    with pytest.raises(ValueError, match="epochs=0"):
        CLASSIFIER(epochs=0).fit(X, y)
    with pytest.raises(ValueError, match="only one class"):
        CLASSIFIER().fit(X, np.zeros(len(X)))
    assert "epochs=2" in repr(CLASSIFIER(epochs=2))


def test_module_works_without_scikit_learn(tmp_path):
    import subprocess
    import sys

    source = estimator_source(prune(load_algorithm("linear_sgd")), eval_type="rms",
                              features_size=4)
    (tmp_path / "model.py").write_text(source)
    script = (
        "import sys; sys.modules['sklearn'] = None\n"
        "import numpy as np, model\n"
        "assert not model.HAVE_SKLEARN\n"
        "rng = np.random.default_rng(0); X = rng.normal(size=(200, 3)); y = X @ [1., -2., .5]\n"
        "est = model.DiscoveredAlgorithm(epochs=5).fit(X, y)\n"
        "assert est.score(X, y) > 0.9, est.score(X, y)\n"
        "print(repr(est.set_params(epochs=2)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "DiscoveredAlgorithm(epochs=2" in out.stdout


def test_array_api_check_runs_too(tmp_path):
    """The one check ``parametrize_with_checks`` skips without ``SCIPY_ARRAY_API=1`` (it must be
    set before SciPy is imported), run in a process that sets it."""
    import os
    import subprocess
    import sys

    script = (
        "from functools import partial\n"
        "from sklearn.utils.estimator_checks import check_array_api_input\n"
        "from evolve.reference_programs import load_algorithm\n"
        "from evolve.analysis.export_estimator import estimator_source\n"
        "from exported import load_module\n"
        "from primitives.prune import prune\n"
        "for algo, kind in (('logistic_sgd', 'accuracy'), ('linear_sgd', 'rms')):\n"
        "    m = load_module(estimator_source(prune(load_algorithm(algo)), eval_type=kind,\n"
        "                                     features_size=8, epochs=3))\n"
        "    check_array_api_input('DiscoveredAlgorithm', m.DiscoveredAlgorithm(),\n"
        "                          array_namespace='numpy', expect_only_array_outputs=False)\n"
        "print('ok')\n"
    )
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(__file__)), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, env=env)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-2000:]
