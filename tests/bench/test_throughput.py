"""``evolve bench``: figures are present and positive (throughput is reported, never asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from programs import ALL_OPS, NON_RANDOM_OPS

from evolve.bench.throughput import _STARTUP_SCRIPT, DEMO_OPS, SCENARIOS
from evolve.cli import main
from primitives.ops import OPS

ROOT = Path(__file__).resolve().parents[2]


def test_scenarios_match_their_definition():
    a, b, c = SCENARIOS["A"], SCENARIOS["B"], SCENARIOS["C"]
    assert (a.features_size, b.features_size, c.features_size) == (4, 16, 4)
    assert a.memory.as_tuple() == (8, 8, 8) and c.memory.as_tuple() == (4, 3, 1)
    assert a.sizes == (10, 10, 20) and c.sizes == (10, 2, 8)
    assert set(a.ops[0]) == set(ALL_OPS)
    assert set(a.ops[1]) == set(a.ops[2]) == set(NON_RANDOM_OPS)
    assert [OPS[code].name for code in DEMO_OPS] == [
        "scalar_const_set", "vector_inner_product", "scalar_diff", "scalar_product",
        "scalar_vector_product", "vector_sum",
    ]
    assert c.ops == (DEMO_OPS,) * 3
    # 10 tasks x (Setup 10 + 100 x (Predict 2 + Learn 8) + 100 x Predict 2)
    assert c.instructions_per_evaluation() == 10 * (10 + 100 * 10 + 100 * 2)


def test_bench_json_one_scenario(capsys):
    argv = ["bench", "--repeats", "1", "--only", "C", "--programs", "20", "--no-startup", "--json"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    result = json.loads(out)
    assert set(result["scenarios"]) == {"C"} and result["startup"] is None
    row = result["scenarios"]["C"]
    for key in ("evaluations_per_s", "instructions_per_s_upper_bound",
                "instructions_per_s_lower_bound", "seconds_per_repeat_median"):
        assert row[key] > 0, key
    assert row["instructions_per_s_lower_bound"] <= row["instructions_per_s_upper_bound"]
    assert 0.0 <= row["fraction_programs_all_zero"] <= 1.0


def test_bench_console_script_text():
    result = subprocess.run(
        [sys.executable, "-m", "evolve.cli", "bench", "--repeats", "1", "--only", "c,a",
         "--programs", "5", "--no-startup"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "evals/s" in result.stdout and "\nA " in result.stdout and "\nC " in result.stdout


@pytest.mark.parametrize("argv", [["--only", "E"], ["--only", ","], ["--repeats", "0"],
                                  ["--programs", "0"], ["--individuals", "0"]])
def test_bench_bad_arguments(argv, capsys):
    assert main(["bench", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evolve bench: error:") and len(err.strip().splitlines()) == 1


def test_bench_search_scenario_d(capsys):
    """D times a real seeded search: the same seed does the same work in every repeat."""
    argv = ["bench", "--repeats", "2", "--only", "D", "--individuals", "300", "--no-startup",
            "--json"]
    assert main(argv) == 0
    row = json.loads(capsys.readouterr().out)["scenarios"]["D"]
    assert row["individuals"] >= 300 and 0 < row["evaluations"] <= row["individuals"]
    assert row["individuals_per_s"] > 0 and row["seconds_median"] > 0
    assert 0.0 <= row["fec_hit_rate"] <= 1.0 and row["peak_rss_mb"] > 0
    assert "digits-demo" in row["scenario"]


def test_bench_search_scenario_is_deterministic():
    from evolve.bench.throughput import SEARCH_SCENARIOS, measure_search

    first = measure_search(SEARCH_SCENARIOS["D"], repeats=1, individuals=250)
    second = measure_search(SEARCH_SCENARIOS["D"], repeats=1, individuals=250)
    for key in ("individuals", "evaluations", "fec_hit_rate"):
        assert first[key] == second[key], key


def test_startup_script_runs():
    """The script `bench` times cold and warm; here with the ordinary (usually warm) cache."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    result = subprocess.run([sys.executable, "-c", _STARTUP_SCRIPT], capture_output=True,
                            text=True, timeout=300, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_bench_against_refuses_what_is_not_a_checkout(tmp_path, capsys):
    assert main(["bench", "--against", str(tmp_path), "--only", "C", "--programs", "1",
                 "--repeats", "1"]) != 0
    assert "no primitives/interpreter.py" in capsys.readouterr().err
    assert main(["bench", "--against", str(tmp_path), "--only", "D"]) != 0
    assert "choose among A, B, C" in capsys.readouterr().err
