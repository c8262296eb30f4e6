"""``evolve lineage RUN``: the chain of ancestors of the best program (or a hall-of-fame rank),
with the mutation and fitness at each step, as text and as a plot
(:mod:`evolve.analysis.lineage`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from problems.files import read_text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lineage", help="ancestors of the best program: mutations and fitness")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--program", default="best",
                   help="whose lineage: best (default) or a hall-of-fame rank hof1, hof2, ...")
    p.add_argument("--all", action="store_true", help="list every step, not only fitness changes")
    p.add_argument("--plot", metavar="PNG",
                   help="where to write the plot (default RUN_DIR/plots/lineage.png)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from evolve.analysis.lineage import chain_of, format_lineage, lineage_plot
    from evolve.rundir.lineage import read_lineage
    from evolve.rundir.store import atomic_write_bytes

    run_dir = Path(args.run_dir)
    chain = chain_of(read_lineage(run_dir), args.program)
    sys.stdout.write(format_lineage(chain, args.all))
    threshold = _threshold(run_dir)
    plot = Path(args.plot) if args.plot else run_dir / "plots" / "lineage.png"
    plot.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(plot, lineage_plot(chain, threshold))
    print(f"plot: {plot}")
    return 0


def _threshold(run_dir: Path) -> float | None:
    import json

    try:
        value = json.loads(read_text(run_dir / "summary.json", what="run file")).get("success_threshold")
    except (OSError, ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, (int, float)) else None
