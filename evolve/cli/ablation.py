"""``evolve ablation NAME=DIR ...``: the ablation table (AutoML-Zero's Table S2 form) of
``evolve experiment`` folders, or with ``--seeds RUN_DIR ...`` the per-seed table of retuned runs
(see :mod:`evolve.studies.ablation_table`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evolve.errors import EvolveError


def register(sub) -> None:
    p = sub.add_parser("ablation", help="ablation table (Table S2 form) of experiment folders")
    p.add_argument("items", nargs="+", metavar="NAME=DIR | RUN_DIR",
                   help="one experiment folder per row, or with --seeds the retuned run directories")
    p.add_argument("--seeds", action="store_true",
                   help="per-seed table of runs scored by `evolve retune` (their retune.json)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from evolve.studies.ablation_table import row, seeds_table, table

    if args.seeds:
        missing = [d for d in args.items if not (Path(d) / "retune.json").is_file()]
        if missing:
            raise EvolveError(f"no retune.json in {', '.join(missing)} (run `evolve retune` first)")
        sys.stdout.write(seeds_table([Path(d) for d in args.items]))
        return 0
    rows = []
    for item in args.items:
        if "=" not in item:
            raise EvolveError(f"{item!r}: expected NAME=DIR (a row name and an experiment folder)")
        name, folder = item.split("=", 1)
        if not (Path(folder) / "experiment.json").is_file():
            raise EvolveError(f"{folder}: no experiment.json (an `evolve experiment` folder expected)")
        rows.append(row(name, Path(folder)))
    sys.stdout.write(table(rows))
    return 0
