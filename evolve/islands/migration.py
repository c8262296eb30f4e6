"""Migration between islands: half of every population to a shared pool, shuffled and dealt out,
arriving as the newest members two rounds later (AutoML-Zero's migration, made deterministic)."""

from __future__ import annotations

import dataclasses

import numpy as np

from evolve.islands.state import IslandState


def deal_migrants(islands: list[IslandState], rng: np.random.Generator) -> list[dict[str, np.ndarray]] | None:
    """Every island copies a random half of its members to a shared pool; the pool is shuffled
    and dealt out, ``P // 2`` migrants per island (an island may get some of its own emigrants).
    Returns each island's migrants as program arrays (``population_*`` keys, in arrival order),
    or None when there is nothing to exchange (one island, or an island without a population).

    Index arithmetic on the islands' program arrays: no individuals are built, no loop over
    members; a test compares it with the object-by-object version, draw for draw."""
    if len(islands) < 2 or not all(island.meta.has_population for island in islands):
        return None
    table = _member_table([island.arrays for island in islands])
    size = len(islands[0].arrays["population_fitness"])
    half = size // 2
    pool = np.concatenate([i * size + rng.choice(size, size=half, replace=False) for i in range(len(islands))])
    order = rng.permutation(len(pool))
    return [_gather(table, pool[order[i * half : (i + 1) * half]]) for i in range(len(islands))]


def receive_migrants(island: IslandState, migrants: dict[str, np.ndarray]) -> IslandState:
    """``island`` with ``migrants`` appended as its newest members; as many of its oldest die."""
    arrays = island.arrays
    size, half = len(arrays["population_fitness"]), len(migrants["population_fitness"])
    head = island.meta.head
    table = _member_table([arrays, migrants])
    source = np.arange(size)
    source[(head + np.arange(half)) % size] = size + np.arange(half)
    new_arrays = {k: v for k, v in arrays.items() if not k.startswith("population_")}
    new_arrays.update(_gather(table, source))
    return IslandState(dataclasses.replace(island.meta, head=(head + half) % size), new_arrays)


def migrate(islands: list[IslandState], rng: np.random.Generator) -> list[IslandState]:
    """Synchronous migration: :func:`deal_migrants`, then every island receives its share at
    once. Returns new island states (the given ones are not modified)."""
    shares = deal_migrants(islands, rng)
    if shares is None:
        return list(islands)
    return [receive_migrants(island, share) for island, share in zip(islands, shares, strict=True)]


def _member_table(arrays: list[dict[str, np.ndarray]]) -> tuple:
    """The members of several populations numbered one after the other: (sizes, row starts,
    rows, instructions, constants, fitness)."""
    sizes = np.concatenate([a["population_sizes"].reshape(-1, 3) for a in arrays]).astype(np.int64)
    lengths = sizes.sum(axis=1)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    instructions = np.concatenate([a["population_instructions"] for a in arrays])
    constants = np.concatenate([a["population_constants"] for a in arrays])
    fitness = np.concatenate([a["population_fitness"] for a in arrays]).astype(np.float64)
    return sizes, starts, lengths, instructions, constants, fitness


def _gather(table: tuple, members: np.ndarray) -> dict[str, np.ndarray]:
    """Program arrays of the chosen members, in that order."""
    sizes, starts, lengths, instructions, constants, fitness = table
    chosen = lengths[members]
    # rows back to back: each member's first row, repeated over its rows, plus a running offset
    rows = np.repeat(starts[members] - np.concatenate([[0], np.cumsum(chosen)[:-1]]), chosen) + np.arange(chosen.sum())
    return {"population_sizes": sizes[members], "population_instructions": instructions[rows],
            "population_constants": constants[rows], "population_fitness": fitness[members]}
