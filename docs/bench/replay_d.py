"""Bench D's interpreter calls replayed on several builds in one process, alternately (README,
"Speed"): the searches' mutation, selection and Python are left out, and both builds run the very
same calls, so the ratio is the interpreter's alone and survives this machine's noise.

    python docs/bench/replay_d.py --rounds 5 base=/path/to/checkout-0592375 now=.

The calls are captured once from this checkout's seeded ``digits-demo`` search (10,000
individuals); each build's ``primitives`` is copied under a new name and compiled alike
(:func:`evolve.bench.against.load_other`). Every build must return the same fitness and FEC hashes,
bit for bit, as this checkout's interpreter on every call.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import evolve.evaluation.scoring as scoring
from evolve.bench.against import load_other
from evolve.bench.throughput import SEARCH_SCENARIOS
from evolve.engine.campaign import start_campaign


def capture(individuals: int) -> list[tuple]:
    """(code, data, bounds, task arrays, kwargs) of every interpreter call of bench D's search."""
    calls = []
    original = scoring.evaluate_batch

    def recording(code, data, bounds, *arrays, **kwargs):
        calls.append((code.copy(), data.copy(), bounds.copy(), arrays, dict(kwargs)))
        return original(code, data, bounds, *arrays, **kwargs)

    scoring.evaluate_batch = recording
    try:
        with tempfile.TemporaryDirectory() as run_dir:
            start_campaign(SEARCH_SCENARIOS["D"].config(individuals), Path(run_dir), quiet=True).run()
    finally:
        scoring.evaluate_batch = original
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("builds", nargs="+", help="NAME=CHECKOUT, the first is the reference")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--individuals", type=int, default=10_000)
    args = parser.parse_args()
    calls = capture(args.individuals)
    expected = [scoring.evaluate_batch(c, d, b, *a, **k) for c, d, b, a, k in calls]
    scratch = Path(tempfile.mkdtemp(prefix="evolve-replay-"))
    builds = {}
    for spec in args.builds:
        name, checkout = spec.split("=", 1)
        builds[name] = load_other(Path(checkout), scratch, name=f"primitives_{name}").evaluate_batch
    for name, evaluate in builds.items():
        for (c, d, b, a, k), (fitness, hashes) in zip(calls, expected, strict=True):
            f, h = evaluate(c, d, b, *a, **k)
            if not (np.array_equal(f.view(np.uint64), fitness.view(np.uint64)) and np.array_equal(h, hashes)):
                raise SystemExit(f"{name}: fitness or hashes differ from this checkout's")
    print(f"{len(calls)} calls, every build bit-identical to this checkout's interpreter")
    kinds = {"full": [i for i, c in enumerate(calls) if not c[4].get("record")],
             "fec": [i for i, c in enumerate(calls) if c[4].get("record")]}
    seconds = {name: {kind: [] for kind in kinds} for name in builds}
    order = list(builds.items())
    for r in range(args.rounds):
        for name, evaluate in order if r % 2 == 0 else order[::-1]:
            for kind, indices in kinds.items():
                began = time.perf_counter()
                for i in indices:
                    c, d, b, a, k = calls[i]
                    evaluate(c, d, b, *a, **k)
                seconds[name][kind].append(time.perf_counter() - began)
    first = order[0][0]
    for name in builds:
        best = {kind: min(v) for kind, v in seconds[name].items()}
        ref = {kind: min(v) for kind, v in seconds[first].items()}
        print(f"{name:10s} full evaluations best {best['full']:.3f} s ({ref['full'] / best['full']:.2f}x {first}), "
              f"FEC passes {best['fec']:.3f} s ({ref['fec'] / best['fec']:.2f}x)")


if __name__ == "__main__":
    main()
