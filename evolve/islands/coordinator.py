"""Islands: several aging populations that evolve apart and exchange migrants (DESIGN.md, Search).

Round r of an island campaign::

    for every island i, in parallel (an executor: serial, processes or dask):
        input(i, r) = output(i, r - 1), plus the migrants dealt to i after round r - 2
        epoch: evolve migration_interval children by regularized evolution
               (the first epoch of an experiment first builds and scores the initial population)
    coordinator, once every island finished round r, in island order: count the individuals,
        update the hall of fame, check each island's best child of the epoch on the select tasks
        (as Campaign does); then deal migrants from the round-r outputs (:func:`deal_migrants`):
        every island copies a uniformly random half of its members to a shared pool, the pool is
        shuffled and dealt out, half a population per island; they arrive before round r + 2
        (:func:`receive_migrants`: appended as the newest members, as many of the oldest die)

Migration lags one round so that the rounds pipeline: an island that finishes round r + 1 has
everything its round r + 2 needs, and starts it at once instead of waiting for the slowest island,
the coordinator and the round trip (on two workers that wait was ~15% of a 10,000-child round).
AutoML-Zero's own workers migrate asynchronously; this lag is the deterministic version of that.

An island's state stays where its last epoch ran. Each island goes to the same worker every round
(executor affinity), and the worker keeps the island as objects -- population members, the FEC
table -- between its epochs (:class:`LiveIsland`), so a round ships only what the coordinator
needs: out, the island's programs and fitness (to deal migrants from) and counters; in, the
migrants and a few numbers. Every :data:`SNAPSHOT_ROUNDS` rounds the whole state (FEC table
included) comes back as a snapshot. An epoch sent to a worker that does not hold its island (the
worker died, or Dask placed it elsewhere) is answered "missing" and sent again with the island's
last snapshot and the inputs of the rounds since, which the worker replays. Shipping the whole
state every round cost ~7% of each epoch (packing and sorting a 90,000-entry FEC table,
rebuilding 1,000 members, pickling ~2.6 MB each way), on the same cores as the search.

An epoch is a function of its inputs alone: (config, island state after the previous round, n,
migrants); the state is plain data (numpy arrays + JSON-able meta: programs, fitness, ring head,
both RNG states, FEC cache, counters) wherever it travels, and a live island is labelled with the
epoch that made it. Each epoch's inputs are fixed before it starts, and migration is drawn by the
coordinator with its own seeded stream, in round order, so a seeded run gives the same result
whichever executor runs it, however many workers it has, and whether workers died or lost their
islands on the way (an epoch is rerun, or replayed, from the same inputs). The checkpoint holds
every island as its last snapshot plus the inputs of the rounds since, and the migrants on their
way; a resumed run equals the uninterrupted one.
"""

from __future__ import annotations

import threading
import tomllib
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from evolve import checkpoint_fields as fields
from evolve.campaign import Campaign
from evolve.config import Config, config_from_dict, to_toml
from evolve.errors import CheckpointError, ConfigError
from evolve.evolution import (
    Population,
    as_individual,
    initial_population,
    make_hall_of_fame,
    new_individual,
    random_search,
    regularized_evolution,
)
from evolve.executors import Executor, Job, make_executor
from evolve.fec import FECCache
from evolve.methods import METHODS, method
from evolve.store import programs_from_arrays, programs_to_arrays, save_checkpoint
from primitives.memory import ProgramError
from primitives.program import validate

# ---------------------------------------------------------------------------- island state


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


# ---------------------------------------------------------------------------- the epoch (workers)

class _Worlds(threading.local):
    """Each thread's worlds: a Dask worker with several threads runs several epochs at once, and
    a world (streams, evaluator) serves one epoch at a time."""

    def __init__(self) -> None:
        self.by_config: dict[str, Campaign] = {}


_WORLDS = _Worlds()

SNAPSHOT_ROUNDS = 8
"""An island's whole state (FEC table included) comes back to the coordinator after every round
r with (r + 1) % SNAPSHOT_ROUNDS == 0; other rounds return only what the coordinator uses (program
arrays, counters). A state rebuilt from a snapshot replays at most this many epochs."""

RESIDENT_RUNS = 4
"""Campaigns whose islands a worker keeps between epochs (the most recently used)."""

_RESIDENT: dict[str, dict[int, LiveIsland]] = {}  # run key -> island -> live island
_RESIDENT_LOCK = threading.Lock()  # a live island is taken out while its epoch runs


def _world(config_toml: str) -> Campaign:
    """Tasks, evaluator and toolbox of a config, built once per process (keyed by the TOML text)."""
    worlds = _WORLDS.by_config
    world = worlds.get(config_toml)
    if world is None:
        worlds.clear()
        world = Campaign(config_from_dict(tomllib.loads(config_toml)), Path("."), quiet=True)
        worlds[config_toml] = world
    return world


class LiveIsland:
    """An island as objects (population members, FEC table), as an epoch uses it. A worker keeps
    the live island its epoch left behind, labelled with that epoch's ``token``, so that the
    island's next epoch, sent to the same worker, neither ships nor rebuilds it."""

    def __init__(self, meta: dict, population: Population | None, cache: FECCache, token: int | None = None) -> None:
        self.meta = meta
        self.population = population
        self.cache = cache
        self.token = token

    @classmethod
    def from_state(cls, state: dict, fec_cache_size: int) -> LiveIsland:
        cache = FECCache(fec_cache_size)
        cache.load_arrays(state["arrays"])
        return cls(dict(state["meta"]), island_population(state), cache)

    def receive(self, reset: bool, migrants: dict | None) -> None:
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

    def evolve(self, world: Campaign, n: int) -> tuple[int, list]:
        """``n`` children of regularized evolution (a first epoch first builds and scores the
        population; random search: ``n`` random programs). Returns (individuals produced, the
        epoch's hall of fame)."""
        meta, s = self.meta, world.config.search
        set_mutation_state(world.mutation_rng, meta["mutation_rng"])
        world.selection_rng.bit_generator.state = meta["selection_rng"]
        evaluator = world.evaluator
        evaluator.cache = self.cache
        evaluator.evaluations = int(meta["evaluations"])
        evaluator.individuals = int(meta["evaluator_individuals"])
        evaluator.hurdle_scores = [float(v) for v in meta["hurdle_scores"]]
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
        self.meta = {
            **meta,
            "mutation_rng": mutation_state(world.mutation_rng),
            "selection_rng": world.selection_rng.bit_generator.state,
            "evaluations": evaluator.evaluations,
            "evaluator_individuals": evaluator.individuals,
            "hurdle_scores": list(evaluator.hurdle_scores),
        }
        return added + n, list(halloffame)

    def view(self) -> dict:
        """The island as plain data without its FEC table: what the coordinator needs every round
        (programs to deal migrants from, fitness, counters)."""
        arrays = {"fec_counts": np.array([self.cache.hits, self.cache.misses], dtype=np.int64)}
        return with_population({"meta": self.meta, "arrays": arrays}, self.population)

    def state(self) -> dict:
        """The whole island as plain data (:func:`fresh_island`'s layout): checkpoints, snapshots."""
        return with_population({"meta": self.meta, "arrays": self.cache.to_arrays()}, self.population)


def _members(arrays: dict) -> tuple[list, np.ndarray]:
    population = island_population({"meta": {"has_population": True, "head": 0}, "arrays": arrays})
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
    ``token``; where the island comes from: ``base`` = ``{"state": island state, "replay": [inputs
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


def epoch_task(config_toml: str, state: dict, n: int, key: str = "", island: int = 0) -> dict:
    """A task that evolves ``state`` (an island as plain data) by ``n`` children and returns the
    whole new state: the epoch as a pure function (warm-up, tests, replays)."""
    return {"config": config_toml, "key": key, "island": island, "token": 0, "expect": None, "n": n,
            "reset": False, "migrants": None, "snapshot": True, "base": {"state": state, "replay": []}}


def replay_island(config_toml: str, state: dict, replay: list[dict]) -> dict:
    """``state`` after the epochs ``replay`` lists (their n, reset, migrants), in this process."""
    if not replay:
        return state
    world = _world(config_toml)
    live = LiveIsland.from_state(state, world.config.evaluation.fec_cache_size)
    _replay(live, world, replay)
    return live.state()


def _replay(live: LiveIsland, world: Campaign, replay: list[dict]) -> None:
    for step in replay:
        live.receive(bool(step["reset"]), step["migrants"])
        live.evolve(world, int(step["n"]))


def warm_island(task: dict) -> None:
    """A throw-away :func:`run_island_epoch` (keeps the world it builds for the real epochs, not
    the island)."""
    run_island_epoch(task)
    with _RESIDENT_LOCK:
        _RESIDENT.pop(task["key"], None)


# ---------------------------------------------------------------------------- migration


def deal_migrants(islands: list[dict], rng: np.random.Generator) -> list[dict] | None:
    """Every island copies a random half of its members to a shared pool; the pool is shuffled
    and dealt out, ``P // 2`` migrants per island (an island may get some of its own emigrants).
    Returns each island's migrants as program arrays (``population_*`` keys, in arrival order),
    or None when there is nothing to exchange (one island, or an island without a population).

    Index arithmetic on the islands' program arrays: no individuals are built, no loop over
    members; a test compares it with the object-by-object version, draw for draw."""
    if len(islands) < 2 or not all(island["meta"]["has_population"] for island in islands):
        return None
    table = _member_table([island["arrays"] for island in islands])
    size = len(islands[0]["arrays"]["population_fitness"])
    half = size // 2
    pool = np.concatenate([i * size + rng.choice(size, size=half, replace=False) for i in range(len(islands))])
    order = rng.permutation(len(pool))
    return [_gather(table, pool[order[i * half : (i + 1) * half]]) for i in range(len(islands))]


def receive_migrants(island: dict, migrants: dict) -> dict:
    """``island`` with ``migrants`` appended as its newest members; as many of its oldest die."""
    arrays = island["arrays"]
    size, half = len(arrays["population_fitness"]), len(migrants["population_fitness"])
    head = int(island["meta"]["head"])
    table = _member_table([arrays, migrants])
    source = np.arange(size)
    source[(head + np.arange(half)) % size] = size + np.arange(half)
    new_arrays = {k: v for k, v in arrays.items() if not k.startswith("population_")}
    new_arrays.update(_gather(table, source))
    return {"meta": {**island["meta"], "head": (head + half) % size}, "arrays": new_arrays}


def migrate(islands: list[dict], rng: np.random.Generator) -> list[dict]:
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


# ---------------------------------------------------------------------------- the coordinator


class IslandCampaign(Campaign):
    """A campaign of ``campaign.islands`` populations run by ``campaign.executor``.

    The coordinator (this object) keeps the islands as plain data and does everything but the
    epochs: select checks, success/budget/stop logic, progress rows, hall of fame, checkpoints and
    the run-directory files, exactly as :class:`Campaign`. ``individuals`` counts all islands.
    """

    epoch_function = staticmethod(run_island_epoch)  # a module-level function (it is shipped to workers)

    def __init__(self, config: Config, run_dir: Path, quiet: bool = False) -> None:
        if not method(config.search.method).islands:
            allowed = ", ".join(name for name, m in METHODS.items() if m.islands)
            raise ConfigError(
                f"search.method = {config.search.method!r}: islands (campaign.islands = "
                f"{config.campaign.islands}) run {allowed}; use campaign.islands = 1"
            )
        super().__init__(config, run_dir, quiet)
        self.config_toml = to_toml(config)
        migration_seed, seeds = island_streams(config.seed, config.campaign.islands)
        self.migration_rng = np.random.Generator(np.random.PCG64(migration_seed))
        # each island's mutation stream is of the kind Campaign uses, seeded apart
        self.islands = [fresh_island(type(self.mutation_rng)(a), b) for a, b in seeds]
        self.executor: Executor | None = None
        # the pipeline (see _step): rounds processed, epochs started, migrants on their way
        self.round = 0
        self.jobs: dict[tuple[int, int], Job] = {}
        self.incoming: dict[int, list[dict]] = {}  # round r -> what each island receives before it
        self.round_sizes: dict[int, tuple[int, int]] = {}  # round r -> (children per island, individuals)
        # where each island's state lives: self.islands[i] is its last round's output without the
        # FEC table (the view); snapshots[i] = (round s, whole state after round s, or the fresh
        # island: s = -1); inputs[i][q] = what round q > s fed it (n, reset, migrants), to replay;
        # tokens[i] = the token of the epoch that made the view (None: no worker holds it)
        self.run_key = uuid.uuid4().hex
        self.snapshots: list[tuple[int, dict]] = [(-1, island) for island in self.islands]
        self.inputs: list[dict[int, dict]] = [{} for _ in self.islands]
        self.tokens: list[int | None] = [None] * len(self.islands)
        self.next_token = 0

    def open_executor(self) -> None:
        """Start (or connect to) the executor; an unreachable scheduler fails here, before any work."""
        if self.executor is None:
            c = self.config.campaign
            self.executor = make_executor(c.executor, c.workers, c.scheduler)

    def run(self) -> dict:
        self.open_executor()
        # Numba compiles once: a throw-away epoch here compiles (or loads) every kernel an epoch
        # uses into the on-disk cache, where the workers then find them; then every worker runs one
        # too (imports, kernels, tasks), before the campaign's clock starts, as a one-population
        # campaign builds its tasks and loads its kernels before its clock starts
        warm_task = epoch_task(self.config_toml, self.snapshots[0][1], 1, key=f"warm-{self.run_key}")
        if self.config.campaign.executor != "serial":
            warm_island(warm_task)
            _WORLDS.by_config.clear()
        self.executor.warm(warm_island, warm_task)
        try:
            return super().run()
        finally:
            self.executor.close()
            self.executor = None

    def _new_experiment(self) -> None:
        self.experiment += 1
        self.experiment_start = self.individuals
        self.experiment_best = -1.0
        self.last_improvement = self.individuals
        # streams and FEC caches go on; the populations are rebuilt by the next epoch, so epochs
        # started ahead and migrants on their way belong to the old experiment
        self.islands = [with_population(island, None) for island in self.islands]
        self._drop_pipeline()

    def _drop_pipeline(self) -> None:
        for job in self.jobs.values():
            if job.future is not None:
                job.future.cancel()  # a queued epoch never starts; a running one is only ignored
        self.jobs.clear()
        self.incoming.clear()
        self.round_sizes.clear()
        for inputs in self.inputs:
            for q in [q for q in inputs if q >= self.round]:
                del inputs[q]

    def _round_size(self, r: int) -> int:
        """Children per island in round ``r`` (``self.round`` or the one after): the migration
        interval, or what is left of ``campaign.max_evaluations`` shared out. Fixed when first
        asked, from what the rounds before it will have produced (known before they finish)."""
        if r not in self.round_sizes:
            c, s = self.config.campaign, self.config.search
            islands = len(self.islands)
            done = self.individuals + (self.round_sizes[self.round][1] if r > self.round else 0)
            # populations are built by a round whose islands have none (only the current round can)
            pending = 0 if not method(s.method).keeps_population or r > self.round else s.population_size * sum(
                not island["meta"]["has_population"] for island in self.islands)
            n = c.migration_interval
            if c.max_evaluations:
                n = min(n, max(0, -(-(c.max_evaluations - done - pending) // islands)))
            self.round_sizes[r] = (n, n * islands + pending)
        return self.round_sizes[r][0]

    def _start_epoch(self, i: int, r: int) -> None:
        """Start island ``i``'s epoch of round ``r``: from its state after round ``r - 1`` plus the
        migrants dealt for round ``r`` (dealt after round ``r - 2``). The state stays where the
        epoch of round ``r - 1`` left it, in its worker; the first epoch after a start or a resume
        ships it (a snapshot and the epochs to replay from it)."""
        if r == self.round:
            expect = self.tokens[i]
            reset = not self.islands[i]["meta"]["has_population"]  # a new experiment, or none yet
        else:  # started ahead: on the output of round r - 1, still running or not yet consumed
            expect, reset = self.jobs[(i, r - 1)].item["token"], False
        migrants = self.incoming[r][i] if r in self.incoming else None
        self.inputs[i][r] = {"n": self._round_size(r), "reset": reset, "migrants": migrants}
        task = {"config": self.config_toml, "key": self.run_key, "island": i, "token": self.next_token,
                "expect": expect, **self.inputs[i][r], "snapshot": (r + 1) % SNAPSHOT_ROUNDS == 0,
                "base": self._base(i, r) if expect is None else None}
        self.next_token += 1
        self.jobs[(i, r)] = self.executor.start(self.epoch_function, task, affinity=i)

    def _base(self, i: int, r: int) -> dict:
        """Island ``i``'s state before round ``r`` as a snapshot and the rounds to replay on it."""
        s, state = self.snapshots[i]
        return {"state": state, "replay": [self.inputs[i][q] for q in range(s + 1, r)]}

    def _resend_missing(self) -> None:
        """Epochs whose worker did not hold their island (it died, or the epoch went elsewhere)
        start again with the island's state shipped; the island's later epochs, queued behind
        the one that missed (so they would miss too), start again after it."""
        for i, r in sorted(self.jobs):
            job = self.jobs.get((i, r))  # the current job: a later one may have been restarted already
            if job is not None and job.done and "missing" in job.value:
                later = sorted(q for j, q in self.jobs if j == i and q > r)
                for q in later:
                    dropped = self.jobs.pop((i, q))
                    if dropped.future is not None:
                        dropped.future.cancel()
                task = {**job.item, "base": self._base(i, r)}
                self.jobs[(i, r)] = self.executor.start(self.epoch_function, task, affinity=i)
                for q in later:
                    self._start_epoch(i, q)

    def _start_ahead(self) -> None:
        """Every island's epoch of the next round starts early: its inputs are known (the
        migrants were dealt a round earlier, and the state is whatever the current epoch leaves
        in its worker). Where a worker runs one affinity's items in order (serial, processes, a
        Dask scheduler without work stealing, such as the local cluster) it starts with the
        current one, waits in that worker's queue and begins the moment the current one ends,
        without a round trip to the coordinator; elsewhere (a Dask scheduler that steals work may
        move a queued task to an idle worker, which does not hold the island) it starts when the
        current one finished, whoever is still running."""
        r = self.round
        if r not in self.round_sizes or self.round_sizes[r][0] < self.config.campaign.migration_interval:
            return  # no epoch of round r started yet, or it is the budget's last (short) round
        if self._round_size(r + 1) == 0:
            return
        c = self.config.campaign
        if c.stall_individuals and self.individuals + self.round_sizes[r][1] - self.last_improvement >= c.stall_individuals:
            return  # round r may end the experiment: an epoch started ahead would be dropped
        queue = self.executor.ordered_affinity
        for i in range(len(self.islands)):
            job = self.jobs.get((i, r))
            if job is not None and (i, r + 1) not in self.jobs and (queue or (job.done and "missing" not in job.value)):
                self._start_epoch(i, r + 1)

    def _step(self) -> None:
        """One round, pipelined. Migration lags one round: the migrants dealt from the islands
        after round r join them before round r + 2, so an island that finishes round r + 1
        early goes on at once instead of waiting for the slowest island and the coordinator.
        Everything is still a function of the seed: each epoch's inputs are fixed before it
        starts, and the coordinator consumes results in round and island order."""
        r, count = self.round, len(self.islands)
        n = self._round_size(r)
        for i in range(count):
            if (i, r) not in self.jobs:
                self._start_epoch(i, r)
        while True:
            self._resend_missing()
            self._start_ahead()
            current = [self.jobs[(i, r)] for i in range(count)]
            if all(job.done for job in current):
                break
            self.executor.wait_any([job for job in current if not job.done])
        jobs = [self.jobs.pop((i, r)) for i in range(count)]
        for i, job in enumerate(jobs):
            result = job.value
            self.individuals += int(result["added"])
            fitness = result["best"]["hof_fitness"]
            best = [as_individual(p, f) for p, f in zip(programs_from_arrays(result["best"], "hof"), fitness.tolist(), strict=True)]
            self.halloffame.update(best)
            if best:
                self._consider(best, fitness)
            self.islands[i], self.tokens[i] = result["view"], job.item["token"]
            if "state" in result:
                self.snapshots[i] = (r, result["state"])
                for q in [q for q in self.inputs[i] if q <= r]:
                    del self.inputs[i][q]
        # a short last round (budget) deals no migrants: the run ends after it
        if n == self.config.campaign.migration_interval:
            shares = deal_migrants(self.islands, self.migration_rng)
            if shares is not None:
                self.incoming[r + 2] = shares
        self.incoming.pop(r, None)
        self.round_sizes.pop(r, None)
        self.round += 1
        self._sync_counters()
        self._start_ahead()

    def _sync_counters(self) -> None:
        """The coordinator's evaluator reports the totals over islands (progress rows, summary)."""
        metas = [island["meta"] for island in self.islands]
        self.evaluator.evaluations = sum(int(m["evaluations"]) for m in metas)
        self.evaluator.individuals = sum(int(m["evaluator_individuals"]) for m in metas)
        counts = sum(island["arrays"]["fec_counts"].astype(np.int64) for island in self.islands)
        self.evaluator.cache.hits, self.evaluator.cache.misses = (int(v) for v in counts)

    def _population_fitness(self) -> np.ndarray:
        fitness = [island["arrays"]["population_fitness"] for island in self.islands if island["meta"]["has_population"]]
        return np.concatenate(fitness) if fitness else super()._population_fitness()

    # ------------------------------------------------------------------ checkpoints

    def checkpoint(self) -> None:
        meta = {key: getattr(self, key, None) for key in _CAMPAIGN_KEYS}
        meta.update({
            "config": self.config_toml,  # what resume runs (config.toml is checked against it)
            "seconds": self.seconds,
            "progress_rows": self.progress.rows,
            "has_candidate": self.candidate is not None,
            "migration_rng": self.migration_rng.bit_generator.state,
            # each island as its last snapshot and the rounds since, which resume replays
            "islands": [state["meta"] for _, state in self.snapshots],
            "snapshot_rounds": [s for s, _ in self.snapshots],
            "replay": [[{"round": q, "n": inputs[q]["n"], "reset": inputs[q]["reset"],
                         "migrants": inputs[q]["migrants"] is not None} for q in sorted(inputs) if q < self.round]
                       for inputs in self.inputs],
            # the pipeline: epochs started ahead are not saved (resume starts them again from
            # the same inputs); migrants on their way are
            "round": self.round,
            "incoming": sorted(self.incoming),
        })
        hof = list(self.halloffame)
        arrays = programs_to_arrays(hof, "hof")
        arrays["hof_fitness"] = np.array([ind.fitness.values[0] for ind in hof], dtype=np.float64)
        if self.candidate is not None:
            arrays.update(programs_to_arrays([self.candidate], "candidate"))
        for i, (_, state) in enumerate(self.snapshots):
            arrays.update({f"island{i}_{key}": value for key, value in state["arrays"].items()})
            for q, step in self.inputs[i].items():
                if q < self.round and step["migrants"] is not None:
                    arrays.update({f"replay{i}_{q}_{key}": value for key, value in step["migrants"].items()})
        for r, shares in self.incoming.items():
            for i, share in enumerate(shares):
                arrays.update({f"incoming{r}_island{i}_{key}": value for key, value in share.items()})
        save_checkpoint(self.run_dir, meta, arrays)

    def restore(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        try:
            if len(meta["islands"]) != len(self.islands):
                raise ValueError(f"{len(meta['islands'])} islands in the checkpoint, {len(self.islands)} in the config")
            for key, kind in _CAMPAIGN_KEYS.items():
                setattr(self, key, kind(meta.get(key)) if key == "individuals_to_success" else kind(meta[key]))
            individuals = fields.count(meta, "individuals")
            for key in ("experiment", "experiment_start", "last_improvement"):
                fields.count(meta, key, 0, individuals if key != "experiment" else fields.MAX_COUNT)
            for key in ("experiment_best", "candidate_search", "candidate_select"):
                fields.number(meta, key, -1.0, 1.0)
            fields.flag(meta, "success")
            fields.optional_number(meta, "seconds_to_success", 0.0, fields.MAX_SECONDS)
            fields.optional_count(meta, "individuals_to_success")
            self.prior_seconds = fields.number(meta, "seconds", 0.0, fields.MAX_SECONDS)
            self.migration_rng.bit_generator.state = fields.pcg64_state(meta, "migration_rng")
            self.round = fields.count(meta, "round")
            # (a checkpoint written before snapshots holds every island as of the last round)
            snapshot_rounds = meta.get("snapshot_rounds", [self.round - 1] * len(self.islands))
            replays = meta.get("replay", [[] for _ in self.islands])
            if len(snapshot_rounds) != len(self.islands) or len(replays) != len(self.islands):
                raise ValueError("snapshot_rounds and replay must have an entry per island")
            for i, island_meta in enumerate(meta["islands"]):
                snapshot = {"meta": island_meta, "arrays": _prefixed(arrays, f"island{i}_")}
                self._check_island(snapshot)
                s, records = int(snapshot_rounds[i]), replays[i]
                if (not -1 <= s < self.round or not isinstance(records, list) or len(records) != self.round - s - 1
                        or [int(step["round"]) for step in records] != list(range(s + 1, self.round))):
                    raise ValueError(f"island {i}: a snapshot of round {s} and the replay {records!r} "
                                     f"do not lead to round {self.round}")
                replay = [self._replay_step(step, _prefixed(arrays, f"replay{i}_{int(step['round'])}_")) for step in records]
                # the island before round self.round, rebuilt here once (a first epoch ships it)
                state = replay_island(self.config_toml, snapshot, replay)
                self.islands[i], self.snapshots[i] = state, (self.round - 1, state)
            for r in meta["incoming"]:
                shares = []
                for i in range(len(self.islands)):
                    share = _prefixed(arrays, f"incoming{int(r)}_island{i}_")
                    _check_migrants(share, self.islands[i])
                    for program in programs_from_arrays(share, "population"):
                        validate(program, self.memory)
                    shares.append(share)
                self.incoming[int(r)] = shares
            hof = programs_from_arrays(arrays, "hof", self.memory)
            # worst first: DEAP inserts a tie before its equals, so this rebuilds the same order
            self.halloffame.update([as_individual(p, f) for p, f in zip(hof, arrays["hof_fitness"].tolist(), strict=True)][::-1])
            if meta["has_candidate"]:
                self.candidate = programs_from_arrays(arrays, "candidate", self.memory)[0]
            self.progress_rows = int(meta["progress_rows"])
            self._sync_counters()
        except (KeyError, TypeError, ValueError, OverflowError, ProgramError, IndexError) as exc:
            raise CheckpointError(f"{self.run_dir}: island checkpoint content is invalid ({exc!r})") from None

    def _replay_step(self, step: dict, share: dict[str, np.ndarray]) -> dict:
        """One round's inputs read back from a checkpoint, checked."""
        n, reset, has_migrants = int(step["n"]), step["reset"], step["migrants"]
        if not 0 <= n <= self.config.campaign.migration_interval or not isinstance(reset, bool) or not isinstance(has_migrants, bool):
            raise ValueError(f"replay step {step!r}: n must be 0..migration_interval, reset and migrants booleans")
        if not has_migrants:
            return {"n": n, "reset": reset, "migrants": None}
        _check_program_arrays(share)
        for program in programs_from_arrays(share, "population"):
            validate(program, self.memory)
        return {"n": n, "reset": reset, "migrants": share}

    def _check_island(self, island: dict) -> None:
        """Everything an epoch will read from an island state read back from a checkpoint, so
        that a bad one fails here, as one clear error, not in a worker: its streams, counters,
        FEC cache and (valid) programs."""
        meta = island["meta"]
        if not isinstance(meta, dict) or not isinstance(meta["has_population"], bool):
            raise ValueError("island meta must be an object with a boolean has_population")
        fields.stream_state(meta, "mutation_rng")
        fields.pcg64_state(meta, "selection_rng")
        for key in ("evaluations", "evaluator_individuals", "head"):
            fields.count(meta, key)
        fields.scores(meta, "hurdle_scores")
        FECCache(self.config.evaluation.fec_cache_size).load_arrays(island["arrays"])
        if meta["has_population"]:
            programs = programs_from_arrays(island["arrays"], "population", self.memory)
            fields.fitness_array(island["arrays"], "population_fitness", len(programs))
            if len(programs) != self.config.search.population_size:
                raise ValueError(f"{len(programs)} island members, search.population_size is "
                                 f"{self.config.search.population_size}")
        population = island_population(island)  # validates the population arrays
        if population is not None:
            if not 0 <= population.head < len(population.members):
                raise ValueError(f"head {population.head} outside 0..{len(population.members) - 1}")


def _check_program_arrays(share: dict[str, np.ndarray]) -> None:
    """Program arrays read from a checkpoint (``population_*``): consistent with each other."""
    programs_from_arrays(share, "population")  # dtypes, shapes, op codes (addresses: by the caller)
    fields.fitness_array(share, "population_fitness", len(np.asarray(share["population_sizes"])))
    sizes = np.asarray(share["population_sizes"])
    fitness, rows = share["population_fitness"], sizes.sum() if sizes.size else 0
    if (sizes.ndim != 2 or sizes.shape[1] != 3 or (sizes < 0).any() or len(fitness) != len(sizes)
            or len(share["population_instructions"]) != rows or len(share["population_constants"]) != rows):
        raise ValueError("program arrays in the checkpoint are inconsistent")


def _check_migrants(share: dict[str, np.ndarray], island: dict) -> None:
    """Migrants read from a checkpoint: consistent program arrays, at most a population of them."""
    _check_program_arrays(share)
    if not island["meta"]["has_population"] or len(share["population_fitness"]) > len(island["arrays"]["population_fitness"]):
        raise ValueError("migrants in the checkpoint are inconsistent")


def _prefixed(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}


def _optional_float(value: float | None) -> float | None:
    return None if value is None else float(value)


_CAMPAIGN_KEYS = {
    "experiment": int, "individuals": int, "experiment_start": int, "last_improvement": int,
    "experiment_best": float, "candidate_search": float, "candidate_select": float,
    "success": bool, "seconds_to_success": _optional_float,
    "individuals_to_success": lambda v: None if v is None else int(v),
}
