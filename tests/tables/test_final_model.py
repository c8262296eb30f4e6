"""The final model on a user's table: chosen on the training rows only, never worse on
validation than the start, scored beside scikit-learn's models on the held-out rows."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_iris

from evolve.bench.tables import TABLES, format_tables, write_tables
from evolve.reference_programs import algorithm_text
from evolve.tables.final_model import MAX_ROW_PASSES, choose_model, practitioner_scores

# Learn does nothing: the weights stay zero and every prediction is sigmoid(0).
FROZEN = "def Setup():\n  s3 = 0.1\ndef Predict():\n  s1 = dot(v1, v0)\ndef Learn():\n  s2 = s0 - s1\n"


def test_the_start_is_kept_when_the_discovered_program_is_worse():
    X, y = load_iris(return_X_y=True)
    choice = choose_model("classification", {"discovered": FROZEN, "start": algorithm_text("affine_sgd")},
                          X, y, epochs=(1, 3))
    assert choice.which == "start" and choice.cv_score > 0.8
    assert max(v for k, v in choice.cv_scores.items() if k.startswith("discovered/")) < 0.5
    again = choose_model("classification", {"discovered": algorithm_text("affine_sgd"), "start": FROZEN},
                         X, y, epochs=(1, 3))
    assert again.which == "discovered" and again.cv_score == choice.cv_score


def test_epochs_stay_within_the_row_pass_budget():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 3))
    y = (X[:, 0] > 0).astype(int)
    choice = choose_model("classification", {"start": algorithm_text("affine_sgd")}, X, y)
    tried = {int(k.split("/")[1]) for k in choice.cv_scores}
    assert max(tried) * 1500 <= MAX_ROW_PASSES and 1 in tried


@pytest.mark.timeout(300)
def test_held_out_rows_never_reach_the_choice(tmp_path, monkeypatch):
    """table_comparison hands the model choice the training rows and nothing else, and scores
    every model on exactly the held-out rows."""
    from evolve.cli import main
    from evolve.config import load_config
    from evolve.tables import final_model
    from problems.registry import make_suite

    path = tmp_path / "t.csv"
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3))
    path.write_text("a,b,c,y\n" + "".join(f"{a:.5f},{b:.5f},{c:.5f},{int(a + b > 0)}\n"
                                          for a, b, c in X))
    run = tmp_path / "run"
    assert main(["run", "--data", str(path), "--target", "y", "--max-evaluations", "100", "--quiet",
                 "--out", str(run), "--set", "tasks.search=2", "--set", "tasks.select=2",
                 "--set", "tasks.final=2", "--set", "search.population_size=20"]) == 0
    seen, scored = {}, []
    real_choose, real_score = final_model.choose_model, final_model._score
    monkeypatch.setattr(final_model, "choose_model",
                        lambda task, c, X, y, **kw: seen.setdefault("X", X.copy()) is not None
                        and real_choose(task, c, X, y, **kw))
    monkeypatch.setattr(final_model, "_score", lambda task, m, X, y: scored.append(X.copy())
                        or real_score(task, m, X, y))
    config = load_config(str(run / "config.toml"))
    result = final_model.table_comparison(config, run)
    suite = make_suite("dataset", dict(config.problem.params))
    train = np.asarray(suite.table.features)[~suite.final_rows]
    test = np.asarray(suite.table.features)[suite.final_rows]
    np.testing.assert_array_equal(seen["X"], train)
    assert result["train_rows"] == len(train) and result["test_rows"] == len(test) == 36
    assert all(np.array_equal(x, test) for x in scored[-4:])  # ours and the practitioner's three


def test_practitioner_models_are_the_standard_three():
    X, y = load_iris(return_X_y=True)
    rows = practitioner_scores("classification", X[::2], y[::2], X[1::2], y[1::2])
    assert [r["name"] for r in rows] == ["LogisticRegression", "MLPClassifier(100)",
                                         "HistGradientBoostingClassifier"]
    assert all(0.8 < r["score"] <= 1.0 for r in rows)


def test_benchmark_tables_are_written_as_users_hold_them(tmp_path):
    paths, _ = write_tables(tmp_path, ["iris", "diabetes", "penguins"])
    assert {"iris", "diabetes"} <= set(paths)
    header = paths["iris"].read_text().splitlines()[0].split(",")
    assert header[-1] == "target" and len(header) == 5
    assert len({t.field for t in TABLES}) >= 8 and len(TABLES) >= 10
    if "penguins" in paths:  # text, categorical and missing cells kept
        text = paths["penguins"].read_text()
        assert "Adelie" in text and ",," in text


def test_the_benchmark_summary_reads_its_rows():
    row = {"name": "t", "field": "f", "linear": 0.9, "delta_linear": 1.0, "delta_best": -0.5,
           "result": {"train_rows": 70, "test_rows": 30, "metric": "accuracy", "evolved": 0.91,
                      "chosen": {"which": "start", "epochs": 3},
                      "practitioner": [{"name": "LogisticRegression", "score": 0.9},
                                       {"name": "MLPClassifier(100)", "score": 0.915},
                                       {"name": "HistGradientBoostingClassifier", "score": 0.88}]}}
    text = format_tables({"rows": [row], "tables": 1, "minutes": 2, "seed": 0, "failed": [],
                          "skipped": ["x (needs y)"], "median_minus_linear": 1.0,
                          "worst_minus_linear": 1.0, "above_linear": 1, "median_minus_best": -0.5})
    assert "| t | f | 100 | accuracy | 0.910 (start, 3 ep) | 0.900 | 0.915 | 0.880 | +1.0 |" in text
    assert "median evolved - linear +1.0 points" in text and "skipped: x (needs y)" in text


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_choice_scores_match_a_plain_cross_validation(task):
    """The recorded score is the mean of a plain loop over the same folds (the slow reference)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    from evolve.tables.final_model import _score, estimator_for

    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int) if task == "classification" else X @ [1.0, -1.0, 0.5]
    text = algorithm_text("affine_sgd")
    choice = choose_model(task, {"start": text}, X, y, epochs=(3,), folds=3)
    splitter = (StratifiedKFold if task == "classification" else KFold)(3, shuffle=True, random_state=0)
    scores = [_score(task, estimator_for(task, text, 3, None, 100.0, 0).fit(X[a], y[a]), X[b], y[b])
              for a, b in splitter.split(X, y)]
    assert choice.cv_scores["start/3/1.0"] == pytest.approx(np.mean(scores), abs=1e-12)


def test_the_guard_changes_nothing_in_range_and_bounds_an_outlier():
    from evolve.tables.final_model import estimator_for

    rng = np.random.default_rng(4)
    X = rng.normal(size=(80, 3))
    y = X @ [1.0, 2.0, -1.0]
    model = estimator_for("regression", algorithm_text("affine_sgd"), 3, None, 100.0, 0).fit(X, y)
    inner = model.model
    np.testing.assert_array_equal(model.predict(X), inner.predict(X))  # training rows: in range
    outlier = np.array([[1e6, -1e6, 1e6]])
    clipped = np.clip(outlier, X.min(axis=0), X.max(axis=0))
    span = y.max() - y.min()
    assert model.predict(outlier)[0] == np.clip(inner.predict(clipped)[0], y.min() - span, y.max() + span)
    assert y.min() - span <= model.predict(outlier)[0] <= y.max() + span
