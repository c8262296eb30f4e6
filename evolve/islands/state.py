"""An island's state as plain data: arrays + JSON-able meta, wherever it travels (the RNG streams
of each island, a fresh island, its population in and out)."""

from __future__ import annotations

from typing import Any

import numpy as np

from evolve.evolution import (
    Population,
    new_individual,
)
from evolve.store import programs_to_arrays


def island_streams(seed: int, islands: int) -> tuple[np.random.SeedSequence, list[tuple[int, int]]]:
    """The migration stream's seed and each island's (mutation, selection) seeds, all independent."""
    children = np.random.SeedSequence(seed).spawn(islands + 1)
    return children[0], [tuple(int(v) for v in c.generate_state(2, dtype=np.uint64)) for c in children[1:]]


def mutation_state(rng: Any) -> int:
    """The mutation stream's state as JSON (a :class:`primitives.rng.Stream` is one integer)."""
    return int(rng.state)


def set_mutation_state(rng: Any, state: Any) -> None:
    rng.state = int(state)


def fresh_island(mutation_rng: Any, selection_seed: int) -> dict:
    """An island with no population yet, an empty FEC cache, the given mutation stream and a
    fresh selection stream."""
    meta = {
        "mutation_rng": mutation_state(mutation_rng),
        "selection_rng": np.random.PCG64(selection_seed).state,
        "has_population": False,
        "head": 0,
        "evaluations": 0,
        "evaluator_individuals": 0,
        "hurdle_scores": [],
    }
    arrays = {"fec_keys": np.zeros(0, np.uint64), "fec_values": np.zeros(0), "fec_counts": np.zeros(2, np.int64)}
    return {"meta": meta, "arrays": arrays}


def island_population(island: dict) -> Population | None:
    meta, arrays = island["meta"], island["arrays"]
    if not meta["has_population"]:
        return None
    fitness = np.array(arrays["population_fitness"], dtype=np.float64)
    sizes = np.asarray(arrays["population_sizes"], dtype=np.int64).reshape(-1, 3)
    instructions, constants = arrays["population_instructions"], arrays["population_constants"]
    ends = np.cumsum(sizes.sum(axis=1))
    if (sizes < 0).any() or len(fitness) != len(sizes) or (ends[-1] if len(ends) else 0) != len(instructions):
        raise ValueError("island population arrays are inconsistent")
    # Members share the state's arrays (members are never modified in place: children are copies).
    members = []
    start = 0
    for end, size, fit in zip(ends.tolist(), sizes.tolist(), fitness.tolist(), strict=True):
        ind = new_individual(instructions[start:end], constants[start:end], tuple(size))
        ind.fitness.wvalues = (fit,)
        members.append(ind)
        start = end
    return Population(members, fitness, int(meta["head"]))


def with_population(island: dict, population: Population | None) -> dict:
    """A copy of ``island`` holding ``population`` (None: no population)."""
    arrays = {k: v for k, v in island["arrays"].items() if not k.startswith("population_")}
    if population is not None:
        arrays.update(programs_to_arrays(population.members, "population"))
        arrays["population_fitness"] = np.asarray(population.fitness, dtype=np.float64).copy()
    meta = {**island["meta"], "has_population": population is not None,
            "head": population.head if population is not None else 0}
    return {"meta": meta, "arrays": arrays}
