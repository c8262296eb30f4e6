"""From a user's data file to a campaign: the config, what was done to the data, tuned baselines.

``evolve run --data FILE --target COLUMN`` is the ``dataset`` preset (``evolve/presets/
dataset.toml``) with ``[problem] path`` (absolute), ``target`` and the file's ``sha256`` filled in,
so the run directory's ``config.toml`` names the data by path and content: ``evolve resume`` and
``evolve report`` read the same file, and a changed file is one clear error. The run directory
also gets ``data.json`` (columns encoded, dropped, imputed; task type; held-out rows) and, at the
end, ``baselines.json`` (scikit-learn baselines tuned with the same budget,
:mod:`evolve.analysis.tuned_baselines`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from evolve.config import Config
from evolve.errors import ConfigError
from evolve.rundir.store import write_json
from problems.files import read_text

DATA_PRESET = "dataset"


def data_overrides(path: str | Path, target: str | None, task: str | None = None) -> list[str]:
    """``--set`` overrides that point the ``dataset`` preset at ``path`` and its ``target``."""
    from problems.table import file_sha256, load_table, read_columns

    path = Path(path).expanduser()
    if not target:
        header, _ = read_columns(path)  # a bad file fails here, naming itself
        shown = ", ".join(repr(name) for name in header[:20]) + (" ..." if len(header) > 20 else "")
        raise ConfigError(f"--data {path}: --target COLUMN is needed (columns: {shown})")
    load_table(str(path), target)  # the file and its target column fail here, before any work
    overrides = [
        f"problem.path={json.dumps(str(path.resolve()))}",
        f"problem.target={json.dumps(target)}",
        f"problem.sha256={json.dumps(file_sha256(path))}",
        f"name={json.dumps(_run_name(path))}",
    ]
    if task:
        overrides.append(f"problem.task={json.dumps(task)}")
    return overrides


def _run_name(path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem).strip("-.") or "data"


def is_data_run(config: Config) -> bool:
    return config.problem.name == "dataset"


def data_report(config: Config) -> dict:
    """What the dataset suite read and decided, as it is written to ``data.json``."""
    from problems.registry import make_suite

    suite = make_suite(config.problem.name, config.problem.params)
    report = suite.report()
    report["sha256"] = config.problem.params.get("sha256", "")
    report["features_size"] = suite.features_size
    return report


def write_data_report(config: Config, run_dir: Path) -> dict:
    report = data_report(config)
    write_json(Path(run_dir) / "data.json", _jsonable(report))
    return report


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def tuned_comparison(config: Config, run_dir: Path, summary: dict) -> dict:
    """The discovered algorithm's final fitness next to scikit-learn baselines tuned on the select
    tasks with the campaign's time budget; written to ``baselines.json``."""
    from evolve.analysis.load import final_tasks
    from evolve.analysis.tuned_baselines import tuned_baselines

    previous = _read_json(Path(run_dir) / "baselines.json")
    if previous and previous.get("discovered", {}).get("final_fitness") == summary.get(
            "final_fitness"):
        return previous  # a resumed run that found nothing new: the same comparison
    select = final_tasks(config, split="select", n=config.tasks.select)
    final = final_tasks(config, split="final", n=config.tasks.final)
    budget = 60.0 * config.campaign.budget_minutes
    rows = tuned_baselines(select, final, budget, config.evaluation.max_abs_error)
    result = {
        "eval_type": final[0].eval_type,
        "final_tasks": len(final),
        "select_tasks": len(select),
        "discovered": {"select_fitness": summary.get("select_fitness"),
                       "final_fitness": summary.get("final_fitness")},
        "baselines": [row.as_dict() for row in rows],
        "budget_seconds": budget,
    }
    write_json(Path(run_dir) / "baselines.json", result)
    return result


def _read_json(path: Path) -> dict | None:
    try:
        value = json.loads(read_text(path, what="run file"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def format_comparison(result: dict) -> str:
    """The comparison as a few lines of text (what ``evolve run --data`` prints at the end)."""
    metric = "accuracy" if result["eval_type"] == "accuracy" else "1 - (2/pi) arctan(RMSE)"
    lines = [f"final tasks: {result['final_tasks']} ({metric}; their rows were held out from every "
             f"search and select task); baselines tuned on the {result['select_tasks']} select "
             "tasks"]
    found = result["discovered"]["final_fitness"]
    rows = [("discovered algorithm", found, "")]
    for row in result["baselines"]:
        params = ", ".join(f"{k}={v}" for k, v in row["params"].items())
        rows.append((row["name"], row["final_fitness"],
                     f"({params}; {row['tried']}/{row['grid']} settings tried)"))
    for name, fitness, note in sorted(rows, key=lambda r: -(r[1] if r[1] is not None else -1)):
        value = "n/a" if fitness is None else f"{fitness:.4f}"
        lines.append(f"  {name:<32} {value}  {note}".rstrip())
    return "\n".join(lines) + "\n"
