"""``evolve bench``: interpreter throughput on one core (see :mod:`evolve.bench.throughput`)."""

from __future__ import annotations

import argparse
import json
import platform

from evolve.bench.throughput import (
    DEFAULT_INDIVIDUALS,
    DEFAULT_PROGRAMS,
    DEFAULT_REPEATS,
    SCENARIOS,
    SEARCH_SCENARIOS,
    run_bench,
)
from evolve.errors import EvolveError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="interpreter throughput: evaluations/s, instructions/s, compile and start time",
        description="Benchmark the interpreter on one core. Scenarios: "
        + "; ".join(f"{name}: {s.describe()}"
                    for name, s in {**SCENARIOS, **SEARCH_SCENARIOS}.items())
        + ". Reports medians over repeats; instructions/s as bounds (see evolve/bench/throughput.py).",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--repeats", type=int, default=DEFAULT_REPEATS, metavar="N",
                   help=f"timed repeats per scenario, median reported (default {DEFAULT_REPEATS})")
    p.add_argument("--only", metavar="A,B,C,D", help="comma-separated scenarios (default all)")
    p.add_argument("--programs", type=int, default=DEFAULT_PROGRAMS, metavar="N",
                   help=f"random programs per repeat of A-C (default {DEFAULT_PROGRAMS})")
    p.add_argument("--individuals", type=int, default=DEFAULT_INDIVIDUALS, metavar="N",
                   help=f"individuals per search of D (default {DEFAULT_INDIVIDUALS})")
    p.add_argument("--no-startup", action="store_true",
                   help="skip the cold-compile / warm-start subprocesses (~20 s)")
    p.add_argument("--against", metavar="CHECKOUT",
                   help="compare with another checkout's interpreter (A-C), both timed "
                   "alternately in this process (--repeats rounds of --programs programs); "
                   "the ratio of best times is robust to a noisy machine")
    p.add_argument("--tables", action="store_true",
                   help="instead: `evolve run --data` on public tables from different fields, each "
                   "beside scikit-learn's models on the same held-out rows (evolve/bench/tables.py)")
    p.add_argument("--minutes", type=float, default=2.0, help="with --tables: budget per table")
    p.add_argument("--seed", type=int, default=0, help="with --tables: the campaigns' seed")
    p.add_argument("--workers", type=int, default=2, help="with --tables: tables run at once")
    p.add_argument("--out", default="results/bench-tables", help="with --tables: where the runs go")
    p.add_argument("--names", help="with --tables: comma-separated table names (default all)")
    p.add_argument("--rescore", action="store_true", help="with --tables: choose and score the "
                   "final model of finished runs again (their searches are kept)")
    p.set_defaults(func=run)


def run_tables(args: argparse.Namespace) -> int:
    from pathlib import Path

    from evolve.bench.tables import TABLES, format_tables, run_all

    names = [n.strip() for n in args.names.split(",")] if args.names else None
    unknown = sorted(set(names or ()) - {t.name for t in TABLES})
    if unknown:
        raise EvolveError(f"--names: unknown table(s) {', '.join(unknown)}; known: "
                          f"{', '.join(t.name for t in TABLES)}")
    if not args.minutes > 0 or args.workers < 1:
        raise EvolveError("--minutes must be > 0 and --workers >= 1")
    summary = run_all(Path(args.out), args.minutes, args.seed, args.workers, names, args.rescore)
    print(json.dumps(summary, indent=2, default=str) if args.json else format_tables(summary), end="")
    return 0 if not summary["failed"] else 1


def run(args: argparse.Namespace) -> int:
    if args.tables:
        return run_tables(args)
    if args.repeats < 1:
        raise EvolveError(f"--repeats {args.repeats}: must be >= 1")
    if args.programs < 1:
        raise EvolveError(f"--programs {args.programs}: must be >= 1")
    if args.individuals < 1:
        raise EvolveError(f"--individuals {args.individuals}: must be >= 1")
    allowed = [*SCENARIOS, *SEARCH_SCENARIOS]
    names = None
    if args.only is not None:
        names = [name.strip().upper() for name in args.only.split(",") if name.strip()]
        unknown = [name for name in names if name not in allowed]
        if unknown or not names:
            raise EvolveError(
                f"--only {args.only!r}: unknown scenario(s) {', '.join(unknown) or '(none)'}; "
                f"allowed: {', '.join(allowed)}"
            )
        names = list(dict.fromkeys(names))
    if args.against is not None:
        return _run_against(args, names)
    result = run_bench(names, repeats=args.repeats, programs=args.programs,
                       startup=not args.no_startup, individuals=args.individuals)
    if args.json:
        print(json.dumps({**result.as_dict(), "machine": _machine()}))
        return 0
    print(f"evolve bench: one core, {_machine()}; medians of {args.repeats} repeat(s) "
          f"of {args.programs} random programs (A-C) / a {args.individuals}-individual search (D)")
    print(f"{'':3} {'evals/s':>9} {'instr/s':>16} {'all code':>9} {'instr/s':>16} {'live':>5} "
          f"{'all-zero':>8}  shape")
    searches = {name: row for name, row in result.scenarios.items() if name in SEARCH_SCENARIOS}
    for name, row in result.scenarios.items():
        if name in searches:
            continue
        print(f"{name:3} {row['evaluations_per_s']:>9.0f} {_span(row, 'instructions_per_s_'):>16} "
              f"{row['evaluations_per_s_all_code']:>9.0f} "
              f"{_span(row, 'instructions_per_s_all_code_'):>16} "
              f"{row['fraction_instructions_live']:>5.0%} {row['fraction_programs_all_zero']:>8.0%}"
              f"  {row['scenario']}")
    print("evals/s skips dead code (same fitness, bit for bit); 'all code' executes every")
    print("instruction as AutoML-Zero's C++ does; live = fraction of instructions not dead.")
    print("instr/s counts every program instruction once per task (lower..upper bound: programs")
    print("scoring 0 on every task stopped after Setup + one Predict .. no program stopped early).")
    for name, row in searches.items():
        print(f"{name:3} {row['individuals_per_s']:>9.0f} individuals/s ({row['individuals']} in "
              f"{row['seconds_median']:.1f} s, {row['evaluations']} evaluated, FEC hits "
              f"{row['fec_hit_rate']:.0%}; process peak RSS {row['peak_rss_mb']:.0f} MiB)  "
              f"{row['scenario']}")
        names = {"full": "interpreter (full evaluations)", "fec_pass": "interpreter (FEC passes)",
                 "live_keys": "live-code keys", "mutation": "mutation kernel", "select": "select checks",
                 "python": "Python (selection, FEC tables, campaign loop, per batch and child)"}
        print("    where the time goes (fastest search): " + ", ".join(
            f"{names[k]} {v:.0%}" for k, v in row["time_shares"].items()))
    if result.startup is not None:
        print(f"cold compile (empty NUMBA_CACHE_DIR): {result.startup['cold_compile_s']:.1f} s; "
              f"warm start (cached): {result.startup['warm_start_s']:.2f} s "
              "(whole process, tiny batch)")
    return 0


def _run_against(args: argparse.Namespace, names: list[str] | None) -> int:
    from pathlib import Path

    from evolve.bench.against import compare

    chosen = [n for n in (names or SCENARIOS) if n in SCENARIOS]
    if not chosen:
        raise EvolveError("--against compares the interpreter: choose among A, B, C with --only")
    rows = {name: compare(SCENARIOS[name], Path(args.against), programs=args.programs,
                          rounds=args.repeats) for name in chosen}
    if args.json:
        print(json.dumps({"against": rows, "machine": _machine()}))
        return 0
    print(f"evolve bench --against {args.against}: one process, both builds alternately, "
          f"{args.repeats} rounds of {args.programs} programs; evaluations/s from the best round")
    for name, row in rows.items():
        e = row["evaluations_per_s"]
        print(f"{name:3} this {e['this']:>9.0f}  against {e['against']:>9.0f}  "
              f"this/against {row['ratio']:.3f}x  {row['scenario']}")
    return 0


def _span(row: dict, key: str) -> str:
    return f"{row[key + 'lower_bound'] / 1e6:.0f}M..{row[key + 'upper_bound'] / 1e6:.0f}M"


def _machine() -> str:
    return f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}"
