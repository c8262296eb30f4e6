"""From a user's data file to a campaign: the config, what was done to the data, tuned baselines.

``evolve run --data FILE --target COLUMN`` is the ``dataset`` preset (``evolve/presets/
dataset.toml``) with ``[problem] path`` (absolute), ``target`` and the file's ``sha256`` filled in,
so the run directory's ``config.toml`` names the data by path and content: ``evolve resume`` and
``evolve report`` read the same file, and a changed file is one clear error. The run directory
also gets ``data.json`` (columns encoded, dropped, imputed; task type; held-out rows) and, at the
end, ``table_model.json`` (the final model on the user's table and scikit-learn's standard models
on the held-out rows, :mod:`evolve.tables.final_model`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from evolve.config import Config
from evolve.errors import ConfigError
from evolve.rundir.store import write_json

DATA_PRESET = "dataset"
# Up to this many encoded columns the tasks see every column as it is (the final model's input);
# a wider table is projected to this many dimensions, as AutoML-Zero's tasks are (§4.2).
MAX_UNPROJECTED = 32


def data_overrides(path: str | Path, target: str | None, task: str | None = None) -> list[str]:
    """``--set`` overrides that point the ``dataset`` preset at ``path`` and its ``target``."""
    from problems.table import file_sha256, load_table, read_columns

    path = Path(path).expanduser()
    if not target:
        header, _ = read_columns(path)  # a bad file fails here, naming itself
        shown = ", ".join(repr(name) for name in header[:20]) + (" ..." if len(header) > 20 else "")
        raise ConfigError(f"--data {path}: --target COLUMN is needed (columns: {shown})")
    table = load_table(str(path), target)  # the file and its target fail here, before any work
    width = int(table.features.shape[1])
    overrides = [
        f"problem.path={json.dumps(str(path.resolve()))}",
        f"problem.target={json.dumps(target)}",
        f"problem.sha256={json.dumps(file_sha256(path))}",
        f"name={json.dumps(_run_name(path))}",
    ]
    if width <= MAX_UNPROJECTED:
        overrides += ['problem.projection="none"', f"problem.features_size={width}"]
    else:
        overrides += ['problem.projection="gaussian"', f"problem.features_size={MAX_UNPROJECTED}"]
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
