"""``evolve run``, ``evolve resume``, ``evolve presets``, ``evolve config show``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from evolve.config import (
    apply_overrides,
    config_from_dict,
    load_source,
    preset_names,
    to_toml,
)
from evolve.errors import ConfigError
from evolve.tables.data_runs import is_data_run, write_data_report
from problems.files import read_text

DEFAULT_ROOT = Path("results")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a discovery campaign (a preset name or a TOML config)")
    p.add_argument("config", nargs="?", metavar="PRESET|CONFIG.toml",
                   help="a preset or TOML config (with --data: default the 'dataset' preset)")
    p.add_argument("--data", type=Path, metavar="FILE",
                   help="your own table (CSV/TSV, Parquet, .npy/.npz): discover an algorithm for it")
    p.add_argument("--target", metavar="COLUMN", help="with --data: the column to predict")
    p.add_argument("--task", choices=("classification", "regression"),
                   help="with --data: the task type (default: inferred from the target)")
    p.add_argument("--seed", type=int, help="campaign seed (overrides the config)")
    p.add_argument("--budget-minutes", type=float, help="wall-clock budget in minutes")
    p.add_argument("--max-individuals", "--max-evaluations", dest="max_evaluations", type=int,
                   metavar="N", help="stop after N individuals (children bred and scored, FEC "
                   "hits included; campaign.max_evaluations); --max-evaluations is the old name")
    p.add_argument("--out", type=Path, help="run directory (default results/<name>-<time>-s<seed>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a config field (repeatable)")
    p.add_argument("--workers", type=int,
                   help="worker processes; with a one-population config, N > 1 also runs N islands "
                        "(on the processes executor unless --executor says otherwise)")
    p.add_argument("--executor", choices=("serial", "processes", "dask"), help="who runs the islands")
    p.add_argument("--scheduler", help="Dask scheduler address tcp://HOST:PORT")
    p.add_argument("--quiet", action="store_true", help="no live progress; print the summary JSON")
    p.set_defaults(func=run)

    r = sub.add_parser("resume", help="continue an interrupted run from its checkpoint")
    r.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    r.add_argument("--quiet", action="store_true")
    r.add_argument("--scheduler", help="Dask scheduler address tcp://HOST:PORT to resume on (the one "
                   "in the run directory's config is never connected to unless given here)")
    r.set_defaults(func=resume)

    ps = sub.add_parser("presets", help="list the named campaign presets")
    ps.set_defaults(func=presets)

    c = sub.add_parser("config", help="campaign configs")
    csub = c.add_subparsers(dest="config_command", metavar="ACTION")
    csub.required = True
    show = csub.add_parser("show", help="print a full, commented config to start from")
    show.add_argument("preset", nargs="?", default=None, metavar="PRESET|CONFIG.toml")
    show.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE")
    show.set_defaults(func=config_show)


def resolve_config(args: argparse.Namespace):
    """The config named on the command line with its flags applied; fails before any work."""
    overrides = list(args.overrides)
    source = getattr(args, "config", None)
    if getattr(args, "data", None) is not None:  # the dataset preset pointed at the file
        from evolve.tables.data_runs import DATA_PRESET, data_overrides

        source = source or DATA_PRESET
        overrides = data_overrides(args.data, args.target, args.task) + overrides
    elif source is None:
        raise ConfigError("evolve run needs a preset, a TOML config or --data FILE --target COLUMN")
    for flag, path in (("seed", "seed"), ("budget_minutes", "campaign.budget_minutes"),
                       ("max_evaluations", "campaign.max_evaluations"), ("workers", "campaign.workers"),
                       ("executor", "campaign.executor"), ("scheduler", "campaign.scheduler")):
        value = getattr(args, flag, None)
        if value is not None:
            overrides.append(f"{path}={json.dumps(value)}")
    config = config_from_dict(apply_overrides(load_source(source), overrides))
    workers = getattr(args, "workers", None)
    if workers and workers > 1:
        if config.campaign.islands == 1:
            # One island per worker: ``--workers N`` alone parallelises a one-population config.
            overrides.append(f"campaign.islands={workers}")
        if config.campaign.executor == "serial":
            if args.executor == "serial":
                raise ConfigError(f"--workers {workers} with --executor serial: the serial executor "
                                  "runs in this one process; use --executor processes or dask")
            overrides.append('campaign.executor="processes"')  # workers need worker processes
        config = config_from_dict(apply_overrides(load_source(source), overrides))
    return config


def run(args: argparse.Namespace) -> int:
    from evolve.engine.campaign import start_campaign
    from evolve.rundir.store import new_run_dir

    config = resolve_config(args)
    if args.out is not None:
        run_dir = args.out
        check_out_dir(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
    else:
        run_dir = new_run_dir(DEFAULT_ROOT, config.name, config.seed)
    campaign = start_campaign(config, run_dir, quiet=args.quiet)
    if not args.quiet:
        from evolve.ui.display import watch

        watch(campaign)
    if not args.quiet:
        print(f"evolve run {config.name}: seed {config.seed}, results in {run_dir}", file=sys.stderr)
    if is_data_run(config):
        write_data_report(config, run_dir)
    campaign.reraise_signals = False  # the CLI reports an interruption and exits itself
    summary = campaign.run()
    code = _report(summary, run_dir, args.quiet)
    _data_comparison(config, run_dir, summary, args.quiet)
    return code


def _data_comparison(config, run_dir: Path, summary: dict, quiet: bool) -> None:
    """A data run ends with its final model chosen on the training rows and scored on the held-out
    rows beside scikit-learn's standard models (table_model.json; evolve.tables.final_model)."""
    if not is_data_run(config) or summary["stopped_by"] == "interrupted":
        return
    from evolve.tables.final_model import format_table_comparison, table_comparison

    if not quiet:
        print("choosing the final model on the training rows; scoring it and scikit-learn's "
              "models on the held-out rows ...", file=sys.stderr)
    result = table_comparison(config, run_dir)
    if not quiet:
        print(format_table_comparison(result), end="")


def check_out_dir(run_dir: Path) -> None:
    """``--out`` must be a new or empty folder; a killed run's folder says how to go on."""
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"--out {run_dir}: exists and is not a folder; give a new or empty folder")
    if not run_dir.exists():
        return
    try:
        entries = {p.name for p in run_dir.iterdir()}
    except OSError as exc:
        raise ConfigError(f"--out {run_dir}: cannot read the folder ({exc.strerror})") from None
    if not entries:
        return
    if "summary.json" in entries and not _interrupted(run_dir / "summary.json"):
        raise ConfigError(f"--out {run_dir}: holds a finished run; give a new or empty folder")
    if "config.toml" in entries:
        raise ConfigError(f"--out {run_dir}: holds a run that was stopped before it finished; "
                          f"continue it with `evolve resume {run_dir}` (or give a new or empty folder)")
    raise ConfigError(f"--out {run_dir}: folder exists and is not empty; give a new or empty folder")


def _interrupted(path: Path) -> bool:
    try:
        return json.loads(read_text(path, what="run file")).get("stopped_by") == "interrupted"
    except (OSError, ValueError, AttributeError, RecursionError):
        return False


def resume(args: argparse.Namespace) -> int:
    from evolve.engine.campaign import resume_campaign

    campaign, warnings = resume_campaign(args.run_dir, quiet=args.quiet, scheduler=args.scheduler)
    if not args.quiet:
        from evolve.ui.display import watch

        watch(campaign)
    for warning in warnings:
        print(f"evolve resume: warning: {warning}", file=sys.stderr)
    if not args.quiet:
        print(f"evolve resume: continuing {args.run_dir} at {campaign.individuals} individuals", file=sys.stderr)
    campaign.reraise_signals = False
    summary = campaign.run()
    code = _report(summary, args.run_dir, args.quiet)
    _data_comparison(campaign.config, args.run_dir, summary, args.quiet)
    return code


def _report(summary: dict, run_dir: Path, quiet: bool) -> int:
    if quiet:
        print(json.dumps(summary))
    else:  # pruned program, math, final score next to the baselines, run directory
        from evolve.ui.display import final_report

        final_report(summary, run_dir)
    if summary["stopped_by"] == "interrupted":
        print(f"interrupted: resume with `evolve resume {run_dir}`", file=sys.stderr)
        return 130
    return 0


def presets(args: argparse.Namespace) -> int:
    for name in preset_names():
        data = load_source(name)
        print(f"{name:<24} {data.get('description', '')}")
    return 0


def config_show(args: argparse.Namespace) -> int:
    data = load_source(args.preset) if args.preset else {}
    print(to_toml(config_from_dict(apply_overrides(data, args.overrides))), end="")
    return 0
