"""An ablation table shaped like AutoML-Zero's Table S2, from ``evolve experiment`` folders.

Each row is one ``evolve experiment`` folder (one configuration, several seeds): the success
fraction ``k / n`` with its 95% Wilson interval (success = the campaign's ``success_baseline``
reached on the select tasks), and the mean ± standard deviation over seeds of the select and
final fitness of each run's reported program, and of the individuals it evaluated.

Usage: ``python -m evolve.ablation NAME=DIR [NAME=DIR ...] > table.md``.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

from evolve.experiment import wilson_interval


def _mean_std(values: Sequence[float]) -> str:
    values = [float(v) for v in values if v is not None]
    if not values:
        return "-"
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.4f} ± {std:.4f}"


def row(name: str, folder: Path) -> dict:
    """One table row from ``folder/experiment.json`` (every method's runs pooled)."""
    report = json.loads((Path(folder) / "experiment.json").read_text())
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


def main(argv: Sequence[str]) -> int:
    rows = []
    for item in argv:
        if "=" not in item:
            print(f"evolve.ablation: {item!r}: expected NAME=DIR", file=sys.stderr)
            return 2
        name, folder = item.split("=", 1)
        if not (Path(folder) / "experiment.json").is_file():
            print(f"evolve.ablation: {folder}: no experiment.json", file=sys.stderr)
            return 2
        rows.append(row(name, Path(folder)))
    print(table(rows), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
