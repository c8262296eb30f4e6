"""Throughput of the interpreter on one core: evaluations/s, instructions/s, compile and start time.

Scenarios (all on tasks of the ``linear`` suite, ``search`` split, 1 epoch):

- **A**: F=4, memory 8/8/8, 10 tasks x (100 train + 100 valid), random programs of sizes
  Setup 10 / Predict 10 / Learn 20; Setup draws from all 65 ops, Predict and Learn from all but the
  random-set ops (codes 59-64, which cost 10-30x an arithmetic op).
- **B**: the same at F=16.
- **C**: AutoML-Zero's demo shape (its ``run_demo.sh``): F=4, memory 4/3/1, sizes 10/2/8, ops
  scalar_const_set, vector_inner_product, scalar_diff, scalar_product, scalar_vector_product and
  vector_sum in every component.
- **D**: the search users run on real data, timed whole: the ``digits-demo`` preset (AutoML-Zero's
  baseline search space, its ``run_baseline.sh``: F=16, memory 5/9/2, sizes up to 7/11/23, from
  no-op programs, its mutations; 10 ``projected_binary`` digits tasks x (200 train + 150 valid),
  FEC on), a seeded search of a fixed number of individuals through the public campaign API
  (mutation, selection, FEC, the interpreter, select checks, progress rows and checkpoints in a
  scratch directory). Its figure is *individuals*/s (children scored, FEC hits included), the
  campaign's own clock (compiled kernels loaded first). The same seed does the same work in every
  repeat and on every build, so two builds compare on identical searches.

One *evaluation* is one program run on all the scenario's tasks (AutoML-Zero's "individual").
A repeat times :func:`evolve.evaluation.scoring.per_task_fitness` on a fresh batch of random programs
(generation is not timed); the figure reported is the median over repeats. Each repeat is timed
twice: as the search runs it (the interpreter skips dead code, :mod:`primitives.liveness`; random
programs are mostly dead code) and executing every instruction (``all_code``, what AutoML-Zero's
C++ does). Both give the same fitness bit for bit.

*Instructions* are counted as AutoML-Zero counts them, dead ones included, once per task: per program and task,
``setup + n_train * (predict + learn) + n_valid * predict`` per epoch. The kernel runs all tasks in
lockstep and stops a program only when every task has stopped (NaN or ``|error| > max_abs_error``),
so a program with a positive fitness on some task executed exactly that count; a program that scored
0 on every task may have stopped after its first Predict. Hence two honest figures: the upper bound
(no program stopped early) and the lower bound (every all-zero program stopped after Setup and one
Predict). The truth lies between.

*Cold compile*: a fresh Python process with ``NUMBA_CACHE_DIR`` pointing at an empty directory
imports the interpreter and evaluates a tiny batch (so Numba compiles the kernel and writes the
cache); *warm start*: the same process again with the now-populated cache directory. Both are
wall-clock times of the whole subprocess, Python start-up included.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from evolve.config import apply_overrides, config_from_dict, load_source
from evolve.engine.campaign import start_campaign
from evolve.errors import EvolveError
from evolve.evaluation.scoring import TaskBatch, per_task_fitness
from primitives.generate import random_program, usable_ops
from primitives.memory import MemorySpec
from primitives.ops import OPS, op_by_name
from primitives.program import Program
from primitives.prune import live_instructions
from problems.registry import get_tasks, make_suite

ALL_OPS = tuple(op.code for op in OPS)
NON_RANDOM_OPS = tuple(op.code for op in OPS if not op.random)
DEMO_OPS = tuple(
    op_by_name(name).code
    for name in (
        "scalar_const_set",
        "vector_inner_product",
        "scalar_diff",
        "scalar_product",
        "scalar_vector_product",
        "vector_sum",
    )
)
DEFAULT_PROGRAMS = 200
DEFAULT_REPEATS = 5
DEFAULT_INDIVIDUALS = 10_000


@dataclass(frozen=True)
class Scenario:
    """One benchmark shape: tasks, memory, program sizes and the ops allowed per component."""

    name: str
    features_size: int
    memory: MemorySpec
    sizes: tuple[int, int, int]
    ops: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]
    num_tasks: int = 10
    num_train: int = 100
    num_valid: int = 100
    num_epochs: int = 1

    def instructions_per_evaluation(self) -> int:
        """Instructions one program executes on all tasks when nothing stops early."""
        setup, predict, learn = self.sizes
        per_epoch = self.num_train * (predict + learn) + self.num_valid * predict
        return self.num_tasks * (setup + self.num_epochs * per_epoch)

    def instructions_if_stopped_at_once(self) -> int:
        """Instructions when every task stops at the first train Predict: Setup + one Predict."""
        setup, predict, _ = self.sizes
        return self.num_tasks * (setup + predict)

    def describe(self) -> str:
        s, v, m = self.memory.as_tuple()
        return (
            f"F={self.features_size}, memory {s}/{v}/{m}, sizes {'/'.join(map(str, self.sizes))}, "
            f"{self.num_tasks} tasks x ({self.num_train} train + {self.num_valid} valid), "
            f"{self.num_epochs} epoch"
        )


def _random_ops_scenario(name: str, features_size: int) -> Scenario:
    memory = MemorySpec(8, 8, 8)
    return Scenario(
        name,
        features_size,
        memory,
        (10, 10, 20),
        (
            tuple(usable_ops(ALL_OPS, memory)),
            tuple(usable_ops(NON_RANDOM_OPS, memory)),
            tuple(usable_ops(NON_RANDOM_OPS, memory)),
        ),
    )


SCENARIOS: dict[str, Scenario] = {
    "A": _random_ops_scenario("A", 4),
    "B": _random_ops_scenario("B", 16),
    "C": Scenario("C", 4, MemorySpec(4, 3, 1), (10, 2, 8), (DEMO_OPS, DEMO_OPS, DEMO_OPS)),
}


@dataclass(frozen=True)
class SearchScenario:
    """A benchmark that times a whole seeded search: a preset, run for ``individuals``."""

    name: str
    preset: str
    seed: int = 0

    def describe(self) -> str:
        return (
            f"search: preset {self.preset} seed {self.seed} (F=16, memory 5/9/2, sizes <= 7/11/23, "
            "from no-op, 10 digits tasks x (200 train + 150 valid), FEC on)"
        )

    def config(self, individuals: int):
        """The preset with the budget set to ``individuals`` (no clock limit, no stop at success)."""
        data = apply_overrides(load_source(self.preset), [
            f"seed={self.seed}", f"campaign.max_evaluations={individuals}",
            "campaign.budget_minutes=0", "campaign.stop_on_success=false",
        ])
        return config_from_dict(data)


SEARCH_SCENARIOS: dict[str, SearchScenario] = {"D": SearchScenario("D", "digits-demo")}


def measure_search(
    scenario: SearchScenario, *, repeats: int = DEFAULT_REPEATS,
    individuals: int = DEFAULT_INDIVIDUALS,
) -> dict:
    """Median individuals/s over ``repeats`` identical seeded searches of ``individuals``."""
    if repeats < 1 or individuals < 1:
        raise ValueError("repeats and individuals must be >= 1")
    config = scenario.config(individuals)
    rates, seconds, summary, shares = [], [], {}, []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="evolve-bench-search-") as run_dir:
            campaign = start_campaign(config, Path(run_dir), quiet=True)
            summary = campaign.run()
        rates.append(summary["individuals_per_second"])
        seconds.append(summary["individuals"] / summary["individuals_per_second"])
        shares.append(time_shares(campaign, seconds[-1]))
    fastest = int(np.argmin(seconds))
    return {
        "scenario": scenario.describe(),
        "repeats": repeats,
        "individuals": summary["individuals"],
        "evaluations": summary["evaluations"],
        "fec_hit_rate": summary["fec_hit_rate"],
        "seconds_median": statistics.median(seconds),
        "individuals_per_s": statistics.median(rates),
        "peak_rss_mb": _peak_rss_mb(),
        "time_shares": shares[fastest],
    }


def time_shares(campaign: object, seconds: float) -> dict[str, float]:
    """Where a search's wall time went, as fractions of ``seconds``: the interpreter on full
    evaluations (``full``) and on FEC passes (``fec_pass``), live-code keys (``live_keys``), the
    mutation kernel with its parent gather (``mutation``), the select/funnel checks
    (``select``), and the rest (``python``: selection, FEC tables, the campaign loop, Python
    per batch and child). Each kernel call is timed by one clock read before and after it."""
    context = campaign.context
    evaluator = context.evaluator
    breeder = getattr(context.toolbox.breed, "func", context.toolbox.breed)
    parts = {
        "full": evaluator.seconds["full"],
        "fec_pass": evaluator.seconds["fec_pass"],
        "live_keys": evaluator.seconds["live_keys"],
        "mutation": float(getattr(breeder, "seconds", 0.0)),
        "select": context.select_seconds,
    }
    total = max(seconds, 1e-12)
    shares = {k: v / total for k, v in parts.items()}
    shares["python"] = max(0.0, 1.0 - sum(shares.values()))
    return shares


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MiB (Linux and macOS report it differently)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def scenario_tasks(scenario: Scenario) -> TaskBatch:
    suite = make_suite(
        "linear",
        {
            "features_size": scenario.features_size,
            "num_train_examples": scenario.num_train,
            "num_valid_examples": scenario.num_valid,
            "num_train_epochs": scenario.num_epochs,
        },
    )
    return TaskBatch.from_tasks(get_tasks(suite, "search", scenario.num_tasks, 0))


def random_programs(scenario: Scenario, count: int, rng: np.random.Generator) -> list[Program]:
    return [random_program(scenario.sizes, scenario.ops, scenario.memory, rng) for _ in range(count)]


def measure_throughput(
    scenario: Scenario, *, repeats: int = DEFAULT_REPEATS, programs: int = DEFAULT_PROGRAMS,
    seed: int = 0,
) -> dict:
    """Median evaluations/s and instructions/s (bounds) over ``repeats`` fresh random batches."""
    if repeats < 1 or programs < 1:
        raise ValueError("repeats and programs must be >= 1")
    batch = scenario_tasks(scenario)
    rng = np.random.default_rng(seed)
    # Load (or compile) the kernel outside the timed region.
    per_task_fitness(random_programs(scenario, 1, rng), batch, scenario.memory)
    seconds, seconds_all, zero_fraction, live_fraction = [], [], [], []
    for _ in range(repeats):
        population = random_programs(scenario, programs, rng)
        start = time.perf_counter()
        fitness, _ = per_task_fitness(population, batch, scenario.memory)
        seconds.append(time.perf_counter() - start)
        start = time.perf_counter()
        per_task_fitness(population, batch, scenario.memory, prune=False)
        seconds_all.append(time.perf_counter() - start)
        zero_fraction.append(float(np.mean(np.all(fitness == 0.0, axis=1))))
        live_fraction.append(float(np.mean(np.concatenate(
            [live_instructions(p) for p in population]))))
    median = statistics.median(seconds)
    median_all = statistics.median(seconds_all)
    full = scenario.instructions_per_evaluation()
    least = scenario.instructions_if_stopped_at_once()
    zeros = statistics.median(zero_fraction)
    counted = programs * ((1 - zeros) * full + zeros * least)
    return {
        "scenario": scenario.describe(),
        "programs_per_repeat": programs,
        "repeats": repeats,
        "seconds_per_repeat_median": median,
        "evaluations_per_s": programs / median,
        "evaluations_per_s_all_code": programs / median_all,
        "fraction_instructions_live": statistics.median(live_fraction),
        "instructions_per_evaluation_max": full,
        "instructions_per_s_upper_bound": programs * full / median,
        "instructions_per_s_lower_bound": counted / median,
        "instructions_per_s_all_code_upper_bound": programs * full / median_all,
        "instructions_per_s_all_code_lower_bound": counted / median_all,
        "fraction_programs_all_zero": zeros,
    }


_STARTUP_SCRIPT = """
import numpy as np
from primitives.interpreter import evaluate_batch
from primitives.text import parse_program
from primitives.program import pack
program = parse_program("def Setup():\\n  s3 = 0.1\\ndef Predict():\\n  s1 = dot(v1, v0)\\n"
                        "def Learn():\\n  s2 = s0 - s1\\n  v2 = s2 * v0\\n  v1 = v1 + v2\\n")
code, data, bounds = pack([program])
x = np.ones((1, 2, 4)); y = np.ones((1, 2))
evaluate_batch(code, data, bounds, x, y, x, y, eval_type=0, num_epochs=1, memory=(4, 3, 1),
               task_seeds=np.zeros(1, np.uint64))
"""


def measure_startup(python: str = sys.executable) -> dict:
    """Wall time of a process that evaluates a tiny batch: cold (empty Numba cache), then warm."""
    root = str(Path(__file__).resolve().parents[1])  # so a source checkout imports too
    with tempfile.TemporaryDirectory(prefix="evolve-bench-cache-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        times = []
        for _ in ("cold", "warm"):
            start = time.perf_counter()
            done = subprocess.run([python, "-c", _STARTUP_SCRIPT], env=env, capture_output=True,
                                  text=True, timeout=600)
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise EvolveError(f"start-up benchmark process failed ({done.returncode}): {last}")
            times.append(time.perf_counter() - start)
    return {"cold_compile_s": times[0], "warm_start_s": times[1]}


@dataclass(frozen=True)
class BenchResult:
    scenarios: dict[str, dict]
    startup: dict | None

    def as_dict(self) -> dict:
        return asdict(self)


def run_bench(
    names: list[str] | None = None, *, repeats: int = DEFAULT_REPEATS,
    programs: int = DEFAULT_PROGRAMS, startup: bool = True, seed: int = 0,
    individuals: int = DEFAULT_INDIVIDUALS,
) -> BenchResult:
    """Throughput of each named scenario (all by default: A, B, C, D) and, unless disabled,
    start-up times."""
    chosen = [*SCENARIOS, *SEARCH_SCENARIOS] if names is None else names
    results = {}
    for name in chosen:
        if name in SEARCH_SCENARIOS:
            results[name] = measure_search(SEARCH_SCENARIOS[name], repeats=repeats,
                                           individuals=individuals)
        else:
            results[name] = measure_throughput(SCENARIOS[name], repeats=repeats,
                                               programs=programs, seed=seed)
    return BenchResult(results, measure_startup() if startup else None)
