"""``evolve experiment``: one campaign per (method, seed) and the statistics that compare methods."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from evolve.config import METHODS
from evolve.errors import ConfigError

DEFAULT_ROOT = Path("results")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "experiment",
        help="run a campaign over seeds 0..N-1 per search method and compare success rates",
        description="Run the campaign for seeds 0..N-1 under each search method (each run in "
        "OUT/<method>/seed-<s>/), then report per method the success rate with a 95% Wilson "
        "interval, the median individuals and seconds to success, successes per million "
        "individuals, and the evolution / random efficiency ratio (AutoML-Zero §4.1, Figure 4). "
        "Writes OUT/experiment.json and OUT/experiment.png.",
    )
    p.add_argument("config", metavar="PRESET|CONFIG.toml")
    p.add_argument("--seeds", type=int, required=True, metavar="N", help="seeds 0..N-1 per method")
    p.add_argument("--first-seed", type=int, default=0, metavar="K",
                   help="start at seed K instead: seeds K..K+N-1 (fresh seeds to confirm a choice made on others)")
    p.add_argument("--methods", default="evolution,random", metavar="M1,M2",
                   help=f"comma-separated search methods ({', '.join(METHODS)}; default evolution,random)")
    p.add_argument("--workers", type=int, default=1, metavar="W",
                   help="runs in parallel in W processes (default 1: serially in this process)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="experiment folder (default results/experiment-<name>-<UTC time>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a config field in every run (repeatable)")
    p.add_argument("--budget-minutes", type=float, metavar="X", help="wall-clock budget per run in minutes")
    p.add_argument("--max-evaluations", type=int, metavar="N", help="budget per run in individuals")
    p.add_argument("--quiet", action="store_true", help="no per-run progress lines; only the table")
    p.set_defaults(func=run)


def parse_methods(text: str) -> list[str]:
    methods = [m.strip() for m in text.split(",") if m.strip()]
    if not methods:
        raise ConfigError(f"--methods {text!r}: expected a comma-separated list of {', '.join(METHODS)}")
    for method in methods:
        if method not in METHODS:
            raise ConfigError(f"--methods: {method!r} is not a search method; choose from {', '.join(METHODS)}")
    if len(set(methods)) != len(methods):
        raise ConfigError(f"--methods {text!r}: a method is listed twice")
    return methods


def _out_dir(out: Path | None, name: str) -> Path:
    if out is not None:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise ConfigError(f"--out {out}: exists and is not an empty folder")
        out.mkdir(parents=True, exist_ok=True)
        return out
    from evolve.rundir.store import new_dir

    return new_dir(DEFAULT_ROOT, f"experiment-{name}")


def run(args: argparse.Namespace) -> int:
    from evolve.studies.experiment import Experiment, format_table, plot, print_progress

    if args.seeds < 1:
        raise ConfigError(f"--seeds {args.seeds}: expected an integer >= 1")
    if args.workers < 1:
        raise ConfigError(f"--workers {args.workers}: expected an integer >= 1")
    if not 0 <= args.first_seed <= 2**63 - 1 - args.seeds:
        raise ConfigError(f"--first-seed {args.first_seed}: expected an integer in [0, {2**63 - 1 - args.seeds}]")
    methods = parse_methods(args.methods)
    overrides = list(args.overrides)
    for flag, path in (("budget_minutes", "campaign.budget_minutes"), ("max_evaluations", "campaign.max_evaluations")):
        value = getattr(args, flag)
        if value is not None:
            overrides.append(f"{path}={json.dumps(value)}")
    experiment = Experiment(args.config, overrides, methods, args.seeds, Path("."), args.workers,
                            first_seed=args.first_seed)
    configs = experiment.configs()  # validated before the folder is made
    experiment.out = _out_dir(args.out, configs[0].name)
    total = len(configs)
    if not args.quiet:
        print(f"evolve experiment {configs[0].name}: seeds {args.first_seed}..{args.first_seed + args.seeds - 1} x {', '.join(methods)} = {total} runs, "
              f"{args.workers} worker{'s' if args.workers > 1 else ''}; results in {experiment.out}",
              file=sys.stderr)
    report = experiment.run(None if args.quiet else print_progress(total))
    if report["runs"]:
        plot(report, experiment.out / "experiment.png")
    print(format_table(report))
    print(f"experiment folder: {experiment.out}")
    if experiment.interrupted:
        print(f"interrupted after {len(report['runs'])} of {total} runs", file=sys.stderr)
        return 130
    return 0
