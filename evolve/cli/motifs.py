"""``evolve motifs RUN1 RUN2 ...``: update rules, named concepts and instruction patterns that
recur across runs' best programs (:mod:`evolve.analysis.motifs`)."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("motifs", help="update rules and patterns recurring across runs")
    p.add_argument("programs", nargs="+", metavar="RUN_DIR|PROGRAM")
    p.add_argument("--hof", type=int, default=0, metavar="N",
                   help="also each run's top N hall-of-fame programs (default 0: best only)")
    p.add_argument("--min-count", type=int, default=2, metavar="K",
                   help="list motifs found in at least K programs (default 2)")
    p.add_argument("--eval-type", choices=("rms", "accuracy"), default=None,
                   help="task type of bare program files (run directories know their own)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def collect(paths, hof: int, eval_type: str | None) -> list[tuple[str, object, str]]:
    from evolve.analysis.load import eval_type_of, load_source, read_hall_of_fame

    programs = []
    for path in paths:
        source = load_source(path)
        kind = eval_type or eval_type_of(source)
        programs.append((str(path), source.program, kind))
        if hof and source.run_dir is not None and (source.run_dir / "hall_of_fame.txt").exists():
            for rank, _, program in read_hall_of_fame(source.run_dir / "hall_of_fame.txt")[:hof]:
                programs.append((f"{path}#hof{rank}", program, kind))
    return programs


def run(args: argparse.Namespace) -> int:
    from evolve.analysis.motifs import find_motifs, format_motifs
    from evolve.errors import EvolveError

    if args.hof < 0:
        raise EvolveError(f"--hof {args.hof}: must be 0 or more")
    if args.min_count < 1:
        raise EvolveError(f"--min-count {args.min_count}: must be at least 1")
    programs = collect(args.programs, args.hof, args.eval_type)
    motifs = find_motifs(programs, min_count=args.min_count)
    if args.json:
        print(json.dumps({"programs": [name for name, _, _ in programs],
                          "motifs": [m.as_dict() for m in motifs]}, indent=1))
    else:
        sys.stdout.write(format_motifs(motifs, len(programs)))
    return 0
