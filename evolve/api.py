"""The Python API: run a discovery campaign from a notebook and get a result object back.

>>> result = run_campaign("linear-demo", budget_minutes=1)          # doctest: +SKIP
>>> print(result.math)                                               # doctest: +SKIP
>>> result = run_campaign(data="my.csv", target="price")             # doctest: +SKIP

The campaign is the same as ``evolve run`` (same config, same run directory, same resume);
``on_progress`` receives an :class:`evolve.engine.progress.Progress` every progress tick, and ``quiet =
False`` shows the terminal display instead.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from evolve.config import Config, apply_overrides, config_from_dict, config_to_dict, load_source
from evolve.errors import ConfigError
from primitives.program import Program
from problems.files import read_text


@dataclasses.dataclass
class CampaignResult:
    """What a campaign found: the program (as found and pruned), its math, the summary
    (``summary.json``: success, fitness on search/select/final tasks, individuals, ...), the run
    directory and the resolved config."""

    program: Program | None
    pruned: Program | None
    math: str
    summary: dict
    run_dir: Path
    config: Config

    @property
    def final_fitness(self) -> float | None:
        return self.summary.get("final_fitness")

    def estimator(self, **params):
        """The discovered algorithm as an unfitted scikit-learn estimator (see
        :func:`evolve.estimators.discovered.load_estimator`)."""
        from evolve.estimators.discovered import load_estimator

        return load_estimator(self.run_dir, **params)

    def __repr__(self) -> str:
        final = self.final_fitness
        return (f"CampaignResult(run_dir={str(self.run_dir)!r}, final_fitness="
                f"{'None' if final is None else f'{final:.6f}'}, success={self.summary.get('success')})")


def _resolve(config, data, target, task, seed, budget_minutes, max_evaluations, overrides):
    sets = list(overrides)
    if data is not None:
        from evolve.tables.data_runs import DATA_PRESET, data_overrides

        sets = data_overrides(data, target, task) + sets
        config = DATA_PRESET if config is None else config
    if config is None:
        raise ConfigError("run_campaign needs a config (a preset name, a TOML path, a Config or a "
                          "mapping) or data=FILE with target=COLUMN")
    for value, path in ((seed, "seed"), (budget_minutes, "campaign.budget_minutes"),
                        (max_evaluations, "campaign.max_evaluations")):
        if value is not None:
            sets.append(f"{path}={json.dumps(value)}")
    if isinstance(config, Config):
        mapping = config_to_dict(config)
    elif isinstance(config, dict):
        mapping = config
    elif isinstance(config, str | Path):
        mapping = load_source(str(config))
    else:
        raise ConfigError(f"config = {config!r}: expected a preset name, a TOML path, a Config or "
                          "a mapping")
    return config_from_dict(apply_overrides(mapping, sets))


def run_campaign(
    config: str | Path | Config | dict | None = None, *, data: str | Path | None = None,
    target: str | None = None, task: str | None = None, seed: int | None = None,
    budget_minutes: float | None = None, max_evaluations: int | None = None,
    overrides: Sequence[str] = (), run_dir: str | Path | None = None,
    on_progress: Callable | None = None, quiet: bool = True,
) -> CampaignResult:
    """Run one campaign to its end and return what it found.

    ``config`` is a preset name, a TOML path, a :class:`~evolve.config.Config` or a mapping;
    ``data``/``target``/``task`` point the ``dataset`` preset (or ``config``) at your table as
    ``evolve run --data`` does; ``overrides`` are ``--set`` strings (``"search.population_size=
    500"``); ``run_dir`` must be new or empty (default: a fresh ``results/<name>-<time>-s<seed>``).
    """
    from evolve.engine.campaign import start_campaign
    from evolve.rundir.store import new_run_dir
    from evolve.tables.data_runs import is_data_run, write_data_report

    resolved = _resolve(config, data, target, task, seed, budget_minutes, max_evaluations,
                        overrides)
    if run_dir is None:
        run_dir = new_run_dir(Path("results"), resolved.name, resolved.seed)
    run_dir = Path(run_dir)
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        raise ConfigError(f"run_dir {str(run_dir)!r}: must be a new or empty folder")
    run_dir.mkdir(parents=True, exist_ok=True)
    campaign = start_campaign(resolved, run_dir, quiet=quiet, on_progress=on_progress)
    if not quiet or on_progress is not None:
        from evolve.ui.display import watch

        watch(campaign, display=not quiet)
    if is_data_run(resolved):
        write_data_report(resolved, run_dir)
    summary = campaign.run()
    return read_result(run_dir, summary)


def read_result(run_dir: str | Path, summary: dict | None = None) -> CampaignResult:
    """The :class:`CampaignResult` of a finished run directory."""
    from evolve.analysis.load import eval_type_of, load_source
    from evolve.analysis.math_view import program_math
    from primitives.prune import prune

    run_dir = Path(run_dir)
    if summary is None:
        try:
            summary = json.loads(read_text(run_dir / "summary.json", what="run file"))
        except (OSError, ValueError) as error:
            raise ConfigError(f"{run_dir}: no readable summary.json ({error})") from None
    program = pruned = None
    math = ""
    if (run_dir / "best.txt").exists():
        source = load_source(run_dir)
        program, pruned = source.program, prune(source.program)
        try:
            math = program_math(pruned, eval_type_of(source)).to_text()
        except Exception as error:  # the math is a view; the program is the result
            math = f"(no math: {type(error).__name__}: {error})"
        config = source.config
    else:
        from evolve.analysis.load import load_run_config

        config = load_run_config(run_dir)
    return CampaignResult(program, pruned, math, summary, run_dir, config)


def scratch_run_dir(root: str | Path | None, name: str) -> Path:
    """A new, empty run directory under ``root`` (default: the system's temporary folder)."""
    base = Path(root) if root is not None else Path(tempfile.gettempdir()) / "evolve-runs"
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=base))
