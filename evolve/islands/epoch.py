"""The epoch, run in a worker: an island's next ``n`` children, with the island kept resident in
the worker between epochs (:class:`LiveIsland`), snapshots every :data:`SNAPSHOT_ROUNDS` rounds
and the replay of the rounds a worker missed."""

from __future__ import annotations

import dataclasses
import threading
import tomllib

import numpy as np

from evolve.config import config_from_dict
from evolve.engine.search_context import SearchContext
from evolve.evaluation.evaluator import LIVE_KEYS_KEPT
from evolve.evaluation.fec import FECCache, LiveKeyHashes
from evolve.islands.state import (
    IslandMeta,
    IslandState,
    island_population,
    mutation_state,
    population_from_arrays,
    set_mutation_state,
    with_population,
)
from evolve.rundir.store import programs_to_arrays
from evolve.search.evolution import (
    Population,
    initial_population,
    make_hall_of_fame,
    random_search,
    regularized_evolution,
)
from evolve.search.methods import method


class _Worlds(threading.local):
    """Each thread's worlds: a Dask worker with several threads runs several epochs at once, and
    a world (streams, evaluator) serves one epoch at a time."""

    def __init__(self) -> None:
        self.by_config: dict[str, SearchContext] = {}


WORLDS = _Worlds()

SNAPSHOT_ROUNDS = 8
"""An island's whole state (FEC table included) comes back to the coordinator after every round
r with (r + 1) % SNAPSHOT_ROUNDS == 0; other rounds return only what the coordinator uses (program
arrays, counters). A state rebuilt from a snapshot replays at most this many epochs."""

RESIDENT_RUNS = 4
"""Campaigns whose islands a worker keeps between epochs (the most recently used)."""

_RESIDENT: dict[str, dict[int, LiveIsland]] = {}  # run key -> island -> live island
_RESIDENT_LOCK = threading.Lock()  # a live island is taken out while its epoch runs


def _world(config_toml: str) -> SearchContext:
    """The search context of a config (tasks, evaluator, toolbox, streams), built once per thread
    (keyed by the TOML text) and lent to each epoch in turn."""
    worlds = WORLDS.by_config
    world = worlds.get(config_toml)
    if world is None:
        worlds.clear()
        world = SearchContext(config_from_dict(tomllib.loads(config_toml)))
        worlds[config_toml] = world
    return world


class LiveIsland:
    """An island as objects (population members, FEC table), as an epoch uses it. A worker keeps
    the live island its epoch left behind, labelled with that epoch's ``token``, so that the
    island's next epoch, sent to the same worker, neither ships nor rebuilds it."""

    def __init__(self, meta: IslandMeta, population: Population | None, cache: FECCache, token: int | None = None) -> None:
        self.meta = meta
        self.population = population
        self.cache = cache
        # this island's own live-code keys (evolve.evaluation.fec.LiveKeyHashes): kept with the island, not
        # the world a thread lends to every island, so its work depends on its own history only
        self.live_hashes = LiveKeyHashes(LIVE_KEYS_KEPT)
        self.token = token

    @classmethod
    def from_state(cls, state: IslandState, fec_cache_size: int) -> LiveIsland:
        cache = FECCache(fec_cache_size)
        cache.load_arrays(state.arrays)
        return cls(state.meta, island_population(state), cache)

    def receive(self, reset: bool, migrants: dict[str, np.ndarray] | None) -> None:
        """What arrives before an epoch: a new experiment drops the population (it is rebuilt by
        the epoch); migrants join as the newest members, as many of the oldest die (as
        :func:`receive_migrants` on arrays)."""
        if reset:
            self.population = None
        if migrants is not None:
            if self.population is None:
                raise ValueError("migrants for an island without a population")
            members, fitness = _members(migrants)
            if len(members) > len(self.population.members):
                raise ValueError(f"{len(members)} migrants for a population of {len(self.population.members)}")
            self.population.replace_oldest_many(members, fitness)

    def evolve(self, world: SearchContext, n: int) -> tuple[int, list]:
        """``n`` children of regularized evolution (a first epoch first builds and scores the
        population; random search: ``n`` random programs). Returns (individuals produced, the
        epoch's hall of fame)."""
        meta, s = self.meta, world.config.search
        set_mutation_state(world.mutation_rng, meta.mutation_rng)
        world.selection_rng.bit_generator.state = meta.selection_rng
        evaluator = world.evaluator
        evaluator.cache = self.cache
        evaluator.live_hashes = self.live_hashes
        evaluator.evaluations = int(meta.evaluations)
        evaluator.individuals = int(meta.evaluator_individuals)
        evaluator.hurdle_scores = [float(v) for v in meta.hurdle_scores]
        halloffame = make_hall_of_fame(world.config.campaign.hall_of_fame_size)
        added = 0
        if not method(s.method).keeps_population:
            random_search(world.toolbox, n, s.batch_size, halloffame, keep_children=False)
        else:
            if self.population is None:
                self.population = initial_population(world.toolbox, s.population_size, s.batch_size, world.make_member)
                halloffame.update(self.population.members)
                added += s.population_size
            if n:
                regularized_evolution(
                    self.population, world.toolbox, n, s.mutate_prob, world.selection_rng, s.batch_size,
                    halloffame, keep_children=False,
                )
        self.meta = dataclasses.replace(
            meta,
            mutation_rng=mutation_state(world.mutation_rng),
            selection_rng=world.selection_rng.bit_generator.state,
            evaluations=evaluator.evaluations,
            evaluator_individuals=evaluator.individuals,
            hurdle_scores=tuple(evaluator.hurdle_scores),
        )
        return added + n, list(halloffame)

    def view(self) -> IslandState:
        """The island as an :class:`IslandState` without its FEC table: what the coordinator needs every round
        (programs to deal migrants from, fitness, counters)."""
        arrays = {"fec_counts": np.array([self.cache.hits, self.cache.misses], dtype=np.int64)}
        return with_population(IslandState(self.meta, arrays), self.population)

    def state(self) -> IslandState:
        """The whole island as an :class:`IslandState` (:func:`fresh_island`'s layout): checkpoints,
        snapshots."""
        return with_population(IslandState(self.meta, self.cache.to_arrays()), self.population)


def _members(arrays: dict[str, np.ndarray]) -> tuple[list, np.ndarray]:
    population = population_from_arrays(arrays, 0)
    return population.members, population.fitness


def _remember(key: str, island: int, live: LiveIsland) -> None:
    with _RESIDENT_LOCK:
        islands = _RESIDENT.pop(key, {})
        islands[island] = live
        _RESIDENT[key] = islands  # most recently used last
        while len(_RESIDENT) > RESIDENT_RUNS:
            del _RESIDENT[next(iter(_RESIDENT))]


def _take(key: str, island: int) -> LiveIsland | None:
    with _RESIDENT_LOCK:
        return _RESIDENT.get(key, {}).pop(island, None)


def run_island_epoch(task: dict) -> dict:
    """One island evolves ``task["n"]`` children (see the module docstring for the round).

    The task: ``config`` (TOML text), ``key`` (the campaign's run key) and ``island``, the epoch's
    ``token``; where the island comes from: ``base`` = ``{"state": an IslandState, "replay": [inputs
    of the epochs after it]}``, or None for the live island this worker kept from the epoch whose
    token is ``expect``; the epoch's inputs ``n``, ``reset`` (a new experiment: drop the
    population), ``migrants`` (program arrays or None); ``snapshot``: return the whole state.

    Returns ``{"view": the island without its FEC table (:meth:`LiveIsland.view`), "added":
    individuals produced, "best": the epoch's hall of fame as program arrays + "hof_fitness"}``,
    plus ``"state"`` (the whole island) when asked; or ``{"missing": True}`` when this worker does
    not hold the live island ``expect`` names (it died since, or the scheduler sent the epoch
    elsewhere): the coordinator then sends it again with a ``base``. The result is a function of
    the task alone (the live island is labelled with the token of the epoch that left it), and
    the task is not modified.
    """
    world = _world(task["config"])
    key, island = task["key"], int(task["island"])
    base = task.get("base")
    if base is not None:
        live = LiveIsland.from_state(base["state"], world.config.evaluation.fec_cache_size)
        _replay(live, world, base["replay"])
    else:
        live = _take(key, island)
        if live is None or live.token != task["expect"]:
            return {"missing": True}
    live.receive(bool(task["reset"]), task["migrants"])
    added, hof = live.evolve(world, int(task["n"]))
    live.token = task["token"]
    _remember(key, island, live)
    best = programs_to_arrays(hof, "hof")
    best["hof_fitness"] = np.array([ind.fitness.values[0] for ind in hof], dtype=np.float64)
    result = {"view": live.view(), "added": added, "best": best}
    if task["snapshot"]:
        result["state"] = live.state()
    return result


def epoch_task(config_toml: str, state: IslandState, n: int, key: str = "", island: int = 0) -> dict:
    """A task that evolves ``state`` (an :class:`IslandState`) by ``n`` children and returns the
    whole new state: the epoch as a pure function (warm-up, tests, replays)."""
    return {"config": config_toml, "key": key, "island": island, "token": 0, "expect": None, "n": n,
            "reset": False, "migrants": None, "snapshot": True, "base": {"state": state, "replay": []}}


def replay_island(config_toml: str, state: IslandState, replay: list[dict]) -> IslandState:
    """``state`` after the epochs ``replay`` lists (their n, reset, migrants), in this process."""
    if not replay:
        return state
    world = _world(config_toml)
    live = LiveIsland.from_state(state, world.config.evaluation.fec_cache_size)
    _replay(live, world, replay)
    return live.state()


def _replay(live: LiveIsland, world: SearchContext, replay: list[dict]) -> None:
    for step in replay:
        live.receive(bool(step["reset"]), step["migrants"])
        live.evolve(world, int(step["n"]))


def warm_island(task: dict) -> None:
    """A throw-away :func:`run_island_epoch` (keeps the world it builds for the real epochs, not
    the island)."""
    run_island_epoch(task)
    with _RESIDENT_LOCK:
        _RESIDENT.pop(task["key"], None)
