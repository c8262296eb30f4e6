"""An island's state as typed records, wherever it travels (coordinator, workers, checkpoints):
the RNG streams of each island, a fresh island, its population in and out.

:class:`IslandState` is one island: its :class:`IslandMeta` and its arrays. The meta holds the
island's small fields: the mutation stream's state (one integer), the selection stream's NumPy
``PCG64`` state, whether the island has a population and its ring ``head``, its evaluator's
counters (``evaluations``, ``evaluator_individuals``) and the hurdle scores. In a checkpoint it is
stored as JSON (:meth:`IslandMeta.to_json`, read back, each field checked, by
:meth:`IslandMeta.from_json`). The arrays hold the FEC cache (``fec_keys``, ``fec_values``,
``fec_counts``; a view sent back every round holds only ``fec_counts``) and, with a population,
its programs and fitness (``population_sizes``, ``population_instructions``,
``population_constants``, ``population_fitness``). Both records are frozen: an update is a new
record (:func:`dataclasses.replace`, :func:`with_population`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from evolve.rundir import checkpoint_fields as fields
from evolve.rundir.store import programs_to_arrays
from evolve.search.evolution import (
    Population,
    new_individual,
)


@dataclasses.dataclass(frozen=True)
class IslandMeta:
    """An island's fields besides its arrays: both RNG states, population flag and ring head,
    the evaluator's counters and hurdle scores."""

    mutation_rng: int  # a primitives.rng.Stream state, in [0, 2**64)
    selection_rng: dict  # NumPy's PCG64 bit-generator state
    has_population: bool = False
    head: int = 0  # the population's ring head (0 without a population)
    evaluations: int = 0
    evaluator_individuals: int = 0
    hurdle_scores: tuple[float, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The meta as a JSON-able dict (the checkpoint's keys, in this order)."""
        return {
            "mutation_rng": self.mutation_rng,
            "selection_rng": self.selection_rng,
            "has_population": self.has_population,
            "head": self.head,
            "evaluations": self.evaluations,
            "evaluator_individuals": self.evaluator_individuals,
            "hurdle_scores": list(self.hurdle_scores),
        }

    @classmethod
    def from_json(cls, data: Any) -> IslandMeta:
        """The meta read back from a checkpoint's JSON, every field checked for type and range
        (:class:`ValueError` naming the field, the value and what is allowed)."""
        if not isinstance(data, dict):
            raise ValueError(f"island meta = {_short(data)}: expected an object")
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in data]
        if missing:
            raise ValueError(f"island meta: missing {', '.join(missing)}")
        return cls(
            mutation_rng=fields.stream_state(data, "mutation_rng"),
            selection_rng=fields.pcg64_state(data, "selection_rng"),
            has_population=fields.flag(data, "has_population"),
            head=fields.count(data, "head"),  # checked against the population on use
            evaluations=fields.count(data, "evaluations"),
            evaluator_individuals=fields.count(data, "evaluator_individuals"),
            hurdle_scores=tuple(fields.scores(data, "hurdle_scores")),
        )


@dataclasses.dataclass(frozen=True)
class IslandState:
    """One island: its :class:`IslandMeta` and its arrays (FEC cache, population programs and
    fitness; see the module docstring). The arrays are shared, never modified in place."""

    meta: IslandMeta
    arrays: dict[str, np.ndarray]


def island_streams(seed: int, islands: int) -> tuple[np.random.SeedSequence, list[tuple[int, int]]]:
    """The migration stream's seed and each island's (mutation, selection) seeds, all independent."""
    children = np.random.SeedSequence(seed).spawn(islands + 1)
    return children[0], [tuple(int(v) for v in c.generate_state(2, dtype=np.uint64)) for c in children[1:]]


def mutation_state(rng: Any) -> int:
    """The mutation stream's state as JSON (a :class:`primitives.rng.Stream` is one integer)."""
    return int(rng.state)


def set_mutation_state(rng: Any, state: int) -> None:
    rng.state = int(state)


def fresh_island(mutation_rng: Any, selection_seed: int) -> IslandState:
    """An island with no population yet, an empty FEC cache, the given mutation stream and a
    fresh selection stream."""
    meta = IslandMeta(mutation_rng=mutation_state(mutation_rng), selection_rng=np.random.PCG64(selection_seed).state)
    arrays = {"fec_keys": np.zeros(0, np.uint64), "fec_values": np.zeros(0), "fec_counts": np.zeros(2, np.int64)}
    return IslandState(meta, arrays)


def population_from_arrays(arrays: dict[str, np.ndarray], head: int) -> Population:
    """The population stored in ``arrays`` (``population_*`` keys) with ring head ``head``."""
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
    return Population(members, fitness, int(head))


def island_population(island: IslandState) -> Population | None:
    """The island's population as objects (None: it has none yet)."""
    if not island.meta.has_population:
        return None
    return population_from_arrays(island.arrays, island.meta.head)


def with_population(island: IslandState, population: Population | None) -> IslandState:
    """A copy of ``island`` holding ``population`` (None: no population)."""
    arrays = {k: v for k, v in island.arrays.items() if not k.startswith("population_")}
    if population is not None:
        arrays.update(programs_to_arrays(population.members, "population"))
        arrays["population_fitness"] = np.asarray(population.fitness, dtype=np.float64).copy()
    meta = dataclasses.replace(island.meta, has_population=population is not None,
                               head=population.head if population is not None else 0)
    return IslandState(meta, arrays)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
