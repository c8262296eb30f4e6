"""An ablation table shaped like AutoML-Zero's Table S2, from ``evolve experiment`` folders.

Each row is one ``evolve experiment`` folder (one configuration, several seeds): the success
fraction ``k / n`` with its 95% Wilson interval (success = the campaign's ``success_baseline``
reached on the select tasks), and the mean ± standard deviation over seeds of the select and
final fitness of each run's reported program, and of the individuals it evaluated.

Usage: ``evolve ablation NAME=DIR [NAME=DIR ...] > table.md``.

:func:`seeds_table` is the per-seed table of runs scored by ``evolve retune`` (their
``summary.json`` and ``retune.json``): the evolved program's final accuracy after re-tuning, the
tuned baselines', the paired 95% intervals of the differences, and whether the run meets a
target lead over tuned logistic SGD (``evolve ablation --seeds RUN_DIR ...``).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from pathlib import Path

from evolve.studies.experiment import wilson_interval
from problems.files import read_text


def _mean_std(values: Sequence[float]) -> str:
    values = [float(v) for v in values if v is not None]
    if not values:
        return "-"
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.4f} ± {std:.4f}"


def row(name: str, folder: Path) -> dict:
    """One table row from ``folder/experiment.json`` (every method's runs pooled)."""
    report = json.loads(read_text(Path(folder) / "experiment.json", what="experiment file"))
    runs = report["runs"]
    k = sum(1 for r in runs if r["success"])
    low, high = wilson_interval(k, len(runs))
    return {
        "name": name, "runs": len(runs), "successes": k, "ci95": (low, high),
        "threshold": report.get("success_threshold"),
        "select": _mean_std([r["select_fitness"] for r in runs]),
        "final": _mean_std([r["final_fitness"] for r in runs]),
        "individuals": statistics.mean(r["individuals"] for r in runs) if runs else 0,
        "overrides": report.get("overrides", []),
    }


def table(rows: Sequence[dict]) -> str:
    lines = [
        "| configuration | success | 95% interval | select fitness | final fitness | individuals |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        low, high = r["ci95"]
        lines.append(f"| {r['name']} | {r['successes']}/{r['runs']} | {low:.2f}-{high:.2f} | "
                     f"{r['select']} | {r['final']} | {r['individuals']:,.0f} |")
    return "\n".join(lines) + "\n"


def seeds_table(run_dirs: Sequence[Path], lead: float = 0.02) -> str:
    """One row per run: seed, individuals, seconds, final accuracies, differences (points, 95%
    interval), cost ratio; the last line counts the runs whose lead over tuned logistic SGD is at
    least ``lead`` with an interval excluding 0."""
    lines = [
        "| seed | individuals | seconds | evolved final | tuned logistic SGD | tuned nn_2layer | "
        "evolved - logistic (95%) | evolved - nn (95%) | cost vs nn |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    met = 0
    for run_dir in run_dirs:
        summary = json.loads((Path(run_dir) / "summary.json").read_text())
        tuned = json.loads((Path(run_dir) / "retune.json").read_text())
        m = tuned["methods"]
        d_lr, d_nn = tuned["evolved_minus_logistic_sgd"], tuned["evolved_minus_nn_2layer"]
        met += d_lr["mean"] >= lead and d_lr["low"] > 0
        diff = lambda d: f"{100 * d['mean']:+.2f} ({100 * d['low']:+.2f}, {100 * d['high']:+.2f})"  # noqa: E731
        lines.append(
            f"| {summary['seed']} | {summary['individuals']:,} | {summary['seconds']:.0f} | "
            f"{m['evolved']['final']:.4f} | {m['logistic_sgd']['final']:.4f} | "
            f"{m['nn_2layer']['final']:.4f} | {diff(d_lr)} | {diff(d_nn)} | "
            f"{tuned['cost_ratio_to_nn_2layer']:.2f} |")
    lines.append("")
    lines.append(f"{met} of {len(run_dirs)} runs lead tuned logistic SGD by >= {100 * lead:.0f} "
                 f"points with a 95% interval excluding 0.")
    return "\n".join(lines) + "\n"
