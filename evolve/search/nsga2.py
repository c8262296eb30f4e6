"""NSGA-II over (fitness, effective size) (Deb et al. 2002), shaped like the other search methods
of :mod:`evolve.search.evolution`: a population with front ranks and crowding distances, binary tournaments
on the crowded-comparison order, DEAP's ``selNSGA2`` for survival.

Individuals carry two objectives, ``(fitness, effective size)`` with weights ``(+1, -1)``:
fitter is better, and among equally fit programs the one with fewer live instructions
(:func:`primitives.prune.live_instructions`) is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from deap import base, creator, tools

from primitives.program import Program

# DEAP's creator puts classes in its module namespace at import time (spawned workers unpickle them).
if not hasattr(creator, "FitnessAndSize"):
    creator.create("FitnessAndSize", base.Fitness, weights=(1.0, -1.0))
if not hasattr(creator, "SizedIndividual"):
    creator.create("SizedIndividual", Program, fitness=creator.FitnessAndSize)

SizedIndividual = creator.SizedIndividual


def as_sized(program: Program, fitness: float | None = None, size: int | None = None) -> Program:
    """Wrap a program as an individual with two objectives: (fitness, effective size)."""
    ind = SizedIndividual.__new__(SizedIndividual)
    ind.instructions, ind.constants = program.instructions, program.constants
    ind.sizes = tuple(int(s) for s in program.sizes)
    ind.fitness = creator.FitnessAndSize()
    if fitness is not None:
        ind.fitness.values = (float(fitness), float(size))
    return ind


@dataclass
class ParetoPopulation:
    """An NSGA-II population with each member's front rank and crowding distance."""

    members: list[Program]
    rank: np.ndarray
    crowding: np.ndarray

    @property
    def fitness(self) -> np.ndarray:
        return np.array([m.fitness.values[0] for m in self.members])

    @property
    def effective_sizes(self) -> np.ndarray:
        return np.array([m.fitness.values[1] for m in self.members])

    def front(self) -> list[Program]:
        return [m for m, r in zip(self.members, self.rank.tolist(), strict=True) if r == 0]


def evaluate_sized(toolbox: base.Toolbox, individuals: Sequence[Program]) -> np.ndarray:
    """Fitness by ``toolbox.evaluate`` and effective size by ``toolbox.effective_size``."""
    fitness = np.asarray(toolbox.evaluate(individuals), dtype=np.float64)
    for ind, fit in zip(individuals, fitness.tolist(), strict=True):
        ind.fitness.values = (fit, float(toolbox.effective_size(ind)))
    return fitness


def nsga2_survivors(pool: Sequence[Program], k: int) -> ParetoPopulation:
    """DEAP's ``selNSGA2`` survival, recording ranks and crowding distances for the next tournaments."""
    chosen = tools.selNSGA2(list(pool), k)
    fronts = tools.sortNondominated(chosen, len(chosen))
    rank_of = {id(ind): r for r, front in enumerate(fronts) for ind in front}
    rank = np.array([rank_of[id(ind)] for ind in chosen], dtype=np.int64)
    crowding = np.array([ind.fitness.crowding_dist for ind in chosen], dtype=np.float64)
    return ParetoPopulation(chosen, rank, crowding)


def crowded_tournaments(rank: np.ndarray, crowding: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` binary tournaments on the crowded-comparison order: lower front rank, then larger
    crowding distance (ties to the first drawn)."""
    draws = rng.integers(0, rank.shape[0], size=(k, 2))
    a, b = draws[:, 0], draws[:, 1]
    second = (rank[b] < rank[a]) | ((rank[b] == rank[a]) & (crowding[b] > crowding[a]))
    return np.where(second, b, a)


def nsga2_generation(
    population: ParetoPopulation,
    toolbox: base.Toolbox,
    mutate_prob: float,
    rng: np.random.Generator,
    halloffame: tools.HallOfFame | None = None,
) -> tuple[ParetoPopulation, list[Program]]:
    """One generation of NSGA-II (Deb et al. 2002) over (fitness, -effective size).

    Pseudocode::

        parents    <- P binary tournaments on (front rank, crowding distance)
        children   <- copy(parents); each mutated with probability mutate_prob; evaluate
        population <- selNSGA2(population + children, P)

    Returns the new population and the children.
    """
    k = len(population.members)
    winners = crowded_tournaments(population.rank, population.crowding, k, rng)
    mutate_draws = rng.random(k) < mutate_prob
    bred = toolbox.breed([population.members[i] for i in winners.tolist()], mutate_draws)
    children = [as_sized(child) for child in bred]
    evaluate_sized(toolbox, children)
    if halloffame is not None:
        halloffame.update(children)
    return nsga2_survivors(population.members + children, k), children
