"""``evolve bench --tables``: ``evolve run --data`` on public tables from different fields, each
beside what a practitioner fits on the same rows.

Every table ships offline inside a PyPI package (scikit-learn, palmerpenguins, vega_datasets,
statsmodels; a table whose package is missing is skipped and said so). Each is written to a CSV
as a user would save it (text and categorical columns, missing cells kept), then run through the
CLI exactly as a user runs it, ``evolve run --data FILE --target COLUMN --budget-minutes M
--seed S``, in its own process, two at a time by default. The comparison is the run's
``table_model.json`` (:mod:`evolve.tables.final_model`): the evolved model and scikit-learn's
LogisticRegression/Ridge, MLP and HistGradientBoosting, scored on the same held-out 30% of the
real rows. The summary is the median over tables of (evolved - linear) in points (accuracy, or
R² x 100), the worst table, and on how many tables the evolved model is above the linear one.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PublicTable:
    name: str
    field: str
    package: str
    target: str
    load: Callable[[], object]  # -> a pandas DataFrame holding the target column


def _sklearn(loader: str) -> Callable[[], object]:
    def load():
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader)(as_frame=True)
        return bunch.frame
    return load


def _penguins():
    import palmerpenguins

    return palmerpenguins.load_penguins()


def _vega(name: str, drop: tuple[str, ...] = (), target: str = "") -> Callable[[], object]:
    def load():
        from vega_datasets import local_data

        frame = getattr(local_data, name)().drop(columns=list(drop))
        # rows without a target are dropped, as a user does after `evolve run` names them
        return frame.dropna(subset=[target]) if target else frame
    return load


def _statsmodels(name: str, change: Callable | None = None) -> Callable[[], object]:
    def load():
        import statsmodels.api as sm

        frame = getattr(sm.datasets, name).load_pandas().data
        return change(frame) if change else frame
    return load


def _fair(frame):
    frame = frame.copy()
    frame["had_affair"] = (frame.pop("affairs") > 0).map({True: "yes", False: "no"})
    return frame


TABLES: tuple[PublicTable, ...] = (
    PublicTable("breast_cancer", "medicine", "scikit-learn", "target", _sklearn("load_breast_cancer")),
    PublicTable("wine", "chemistry", "scikit-learn", "target", _sklearn("load_wine")),
    PublicTable("iris", "botany", "scikit-learn", "target", _sklearn("load_iris")),
    PublicTable("diabetes", "medicine (regression)", "scikit-learn", "target", _sklearn("load_diabetes")),
    PublicTable("penguins", "ecology", "palmerpenguins", "species", _penguins),
    PublicTable("seattle_weather", "weather (regression)", "vega_datasets", "temp_max",
                _vega("seattle_weather", ("date",))),
    PublicTable("cars", "automobiles (regression)", "vega_datasets", "Miles_per_Gallon",
                _vega("cars", ("Name",), "Miles_per_Gallon")),
    PublicTable("anes96", "politics", "statsmodels", "vote", _statsmodels("anes96")),
    PublicTable("fair", "sociology", "statsmodels", "had_affair", _statsmodels("fair", _fair)),
    PublicTable("grunfeld", "economics (regression)", "statsmodels", "invest", _statsmodels("grunfeld")),
    PublicTable("modechoice", "transport", "statsmodels", "choice",
                _statsmodels("modechoice", lambda f: f.drop(columns=["individual"]))),
    PublicTable("randhie", "health economics (regression)", "statsmodels", "mdvis",
                _statsmodels("randhie")),
)


def write_tables(folder: Path, names: list[str] | None = None) -> tuple[dict[str, Path], list[str]]:
    """CSV files of the tables (``names``: only these), and the tables skipped (package missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    written, skipped = {}, []
    for table in TABLES:
        if names and table.name not in names:
            continue
        try:
            frame = table.load()
        except ImportError:
            skipped.append(f"{table.name} (needs {table.package})")
            continue
        path = folder / f"{table.name}.csv"
        frame.to_csv(path, index=False)
        written[table.name] = path
    return written, skipped


def run_table(table: PublicTable, path: Path, out: Path, minutes: float, seed: int,
              rescore: bool = False) -> dict:
    """One ``evolve run --data`` in its own process; its ``table_model.json`` and timing.
    ``rescore``: a finished run's final model is chosen and scored again (its search is kept)."""
    run_dir = out / f"{table.name}-s{seed}"
    if rescore and (run_dir / "summary.json").exists():
        from evolve.config import load_config
        from evolve.tables.final_model import table_comparison

        table_comparison(load_config(str(run_dir / "config.toml")), run_dir)
    if not (run_dir / "table_model.json").exists():
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "evolve.cli", "run", "--data", str(path),
                               "--target", table.target, "--budget-minutes", str(minutes),
                               "--seed", str(seed), "--quiet", "--out", str(run_dir)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            return {"name": table.name, "error": (done.stderr or done.stdout).strip()[-500:]}
        (run_dir / "wall_seconds.txt").write_text(f"{time.monotonic() - started:.1f}\n")
    result = json.loads((run_dir / "table_model.json").read_text())
    linear = next(r["score"] for r in result["practitioner"] if r["kind"] == "linear")
    best = max(r["score"] for r in result["practitioner"])
    wall = (run_dir / "wall_seconds.txt").read_text().strip() if (run_dir / "wall_seconds.txt").exists() else "?"
    return {"name": table.name, "field": table.field, "result": result, "linear": linear,
            "best_practitioner": best, "delta_linear": 100 * (result["evolved"] - linear),
            "delta_best": 100 * (result["evolved"] - best), "wall_seconds": wall,
            "run_dir": str(run_dir)}


def run_all(out: Path, minutes: float = 2.0, seed: int = 0, workers: int = 2,
            names: list[str] | None = None, rescore: bool = False) -> dict:
    """Every table (two at a time), then the summary; written to ``out/tables.json``."""
    paths, skipped = write_tables(out / "datasets", names)
    chosen = [t for t in TABLES if t.name in paths]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        rows = list(pool.map(lambda t: run_table(t, paths[t.name], out, minutes, seed, rescore),
                             chosen))
    good = [r for r in rows if "error" not in r]
    deltas = [r["delta_linear"] for r in good]
    summary = {
        "tables": len(good), "failed": [r for r in rows if "error" in r], "skipped": skipped,
        "minutes": minutes, "seed": seed,
        "median_minus_linear": statistics.median(deltas) if deltas else None,
        "worst_minus_linear": min(deltas) if deltas else None,
        "above_linear": sum(d > 0 for d in deltas),
        "median_minus_best": statistics.median([r["delta_best"] for r in good]) if good else None,
        "rows": good,
    }
    (out / "tables.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary


def format_tables(summary: dict) -> str:
    """The benchmark as a Markdown table and its summary lines."""
    lines = ["| table | field | rows | task | evolved model | linear | MLP | HistGB | evolved - linear |",
             "|---|---|---:|---|---:|---:|---:|---:|---:|"]
    for r in summary["rows"]:
        res = r["result"]
        scores = {p["name"].split("(")[0]: p["score"] for p in res["practitioner"]}
        mlp = next(v for k, v in scores.items() if k.startswith("MLP"))
        hgb = next(v for k, v in scores.items() if k.startswith("HistGradient"))
        chosen = res["chosen"]["which"] + f", {res['chosen']['epochs']} ep"
        lines.append(f"| {r['name']} | {r['field']} | {res['train_rows'] + res['test_rows']} | "
                     f"{res['metric']} | {res['evolved']:.3f} ({chosen}) | {r['linear']:.3f} | "
                     f"{mlp:.3f} | {hgb:.3f} | {r['delta_linear']:+.1f} |")
    lines.append("")
    if summary["median_minus_linear"] is not None:
        lines.append(f"{summary['tables']} tables, {summary['minutes']:g} minutes each, seed "
                     f"{summary['seed']}: median evolved - linear {summary['median_minus_linear']:+.1f} "
                     f"points, worst {summary['worst_minus_linear']:+.1f}, above the linear model on "
                     f"{summary['above_linear']} of {summary['tables']}; median evolved - best of "
                     f"linear, MLP and HistGB {summary['median_minus_best']:+.1f} points.")
    for r in summary["failed"]:
        lines.append(f"failed: {r['name']}: {r['error']}")
    for s in summary["skipped"]:
        lines.append(f"skipped: {s}")
    return "\n".join(lines) + "\n"
