"""The search methods, registered once: what ``search.method`` may name and how each one runs.

A method is two hooks in the manner of evosax's ``init``/``step`` (the DEAP functions of
:mod:`evolve.search.evolution` do the work): ``init(ctx)`` builds the first population of an experiment
(``None`` for a method without one) and ``step(ctx, population)`` produces one batch of evaluated
children and the population that follows. ``ctx`` is the search context a campaign or an island
holds: ``toolbox``, ``config.search``, ``selection_rng``, ``halloffame`` and ``make_member()``.
The flags say what the rest of the engine must know about a method (whether it keeps a population,
whether that population is NSGA-II's Pareto population, whether it can run as islands), so every
place that used to switch on the method's name asks the registry instead.

A method also owns its population's checkpoint record: ``save(population)`` gives its arrays
(members, fitness and whatever else the method keeps), ``load(arrays, memory, n, head)`` rebuilds
and checks it (``head`` from the population record), and ``rescore(toolbox, population)``
re-scores it when the search tasks are redrawn (``None``: the method keeps its scores). A method
with a new kind of state adds its own three hooks; the engine's strategy and the campaign stay
as they are.

- ``evolution``: regularized (aging) evolution, AutoML-Zero §3 (Real et al. 2019).
- ``random``: random search, the baseline of AutoML-Zero §4.1.
- ``nsga2``: NSGA-II (Deb et al. 2002) over (fitness, −effective size).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class SearchContext(Protocol):
    """What a method's hooks read: the campaign's (or an island's) search state."""

    toolbox: Any
    config: Any
    selection_rng: Any
    halloffame: Any

    def make_member(self) -> Any: ...


@dataclass(frozen=True)
class SearchMethod:
    """One registered search method: its hooks and what the engine must know about it."""

    name: str
    description: str
    init: Callable[[SearchContext], Any]
    step: Callable[[SearchContext, Any], tuple[Any, list]]
    keeps_population: bool = True
    pareto: bool = False
    islands: bool = True
    save: Callable[[Any], dict] = lambda population: {}
    load: Callable[[dict, Any, int, int], Any] = lambda arrays, memory, n, head: None
    rescore: Callable[[Any, Any], Any] = lambda toolbox, population: None


def _members_from(arrays: dict, memory: Any, n: int) -> tuple[list, Any]:
    from evolve.rundir import checkpoint_fields as fields
    from evolve.rundir.store import programs_from_arrays

    programs = programs_from_arrays(arrays, "population", memory)
    if len(programs) != n:
        raise ValueError(f"{len(programs)} population members, search.population_size is {n}")
    return programs, fields.fitness_array(arrays, "population_fitness", n)


def _evolution_save(population: Any) -> dict:
    from evolve.rundir.store import programs_to_arrays

    return {**programs_to_arrays(population.members, "population"),
            "population_fitness": population.fitness}


def _evolution_load(arrays: dict, memory: Any, n: int, head: int) -> Any:
    from evolve.search.evolution import Population, as_individual

    programs, fitness = _members_from(arrays, memory, n)
    members = [as_individual(p) for p in programs]
    for ind, fit in zip(members, fitness.tolist(), strict=True):
        ind.fitness.values = (fit,)
    if not 0 <= head < n:
        raise ValueError(f"population_head = {head}: expected an integer in [0, {n - 1}]")
    return Population(members, fitness.copy(), head)


def _evolution_rescore(toolbox: Any, population: Any) -> Any:
    from evolve.search.evolution import evaluate_and_assign

    fitness = evaluate_and_assign(toolbox, population.members)
    population.fitness[:] = fitness
    return fitness


def _pareto_save(population: Any) -> dict:
    return {**_evolution_save(population),
            "population_effective_size": population.effective_sizes,
            "population_rank": population.rank, "population_crowding": population.crowding}


def _pareto_load(arrays: dict, memory: Any, n: int, head: int) -> Any:
    from evolve.rundir import checkpoint_fields as fields
    from evolve.search.nsga2 import ParetoPopulation, as_sized

    programs, fitness = _members_from(arrays, memory, n)
    sizes = fields.int_array(arrays, "population_effective_size", n, 0, 3 * 10**4)
    members = [as_sized(p, f, s) for p, f, s in zip(programs, fitness.tolist(), sizes.tolist(), strict=True)]
    crowding = fields.float_array(arrays, "population_crowding", n, allow_inf=True)
    for ind, distance in zip(members, crowding.tolist(), strict=True):
        ind.fitness.crowding_dist = distance
    rank = fields.int_array(arrays, "population_rank", n, 0, n)
    return ParetoPopulation(members, rank, crowding)

def _evolution_init(ctx: SearchContext) -> Any:
    from evolve.search.evolution import initial_population

    s = ctx.config.search
    return initial_population(ctx.toolbox, s.population_size, s.batch_size, ctx.make_member)


def _evolution_step(ctx: SearchContext, population: Any) -> tuple[Any, list]:
    from evolve.search.evolution import regularized_evolution

    s = ctx.config.search
    children = regularized_evolution(population, ctx.toolbox, s.batch_size, s.mutate_prob,
                                     ctx.selection_rng, s.batch_size, ctx.halloffame,
                                     lineage=ctx.config.campaign.lineage)
    return population, children


def _random_init(ctx: SearchContext) -> None:
    return None


def _random_step(ctx: SearchContext, population: Any) -> tuple[None, list]:
    from evolve.search.evolution import random_search

    s = ctx.config.search
    return None, random_search(ctx.toolbox, s.batch_size, s.batch_size, ctx.halloffame)


def _nsga2_init(ctx: SearchContext) -> Any:
    from evolve.search.nsga2 import as_sized, evaluate_sized, nsga2_survivors

    s = ctx.config.search
    members = [as_sized(ctx.make_member()) for _ in range(s.population_size)]
    for start in range(0, len(members), s.batch_size):
        evaluate_sized(ctx.toolbox, members[start : start + s.batch_size])
    return nsga2_survivors(members, s.population_size)


def _nsga2_step(ctx: SearchContext, population: Any) -> tuple[Any, list]:
    from evolve.search.nsga2 import nsga2_generation

    return nsga2_generation(population, ctx.toolbox, ctx.config.search.mutate_prob,
                            ctx.selection_rng, ctx.halloffame)


METHODS: dict[str, SearchMethod] = {
    m.name: m
    for m in (
        SearchMethod("evolution", "regularized (aging) evolution, AutoML-Zero §3",
                     _evolution_init, _evolution_step, save=_evolution_save,
                     load=_evolution_load, rescore=_evolution_rescore),
        SearchMethod("random", "random search: every child a new random program (AutoML-Zero §4.1)",
                     _random_init, _random_step, keeps_population=False),
        SearchMethod("nsga2", "NSGA-II over (fitness, -effective size): a Pareto front",
                     _nsga2_init, _nsga2_step, pareto=True, islands=False, save=_pareto_save,
                     load=_pareto_load),
    )
}
METHOD_NAMES: tuple[str, ...] = tuple(METHODS)


def method(name: str) -> SearchMethod:
    """The registered method ``name``; a clear error lists the registered ones."""
    try:
        return METHODS[name]
    except KeyError:
        raise KeyError(f"unknown search.method {name!r}; allowed: {', '.join(METHODS)}") from None
