"""A campaign's checkpoint: the campaign's own fields, plus its strategy's part.

The campaign part is the same for one population and for islands: the experiment counters, the
candidate (best-select program) and its fitness, success, seconds, the hall of fame, the select
curve and the config the run began with (what ``resume`` runs). The strategy adds its population
state (:meth:`evolve.engine.strategy.Strategy.checkpoint_part`). Every field read back is checked by type
and range and every program validated against the memory (:mod:`evolve.rundir.checkpoint_fields`,
:func:`evolve.rundir.store.programs_from_arrays`), so that a bad checkpoint is one
:class:`~evolve.errors.CheckpointError` (resume then tries the previous one).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from evolve.config import to_toml
from evolve.engine import task_protocol as protocol
from evolve.engine.search_context import effective_size
from evolve.errors import CheckpointError
from evolve.rundir import checkpoint_fields as fields
from evolve.rundir.store import (
    atomic_write_text,
    programs_from_arrays,
    programs_to_arrays,
    save_checkpoint,
)
from evolve.search.evolution import as_individual
from evolve.search.methods import method
from evolve.search.nsga2 import as_sized
from primitives.memory import ProgramError


@dataclass(frozen=True)
class CampaignRecord:
    """The campaign's own checkpoint fields (the same for one population and for islands), typed.
    :meth:`read` checks each by type and range (:mod:`evolve.rundir.checkpoint_fields`)."""

    experiment: int
    individuals: int
    experiment_start: int
    experiment_best: float
    last_improvement: int
    candidate_search: float
    candidate_select: float
    success: bool
    seconds_to_success: float | None
    individuals_to_success: int | None
    seconds: float
    progress_rows: int
    has_candidate: bool
    funnel_best: float = -1.0

    @classmethod
    def of(cls, c: Any) -> CampaignRecord:
        """The record of campaign ``c`` now."""
        return cls(c.experiment, c.individuals, c.experiment_start, c.experiment_best, c.last_improvement,
                   c.candidate_search, c.candidate_select, c.success, c.seconds_to_success,
                   c.individuals_to_success, c.seconds, c.progress.rows, c.candidate is not None, c.funnel_best)

    def meta(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def read(cls, meta: dict) -> CampaignRecord:
        """The record in a checkpoint's ``meta``, every field checked (ValueError names the first bad one)."""
        individuals = fields.count(meta, "individuals")
        return cls(
            experiment=fields.count(meta, "experiment"),
            individuals=individuals,
            experiment_start=fields.count(meta, "experiment_start", 0, individuals),
            experiment_best=fields.number(meta, "experiment_best", -1.0, 1.0),
            last_improvement=fields.count(meta, "last_improvement", 0, individuals),
            candidate_search=fields.number(meta, "candidate_search", -1.0, 1.0),
            candidate_select=fields.number(meta, "candidate_select", -1.0, 1.0),
            success=fields.flag(meta, "success"),
            seconds_to_success=fields.optional_number(meta, "seconds_to_success", 0.0, fields.MAX_SECONDS),
            individuals_to_success=fields.optional_count(meta, "individuals_to_success"),
            seconds=fields.number(meta, "seconds", 0.0, fields.MAX_SECONDS),
            progress_rows=fields.count(meta, "progress_rows"),
            has_candidate=fields.flag(meta, "has_candidate"),
            # (a checkpoint of an island run before this record had no funnel_best)
            funnel_best=fields.number(meta, "funnel_best", -1.0, 1.0) if "funnel_best" in meta else -1.0,
        )


def write_checkpoint(campaign: Any) -> None:
    """Save ``campaign`` (a :class:`evolve.engine.campaign.Campaign`) atomically in its run directory
    (:func:`evolve.rundir.store.save_checkpoint` keeps the previous one as ``checkpoint.prev.npz``)."""
    c = campaign
    # the config is what resume runs (config.toml is checked against it)
    meta = {"config": to_toml(c.config, comments=False), **CampaignRecord.of(c).meta()}
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
    record = CampaignRecord.read(meta)
    if c.context.search_tasks.active:  # before the FEC table is loaded: a new draw empties it
        c.set_draw(c.context.search_tasks.draw_of(record.individuals))
    if "select_curve" in arrays:
        c.select_curve = protocol.curve_rows(arrays["select_curve"])
    for key in ("experiment", "individuals", "experiment_start", "experiment_best", "last_improvement",
                "candidate_search", "candidate_select", "success", "seconds_to_success",
                "individuals_to_success", "funnel_best", "progress_rows"):
        setattr(c, key, getattr(record, key))
    c.prior_seconds = record.seconds
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
    if record.has_candidate:
        candidate = programs_from_arrays(arrays, "candidate", c.memory)
        if len(candidate) != 1:
            raise ValueError(f"{len(candidate)} candidate programs, expected 1")
        c.candidate = candidate[0]
    c.strategy.restore_part(meta, arrays)
