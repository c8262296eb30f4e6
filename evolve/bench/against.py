"""Two interpreter builds side by side in one process: ``evolve bench --against CHECKOUT``.

These machines are noisy: the same code timed in two processes a minute apart differs by up to
1.6x here, more than most changes being measured. Timing both builds in *one* process, repeat by
repeat on the same packed programs and tasks, exposes them to the same noise; the figure is the
ratio of their best (minimum) times over many rounds, noise only ever adding time.

The other build is the ``primitives`` package of another checkout (a ``git worktree`` of an old
commit, say), copied into a scratch directory under the name ``primitives_against`` with its
imports rewritten, so the two packages (and their Numba caches) live side by side; this build's
own package is copied the same way, so both are compiled alike. Both must
offer ``primitives.interpreter.evaluate_batch`` with today's signature (true since the first
wave); their fitness must agree bit for bit, or the comparison stops with an error.
"""

from __future__ import annotations

import importlib
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import numpy as np

from evolve.bench.throughput import Scenario, random_programs, scenario_tasks
from evolve.errors import EvolveError
from evolve.evaluation.scoring import packed_form
from primitives.interpreter import EVAL_TYPE_CODES

OTHER = "primitives_against"
THIS = "primitives_this"
_SCRATCH: dict[str, str] = {}
_ROOT = Path(__file__).resolve().parents[2]


def load_other(checkout: Path, scratch: Path, name: str = OTHER) -> ModuleType:
    """A checkout's interpreter, imported as ``<name>.interpreter`` from a renamed copy."""
    source = Path(checkout) / "primitives"
    if not (source / "interpreter.py").is_file():
        raise EvolveError(f"--against {checkout}: no primitives/interpreter.py there (expected "
                          "the root of a checkout of this project)")
    loaded = sys.modules.get(f"{name}.interpreter")
    if loaded is not None:
        if Path(getattr(loaded, "checkout", "")) != Path(checkout).resolve():
            raise EvolveError("--against: another build is already loaded in this process")
        return loaded
    target = scratch / name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    for path in target.glob("*.py"):
        text = path.read_text()
        text = re.sub(r"\bprimitives\.", f"{name}.", text)
        text = re.sub(r"\bfrom primitives import\b", f"from {name} import", text)
        path.write_text(text)
    sys.path.insert(0, str(scratch))
    try:
        module = importlib.import_module(f"{name}.interpreter")
    finally:
        sys.path.remove(str(scratch))
    module.checkout = str(Path(checkout).resolve())
    return module


def compare(scenario: Scenario, checkout: Path, *, programs: int = 500, rounds: int = 60,
            seed: int = 1) -> dict:
    """Evaluations/s of this build and of ``checkout``'s on the same ``programs`` random programs
    of ``scenario``, timed alternately ``rounds`` times each; minimum and median per build."""
    if programs < 1 or rounds < 1:
        raise ValueError("programs and rounds must be >= 1")
    batch = scenario_tasks(scenario)
    code, data, bounds = packed_form(random_programs(scenario, programs, np.random.default_rng(seed)))
    kwargs = {"eval_type": EVAL_TYPE_CODES[batch.eval_type], "num_epochs": batch.num_epochs,
              "memory": scenario.memory.as_tuple(), "task_seeds": batch.seeds}
    args = (code, data, bounds, batch.train_x, batch.train_y, batch.valid_x, batch.valid_y)
    # the copy stays for the process's lifetime (its modules are imported from it)
    scratch = _SCRATCH.setdefault("dir", tempfile.mkdtemp(prefix="evolve-bench-against-"))
    other = load_other(checkout, Path(scratch))
    # this build is copied and compiled the same way: code loaded from a Numba cache and code
    # compiled in this process measured up to 5-10% apart with identical source
    this = load_other(_ROOT, Path(scratch), THIS)
    builds = {"this": this.evaluate_batch, "against": other.evaluate_batch}
    fitness = {name: fn(*args, **kwargs)[0] for name, fn in builds.items()}  # compiles too
    if not np.array_equal(fitness["this"], fitness["against"]):
        raise EvolveError(f"--against {checkout}: the two builds disagree on fitness")
    seconds: dict[str, list[float]] = {name: [] for name in builds}
    order = list(builds.items())
    for r in range(rounds):
        for name, fn in order if r % 2 == 0 else order[::-1]:  # each goes first half the time
            start = time.perf_counter()
            fn(*args, **kwargs)
            seconds[name].append(time.perf_counter() - start)
    best = {name: min(s) for name, s in seconds.items()}
    return {
        "scenario": scenario.describe(), "against": str(checkout), "programs": programs,
        "rounds": rounds,
        "evaluations_per_s": {name: programs / best[name] for name in builds},
        "evaluations_per_s_median": {name: programs / float(np.median(s)) for name, s in seconds.items()},
        "ratio": best["against"] / best["this"],  # this build's speed over the other's
    }
