"""From a data file to an algorithm: `evolve run --data`, resume/report/export, the Python API."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
import tomllib

import numpy as np
import pytest

import evolve
from evolve.cli import main

SMALL = ["--set", "campaign.budget_minutes=0.05", "--set", "tasks.search=2", "--set", "tasks.select=3", "--set", "tasks.final=4",
         "--set", "search.population_size=20", "--set", "search.tournament_size=5"]


@pytest.fixture
def data_csv(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "plants.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["height", "width", "soil", "flat", "kind"])
        for i in range(120):
            h, w = rng.normal(size=2)
            writer.writerow([f"{h:.4f}", "" if i == 5 else f"{w:.4f}", ["clay", "sand"][i % 2],
                             "1", "tall" if h + 0.5 * w > 0 else "short"])
    return path


def test_evolve_run_data_end_to_end(data_csv, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["run", "--data", str(data_csv), "--target", "kind", "--max-evaluations", "200",
                 "--out", str(out), "--quiet", *SMALL])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["final_fitness"] is not None
    config = tomllib.loads((out / "config.toml").read_text())
    assert config["problem"]["name"] == "dataset"
    assert config["problem"]["path"] == str(data_csv.resolve())
    assert len(config["problem"]["sha256"]) == 64
    data = json.loads((out / "data.json").read_text())
    assert data["task"] == "classification" and data["classes"] == ["short", "tall"]
    assert data["dropped_constant"] == ["flat"] and data["missing"] == {"width": 1}
    assert data["one_hot"] == {"soil": ["clay", "sand"]}
    assert config["problem"]["projection"] == "none" and config["problem"]["features_size"] == 4  # height, width, soil=clay, soil=sand
    table = json.loads((out / "table_model.json").read_text())  # held-out rows, all columns
    names = [row["name"] for row in table["practitioner"]]
    assert names == ["LogisticRegression", "MLPClassifier(100)", "HistGradientBoostingClassifier"]
    assert all(0.0 <= row["score"] <= 1.0 for row in table["practitioner"])
    assert 0.0 <= table["evolved"] <= 1.0 and table["test_rows"] + table["train_rows"] == 120
    assert table["chosen"]["which"] in ("discovered", "start") and table["chosen"]["epochs"] >= 1

    # resume (already finished: it stops at once) and report read the same file ...
    assert main(["resume", str(out), "--quiet"]) == 0
    assert main(["report", str(out), "--no-baselines"]) == 0
    # ... and the exported estimator runs on the data it came from
    module_path = tmp_path / "model.py"
    assert main(["export", str(out), "--to", "python", "-o", str(module_path)]) == 0
    spec = importlib.util.spec_from_file_location("exported_plants", module_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["exported_plants"] = module
    spec.loader.exec_module(module)
    X = np.random.default_rng(1).normal(size=(50, 2))
    y = (X[:, 0] > 0).astype(int)
    model = module.DiscoveredAlgorithm().fit(X, y)
    assert model.features_size is None and 0.0 <= model.score(X, y) <= 1.0
    # a changed file is one clear error
    capsys.readouterr()
    with open(data_csv, "a") as handle:
        handle.write("0.1,0.2,clay,1,tall\n")
    assert main(["resume", str(out), "--quiet"]) == 2
    assert "has changed since the run was configured" in capsys.readouterr().err


def test_evolve_run_data_bad_input_is_exit_2(data_csv, tmp_path, capsys):
    for argv, words in (
        (["run", "--data", str(data_csv)], ["--target COLUMN is needed", "'kind'"]),
        (["run", "--data", str(data_csv), "--target", "colour"], ["no column 'colour'"]),
        (["run", "--data", str(tmp_path / "none.csv"), "--target", "y"], ["no such file"]),
        (["run"], ["--data FILE --target COLUMN"]),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and all(word in err for word in words), err


def test_python_api_run_campaign_and_load_estimator(data_csv, tmp_path):
    assert set(evolve.__all__) >= {"run_campaign", "EvolvedClassifier", "EvolvedRegressor",
                                   "load_estimator", "CampaignResult"}
    for name in evolve.__all__:
        assert getattr(evolve, name) is not None
    result = evolve.run_campaign(data=data_csv, target="kind", max_evaluations=200,
                                 overrides=SMALL[1::2], run_dir=tmp_path / "api")
    assert result.run_dir == tmp_path / "api" and result.summary["final_fitness"] is not None
    assert "ŷ" in result.math and result.pruned is not None
    progress = []
    evolve.run_campaign("linear-demo", max_evaluations=2000, run_dir=tmp_path / "ld",
                        on_progress=progress.append)
    assert progress and progress[-1].individuals >= 1000
    estimator = evolve.load_estimator(result.run_dir, epochs=2)
    assert estimator.epochs == 2 and estimator.features_size is None  # tasks saw every column


def test_evolved_regressor_fit_on_a_tiny_budget(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(90, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.1 * rng.normal(size=90) + 10.0
    model = evolve.EvolvedRegressor(max_evaluations=300, run_root=str(tmp_path), seed=1,
                                    overrides=tuple(SMALL[1::2]))
    assert model.fit(X, y) is model
    assert model.program_ is not None and "ŷ" in model.math_
    assert (model.run_dir_ / "best.txt").exists() and model.n_features_in_ == 3
    pred = model.predict(X)
    assert pred.shape == (90,) and np.isfinite(model.score(X, y))
    classifier = evolve.EvolvedClassifier(max_evaluations=300, run_root=str(tmp_path),
                                          overrides=tuple(SMALL[1::2]))
    labels = np.where(X[:, 0] > 0, "up", "down")
    classifier.fit(X, labels)
    assert set(classifier.predict(X)) <= {"up", "down"}
    assert list(classifier.classes_) == ["down", "up"]
