"""MNIST-1D, the search protocol options (resampled pool, mixing, funnel, restarts from the best,
select curve) and constant re-tuning, on tiny tasks."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from evolve.config import load_config
from evolve.engine import task_protocol as protocol
from evolve.engine.campaign import resume_campaign, start_campaign
from evolve.engine.search_context import SearchContext
from evolve.errors import ConfigError
from evolve.evaluation.scoring import TaskBatch, per_task_fitness
from evolve.reference_programs import load_algorithm
from evolve.studies.retune import paired_interval, retune, trial_programs, tunable_slots
from primitives.memory import MemorySpec
from primitives.program import Program
from problems import projected_binary
from problems.registry import get_tasks, make_suite

# mnist1d-improve shrunk: 1 epoch, few small tasks, a small population.
TINY = [
    "problem.num_train_epochs=1",
    "problem.num_train_examples=40",
    "problem.num_valid_examples=30",
    "tasks.search=3",
    "tasks.select=4",
    "tasks.final=4",
    "search.population_size=20",
    "search.batch_size=10",
    "campaign.budget_minutes=0",
    "campaign.checkpoint_seconds=0.1",
    "campaign.progress_seconds=0.05",
    "evaluation.max_cost_ratio=0",
]
PROTOCOL = [
    "tasks.resample_individuals=300",
    "tasks.search_pool=12",
    "tasks.funnel=5",
    "campaign.restart_from=\"best\"",
    "campaign.stall_individuals=400",
]


def tiny(max_evaluations: int, *extra: str):
    return load_config("mnist1d-improve",
                       [*TINY, f"campaign.max_evaluations={max_evaluations}", *extra])


# ---------------------------------------------------------------------------- MNIST-1D


def test_mnist1d_is_deterministic_and_leaves_global_rngs_alone():
    np.random.seed(123)
    random.seed(123)
    before = (np.random.random(), random.random())
    np.random.seed(123)
    random.seed(123)
    projected_binary.load_dataset.cache_clear()
    x1, y1 = projected_binary.load_dataset("mnist1d")
    after = (np.random.random(), random.random())
    assert before == after
    projected_binary.load_dataset.cache_clear()
    x2, y2 = projected_binary.load_dataset("mnist1d")
    assert x1.shape == (5000, 40) and np.array_equal(x1, x2) and np.array_equal(y1, y2)
    assert np.bincount(y1).tolist() == [500] * 10
    assert not x1.flags.writeable


def test_mnist1d_pairs_are_disjoint_between_search_and_held_out():
    suite = make_suite("projected_binary", {"dataset": "mnist1d"})
    assert len(suite.held_out) == 9 and len(suite.search_pairs) == 36
    assert not set(suite.held_out) & set(suite.search_pairs)
    assert (suite.num_train_examples, suite.num_valid_examples) == (400, 300)
    assert set(suite.task_pairs("search", 100, 0)) <= set(suite.search_pairs)
    for split in ("select", "final"):
        assert set(suite.task_pairs(split, 50, 0)) <= set(suite.held_out)
    a = get_tasks(suite, "final", 3, 7)
    b = get_tasks(make_suite("projected_binary", {"dataset": "mnist1d"}), "final", 3, 7)
    assert all(np.array_equal(s.train_x, t.train_x) and np.array_equal(s.valid_y, t.valid_y)
               for s, t in zip(a, b, strict=True))
    assert a[0].train_x.shape == (400, 16) and a[0].valid_x.shape == (300, 16)


# ---------------------------------------------------------------------------- search tasks


def test_fixed_search_tasks_are_the_suites_search_split():
    config = tiny(100)
    tasks = protocol.SearchTasks(config)
    assert not tasks.active
    expected = get_tasks(make_suite(config.problem.name, config.problem.params), "search", 3, 0)
    assert np.array_equal(tasks.batch(0).train_x, TaskBatch.from_tasks(expected).train_x)


def test_pool_draws_are_distinct_pool_members_and_repeatable():
    config = tiny(100, *PROTOCOL)
    tasks = protocol.SearchTasks(config)
    seen = set()
    for draw in range(20):
        suite, indices = tasks.choice(draw)
        assert suite == 0 and len(set(indices.tolist())) == 3
        assert all(0 <= i < 12 for i in indices.tolist())
        assert np.array_equal(indices, protocol.SearchTasks(config).choice(draw)[1])
        seen.add(tuple(indices.tolist()))
    assert len(seen) > 10
    pool = get_tasks(make_suite(config.problem.name, config.problem.params), "search", 12, 0)
    _, indices = tasks.choice(4)
    assert np.array_equal(tasks.batch(4).seeds, np.array([pool[i].seed for i in indices]))


def test_mixing_draws_the_other_dataset_at_about_its_fraction():
    config = load_config("digits-demo", ['problem.protocol="shared"',  # wine's quarters are too small for 40 + 30
        "tasks.resample_individuals=100", "tasks.mix_fraction=0.5", "tasks.mix_dataset=\"wine\"",
        "problem.num_train_examples=40", "problem.num_valid_examples=30", "tasks.search=2"])
    tasks = protocol.SearchTasks(config)
    suites = [tasks.choice(draw)[0] for draw in range(200)]
    assert 70 < sum(suites) < 130
    mixed = next(d for d, s in enumerate(suites) if s == 1)
    plain = next(d for d, s in enumerate(suites) if s == 0)
    wine = make_suite("projected_binary", {**config.problem.params, "dataset": "wine"})
    assert tasks.tasks(mixed)[0].seed in {t.seed for t in get_tasks(
        wine, "search", 2, protocol.derived_seed(0, protocol._DRAW_SALT, mixed))}
    assert tasks.tasks(plain)[0].train_x.shape == (40, 16)


def test_protocol_options_are_validated():
    with pytest.raises(ConfigError, match="mix_fraction"):
        tiny(100, "tasks.mix_fraction=0.5")
    with pytest.raises(ConfigError, match="search_pool"):
        tiny(100, "tasks.resample_individuals=10", "tasks.search_pool=2")
    with pytest.raises(ConfigError, match="islands"):
        tiny(100, "tasks.funnel=3", "campaign.islands=2")
    with pytest.raises(ConfigError, match="restart_from"):
        tiny(100, "campaign.restart_from=\"worst\"")


# ---------------------------------------------------------------------------- campaigns


def test_funnel_gates_select_checks_and_the_curve_records_them(tmp_path):
    summary = start_campaign(tiny(1500, "tasks.funnel=4"), tmp_path, quiet=True).run()
    lines = (tmp_path / "select_curve.csv").read_text().splitlines()
    assert lines[0] == ",".join(protocol.CURVE_COLUMNS)
    rows = [[float(v) for v in line.split(",")] for line in lines[1:]]
    assert rows
    best_funnel, best_select = -1.0, -1.0
    for _, _, _, funnel, select, kept in rows:
        assert 0.0 <= funnel <= 1.0
        if funnel < best_funnel:  # not promoted: no select check
            assert select == -1.0 and kept == 0
            continue
        best_funnel = funnel
        assert kept == (select > best_select)
        best_select = max(best_select, select)
    assert summary["select_fitness"] == pytest.approx(best_select)


def test_resampling_rescores_the_population_on_each_draw(tmp_path):
    campaign = start_campaign(tiny(1000, "tasks.resample_individuals=200", "tasks.search_pool=9"),
                              tmp_path, quiet=True)
    draws = []
    original = campaign.set_draw

    def spy(draw):
        original(draw)
        draws.append(draw)
        fitness, _ = per_task_fitness(campaign.population.members, campaign.search_batch,
                                      campaign.memory)
        spy.batches.append((campaign.search_batch, fitness.mean(axis=1)))

    spy.batches = []
    campaign.set_draw = spy
    campaign.run()
    assert draws == [1, 2, 3, 4, 5]
    assert campaign.context.draw == 5 and len(campaign.evaluator.cache) > 0


def test_restart_from_best_refills_with_the_candidate(tmp_path):
    campaign = start_campaign(tiny(2000, "campaign.stall_individuals=200",
                                   "campaign.stall_tolerance=1.0", "campaign.restart_from=\"best\""),
                              tmp_path, quiet=True)
    seen = []
    original = campaign._new_experiment

    def spy():
        candidate = campaign.candidate
        original()
        if campaign.experiment > 1:
            seen.append(all(np.array_equal(m.instructions, candidate.instructions)
                            for m in campaign.population.members))

    campaign._new_experiment = spy
    campaign.run()
    assert campaign.experiment > 2 and seen and all(seen)


def _outcome(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text())
    keys = ("individuals", "evaluations", "search_fitness", "select_fitness", "final_fitness",
            "experiments")
    return ({k: summary[k] for k in keys}, (run_dir / "best.txt").read_text(),
            (run_dir / "hall_of_fame.txt").read_text(), (run_dir / "select_curve.csv").read_text()
            .splitlines()[0], [line.split(",")[2:] for line in
                               (run_dir / "select_curve.csv").read_text().splitlines()[1:]])


def test_resume_with_the_protocol_options_equals_uninterrupted(tmp_path):
    whole = tmp_path / "whole"
    whole.mkdir()
    start_campaign(tiny(2400, *PROTOCOL), whole, quiet=True).run()
    part = tmp_path / "part"
    part.mkdir()
    campaign = start_campaign(tiny(2400, *PROTOCOL), part, quiet=True)
    original = campaign._step

    def step_then_stop():
        original()
        if campaign.individuals >= 1100:
            campaign._stop_signal = True

    campaign.reraise_signals = False  # as the CLI does: report the stop, raise nothing
    campaign._step = step_then_stop
    assert campaign.run()["stopped_by"] == "interrupted"
    resumed, warnings = resume_campaign(part, quiet=True)
    assert warnings == [] and resumed.context.draw == resumed.individuals // 300
    resumed.run()
    assert _outcome(part) == _outcome(whole)


# ---------------------------------------------------------------------------- re-tuning


def _tiny_batch(split: str, n: int = 4) -> TaskBatch:
    suite = make_suite("projected_binary", {"dataset": "mnist1d", "num_train_examples": 60,
                                            "num_valid_examples": 40})
    return TaskBatch.from_tasks(get_tasks(suite, split, n, 0))


def test_retuning_changes_only_tunable_constants():
    program = load_algorithm("nn_2layer")
    rng = np.random.default_rng(5)
    trials = trial_programs(program, 30, rng)
    slots = tunable_slots(program)
    assert slots == [(0, 0), (1, 1), (2, 1)]  # the learning rate and the two init scales
    assert np.array_equal(trials[0].constants, program.constants)
    mask = np.zeros(program.constants.shape, bool)
    for row, col in slots:
        mask[row, col] = True
    for trial in trials:
        assert np.array_equal(trial.instructions, program.instructions)
        assert trial.sizes == program.sizes
        assert np.array_equal(trial.constants[~mask], program.constants[~mask])
        ratio = trial.constants[mask] / program.constants[mask]
        assert np.all((ratio >= 1e-3 - 1e-12) & (ratio <= 1e3 + 1e-9))
    # an index constant (vector_const_set's c0) is never scaled
    indexed = Program.from_components([[(57, 0, 0, 1, 2.0, 0.5, 0.0)], [], []])
    assert tunable_slots(indexed) == [(0, 1)]


def test_retune_never_lowers_select_and_keeps_structure():
    program = load_algorithm("logistic_sgd")
    batch = _tiny_batch("select")
    tuned = retune(program, batch, MemorySpec(4, 3, 0), 20, np.random.default_rng(0))
    assert tuned.select_after >= tuned.select_before
    assert np.array_equal(tuned.program.instructions, program.instructions)
    again = retune(program, batch, MemorySpec(4, 3, 0), 20, np.random.default_rng(0))
    assert np.array_equal(again.program.constants, tuned.program.constants)


def test_paired_interval():
    a = np.array([0.8, 0.9, 0.7, 0.85])
    b = a - np.array([0.02, 0.01, 0.03, 0.02])
    mean, low, high = paired_interval(a, b)
    assert mean == pytest.approx(0.02) and low < 0.02 < high
    half = 1.96 * np.std([0.02, 0.01, 0.03, 0.02], ddof=1) / 2
    assert high - mean == pytest.approx(half)
    with pytest.raises(ValueError):
        paired_interval(a[:1], b[:1])


def test_new_search_tasks_forget_the_live_code_hashes():
    """A remembered FEC hash was computed on the old tasks' head examples: swapping the batch
    must drop it (it once made a resumed run, which starts without them, diverge)."""
    config = tiny(100, *PROTOCOL)
    context = SearchContext(config)
    old = context.evaluator.live_hashes
    context.set_draw(context.draw + 1)
    assert context.evaluator.live_hashes is not old
    assert context.evaluator.live_hashes.capacity == old.capacity
