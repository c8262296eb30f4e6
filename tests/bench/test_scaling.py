"""``evolve scaling``: the benchmark that compares one population with islands on workers."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from programs import ALL_OPS

from evolve.bench.scaling import kinds, measure_scaling, pooled_rate
from evolve.cli import main
from evolve.cli.scaling import parse_executors, parse_seeds
from evolve.errors import EvolveError


def test_kinds_are_one_population_separate_runs_then_the_same_islands_serial_and_parallel():
    chosen = kinds(3, ["processes", "dask"])
    assert [k.label for k in chosen] == ["one population", "3 separate runs at once", "3 islands serial",
                                         "3 islands processes", "3 islands dask"]
    assert chosen[0].flags == chosen[1].flags == () and (chosen[0].copies, chosen[1].copies) == (1, 3)
    for kind in chosen[2:]:
        assert kind.flags[:2] == ("--set", "campaign.islands=3") and kind.copies == 1
    assert chosen[3].flags[2:] == ("--workers", "3", "--executor", "processes")


@pytest.mark.parametrize("argv, field", [
    (["--workers", "1"], "--workers 1"), (["--repeats", "0"], "--repeats 0"),
    (["--individuals", "-5"], "--individuals -5"), (["--executors", "serial"], "--executors"),
    (["--executors", "threads,dask"], "--executors"), (["--seeds", "1,1"], "--seeds"), (["--seeds", "x"], "--seeds"),
])
def test_bad_flags_are_one_clear_error(argv, field):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(["scaling", *argv]) == 2
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and field in lines[0], lines


@pytest.mark.slow
def test_a_small_measurement_runs_every_kind_to_the_same_budget():
    result = measure_scaling("linear-demo", workers=2, executors=["processes"], seeds=[1],
                             individuals=3000, repeats=1)
    one, separate, serial, parallel = result.runs
    assert [r["kind"] for r in result.runs] == ["one population", "2 separate runs at once", "2 islands serial",
                                                "2 islands processes"]
    assert all(r["individuals"] == 3000 and r["seconds"] > 0 and r["seed"] == 1 for r in (one, serial, parallel))
    # two copies of the one-population run, summed: twice its individuals and evaluations
    assert (separate["individuals"], separate["evaluations"]) == (6000, 2 * one["evaluations"])
    assert separate["fec_hit_rate"] == pytest.approx(one["fec_hit_rate"])
    # the same search whichever executor runs it
    assert (serial["evaluations"], serial["fec_hit_rate"]) == (parallel["evaluations"], parallel["fec_hit_rate"])
    for r in result.runs:
        assert result.medians[r["kind"]] == pytest.approx(r["individuals_per_second"])
    rate = parallel["individuals_per_second"]
    assert result.ratio_to_one_population["2 islands processes"] == pytest.approx(rate / one["individuals_per_second"])
    assert result.ratio_to_serial_islands["2 islands processes"] == pytest.approx(rate / serial["individuals_per_second"])
    assert result.ratio_to_separate_runs["2 islands processes"] == pytest.approx(rate / separate["individuals_per_second"])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_any_executors_text_is_a_valid_list_or_one_clear_error(text):
    try:
        names = parse_executors(text)
    except EvolveError as exc:
        assert "--executors" in str(exc) and repr(text) in str(exc)
    else:
        assert names and set(names) <= {"processes", "dask"} and len(names) == len(set(names))


def test_seeds_pool_as_all_individuals_over_all_seconds():
    rows = [{"individuals": 1000, "individuals_per_second": 100.0},   # 10 s
            {"individuals": 3000, "individuals_per_second": 300.0},   # 10 s
            {"individuals": 2000, "individuals_per_second": 50.0}]    # 40 s
    assert pooled_rate(rows) == pytest.approx(6000 / 60)
    assert pooled_rate(rows[:1]) == pytest.approx(100.0)


@pytest.mark.slow
def test_two_seeds_are_pooled_per_repeat_and_kind():
    result = measure_scaling("linear-demo", workers=2, executors=["processes"], seeds=[4, 5],
                             individuals=2000, repeats=1)
    assert [r["seed"] for r in result.runs] == [4] * 4 + [5] * 4
    for row in result.pooled:
        mine = [r for r in result.runs if r["kind"] == row["kind"]]
        assert len(mine) == 2 and row["individuals_per_second"] == pytest.approx(pooled_rate(mine))
        assert result.medians[row["kind"]] == row["individuals_per_second"]
    assert result.seeds == [4, 5]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_any_seeds_text_is_a_valid_list_or_one_clear_error(text):
    try:
        seeds = parse_seeds(text)
    except EvolveError as exc:
        assert "--seeds" in str(exc) and repr(text) in str(exc)
    else:
        assert seeds and len(seeds) == len(set(seeds)) and all(0 <= s < 2**63 for s in seeds)


def _slow_work(program, batch, costs) -> float:
    """program_work the obvious way: the readable liveness of primitives.prune, per component."""
    from primitives.program import LEARN, PREDICT, SETUP
    from primitives.prune import live_instructions

    mask, start, per = live_instructions(program), 0, []
    for c in (SETUP, PREDICT, LEARN):
        rows = program.component(c)[0]
        per.append(sum(costs[int(row[0])] for row, live in zip(rows, mask[start : start + len(rows)], strict=True)
                       if live))
        start += len(rows)
    setup, predict, learn = per
    T, n_train = batch.train_x.shape[:2]
    return T * (setup + batch.num_epochs * (n_train * (predict + learn) + batch.valid_x.shape[1] * predict))


@pytest.mark.parametrize("problem", ["linear", "projected_binary"])
def test_program_work_equals_the_readable_liveness_count(problem):
    import numpy as np

    from evolve.bench.scaling import program_work
    from evolve.evaluation.evaluator import op_costs
    from evolve.evaluation.scoring import TaskBatch
    from primitives.generate import random_program, usable_ops
    from primitives.memory import MemorySpec
    from primitives.program import pack
    from problems.registry import get_tasks, make_suite

    memory = MemorySpec(5, 4, 2)
    ops = usable_ops(ALL_OPS, memory)
    rng = np.random.default_rng(11)
    suite = make_suite(problem, {"num_train_examples": 12, "num_valid_examples": 7, "num_train_epochs": 3,
                                 "features_size": 3 if problem == "linear" else 4})
    batch = TaskBatch.from_tasks(get_tasks(suite, "search", 3, seed=1))
    programs = [random_program([int(s) for s in rng.integers(0, 9, size=3)], [ops] * 3, memory, rng)
                for _ in range(300)]
    code, _, bounds = pack(programs)
    fast = program_work(code, bounds, batch, memory)
    costs = op_costs(batch.features_size)
    slow = np.array([_slow_work(p, batch, costs) for p in programs])
    np.testing.assert_allclose(fast, slow)
    assert (slow > 0).mean() > 0.3 and (slow == 0).any()  # live and wholly dead programs both met
    # any subset of rows, in any order (the evaluator passes bounds of the misses only)
    order = rng.permutation(len(programs))[:50]
    np.testing.assert_allclose(program_work(code, bounds[order], batch, memory), slow[order])


def test_search_work_counts_every_child_once_and_every_miss_once_more_and_repeats_exactly():
    from evolve.bench.scaling import measure_search_work
    from evolve.evaluation import evaluator as evaluator

    original = evaluator.per_task_fitness_packed
    first = measure_search_work("linear-demo", workers=2, seeds=[2], individuals=3000)
    assert evaluator.per_task_fitness_packed is original  # the count is undone
    one, islands = first["rows"]
    assert (one["kind"], islands["kind"]) == ("one population", "2 islands")
    for row in first["rows"]:
        assert row["individuals"] == 3000 and row["work"] > 0
        assert row["work_per_individual"] == pytest.approx(row["work"] / 3000)
    assert first["islands_to_one_population"] == pytest.approx(
        islands["work_per_individual"] / one["work_per_individual"])
    assert measure_search_work("linear-demo", workers=2, seeds=[2], individuals=3000) == first


def test_counting_search_work_sees_every_fec_pass_and_the_full_run_of_every_miss(tmp_path):
    from evolve.bench.scaling import counting_search_work
    from evolve.config import load_config
    from evolve.engine.campaign import start_campaign

    config = load_config("linear-demo", ["campaign.max_evaluations=2500", "campaign.budget_minutes=0"])
    with counting_search_work() as counter:
        campaign = start_campaign(config, tmp_path, quiet=True)
        summary = campaign.run()
    # every FEC pass run (children whose live code was not seen before) and every full run
    passes = campaign.context.evaluator.fec_passes
    assert 0 < passes <= summary["individuals"]
    assert counter["programs"] == passes + summary["evaluations"]


def test_work_flag_prints_per_seed_rows_and_the_pooled_ratio():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["scaling", "--work", "--seeds", "1", "--individuals", "2000"]) == 0
    text = out.getvalue()
    assert "seed 1  one population" in text and "seed 1  2 islands" in text
    assert "pooled over the seeds" in text and "x as much per individual" in text
