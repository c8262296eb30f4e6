"""A campaign's checkpoint: the campaign's own fields, plus its strategy's part.

The campaign part is the same for one population and for islands: the experiment counters, the
candidate (best-select program) and its fitness, success, seconds, the hall of fame, the select
curve and the config the run began with (what ``resume`` runs). The strategy adds its population
state (:meth:`evolve.strategy.Strategy.checkpoint_part`). Every field read back is checked by type
and range and every program validated against the memory (:mod:`evolve.checkpoint_fields`,
:func:`evolve.store.programs_from_arrays`), so that a bad checkpoint is one
:class:`~evolve.errors.CheckpointError` (resume then tries the previous one).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evolve import checkpoint_fields as fields
from evolve import protocol
from evolve.config import to_toml
from evolve.errors import CheckpointError
from evolve.evolution import as_individual, as_sized
from evolve.methods import method
from evolve.search_context import effective_size
from evolve.store import (
    atomic_write_text,
    programs_from_arrays,
    programs_to_arrays,
    save_checkpoint,
)
from primitives.memory import ProgramError


def write_checkpoint(campaign: Any) -> None:
    """Save ``campaign`` (a :class:`evolve.campaign.Campaign`) atomically in its run directory
    (:func:`evolve.store.save_checkpoint` keeps the previous one as ``checkpoint.prev.npz``)."""
    c = campaign
    meta = {
        "config": to_toml(c.config, comments=False),  # what resume runs (config.toml is checked against it)
        "experiment": c.experiment,
        "individuals": c.individuals,
        "experiment_start": c.experiment_start,
        "experiment_best": c.experiment_best,
        "last_improvement": c.last_improvement,
        "candidate_search": c.candidate_search,
        "candidate_select": c.candidate_select,
        "success": c.success,
        "seconds_to_success": c.seconds_to_success,
        "individuals_to_success": c.individuals_to_success,
        "seconds": c.seconds,
        "progress_rows": c.progress.rows,
        "has_candidate": c.candidate is not None,
        "funnel_best": c.funnel_best,
    }
    part_meta, arrays = c.strategy.checkpoint_part()
    meta.update(part_meta)
    hof = list(c.halloffame)
    arrays.update(programs_to_arrays(hof, "hof"))
    arrays["hof_fitness"] = np.array([ind.fitness.values[0] for ind in hof], dtype=np.float64)
    if c.candidate is not None:
        arrays.update(programs_to_arrays([c.candidate], "candidate"))
    arrays["select_curve"] = protocol.curve_array(c.select_curve)
    atomic_write_text(c.run_dir / "select_curve.csv", protocol.curve_text(c.select_curve))
    save_checkpoint(c.run_dir, meta, arrays)


def restore_checkpoint(campaign: Any, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Continue ``campaign`` from a checkpoint's ``meta`` and ``arrays``; one
    :class:`CheckpointError` naming the run directory and the first bad field otherwise."""
    try:
        _restore(campaign, meta, arrays)
    except (KeyError, TypeError, ValueError, OverflowError, IndexError, ProgramError, CheckpointError) as exc:
        detail = exc if isinstance(exc, (ValueError, CheckpointError)) else repr(exc)
        raise CheckpointError(f"{campaign.run_dir}: checkpoint content is invalid ({detail})") from None


def _restore(c: Any, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    if not isinstance(meta, dict):
        raise ValueError("checkpoint meta must be an object")
    individuals = fields.count(meta, "individuals")
    if c.context.search_tasks.active:  # before the FEC table is loaded: a new draw empties it
        c.set_draw(c.context.search_tasks.draw_of(individuals))
    if "funnel_best" in meta:
        c.funnel_best = fields.number(meta, "funnel_best", -1.0, 1.0)
    if "select_curve" in arrays:
        c.select_curve = protocol.curve_rows(arrays["select_curve"])
    c.experiment = fields.count(meta, "experiment")
    c.individuals = individuals
    c.experiment_start = fields.count(meta, "experiment_start", 0, individuals)
    c.last_improvement = fields.count(meta, "last_improvement", 0, individuals)
    for key in ("experiment_best", "candidate_search", "candidate_select"):
        setattr(c, key, fields.number(meta, key, -1.0, 1.0))
    c.success = fields.flag(meta, "success")
    c.seconds_to_success = fields.optional_number(meta, "seconds_to_success", 0.0, fields.MAX_SECONDS)
    c.individuals_to_success = fields.optional_count(meta, "individuals_to_success")
    c.prior_seconds = fields.number(meta, "seconds", 0.0, fields.MAX_SECONDS)
    hof = programs_from_arrays(arrays, "hof", c.memory)
    if len(hof) > c.config.campaign.hall_of_fame_size:
        raise ValueError(f"{len(hof)} hall-of-fame programs, campaign.hall_of_fame_size is "
                         f"{c.config.campaign.hall_of_fame_size}")
    hof_fitness = fields.fitness_array(arrays, "hof_fitness", len(hof))
    # Insert lowest-ranked first: DEAP puts a newcomer before its equals, so this
    # rebuilds the same order among ties as the uninterrupted run had.
    sized = method(c.config.search.method).pareto  # NSGA-II members carry (fitness, size)
    for program, fit in reversed(list(zip(hof, hof_fitness.tolist(), strict=True))):
        c.halloffame.insert(as_sized(program, fit, effective_size(program)) if sized else as_individual(program, fit))
    if fields.flag(meta, "has_candidate"):
        candidate = programs_from_arrays(arrays, "candidate", c.memory)
        if len(candidate) != 1:
            raise ValueError(f"{len(candidate)} candidate programs, expected 1")
        c.candidate = candidate[0]
    c.progress_rows = fields.count(meta, "progress_rows")
    c.strategy.restore_part(meta, arrays)
