"""Ablation (evolve.analysis.knockouts) and `evolve explain`: knock-outs agree with `evolve eval`
of the edited program, dead code changes nothing, bad input is one clear error."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evolve.analysis.knockouts import SWEEP_FACTORS, ablate, knocked_out, with_constant
from evolve.cli import main
from evolve.evaluation.scoring import TaskBatch
from primitives.prune import live_instructions
from primitives.text import format_program, parse_program
from problems.registry import get_tasks, make_suite
from tests.programs import AUTOML_ZERO_LINEAR

TASKS = ("--problem", "linear", "--split", "select", "--tasks", "4", "--seed", "0")


@pytest.fixture(scope="module")
def setting():
    program = parse_program(AUTOML_ZERO_LINEAR)
    tasks = get_tasks(make_suite("linear", {}), "select", 4, 0)
    return program, TaskBatch.from_tasks(tasks), program.required_memory()


def test_dead_instruction_knockout_changes_nothing(setting):
    program, batch, memory = setting
    live = live_instructions(program)
    dead = [int(i) for i in np.flatnonzero(~live)]
    assert dead, "the test program must hold dead code"
    result = ablate(program, batch, memory, indices=dead)
    assert [k.index for k in sorted(result.knockouts, key=lambda k: k.index)] == dead
    assert all(k.fitness == result.fitness and k.delta == 0.0 for k in result.knockouts)
    assert all(k.verdict == "no effect" for k in result.knockouts)


def _eval_json(tmp_path, program, capsys) -> float:
    path = tmp_path / "edited.txt"
    path.write_text(format_program(program))
    capsys.readouterr()
    assert main(["eval", str(path), *TASKS, "--json"]) == 0
    return json.loads(capsys.readouterr().out)["fitness"]


def test_knockouts_and_sweeps_agree_with_evolve_eval(setting, tmp_path, capsys):
    program, batch, memory = setting
    result = ablate(program, batch, memory)
    assert result.essential(), "the learning rule must depend on something"
    for k in result.knockouts:
        assert k.fitness == pytest.approx(_eval_json(tmp_path, knocked_out(program, k.index),
                                                     capsys), abs=1e-12)
    sweep = result.sweeps[0]
    j = SWEEP_FACTORS.index(10.0)
    edited = with_constant(program, sweep.index, sweep.slot, sweep.value * 10.0)
    assert sweep.fitness[j] == pytest.approx(_eval_json(tmp_path, edited, capsys), abs=1e-12)
    # factor 1 is the program itself
    assert sweep.fitness[SWEEP_FACTORS.index(1.0)] == result.fitness


def test_knockouts_are_ranked_most_harmful_first(setting):
    program, batch, memory = setting
    result = ablate(program, batch, memory)
    deltas = [k.delta for k in result.knockouts]
    assert deltas == sorted(deltas)
    assert [k.rank for k in result.knockouts] == list(range(1, len(deltas) + 1))
    assert result.variants == 1 + len(result.knockouts) + len(SWEEP_FACTORS) * len(result.sweeps)


def test_explain_prints_table_and_json(tmp_path, capsys):
    path = tmp_path / "p.txt"
    path.write_text(AUTOML_ZERO_LINEAR)
    assert main(["explain", str(path), *TASKS, "--no-math"]) == 0
    out = capsys.readouterr().out
    assert "Knock-outs" in out and "★ essential" in out and "Learn" in out
    assert main(["explain", str(path), *TASKS, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["knockouts"] and data["constants"] and data["math"]
    assert {"fitness", "seconds", "summary", "decoupling"} <= set(data)


@pytest.mark.parametrize("argv, needle", [
    (["explain", "linear_sgd"], "--problem"),
    (["explain", "linear_sgd", "--problem", "linear", "--tasks", "0"], "--tasks 0"),
    (["explain", "linear_sgd", "--problem", "linear", "--vary", "features_size"], "--vary"),
    (["explain", "linear_sgd", "--problem", "nope"], "nope"),
    (["explain", "no/such/file.txt", "--problem", "linear"], "no/such/file.txt"),
])
def test_bad_input_is_one_clear_error(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(vary=st.text(max_size=30), param=st.text(max_size=30))
def test_fuzzed_vary_and_param_never_trace(vary, param, capsys):
    argv = ["explain", "linear_sgd", "--problem", "linear", "--tasks", "1", "--no-math",
            "--vary", vary, "--param", param]
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse refuses a value that looks like an option
        code = exit_.code
    err = capsys.readouterr().err
    assert code in (0, 2)
    assert "Traceback" not in err
