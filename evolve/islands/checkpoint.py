"""Checks of island state read back from a checkpoint (consistent program arrays, migrants)."""

from __future__ import annotations

import numpy as np

from evolve.islands.state import IslandState
from evolve.rundir import checkpoint_fields as fields
from evolve.rundir.store import programs_from_arrays


def check_program_arrays(share: dict[str, np.ndarray]) -> None:
    """Program arrays read from a checkpoint (``population_*``): consistent with each other."""
    programs_from_arrays(share, "population")  # dtypes, shapes, op codes (addresses: by the caller)
    fields.fitness_array(share, "population_fitness", len(np.asarray(share["population_sizes"])))
    sizes = np.asarray(share["population_sizes"])
    fitness, rows = share["population_fitness"], sizes.sum() if sizes.size else 0
    if (sizes.ndim != 2 or sizes.shape[1] != 3 or (sizes < 0).any() or len(fitness) != len(sizes)
            or len(share["population_instructions"]) != rows or len(share["population_constants"]) != rows):
        raise ValueError("program arrays in the checkpoint are inconsistent")


def check_migrants(share: dict[str, np.ndarray], island: IslandState) -> None:
    """Migrants read from a checkpoint: consistent program arrays, at most a population of them."""
    check_program_arrays(share)
    if not island.meta.has_population or len(share["population_fitness"]) > len(island.arrays["population_fitness"]):
        raise ValueError("migrants in the checkpoint are inconsistent")


def prefixed(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
