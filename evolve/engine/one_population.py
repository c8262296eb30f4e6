"""One population in this process: the strategy of a campaign with ``campaign.islands = 1``.

Each experiment begins with the registered search method's ``init`` (:mod:`evolve.search.methods`:
regularized evolution's population, NSGA-II's, or none for random search) and goes on with its
``step``, one batch of ``search.batch_size`` children at a time. The checkpoint part is the
population (programs, fitness, the aging queue's head or NSGA-II's rank and crowding), the two
random streams, the evaluator's counters and FEC table, and the lineage of the members.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from evolve.engine.strategy import CampaignState
from evolve.rundir import checkpoint_fields as fields
from evolve.rundir.lineage import lineage_to_arrays, restore_lineage
from evolve.search.evolution import Population, as_individual
from evolve.search.methods import method


@dataclass(frozen=True)
class PopulationRecord:
    """One population's checkpoint fields besides its arrays, typed; :meth:`read` checks each."""

    mutation_rng: int  # primitives.rng.Stream state
    selection_rng: dict  # NumPy PCG64 state
    evaluations: int
    evaluator_individuals: int
    hurdle_scores: list
    population_head: int
    has_population: bool

    def meta(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def read(cls, meta: dict) -> PopulationRecord:
        return cls(
            mutation_rng=fields.stream_state(meta, "mutation_rng"),
            selection_rng=fields.pcg64_state(meta, "selection_rng"),
            evaluations=fields.count(meta, "evaluations"),
            evaluator_individuals=fields.count(meta, "evaluator_individuals"),
            hurdle_scores=fields.scores(meta, "hurdle_scores"),
            population_head=fields.count(meta, "population_head"),  # checked against the size on use
            has_population=fields.flag(meta, "has_population"),
        )


class OnePopulation:
    """The :class:`evolve.engine.strategy.Strategy` of one population (see the module docstring)."""

    def __init__(self, campaign: CampaignState) -> None:
        self.campaign = campaign
        self.method = method(campaign.config.search.method)

    def open(self) -> None:
        pass

    def warm(self) -> None:
        pass

    def close(self) -> None:
        pass

    def new_experiment(self) -> None:
        c = self.campaign
        c.population = self.method.init(c)
        if not self.method.keeps_population:
            return
        c.individuals += c.config.search.population_size
        c.halloffame.update(c.population.members)
        c.consider(c.population.members, c.population.fitness)

    def step(self) -> None:
        c = self.campaign
        c.population, children = self.method.step(c, c.population)
        c.individuals += len(children)
        fitness = getattr(children, "fitness", None)
        if fitness is None:  # NSGA-II children carry (fitness, size) tuples
            fitness = np.array([child.fitness.values[0] for child in children])
        c.consider(children, fitness)

    def population_fitness(self) -> np.ndarray | None:
        population = self.campaign.population
        return None if population is None else population.fitness

    def resumable(self) -> bool:
        """False while a budget that ended inside a new experiment left it without a population."""
        c = self.campaign
        return c.population is not None or c.experiment == 0 or not self.method.keeps_population

    def checkpoint_part(self) -> tuple[dict, dict[str, np.ndarray]]:
        c = self.campaign
        evaluator, population = c.context.evaluator, c.population
        meta = PopulationRecord(
            mutation_rng=c.context.mutation_rng.state,
            selection_rng=c.context.selection_rng.bit_generator.state,
            evaluations=evaluator.evaluations,
            evaluator_individuals=evaluator.individuals,
            hurdle_scores=list(evaluator.hurdle_scores),
            population_head=getattr(population, "head", 0),
            has_population=population is not None,
        ).meta()
        arrays: dict[str, np.ndarray] = dict(evaluator.cache.to_arrays())
        if population is not None:
            arrays.update(self.method.save(population))  # the method owns its population's record
        if isinstance(population, Population):
            ancestor = [c.candidate_ancestor] if c.candidate_ancestor is not None else []
            arrays.update(lineage_to_arrays({"population": population.members, "hof": list(c.halloffame),
                                             "candidate": ancestor}))
        return meta, arrays

    def restore_part(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        c = self.campaign
        ctx, config = c.context, c.config
        record = PopulationRecord.read(meta)
        ctx.mutation_rng.state = record.mutation_rng
        ctx.selection_rng.bit_generator.state = record.selection_rng
        ctx.evaluator.evaluations = record.evaluations
        ctx.evaluator.individuals = record.evaluator_individuals
        ctx.evaluator.hurdle_scores = record.hurdle_scores
        ctx.evaluator.cache.load_arrays(arrays)
        has_population = record.has_population
        if has_population != (c.experiment > 0 and self.method.keeps_population):
            raise ValueError(f"has_population = {has_population} in experiment {c.experiment} of "
                             f"search.method = {config.search.method!r}")
        if not has_population:
            return
        c.population = self.method.load(arrays, c.memory, config.search.population_size,
                                        record.population_head)
        if not isinstance(c.population, Population):
            return
        members = c.population.members
        ancestor = [as_individual(c.candidate, c.candidate_search)] if c.candidate is not None else []
        ancestor = restore_lineage(arrays, {"population": members, "hof": list(c.halloffame),
                                            "candidate": ancestor}, c.memory)["candidate"]
        c.candidate_ancestor = ancestor[0] if ancestor else None
