"""How a campaign's loop drives its population(s): the strategy interface.

:class:`evolve.engine.campaign.Campaign` owns the loop and everything that is the same for one
population and for islands: the experiment counters, the select checks and the candidate, the
hall of fame, stop rules, progress rows, checkpoint writing and the run-directory files. A
strategy owns the population state and how it advances: :class:`evolve.engine.one_population.OnePopulation`
(one population in this process, stepped by the registered search method of
:mod:`evolve.search.methods`) or :class:`evolve.islands.coordinator.Islands` (rounds of island epochs on
an executor, with migration). A strategy is given the campaign as a :class:`CampaignState`
(what it may read and update), so that neither module imports the campaign.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from evolve.config import Config
from evolve.engine.search_context import SearchContext
from primitives.memory import MemorySpec
from primitives.program import Program


class CampaignState(Protocol):
    """The campaign as a strategy sees it."""

    config: Config
    context: SearchContext
    memory: MemorySpec
    run_dir: Any
    population: Any
    halloffame: Any
    experiment: int
    individuals: int
    last_improvement: int
    candidate: Program | None
    candidate_ancestor: Program | None
    candidate_search: float

    def consider(self, individuals: list[Program], fitness: np.ndarray) -> None: ...


class Strategy(Protocol):
    """What the campaign loop calls; every method acts on the campaign given at construction."""

    def open(self) -> None:
        """Start what the strategy runs on (an executor); an unreachable one fails here."""

    def warm(self) -> None:
        """Load kernels where the work runs, before the campaign's clock starts."""

    def close(self) -> None:
        """Release what :meth:`open` started."""

    def new_experiment(self) -> None:
        """A fresh population (or populations) for the experiment the campaign just began."""

    def step(self) -> None:
        """One batch of children (one round of epochs), counted into ``individuals``; each new
        best goes to ``campaign.consider``."""

    def population_fitness(self) -> np.ndarray | None:
        """The current population's fitness (for the progress rows); None without one."""

    def resumable(self) -> bool:
        """Whether a checkpoint now holds everything a resume needs."""

    def checkpoint_part(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The strategy's fields and arrays of a checkpoint (the campaign writes its own)."""

    def restore_part(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Read :meth:`checkpoint_part`'s fields back, checking each (raises ValueError etc.)."""
