"""Search methods as plain functions over a DEAP toolbox, shaped like ``deap.algorithms.eaSimple``.

The toolbox (built once by :func:`make_toolbox`) provides ``clone``, ``mutate``, ``select``
(batched tournaments), ``evaluate`` (a batch of programs -> fitness array) and ``random_individual``.
Fitness is one value, maximised (``creator.FitnessMax``); individuals are
:class:`primitives.program.Program` objects with a DEAP ``fitness`` attribute.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
from deap import base, tools

from evolve.evaluation.scoring import Brood
from evolve.search.mutation import SearchSpace, mutate
from evolve.search.mutation_kernel import BatchMutator
from evolve.search.population import (
    Individual,
    PackedBrood,
    Population,
    _FitnessMax,
    new_individual,
)
from primitives.program import Program
from primitives.rng import Stream

__all__ = ["Individual", "Population", "new_individual"]  # re-exported: their home is evolve.search.population


def as_individual(program: Program, fitness: float | None = None) -> Program:
    """Wrap a program as a DEAP individual (arrays are shared, not copied)."""
    ind = new_individual(program.instructions, program.constants, tuple(int(s) for s in program.sizes))
    if fitness is not None:
        ind.fitness.wvalues = (float(fitness),)  # what ``values = (f,)`` stores for weights (1.0,)
    return ind


def link_parents(children: Sequence[Program], parents: Sequence[Program]) -> None:
    """Lineage (:mod:`evolve.analysis.lineage`): each child keeps the individual it was bred from.
    One attribute per child; ancestors no living individual descends from are freed as usual.
    """
    for child, parent in zip(children, parents, strict=True):
        child.parent = parent


#: Children between two compactions of the population's ancestors (:func:`compact_ancestors`).
COMPACT_EVERY = 50_000


def compact_ancestors(members: Sequence[Program]) -> None:
    """Ancestors of ``members`` get arrays of their own. The batch mutator's children are views
    of one buffer per brood; an ancestor holding a view keeps its whole brood's buffer alive
    (docs/performance.md, "Why these forms"). Walks each ancestor once and copies only the views,
    every :data:`COMPACT_EVERY` children (ancestors younger than that still hold views)."""
    seen: set[int] = set()
    for ind in members:
        node = getattr(ind, "parent", None)
        while node is not None and id(node) not in seen:
            seen.add(id(node))
            if node.instructions.base is not None:
                node.instructions = node.instructions.copy()
                node.constants = node.constants.copy()
            node = getattr(node, "parent", None)


def _copy_sharing_lineage(ind: Program, memo: dict | None = None) -> Program:
    """``deepcopy`` of an individual (the hall of fame copies its members): new arrays and
    fitness, the same ``parent`` (copying the chain of ancestors would be deep and slow)."""
    copy = new_individual(ind.instructions.copy(), ind.constants.copy(), ind.sizes)
    copy.fitness.wvalues = ind.fitness.wvalues
    parent = getattr(ind, "parent", None)
    if parent is not None:
        copy.parent = parent
    return copy


def _rebuild_individual(instructions: np.ndarray, constants: np.ndarray, sizes: tuple,
                        wvalues: tuple) -> Program:
    ind = new_individual(instructions, constants, sizes)
    ind.fitness.wvalues = wvalues
    return ind


def _reduce_individual(ind: Program) -> tuple:
    """Pickling sends the program and fitness, not the chain of ancestors."""
    return _rebuild_individual, (ind.instructions, ind.constants, ind.sizes, ind.fitness.wvalues)


Individual.__deepcopy__ = _copy_sharing_lineage
Individual.__reduce__ = _reduce_individual


def clone(ind: Program) -> Program:
    """A fast copy of an individual, without its fitness (DEAP's deepcopy is slow in the hot loop)."""
    return new_individual(ind.instructions.copy(), ind.constants.copy(), ind.sizes)


def select_tournaments(fitness: np.ndarray, k: int, tournament_size: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` tournament winners' indices: each the fittest of ``tournament_size`` draws with
    replacement (ties go to the first drawn, as ``deap.tools.selTournament``)."""
    draws = rng.integers(0, fitness.shape[0], size=(k, tournament_size))
    return draws[np.arange(k), np.argmax(fitness[draws], axis=1)]


def breed_python(parents: Sequence[Program], do_mutate: np.ndarray, toolbox: base.Toolbox) -> list[Program]:
    """Children of ``parents``: a copy each, mutated where ``do_mutate`` (the slow, obvious way)."""
    children = []
    for parent, flag in zip(parents, do_mutate.tolist(), strict=True):
        child = toolbox.clone(parent)
        if flag:
            toolbox.mutate(child)
        children.append(child)
    return children


class _KernelBreeder:
    """Children of a batch of parents from :class:`BatchMutator` (same draws as ``breed_python``)."""

    def __init__(self, space: SearchSpace, mutations: Sequence[str], stream: Stream) -> None:
        self.mutator = BatchMutator(space, mutations)
        self.stream = stream
        self.seconds = 0.0  # wall seconds in the kernels (gather + mutation), for `evolve bench`

    def __call__(self, parents: Sequence[Program], do_mutate: np.ndarray) -> list[Program]:
        state = np.array([self.stream.state], dtype=np.uint64)
        children = self.mutator(parents, do_mutate, state)
        self.stream.state = int(state[0])
        brood = Brood(new_individual(i, c, s) for i, c, s in children)
        brood.packed = self.mutator.packed
        return brood

    def from_population(self, population: Population, winners: np.ndarray, do_mutate: np.ndarray) -> PackedBrood:
        """Children of ``population``'s members at slots ``winners``, packed: the same children
        (and draws) as ``self([members[i] for i in winners], do_mutate)``, with no individual
        made per parent or child."""
        began = time.perf_counter()
        state = np.array([self.stream.state], dtype=np.uint64)
        packed = self.mutator.mutate_packed(*population.packed_members(winners), do_mutate, state)
        self.stream.state = int(state[0])
        self.seconds += time.perf_counter() - began
        return PackedBrood(*packed)


def make_toolbox(
    space: SearchSpace,
    mutations: Sequence[str],
    evaluate: Callable[[Sequence[Program]], np.ndarray],
    tournament_size: int,
    mutation_rng: Stream,
    selection_rng: np.random.Generator,
    jit: bool = True,
) -> base.Toolbox:
    """Wire DEAP's toolbox: randomness is passed in, never global.

    ``breed(parents, do_mutate)`` copies and mutates a batch of parents: with ``jit`` through the
    batched kernel, otherwise with ``clone`` and ``mutate`` one by one; both draw the same numbers
    from ``mutation_rng`` and give the same children.
    """
    toolbox = base.Toolbox()
    toolbox.register("clone", clone)
    toolbox.register("mutate", mutate, space=space, mutations=tuple(mutations), rng=mutation_rng)
    if jit:
        toolbox.register("breed", _KernelBreeder(space, mutations, mutation_rng))
        randomizer = _KernelBreeder(space, ("randomize_algorithm",), mutation_rng)
        blank = space.no_op_program()
        toolbox.register("random_individuals", _random_individuals_jit, randomizer, blank)
    else:
        toolbox.register("breed", breed_python, toolbox=toolbox)
        toolbox.register("random_individuals", _random_individuals_python, space, mutation_rng)
    toolbox.register("select", select_tournaments, tournament_size=tournament_size, rng=selection_rng)
    toolbox.register("evaluate", evaluate)
    toolbox.register("random_individual", _random_individual, space, mutation_rng)
    toolbox.register("no_op_individual", _no_op_individual, space)
    return toolbox


def _random_individuals_jit(randomizer: _KernelBreeder, blank: Program, k: int) -> list[Program]:
    return randomizer([blank] * k, np.ones(k, dtype=bool))


def _random_individuals_python(space: SearchSpace, rng: Stream, k: int) -> list[Program]:
    return [_random_individual(space, rng) for _ in range(k)]


def _random_individual(space: SearchSpace, rng: Stream) -> Program:
    return as_individual(space.random_program(rng))


def _no_op_individual(space: SearchSpace) -> Program:
    return as_individual(space.no_op_program())


def make_statistics() -> tools.Statistics:
    stats = tools.Statistics()
    stats.register("best", np.max)
    stats.register("mean", np.mean)
    return stats


def make_hall_of_fame(size: int) -> tools.HallOfFame:
    return tools.HallOfFame(size, similar=_same_program)


def _same_program(a: Program, b: Program) -> bool:
    return a == b


class Offspring(list):
    """The individuals a search step produced, with their fitness as one array (``fitness``)."""

    fitness: np.ndarray


def update_hall_of_fame(halloffame: tools.HallOfFame, individuals: Sequence[Program], fitness: np.ndarray) -> None:
    """``halloffame.update(individuals)`` for one-objective fitness, without handing DEAP the
    individuals that cannot enter: once the hall is full, only fitness strictly above its worst
    can (DEAP's own test), and that bar only rises during an update. Same result, less Python."""
    if halloffame.maxsize and len(halloffame) >= halloffame.maxsize:
        worst = halloffame[-1].fitness.wvalues[0]
        chosen = np.flatnonzero(fitness > worst)
        if not chosen.size:
            return
        individuals = [individuals[i] for i in chosen.tolist()]
    halloffame.update(individuals)


def evaluate_and_assign(toolbox: base.Toolbox, individuals: Sequence[Program]) -> np.ndarray:
    """Evaluate a batch and set each individual's DEAP fitness."""
    fitness = np.asarray(toolbox.evaluate(individuals), dtype=np.float64)
    for ind, fit in zip(individuals, fitness.tolist(), strict=True):
        if type(ind.fitness) is _FitnessMax:
            ind.fitness.wvalues = (fit,)  # what ``values = (fit,)`` stores for weights (1.0,)
        else:
            ind.fitness.values = (fit,)
    return fitness


def initial_population(toolbox: base.Toolbox, size: int, batch_size: int, make: Callable[[], Program]) -> Population:
    """``size`` individuals from ``make`` (random, no-op or a copy of a given algorithm), evaluated."""
    # made and scored a batch at a time (the same members and scores as making them all first:
    # scoring draws nothing from make's streams), so a budget can end inside a huge population
    members: list[Program] = []
    fitness = []
    for start in range(0, size, batch_size):
        batch = [make() for _ in range(min(batch_size, size - start))]
        members.extend(batch)
        fitness.append(evaluate_and_assign(toolbox, batch))
    return Population(members, np.concatenate(fitness))


def regularized_evolution(
    population: Population,
    toolbox: base.Toolbox,
    n_children: int,
    mutate_prob: float,
    rng: np.random.Generator,
    batch_size: int = 100,
    halloffame: tools.HallOfFame | None = None,
    keep_children: bool = True,
    lineage: bool = False,
) -> list[Program]:
    """Regularized (aging) evolution (Real et al. 2019; AutoML-Zero §3), in batches.

    Pseudocode::

        repeat n_children times (batch_size children at a time, parents drawn from the
        population as it stood at the start of the batch):
            parent <- the fittest of T members drawn uniformly with replacement
            child  <- copy(parent)
            with probability mutate_prob: child <- mutate(child)
            evaluate child
            append child to the population; remove the oldest member

    With ``lineage`` each child keeps its parent (:func:`link_parents`, for
    :mod:`evolve.analysis.lineage`); the search draws the same numbers either way.
    Returns the children produced (with fitness); with ``keep_children=False`` only their fitness
    (an empty list whose ``.fitness`` holds it): a long call (an island epoch of 10,000 children)
    then frees each dead member at once instead of holding every child to the end, which kept
    the garbage collector busy scanning them (docs/performance.md, "Why these forms").
    """
    breeder = getattr(toolbox.breed, "func", toolbox.breed)  # DEAP registers a functools.partial
    if not lineage and isinstance(breeder, _KernelBreeder):
        return _regularized_evolution_packed(population, toolbox, breeder, n_children, mutate_prob, rng,
                                             batch_size, halloffame, keep_children)
    produced = Offspring()
    scores = []
    for start in range(0, n_children, batch_size):
        k = min(batch_size, n_children - start)
        winners = toolbox.select(population.fitness, k)
        mutate_draws = rng.random(k) < mutate_prob
        members = population.members
        parents = [members[i] for i in winners.tolist()]
        children = toolbox.breed(parents, mutate_draws)
        if lineage:
            link_parents(children, parents)
        fitness = evaluate_and_assign(toolbox, children)
        population.replace_oldest_many(children, fitness)
        if lineage:
            population.since_compaction += k
            if population.since_compaction >= COMPACT_EVERY:
                compact_ancestors(population.members)
                population.since_compaction = 0
        if halloffame is not None:
            update_hall_of_fame(halloffame, children, fitness)
        if keep_children:
            produced.extend(children)
        scores.append(fitness)
    produced.fitness = np.concatenate(scores) if scores else np.zeros(0)
    return produced


def _regularized_evolution_packed(
    population: Population,
    toolbox: base.Toolbox,
    breeder: _KernelBreeder,
    n_children: int,
    mutate_prob: float,
    rng: np.random.Generator,
    batch_size: int,
    halloffame: tools.HallOfFame | None,
    keep_children: bool,
) -> Sequence[Program]:
    """:func:`regularized_evolution` with the jitted breeder and no lineage: parents go from the
    population's packed ring to the mutation kernel and children back, as arrays; an individual
    is made only for a child something reads (a new best, a hall-of-fame entry). The same draws,
    children and fitness as the general loop (a test runs both)."""
    produced = Offspring()
    scores = []
    one_batch = n_children <= batch_size
    for start in range(0, n_children, batch_size):
        k = min(batch_size, n_children - start)
        winners = toolbox.select(population.fitness, k)
        mutate_draws = rng.random(k) < mutate_prob
        brood = breeder.from_population(population, winners, mutate_draws)
        fitness = np.asarray(toolbox.evaluate(brood), dtype=np.float64)
        brood.set_fitness(fitness)
        population.replace_oldest_packed(brood, fitness)
        if halloffame is not None:
            update_hall_of_fame(halloffame, brood, fitness)
        if keep_children:
            if one_batch:
                return brood
            produced.extend(brood)
        scores.append(fitness)
    produced.fitness = np.concatenate(scores) if scores else np.zeros(0)
    return produced


def random_search(
    toolbox: base.Toolbox,
    n_candidates: int,
    batch_size: int = 100,
    halloffame: tools.HallOfFame | None = None,
    keep_children: bool = True,
) -> list[Program]:
    """Random search, the baseline every comparison needs (AutoML-Zero §4.1).

    Pseudocode::

        repeat n_candidates times: candidate <- random algorithm; evaluate candidate

    Returns the candidates (with fitness); ``keep_children=False``: only their fitness, as in
    :func:`regularized_evolution`.
    """
    produced = Offspring()
    scores = []
    for start in range(0, n_candidates, batch_size):
        k = min(batch_size, n_candidates - start)
        candidates = toolbox.random_individuals(k)
        fitness = evaluate_and_assign(toolbox, candidates)
        if halloffame is not None:
            update_hall_of_fame(halloffame, candidates, fitness)
        if keep_children:
            produced.extend(candidates)
        scores.append(fitness)
    produced.fitness = np.concatenate(scores) if scores else np.zeros(0)
    return produced
