"""The data flow of ``evolve run``: which parts of ``evolve`` a campaign's calls leave and re-enter.

Runs ``evolve run linear-demo --seed 1 --max-evaluations N`` in this process under a profile hook
that sees every Python call (kernel calls count once, from Python) and counts the calls whose
caller and callee lie in different parts: once taking each module of ``evolve`` as its own part
(the flat layout: every module a room), once taking each sub-package (``engine``, ``search``,
``evaluation``, ``islands``, ``rundir`` ...) as one part. Usage:
``python docs/house/data_flow.py [N]``; counts are deterministic for a seed and budget."""

from __future__ import annotations

import collections
import sys
import tempfile
from pathlib import Path


def part(module: str, depth: int) -> str | None:
    if not module or not (module == "evolve" or module.startswith(("evolve.", "primitives", "problems"))):
        return None
    if module.startswith(("primitives", "problems")):
        return module.split(".")[0]
    pieces = module.split(".")
    return ".".join(pieces[: depth + 1]) if len(pieces) > depth else module


def main() -> None:
    budget = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    from evolve.cli import main as cli

    calls = {1: collections.Counter(), 9: collections.Counter()}
    modules = set()

    def hook(frame, event, arg):
        if event != "call":
            return
        callee = frame.f_globals.get("__name__", "")
        back = frame.f_back
        caller = back.f_globals.get("__name__", "") if back is not None else ""
        if callee.startswith("evolve"):
            modules.add(callee)
        for depth, counter in calls.items():
            a, b = part(caller, depth), part(callee, depth)
            if a and b and a != b:
                counter[(a, b)] += 1

    with tempfile.TemporaryDirectory() as tmp:
        sys.setprofile(hook)
        try:
            cli(["run", "linear-demo", "--seed", "1", "--max-evaluations", str(budget), "--quiet",
                 "--out", str(Path(tmp) / "run")])
        finally:
            sys.setprofile(None)
    for depth, title in ((9, "modules as parts"), (1, "sub-packages as parts")):
        counter = calls[depth]
        total = sum(counter.values())
        edges = len(counter)
        print(f"{title}: {total:,} calls cross a boundary, over {edges} distinct caller -> callee pairs")
        for (a, b), n in counter.most_common(8):
            print(f"  {n:>9,}  {a} -> {b}")
    print(f"evolve modules entered: {len(modules)}")


if __name__ == "__main__":
    main()
