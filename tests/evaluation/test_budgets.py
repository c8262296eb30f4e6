"""Budgets and resource limits (issue 15, item 3): the clock budget is honoured inside long
batches, and a config that needs more memory than the machine has is one clear error before
anything large is allocated (:mod:`evolve.engine.resources`)."""

from __future__ import annotations

import json
import time

import pytest

from evolve.config import load_config
from evolve.engine import resources
from evolve.engine.campaign import start_campaign
from evolve.errors import ConfigError
from problems.registry import make_suite


def test_a_budget_ends_inside_a_huge_initial_population(tmp_path):
    """A population of 10^6 programs of 10/2/8 instructions takes ~20 s to build and score on this
    machine kind; with a 1.2 s budget the campaign stops within a few seconds of it, says
    ``budget_minutes``, and still writes its results (the bound is 5x the budget: the semantics
    checked is "within about a second", not a speed)."""
    config = load_config("linear-demo", ["search.population_size=1000000", "campaign.budget_minutes=0.02",
                                         "tasks.select=3", "tasks.final=3"])
    campaign = start_campaign(config, tmp_path, quiet=True)
    began = time.monotonic()
    summary = campaign.run()
    assert summary["stopped_by"] == "budget_minutes"
    assert summary["seconds"] < 6.0 and time.monotonic() - began < 30.0
    assert json.loads((tmp_path / "summary.json").read_text())["stopped_by"] == "budget_minutes"


def test_a_budget_ends_inside_a_long_batch_of_long_programs(tmp_path):
    """Many training epochs make each program slow: the evaluator scores a batch in chunks and
    stops at the deadline (``search_evaluator.CHUNK_SECONDS``)."""
    config = load_config("linear-demo", ["problem.num_train_epochs=2000", "campaign.budget_minutes=0.02",
                                         "tasks.select=3", "tasks.final=3"])
    summary = start_campaign(config, tmp_path, quiet=True).run()
    assert summary["stopped_by"] == "budget_minutes" and summary["seconds"] < 6.0


@pytest.mark.parametrize(("features", "train", "valid"), [(4, 100, 100), (16, 200, 150), (1000, 7, 3)])
def test_the_memory_estimate_is_the_stated_formula(features, train, valid):
    """Task data: 2 copies x every task x (train + valid) x (F + 1) float64; interpreter memory: 2 x
    the largest split x (S + V F + M F^2) float64 (the module docstring)."""
    config = load_config("linear-demo")
    t, m = config.tasks, config.memory
    parts = resources.estimate_bytes(config, features, train, valid)
    tasks = t.search + t.select + t.final + t.funnel + t.search_pool
    assert parts["task data"] == 2 * tasks * (train + valid) * (features + 1) * 8
    together = max(t.search, t.select, t.final)
    assert parts["interpreter memory"] == 2 * together * (m.scalars + m.vectors * features
                                                          + m.matrices * features**2) * 8


def test_too_much_memory_is_one_clear_error_before_allocation(monkeypatch, tmp_path):
    monkeypatch.setattr(resources, "available_bytes", lambda: 2 * resources.GB)
    config = load_config("linear-demo", ["problem.features_size=100000"])
    suite = make_suite(config.problem.name, config.problem.params)
    with pytest.raises(ConfigError, match=r"problem\.features_size = 100000.*2\.0 GB are available"):
        resources.check_resources(config, suite)
    # ... and the campaign refuses it before building any task
    made = []
    monkeypatch.setattr(type(suite), "tasks", lambda *a, **k: made.append(1) or [])
    with pytest.raises(ConfigError, match="features_size"):
        start_campaign(config, tmp_path, quiet=True)
    assert not made


def test_a_config_that_fits_passes(monkeypatch):
    monkeypatch.setattr(resources, "available_bytes", lambda: 2 * resources.GB)
    config = load_config("linear-demo")
    resources.check_resources(config, make_suite(config.problem.name, config.problem.params))
