"""``evolve runs [DIR ...] [--json]``: the run directories below DIR with their status."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from evolve.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("runs", help="list run directories with their status (running/finished/failed)")
    p.add_argument("dirs", nargs="*", type=Path, default=[Path("results")], metavar="DIR",
                   help="where to look (default: results)")
    p.add_argument("--json", action="store_true", help="print JSON (a list of objects)")
    p.set_defaults(func=run_runs)


def run_runs(args: argparse.Namespace) -> int:
    from evolve.rundir.read import find_runs, format_table, run_info

    for folder in args.dirs:
        if not folder.is_dir():
            raise ConfigError(f"DIR {str(folder)!r}: not a directory")
    infos = [run_info(path) for path in find_runs(list(args.dirs))]
    if args.json:
        print(json.dumps([info.as_dict() for info in infos], indent=1))
    elif infos:
        print(format_table(infos))
    else:
        print(f"no run directories below {', '.join(map(str, args.dirs))}")
    return 0
