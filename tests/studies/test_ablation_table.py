"""``evolve ablation``: AutoML-Zero's Table S2 from experiment folders, and the per-seed table of
retuned runs (:mod:`evolve.studies.ablation_table`)."""

from __future__ import annotations

import json

from evolve.cli import main


def test_ablation_table_from_experiment_folders(tmp_path):
    from evolve.studies.ablation_table import row, table

    runs = [{"success": s, "select_fitness": sel, "final_fitness": fin, "individuals": 1000}
            for s, sel, fin in ((True, 0.70, 0.71), (False, 0.60, 0.61), (True, 0.80, 0.79))]
    (tmp_path / "experiment.json").write_text(json.dumps(
        {"runs": runs, "success_threshold": 0.65, "overrides": ["evaluation.fec=false"]}))
    r = row("base", tmp_path)
    assert (r["successes"], r["runs"]) == (2, 3)
    assert 0.0 < r["ci95"][0] < 2 / 3 < r["ci95"][1] < 1.0
    assert r["select"] == "0.7000 ± 0.1000" and r["final"].startswith("0.7033")
    text = table([r])
    assert "| base | 2/3 |" in text
    assert main(["ablation", f"base={tmp_path}"]) == 0 and main(["ablation", "nodir"]) == 2
    assert main(["ablation", f"x={tmp_path / 'missing'}"]) == 2


def test_seeds_table_counts_runs_meeting_the_lead(tmp_path):
    from evolve.studies.ablation_table import seeds_table

    dirs = []
    for seed, (mean, low) in enumerate(((0.03, 0.01), (0.025, -0.001), (0.01, 0.005))):
        run = tmp_path / f"s{seed}"
        run.mkdir()
        (run / "summary.json").write_text(json.dumps(
            {"seed": seed, "individuals": 1000, "seconds": 60.0}))
        method = {"final": 0.7}
        (run / "retune.json").write_text(json.dumps({
            "methods": {"evolved": method, "logistic_sgd": method, "nn_2layer": method},
            "evolved_minus_logistic_sgd": {"mean": mean, "low": low, "high": mean + 0.01},
            "evolved_minus_nn_2layer": {"mean": 0.0, "low": -0.01, "high": 0.01},
            "cost_ratio_to_nn_2layer": 1.5}))
        dirs.append(run)
    text = seeds_table(dirs)
    assert "1 of 3 runs lead tuned logistic SGD by >= 2 points" in text
    assert "+3.00 (+1.00, +4.00)" in text
    assert main(["ablation", "--seeds", *map(str, dirs)]) == 0
    assert main(["ablation", "--seeds", str(tmp_path)]) == 2
