"""``EvolvedClassifier``/``EvolvedRegressor`` take data as users hold it: pandas DataFrames and
Series, object, string, categorical and boolean labels, text and categorical feature columns,
missing cells; nothing is pickled and a failed ``fit`` leaves no scratch folder behind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evolve import EvolvedClassifier, EvolvedRegressor
from evolve.estimators.encoding import ColumnEncoder, encode_labels

FAST = {"max_evaluations": 300, "budget_minutes": 0, "n_projections": 1,
        "overrides": ("search.population_size=20", "tasks.search=2", "tasks.select=2",
                      "tasks.final=2")}


def penguins_like(n: int = 90, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    species = np.array(["Adelie", "Gentoo", "Chinstrap"])[rng.integers(0, 3, n)]
    shift = {"Adelie": 0.0, "Gentoo": 3.0, "Chinstrap": -3.0}
    bill = np.array([40 + shift[s] + rng.normal() for s in species])
    flipper = rng.normal(200, 10, n)
    flipper[::7] = np.nan
    island = pd.Categorical(rng.choice(["Biscoe", "Dream", "Torgersen"], n))
    sex = rng.choice(["male", "female", None], n)
    return pd.DataFrame({"bill": bill, "flipper": flipper, "island": island, "sex": sex,
                         "tagged": rng.integers(0, 2, n).astype(bool), "species": species})


def test_encoder_matches_a_by_hand_encoding():
    df = pd.DataFrame({"x": [1.0, np.nan, 3.0], "c": ["b", "a", None], "k": [5, 5, 5],
                       "flag": [True, False, True]})
    enc = ColumnEncoder().fit(df)
    assert enc.feature_names == ["x", "c=a", "c=b", "flag"]
    np.testing.assert_array_equal(enc.transform(df), [[1.0, 0, 1, 1], [2.0, 1, 0, 0], [3.0, 0, 0, 1]])
    unseen = pd.DataFrame({"x": [np.nan], "c": ["zzz"], "k": [1], "flag": [False]})
    np.testing.assert_array_equal(enc.transform(unseen), [[2.0, 0, 0, 0]])
    with pytest.raises(ValueError, match=r"column 'x'.*'oops' is not a number"):
        enc.transform(pd.DataFrame({"x": ["oops"], "c": ["a"], "k": [5], "flag": [True]}))


@pytest.mark.parametrize("labels", [
    lambda s: s.to_numpy(),                 # the object array a DataFrame hands over
    lambda s: s.astype(str),                # a Series of str
    lambda s: s.astype("category"),         # a categorical Series
    lambda s: s.to_numpy().astype(str),     # a NumPy str array
])
def test_label_kinds_all_encode_the_same(labels):
    s = pd.Series(["b", "a", "c", "a"])
    classes, codes = encode_labels(labels(s))
    assert list(classes) == ["a", "b", "c"] and list(codes) == [1, 0, 2, 0]


def test_bad_labels_are_one_clear_error():
    with pytest.raises(ValueError, match="mixes label types"):
        encode_labels(np.array(["a", 1, 2.5], dtype=object))
    with pytest.raises(ValueError, match="1 rows have no label"):
        encode_labels(pd.Series(["a", None, "b"]))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_fit_a_dataframe_with_object_labels(tmp_path):
    df = penguins_like()
    features = [c for c in df.columns if c != "species"]
    model = EvolvedClassifier(seed=1, run_root=str(tmp_path), **FAST)
    model.fit(df[features], df["species"])
    assert set(model.classes_) == {"Adelie", "Chinstrap", "Gentoo"}
    assert list(model.feature_names_in_) == features and model.n_features_in_ == 5
    predicted = model.predict(df[features])
    assert set(predicted) <= set(model.classes_) and len(predicted) == len(df)
    assert model.predict_proba(df[features]).shape == (len(df), 3)
    assert model.score(df[features], df["species"]) > 0.5
    regressor = EvolvedRegressor(seed=1, run_root=str(tmp_path), **FAST)
    regressor.fit(df[["flipper", "island", "sex", "tagged", "species"]], df["bill"])
    assert np.isfinite(regressor.predict(df[["flipper", "island", "sex", "tagged", "species"]])).all()


def test_a_failed_fit_leaves_no_scratch_folder(tmp_path):
    df = penguins_like(30)
    bad = {**FAST, "overrides": ("search.population_size=-5",)}
    with pytest.raises(Exception, match="population_size"):
        EvolvedClassifier(run_root=str(tmp_path / "runs"), **bad).fit(df[["bill"]], df["species"])
    assert not any((tmp_path / "runs").iterdir())
    with pytest.raises(ValueError, match="only one class"):
        EvolvedClassifier(run_root=str(tmp_path / "runs"), **FAST).fit(df[["bill"]], ["x"] * 30)
    assert not any((tmp_path / "runs").iterdir())
