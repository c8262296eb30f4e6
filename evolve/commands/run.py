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

DEFAULT_ROOT = Path("results")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a discovery campaign (a preset name or a TOML config)")
    p.add_argument("config", metavar="PRESET|CONFIG.toml")
    p.add_argument("--seed", type=int, help="campaign seed (overrides the config)")
    p.add_argument("--budget-minutes", type=float, help="wall-clock budget in minutes")
    p.add_argument("--max-evaluations", type=int, help="budget in individuals")
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
    for flag, path in (("seed", "seed"), ("budget_minutes", "campaign.budget_minutes"),
                       ("max_evaluations", "campaign.max_evaluations"), ("workers", "campaign.workers"),
                       ("executor", "campaign.executor"), ("scheduler", "campaign.scheduler")):
        value = getattr(args, flag, None)
        if value is not None:
            overrides.append(f"{path}={json.dumps(value)}")
    config = config_from_dict(apply_overrides(load_source(args.config), overrides))
    workers = getattr(args, "workers", None)
    if workers and workers > 1 and config.campaign.islands == 1:
        # One island per worker: ``--workers N`` alone parallelises a one-population config.
        overrides.append(f"campaign.islands={workers}")
        if args.executor is None and config.campaign.executor == "serial":
            overrides.append('campaign.executor="processes"')
        config = config_from_dict(apply_overrides(load_source(args.config), overrides))
    return config


def run(args: argparse.Namespace) -> int:
    from evolve.campaign import start_campaign
    from evolve.store import new_run_dir

    config = resolve_config(args)
    if args.out is not None:
        run_dir = args.out
        if run_dir.exists() and any(run_dir.iterdir()):
            raise ConfigError(f"--out {run_dir}: folder exists and is not empty (use `evolve resume` to continue)")
        run_dir.mkdir(parents=True, exist_ok=True)
    else:
        run_dir = new_run_dir(DEFAULT_ROOT, config.name, config.seed)
    campaign = start_campaign(config, run_dir, quiet=args.quiet)
    if not args.quiet:
        print(f"evolve run {config.name}: seed {config.seed}, results in {run_dir}", file=sys.stderr)
    summary = campaign.run()
    return _report(summary, run_dir, args.quiet)


def resume(args: argparse.Namespace) -> int:
    from evolve.campaign import resume_campaign

    campaign, warnings = resume_campaign(args.run_dir, quiet=args.quiet)
    for warning in warnings:
        print(f"evolve resume: warning: {warning}", file=sys.stderr)
    if not args.quiet:
        print(f"evolve resume: continuing {args.run_dir} at {campaign.individuals} individuals", file=sys.stderr)
    summary = campaign.run()
    return _report(summary, args.run_dir, args.quiet)


def _report(summary: dict, run_dir: Path, quiet: bool) -> int:
    if quiet:
        print(json.dumps(summary))
    else:  # pruned program, math, final score next to the baselines, run directory
        from evolve.display import final_report

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
