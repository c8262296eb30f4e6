"""``evolve experiment``: Wilson intervals, efficiency ratios, and a tiny real experiment."""

from __future__ import annotations

import json
import math

import pytest

from evolve.cli import main
from evolve.studies.experiment import efficiency_ratio, method_stats, rule_of_three, wilson_interval

FAST = [
    "--set", "search.population_size=50", "--set", "search.batch_size=25", "--set", "tasks.search=3",
    "--set", "tasks.select=3", "--set", "tasks.final=3", "--set", "campaign.max_evaluations=3000",
]


@pytest.mark.parametrize(
    "k, n, low, high",
    [
        # Newcombe (1998), Stat. Med. 17:857, Table I, method 3 (score interval without correction)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        # closed forms: k = 0 gives z^2 / (n + z^2); k = n mirrors it
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
    ],
)
def test_wilson_interval_known_values(k, n, low, high):
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(low, abs=6e-5)
    assert hi == pytest.approx(high, abs=6e-5)


def test_wilson_interval_edges():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_efficiency_ratio_both_positive():
    r = efficiency_ratio(4, 1_000_000, 1, 2_000_000)
    assert r["method"] == "conditional-binomial"
    assert r["ratio"] == pytest.approx(8.0)
    # p = 4/5 has Wilson interval (lo, hi); the ratio interval is p/(1-p) * n2/n1
    lo, hi = wilson_interval(4, 5)
    assert r["low"] == pytest.approx(lo / (1 - lo) * 2)
    assert r["high"] == pytest.approx(hi / (1 - hi) * 2)
    assert r["low"] < r["ratio"] < r["high"]


def test_efficiency_ratio_when_baseline_found_nothing():
    # random search: 0 in 3M individuals -> its rate is below 3/3M (rule of three)
    r = efficiency_ratio(5, 1_000_000, 0, 3_000_000)
    assert r["method"] == "rule-of-three"
    assert r["ratio"] is None and r["high"] is None
    assert r["low"] == pytest.approx((5 / 1_000_000) / (3 / 3_000_000)) == pytest.approx(5.0)
    assert rule_of_three(1000) == 0.003 and math.isinf(rule_of_three(0))


def test_efficiency_ratio_other_zero_cases():
    r = efficiency_ratio(0, 1_000_000, 2, 1_000_000)
    assert r["ratio"] == 0.0 and r["low"] == 0.0 and r["high"] == pytest.approx(1.5)
    assert efficiency_ratio(0, 10, 0, 10)["method"] == "undefined"


def test_method_stats_medians_and_efficiency():
    runs = [
        {"success": True, "individuals_to_success": 100, "seconds_to_success": 1.0, "individuals": 100, "seconds": 1.0},
        {"success": True, "individuals_to_success": 300, "seconds_to_success": 3.0, "individuals": 300, "seconds": 3.0},
        {"success": False, "individuals_to_success": None, "seconds_to_success": None, "individuals": 600,
         "seconds": 6.0},
    ]
    s = method_stats(runs)
    assert s["successes"] == 2 and s["success_rate"] == pytest.approx(2 / 3)
    assert s["median_individuals_to_success"] == 200 and s["median_seconds_to_success"] == 2.0
    assert s["successes_per_million_individuals"] == pytest.approx(2e6 / 1000)
    assert s["successes_per_million_upper95"] is None
    # a successful run that went on (campaign.stop_on_success = false) counts up to its success
    went_on = [{**runs[0], "individuals": 5000}, *runs[1:]]
    assert method_stats(went_on)["successes_per_million_individuals"] == pytest.approx(2e6 / 1000)
    none = method_stats(runs[2:])
    assert none["median_individuals_to_success"] is None
    assert none["successes_per_million_upper95"] == pytest.approx(3e6 / 600)


def _runs(report: dict) -> list[tuple]:
    return [(r["method"], r["seed"], r["individuals"], r["evaluations"], r["select_fitness"], r["final_fitness"])
            for r in report["runs"]]


def test_tiny_experiment_end_to_end_and_deterministic(tmp_path, capsys):
    first, second = tmp_path / "a", tmp_path / "b"
    argv = ["experiment", "linear-demo", "--seeds", "2", "--methods", "evolution,random", "--quiet", *FAST]
    assert main([*argv, "--out", str(first)]) == 0
    table = capsys.readouterr().out
    assert "evolution" in table and "random" in table and "95% CI" in table
    report = json.loads((first / "experiment.json").read_text())
    for key in ("name", "config", "methods", "seeds", "stats", "comparison", "runs", "success_threshold",
                "complete", "interrupted", "wall_seconds"):
        assert key in report
    assert report["complete"] and report["seeds"] == [0, 1]
    assert [(r["method"], r["seed"]) for r in report["runs"]] == [
        ("evolution", 0), ("random", 0), ("evolution", 1), ("random", 1)]
    for method in ("evolution", "random"):
        s = report["stats"][method]
        for key in ("success_rate", "success_rate_ci95", "median_individuals_to_success",
                    "median_seconds_to_success", "successes_per_million_individuals", "total_individuals"):
            assert key in s
        assert s["runs"] == 2
        for seed in (0, 1):
            run_dir = first / method / f"seed-{seed}"
            assert (run_dir / "summary.json").is_file() and (run_dir / "config.toml").is_file()
            assert f'method = "{method}"' in (run_dir / "config.toml").read_text()
    assert report["comparison"]["numerator"] == "evolution"
    assert (first / "experiment.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(r["individuals"] >= 3000 for r in report["runs"])

    # the same seeds again, now in two worker processes: the same runs, individual for individual
    assert main([*argv, "--workers", "2", "--out", str(second)]) == 0
    again = json.loads((second / "experiment.json").read_text())
    assert _runs(again) == _runs(report)


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--seeds", "0"], "--seeds"),
        (["--seeds", "2", "--workers", "0"], "--workers"),
        (["--seeds", "2", "--methods", "evolution,bogus"], "bogus"),
        (["--seeds", "2", "--methods", ","], "--methods"),
        (["--seeds", "2", "--methods", "random,random"], "twice"),
        (["--seeds", "2", "--set", "search.population_size=-3"], "search.population_size"),
        (["--seeds", "2", "--set", "nonsense"], "--set"),
        (["--seeds", "2", "--first-seed", "-1"], "--first-seed"),
        (["--seeds", "2", "--first-seed", str(2**63 - 2)], "--first-seed"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(tmp_path, capsys, extra, fragment):
    assert main(["experiment", "linear-demo", "--out", str(tmp_path / "x"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err and err.startswith("evolve experiment: error:")
    assert not (tmp_path / "x").exists()  # nothing is written before the configs validate


def test_unknown_preset_and_nonempty_out(tmp_path, capsys):
    assert main(["experiment", "no-such-preset", "--seeds", "1"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    assert main(["experiment", "linear-demo", "--seeds", "1", "--out", str(tmp_path / "full")]) == 2
    assert "not an empty folder" in capsys.readouterr().err
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


def test_first_seed_runs_the_seeds_after_it(tmp_path, capsys):
    """``--first-seed K --seeds N`` runs seeds K..K+N-1, each the same run as ``evolve run --seed``."""
    out = tmp_path / "e"
    assert main(["experiment", "linear-demo", "--seeds", "2", "--first-seed", "5", "--methods", "evolution",
                 "--quiet", *FAST, "--out", str(out)]) == 0
    report = json.loads((out / "experiment.json").read_text())
    assert report["seeds"] == [5, 6] and [r["seed"] for r in report["runs"]] == [5, 6]
    single = tmp_path / "single"
    assert main(["run", "linear-demo", "--seed", "6", "--quiet", *FAST, "--out", str(single)]) == 0
    capsys.readouterr()
    assert (single / "best.txt").read_text().splitlines()[1:] == \
        (out / "evolution" / "seed-6" / "best.txt").read_text().splitlines()[1:]


def test_seeds_is_required(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["experiment", "linear-demo"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
