"""``evolve scaling``: individuals/s of a campaign with one and N workers (see :mod:`evolve.bench.scaling`)."""

from __future__ import annotations

import argparse
import json

from evolve.config import EXECUTORS
from evolve.errors import EvolveError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scaling",
        help="benchmark: individuals/s with one population, N islands on one core, N islands on N workers",
        description="Runs `evolve run CONFIG` (each in its own process, going on after a success so every "
        "run makes the same individuals) as one population, as N such runs side by side (the machine's "
        "own scaling), as N islands serially and as N islands on each executor, on every seed, "
        "interleaved, REPEATS times; pools each kind's seeds (individuals over seconds: one seed's "
        "search may favour longer or shorter programs than another's) and prints the medians over the "
        "repeats and their ratios.",
    )
    p.add_argument("config", nargs="?", default="linear-demo", metavar="PRESET|CONFIG.toml",
                   help="campaign to run (default linear-demo)")
    p.add_argument("--workers", type=int, default=2, metavar="N", help="islands and workers (default 2)")
    p.add_argument("--executors", default="processes,dask", metavar="E,E",
                   help="parallel executors to measure (default processes,dask)")
    p.add_argument("--seeds", default="1,2,3,4,5", metavar="S,S",
                   help="campaign seeds, comma-separated (default 1,2,3,4,5)")
    p.add_argument("--individuals", type=int, default=500_000, metavar="N",
                   help="individuals per run (default 500000)")
    p.add_argument("--repeats", type=int, default=3, metavar="R", help="runs of each kind (default 3)")
    p.add_argument("--work", action="store_true",
                   help="instead of timing, count what one individual costs each search (one population, "
                   "N islands): cost-weighted live operations the interpreter runs, per seed, in this "
                   "process; seeded, so exact (no repeats, no executors)")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.set_defaults(func=run)


def parse_executors(text: str) -> list[str]:
    """``--executors``: a comma-separated list of parallel executors (``processes``, ``dask``)."""
    names = list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    if not names or any(name not in EXECUTORS or name == "serial" for name in names):
        raise EvolveError(f"--executors {text!r}: expected a comma-separated list of processes, dask")
    return names


def parse_seeds(text: str) -> list[int]:
    """``--seeds``: a comma-separated list of distinct campaign seeds (integers 0 .. 2**63 - 1)."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    try:
        seeds = [int(part) for part in parts]
    except ValueError:
        seeds = []
    if not seeds or len(set(seeds)) != len(seeds) or not all(0 <= s < 2**63 for s in seeds):
        raise EvolveError(f"--seeds {text!r}: expected distinct integers 0 .. 2**63 - 1, comma-separated")
    return seeds


def run(args: argparse.Namespace) -> int:
    from evolve.bench.scaling import measure_scaling

    for flag, value, low in (("--workers", args.workers, 2), ("--individuals", args.individuals, 1),
                             ("--repeats", args.repeats, 1)):
        if value < low:
            raise EvolveError(f"{flag} {value}: must be >= {low}")
    executors = parse_executors(args.executors)
    seeds = parse_seeds(args.seeds)

    def show(row: dict) -> None:
        if not args.json:
            print(f"  repeat {row['repeat'] + 1}  seed {row['seed']}  {row['kind']:<26} {row['individuals_per_second']:>9,.0f} "
                  f"individuals/s  ({row['individuals']:,} in {row['seconds']:.1f} s, "
                  f"{row['evaluations']:,} evaluated, FEC hits {row['fec_hit_rate']:.0%})", flush=True)

    if args.work:
        return _work(args, seeds)
    if not args.json:
        print(f"evolve scaling: {args.config}, seeds {','.join(map(str, seeds))}, {args.individuals:,} "
              f"individuals per run, {args.repeats} repeat(s)", flush=True)
    result = measure_scaling(args.config, workers=args.workers, executors=executors, seeds=seeds,
                             individuals=args.individuals, repeats=args.repeats, progress=show)
    if args.json:
        print(json.dumps(result.as_dict()))
        return 0
    print("median over the repeats of the seeds' pooled individuals/s:")
    one = next(iter(result.medians))
    for label, value in result.medians.items():
        ratios = ""
        if label in result.ratio_to_one_population:
            ratios = (f"  {result.ratio_to_one_population[label]:.2f}x one population, "
                      f"{result.ratio_to_serial_islands[label]:.2f}x the same islands on one core, "
                      f"{result.ratio_to_separate_runs[label]:.2f}x the separate runs")
        print(f"  {label:<26} {value:>9,.0f}{ratios}")
    print(f"(ratios of medians; '{one}' is what --workers 1 runs)")
    return 0


def _work(args: argparse.Namespace, seeds: list[int]) -> int:
    from evolve.bench.scaling import measure_search_work

    def show(row: dict) -> None:
        if not args.json:
            print(f"  seed {row['seed']}  {row['kind']:<16} {row['work_per_individual']:>9,.0f} per individual  "
                  f"({row['individuals']:,} individuals, {row['evaluations']:,} evaluated)", flush=True)

    if not args.json:
        print(f"evolve scaling --work: {args.config}, seeds {','.join(map(str, seeds))}, {args.individuals:,} "
              f"individuals per run; interpreter work (cost-weighted live operations) per individual", flush=True)
    result = measure_search_work(args.config, workers=args.workers, seeds=seeds, individuals=args.individuals,
                                 progress=show)
    if args.json:
        print(json.dumps(result))
        return 0
    one, islands = result["work_per_individual"].values()
    print(f"pooled over the seeds: one population {one:,.0f}, {args.workers} islands {islands:,.0f} per individual: "
          f"the islands' search costs {result['islands_to_one_population']:.2f}x as much per individual")
    return 0
