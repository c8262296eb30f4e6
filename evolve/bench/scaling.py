"""``evolve scaling``: what more workers buy on a real campaign (individuals/s, several seeds).

Each measurement is a whole ``evolve run`` in its own process, as a user runs it, and reads the
run's ``summary.json``: individuals, campaign seconds (from the first individual to the last;
process start-up, kernel loading and the workers' warm-up epoch are before that clock, for one
population and islands alike) and individuals/s. Per repeat and seed, in this order (interleaved,
so a noisy neighbour slows every kind alike):

- ``one population``: the config as it is (one population, this process, one core);
- ``N separate runs at once``: N copies of that run side by side, individuals/s summed: what N
  cores of this machine give N processes that never talk to each other, right now (shared caches,
  memory bandwidth and noisy neighbours make it less than N times one run: the bound for islands);
- ``N islands serial``: N islands on one core, one after the other (the same search as below);
- ``N islands <executor>``: the same N islands, one per worker.

Several seeds, because individuals/s depends on the search as well as on the machine: what one
individual costs is what its program executes (the interpreter skips dead code), and one seed's
island search may wander among longer programs than its one population, or shorter (``evolve
scaling --work`` on linear-demo, 500k individuals, cost-weighted live operations per individual,
two islands against one population: seed 3 1.40x, seed 4 0.81x, seeds 1-5 pooled 1.08x). A
kind's rate in a repeat pools its seeds: all their individuals over all their seconds. Reported per kind: the median over the repeats of that pooled
rate, and three ratios of medians: against one population (what ``--workers N`` buys over
``--workers 1``, the two searches' costs included), against the same islands run serially (the
parallel efficiency of the executor, same search, same work), and against the separate runs (the
share of the machine's own scaling islands keep). ``campaign.stop_on_success = false`` keeps a run
going after a discovery, so every run produces the same number of individuals.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from evolve.config import load_config
from evolve.engine.campaign import start_campaign
from evolve.errors import EvolveError
from evolve.evaluation import evaluator as evaluator
from evolve.evaluation.evaluator import op_costs
from evolve.evaluation.scoring import TaskBatch
from primitives.liveness import OP_TABLE, live_mask
from primitives.memory import MemorySpec

_MAIN = "import sys; from evolve.cli import main; sys.exit(main(sys.argv[1:]))"


@dataclass(frozen=True)
class Kind:
    """One way to run the campaign: a label and the ``evolve run`` flags that make it."""

    label: str
    flags: tuple[str, ...]
    copies: int = 1  # that many runs at once, individuals/s summed


def kinds(workers: int, executors: list[str]) -> list[Kind]:
    """One population, that many separate runs at once, ``workers`` islands serial, then
    ``workers`` islands on each executor."""
    islands = ("--set", f"campaign.islands={workers}")
    result = [Kind("one population", ()), Kind(f"{workers} separate runs at once", (), copies=workers),
              Kind(f"{workers} islands serial", (*islands, "--executor", "serial"))]
    result += [Kind(f"{workers} islands {name}", (*islands, "--workers", str(workers), "--executor", name))
               for name in executors]
    return result


def run_once(config: str, kind: Kind, seed: int, individuals: int, python: str = sys.executable) -> dict:
    """One ``evolve run`` in a fresh process (``kind.copies`` of them at once); its summary's
    figures (summed over the copies; seconds: the slowest)."""
    root = str(Path(__file__).resolve().parents[1])  # so a source checkout imports too
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    with tempfile.TemporaryDirectory(prefix="evolve-scaling-") as folder:
        outs = [Path(folder) / f"run{copy}" for copy in range(kind.copies)]
        processes = [subprocess.Popen(
            [python, "-c", _MAIN, "run", config, "--seed", str(seed), "--max-evaluations", str(individuals),
             "--quiet", "--out", str(out), "--set", "campaign.stop_on_success=false",
             "--set", "campaign.budget_minutes=0", *kind.flags],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for out in outs]
        for process in processes:
            _, stderr = process.communicate(timeout=24 * 3600)
            if process.returncode != 0:
                last = (stderr.strip().splitlines() or ["no output"])[-1]
                raise EvolveError(f"scaling: `evolve run` ({kind.label}) failed ({process.returncode}): {last}")
        summaries = [json.loads((out / "summary.json").read_text()) for out in outs]
    hits = sum(float(s["fec_hit_rate"]) * int(s["individuals"]) for s in summaries)
    return {
        "kind": kind.label,
        "seed": seed,
        "individuals": sum(int(s["individuals"]) for s in summaries),
        "seconds": max(float(s["seconds"]) for s in summaries),
        "individuals_per_second": sum(float(s["individuals_per_second"]) for s in summaries),
        "evaluations": sum(int(s["evaluations"]) for s in summaries),
        "fec_hit_rate": hits / max(1, sum(int(s["individuals"]) for s in summaries)),
        "success": any(bool(s["success"]) for s in summaries),
    }


@dataclass(frozen=True)
class ScalingResult:
    config: str
    seeds: list[int]
    individuals: int
    workers: int
    runs: list[dict]
    pooled: list[dict]  # per repeat and kind: the seeds' individuals over their seconds
    medians: dict[str, float]
    ratio_to_one_population: dict[str, float]
    ratio_to_serial_islands: dict[str, float]
    ratio_to_separate_runs: dict[str, float]

    def as_dict(self) -> dict:
        return asdict(self)


def pooled_rate(rows: list[dict]) -> float:
    """All the rows' individuals over all their seconds, ``sum(n_i) / sum(n_i / r_i)`` with
    ``r_i`` each row's individuals/s (a row of N runs at once has their summed rate)."""
    return sum(r["individuals"] for r in rows) / sum(r["individuals"] / r["individuals_per_second"] for r in rows)


def measure_scaling(
    config: str = "linear-demo", *, workers: int = 2, executors: list[str] | None = None,
    seeds: list[int] | None = None, individuals: int = 500_000, repeats: int = 3, progress=None,
) -> ScalingResult:
    """Run every kind on every seed ``repeats`` times, interleaved; pooled rates, their medians
    and ratios (see the module doc)."""
    chosen = kinds(workers, executors if executors is not None else ["processes", "dask"])
    seeds = list(seeds) if seeds is not None else [1, 2, 3, 4, 5]
    runs, pooled = [], []
    for repeat in range(repeats):
        rows = []
        for seed in seeds:
            for kind in chosen:
                row = {"repeat": repeat, **run_once(config, kind, seed, individuals)}
                rows.append(row)
                if progress is not None:
                    progress(row)
        runs += rows
        pooled += [{"repeat": repeat, "kind": k.label,
                    "individuals_per_second": pooled_rate([r for r in rows if r["kind"] == k.label])}
                   for k in chosen]
    medians = {k.label: statistics.median(p["individuals_per_second"] for p in pooled if p["kind"] == k.label)
               for k in chosen}
    one, separate, serial = (medians[k.label] for k in chosen[:3])
    parallel = [k.label for k in chosen[3:]]
    return ScalingResult(
        config, seeds, individuals, workers, runs, pooled, medians,
        {label: medians[label] / one for label in parallel},
        {label: medians[label] / serial for label in parallel},
        {label: medians[label] / separate for label in parallel},
    )


# ---------------------------------------------------------------------------- the search's work


def program_work(code: np.ndarray, bounds: np.ndarray, batch: TaskBatch, memory: MemorySpec) -> np.ndarray:
    """The interpreter's work for each program ``bounds[p]`` of packed ``code`` on ``batch``:
    its live instructions (:mod:`primitives.liveness`: the only ones the executor runs), each
    weighted by its op's cost (:func:`evolve.evaluation.evaluator.op_costs`: 1 scalar, F vector, F^2 matrix),
    run as AutoML-Zero's loop runs them (Real et al. 2020, §3), over the ``T`` tasks::

        work = T * (setup + E * (n_train * (predict + learn) + n_valid * predict))

    A model, not a timing: it leaves out early stops (a prediction error over max_abs_error ends
    training) and the per-program costs outside the interpreter (mutation, hashing, bookkeeping)."""
    costs = op_costs(batch.features_size)
    T, n_train = batch.train_x.shape[:2]
    n_valid, epochs = batch.valid_x.shape[1], batch.num_epochs
    n_s, n_v, n_m = memory.as_tuple()
    code = np.ascontiguousarray(code, dtype=np.int64)
    keep = np.zeros(len(code), dtype=np.bool_)
    work = np.zeros(len(bounds))
    for p, (s, q, r, e) in enumerate(np.asarray(bounds, dtype=np.int64).tolist()):
        keep[s:e] = False
        live_mask(code, s, q, r, e, n_s, n_v, n_m, OP_TABLE, keep)
        weight = costs[code[s:e, 0]] * keep[s:e]
        setup, predict, learn = weight[: q - s].sum(), weight[q - s : r - s].sum(), weight[r - s :].sum()
        work[p] = T * (setup + epochs * (n_train * (predict + learn) + n_valid * predict))
    return work


@contextmanager
def counting_search_work() -> Iterator[dict]:
    """Within it, every search-time evaluation in this process (:class:`evolve.evaluation.evaluator.
    SearchEvaluator`: the FEC prefix run of every child whose live code it has not seen, the full
    search tasks of every FEC miss)
    adds its :func:`program_work` to the yielded ``{"work", "programs"}``. In-process campaigns
    only (one population, serial islands): a worker process is not counted."""
    counter = {"work": 0.0, "programs": 0}
    original = evaluator.per_task_fitness_packed

    def counted(code, data, bounds, batch, memory, **kwargs):
        counter["work"] += float(program_work(code, bounds, batch, memory).sum())
        counter["programs"] += len(bounds)
        return original(code, data, bounds, batch, memory, **kwargs)

    evaluator.per_task_fitness_packed = counted
    try:
        yield counter
    finally:
        evaluator.per_task_fitness_packed = original


def measure_search_work(
    config: str = "linear-demo", *, workers: int = 2, seeds: list[int] | None = None,
    individuals: int = 500_000, progress=None,
) -> dict:
    """What one individual costs each search: per seed, the one-population run and the run of
    ``workers`` islands (serial: the same search every executor runs), in this process, with
    :func:`counting_search_work`. Seeded, so exactly repeatable: no timing, no noise. Returns the
    rows (seed, kind, individuals, work, work per individual) and, pooled over the seeds (all
    work over all individuals), each kind's work per individual and the islands' ratio to one
    population's, the factor by which the searches alone move the individuals/s ratio."""
    seeds = list(seeds) if seeds is not None else [1, 2, 3, 4, 5]
    islands = f"{workers} islands"
    rows = []
    for seed in seeds:
        for kind, extra in (("one population", []), (islands, [f"campaign.islands={workers}",
                                                               'campaign.executor="serial"'])):
            overrides = [f"seed={seed}", f"campaign.max_evaluations={individuals}", "campaign.budget_minutes=0",
                         "campaign.stop_on_success=false", *extra]
            with tempfile.TemporaryDirectory(prefix="evolve-work-") as folder, counting_search_work() as counter:
                summary = start_campaign(load_config(config, overrides), Path(folder), quiet=True).run()
            row = {"seed": seed, "kind": kind, "individuals": int(summary["individuals"]),
                   "evaluations": int(summary["evaluations"]), "work": counter["work"],
                   "work_per_individual": counter["work"] / max(1, int(summary["individuals"]))}
            rows.append(row)
            if progress is not None:
                progress(row)
    pooled = {kind: sum(r["work"] for r in rows if r["kind"] == kind)
              / max(1, sum(r["individuals"] for r in rows if r["kind"] == kind))
              for kind in ("one population", islands)}
    return {"config": config, "seeds": seeds, "individuals": individuals, "workers": workers, "rows": rows,
            "work_per_individual": pooled, "islands_to_one_population": pooled[islands] / pooled["one population"]}
