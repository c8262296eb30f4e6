"""What a campaign leaves in its run directory when it ends: ``best.txt`` (the best-select
program with its search, select and final fitness), ``hall_of_fame.txt``, ``pareto_front.txt``
(NSGA-II), the lineage files (:mod:`evolve.analysis.lineage`) and ``summary.json``. The final
fitness is the best program's fitness on the *final* tasks, which no search step has seen
(AutoML-Zero §4, "experiment details"). Every file is written atomically."""

from __future__ import annotations

from typing import Any

from evolve.engine.metadata import run_metadata
from evolve.rundir.lineage import record_lineage
from evolve.rundir.store import atomic_write_text, programs_to_text, write_json
from evolve.search.nsga2 import ParetoPopulation
from primitives.prune import prune
from primitives.text import format_program


def write_results(campaign: Any, reason: str) -> dict:
    """Write the result files of ``campaign`` (a :class:`evolve.engine.campaign.Campaign`) stopped for
    ``reason`` and return the summary (also ``summary.json``)."""
    c = campaign
    program, search_fitness = c.best_program()
    select_fitness = c.candidate_select if c.candidate is not None else None
    final_fitness = c.context.score(program, c.final_batch) if program is not None else None
    hof = list(c.halloffame)
    atomic_write_text(c.run_dir / "hall_of_fame.txt", programs_to_text(hof, [ind.fitness.values[0] for ind in hof]))
    record_lineage(c.run_dir, c.candidate_ancestor, hof)
    if isinstance(c.population, ParetoPopulation):
        unique = {m.fitness.values: m for m in c.population.front()}  # one per point
        front = [unique[key] for key in sorted(unique, key=lambda v: (v[1], v[0]))]
        atomic_write_text(c.run_dir / "pareto_front.txt", "\n".join(
            f"# point {i} fitness {m.fitness.values[0]!r} size {int(m.fitness.values[1])}\n"
            + format_program(prune(m))
            for i, m in enumerate(front)
        ))
    if program is not None:
        header = (
            f"# discovered by `evolve run {c.config.name}` (seed {c.config.seed})\n"
            f"# search fitness {search_fitness!r}\n# select fitness {select_fitness!r}\n"
            f"# final fitness {final_fitness!r}\n"
        )
        atomic_write_text(c.run_dir / "best.txt", header + format_program(program))
    seconds = c.seconds
    evaluator = c.context.evaluator
    start = _unchanged_start(c, program)
    summary = {
        "success": bool(c.success),
        "success_threshold": c.success_threshold,
        "seconds_to_success": c.seconds_to_success,
        "individuals_to_success": c.individuals_to_success,
        "stopped_by": reason,
        "evaluations": int(evaluator.evaluations),
        "individuals": int(c.individuals),
        "individuals_per_second": c.individuals / max(seconds, 1e-9),
        "fec_hit_rate": evaluator.cache.hit_rate,
        "seconds": seconds,
        "experiments": c.experiment,
        "search_fitness": search_fitness,
        "select_fitness": select_fitness,
        "final_fitness": final_fitness,
        "seed": c.config.seed,
        # the initial algorithm when the reported program is it (pruned, constants included):
        # the search found nothing better than where it started
        "unchanged_start": start,
        "run_dir": str(c.run_dir),
        "metadata": run_metadata(),  # versions, CPU, command line, git commit (evolve.engine.metadata)
    }
    write_json(c.run_dir / "summary.json", summary)
    return summary


def _unchanged_start(campaign: Any, program: Any) -> str | None:
    """The name of ``algorithm.initial`` if ``program`` is that algorithm once pruned, else None
    (also for random or no-op starts, which no search ends with unchanged)."""
    from evolve.engine.search_context import load_program

    initial = campaign.config.algorithm.initial
    if program is None or initial in ("random", "no_op"):
        return None
    try:
        start = load_program(initial, "algorithm.initial")
    except Exception:  # the start file moved since the run began: no claim either way
        return None
    return initial if prune(start) == prune(program) else None
