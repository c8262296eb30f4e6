"""The coordinator: :class:`Islands`, the strategy by which a campaign's loop runs
``campaign.islands`` populations: rounds of island epochs on an executor, pipelining, migration,
the islands' part of a checkpoint and its restore. The campaign (:class:`evolve.engine.campaign.Campaign`)
keeps what is common to one population and islands: select checks, success/budget/stop logic,
progress rows, the hall of fame, checkpoints and the run-directory files."""

from __future__ import annotations

import uuid

import numpy as np

import evolve.islands.epoch as residency
from evolve.config import Config, to_toml
from evolve.engine.strategy import CampaignState
from evolve.errors import ConfigError
from evolve.evaluation.fec import FECCache
from evolve.islands.checkpoint import check_migrants, check_program_arrays, prefixed
from evolve.islands.epoch import WORLDS, epoch_task, replay_island, run_island_epoch, warm_island
from evolve.islands.executors import Executor, Job, make_executor
from evolve.islands.migration import deal_migrants
from evolve.islands.state import (
    IslandMeta,
    IslandState,
    fresh_island,
    island_population,
    island_streams,
    with_population,
)
from evolve.rundir import checkpoint_fields as fields
from evolve.rundir.store import programs_from_arrays
from evolve.search.evolution import as_individual
from evolve.search.methods import METHODS, method
from primitives.program import validate
from primitives.rng import Stream


class Islands:
    """The :class:`evolve.engine.strategy.Strategy` of ``campaign.islands`` populations run by
    ``campaign.executor``. This object keeps the islands as :class:`IslandState` records and runs everything but
    the epochs; ``campaign.individuals`` counts all islands."""

    epoch_function = staticmethod(run_island_epoch)  # a module-level function (it is shipped to workers)

    @staticmethod
    def check(config: Config) -> None:
        """One clear error when ``search.method`` cannot run as islands."""
        if not method(config.search.method).islands:
            allowed = ", ".join(name for name, m in METHODS.items() if m.islands)
            raise ConfigError(
                f"search.method = {config.search.method!r}: islands (campaign.islands = "
                f"{config.campaign.islands}) run {allowed}; use campaign.islands = 1"
            )

    def __init__(self, campaign: CampaignState) -> None:
        config = campaign.config
        self.check(config)
        self.campaign = campaign
        self.config = config
        self.config_toml = to_toml(config)
        migration_seed, seeds = island_streams(config.seed, config.campaign.islands)
        self.migration_rng = np.random.Generator(np.random.PCG64(migration_seed))
        # each island's mutation stream is of the kind a one-population campaign uses, seeded apart
        self.islands = [fresh_island(Stream(a), b) for a, b in seeds]
        self.executor: Executor | None = None
        # the pipeline (see step): rounds processed, epochs started, migrants on their way
        self.round = 0
        self.jobs: dict[tuple[int, int], Job] = {}
        self.incoming: dict[int, list[dict]] = {}  # round r -> what each island receives before it
        self.round_sizes: dict[int, tuple[int, int]] = {}  # round r -> (children per island, individuals)
        # where each island's state lives: self.islands[i] is its last round's output without the
        # FEC table (the view); snapshots[i] = (round s, whole state after round s, or the fresh
        # island: s = -1); inputs[i][q] = what round q > s fed it (n, reset, migrants), to replay;
        # tokens[i] = the token of the epoch that made the view (None: no worker holds it)
        self.run_key = uuid.uuid4().hex
        self.snapshots: list[tuple[int, IslandState]] = [(-1, island) for island in self.islands]
        self.inputs: list[dict[int, dict]] = [{} for _ in self.islands]
        self.tokens: list[int | None] = [None] * len(self.islands)
        self.next_token = 0

    def resumable(self) -> bool:
        return True  # island populations live in self.islands; a checkpoint always holds them

    def open(self) -> None:
        """Start (or connect to) the executor; an unreachable scheduler fails here, before any work."""
        if self.executor is None:
            c = self.config.campaign
            self.executor = make_executor(c.executor, c.workers, c.scheduler)

    def warm(self) -> None:
        """Numba compiles once: a throw-away epoch here compiles (or loads) every kernel an epoch
        uses into the on-disk cache, where the workers then find them; then every worker runs one
        too (imports, kernels, tasks), before the campaign's clock starts, as a one-population
        campaign builds its tasks and loads its kernels before its clock starts."""
        warm_task = epoch_task(self.config_toml, self.snapshots[0][1], 1, key=f"warm-{self.run_key}")
        if self.config.campaign.executor != "serial":
            warm_island(warm_task)
            WORLDS.by_config.clear()
        self.executor.warm(warm_island, warm_task)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.close()
            self.executor = None

    def new_experiment(self) -> None:
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
            done = self.campaign.individuals + (self.round_sizes[self.round][1] if r > self.round else 0)
            # populations are built by a round whose islands have none (only the current round can)
            pending = 0 if not method(s.method).keeps_population or r > self.round else s.population_size * sum(
                not island.meta.has_population for island in self.islands)
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
            reset = not self.islands[i].meta.has_population  # a new experiment, or none yet
        else:  # started ahead: on the output of round r - 1, still running or not yet consumed
            expect, reset = self.jobs[(i, r - 1)].item["token"], False
        migrants = self.incoming[r][i] if r in self.incoming else None
        self.inputs[i][r] = {"n": self._round_size(r), "reset": reset, "migrants": migrants}
        task = {"config": self.config_toml, "key": self.run_key, "island": i, "token": self.next_token,
                "expect": expect, **self.inputs[i][r], "snapshot": (r + 1) % residency.SNAPSHOT_ROUNDS == 0,
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
        if c.stall_individuals and self.campaign.individuals + self.round_sizes[r][1] - self.campaign.last_improvement >= c.stall_individuals:
            return  # round r may end the experiment: an epoch started ahead would be dropped
        queue = self.executor.ordered_affinity
        for i in range(len(self.islands)):
            job = self.jobs.get((i, r))
            if job is not None and (i, r + 1) not in self.jobs and (queue or (job.done and "missing" not in job.value)):
                self._start_epoch(i, r + 1)

    def step(self) -> None:
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
        campaign = self.campaign
        for i, job in enumerate(jobs):
            result = job.value
            campaign.individuals += int(result["added"])
            fitness = result["best"]["hof_fitness"]
            best = [as_individual(p, f) for p, f in zip(programs_from_arrays(result["best"], "hof"), fitness.tolist(), strict=True)]
            campaign.halloffame.update(best)
            if best:
                campaign.consider(best, fitness)
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
        """The campaign's evaluator reports the totals over islands (progress rows, summary)."""
        evaluator = self.campaign.context.evaluator
        evaluator.evaluations = sum(island.meta.evaluations for island in self.islands)
        evaluator.individuals = sum(island.meta.evaluator_individuals for island in self.islands)
        counts = sum(island.arrays["fec_counts"].astype(np.int64) for island in self.islands)
        evaluator.cache.hits, evaluator.cache.misses = (int(v) for v in counts)

    def population_fitness(self) -> np.ndarray | None:
        fitness = [island.arrays["population_fitness"] for island in self.islands if island.meta.has_population]
        return np.concatenate(fitness) if fitness else None

    # ------------------------------------------------------------------ checkpoints

    def checkpoint_part(self) -> tuple[dict, dict[str, np.ndarray]]:
        meta = {
            "migration_rng": self.migration_rng.bit_generator.state,
            # each island as its last snapshot and the rounds since, which resume replays
            "islands": [state.meta.to_json() for _, state in self.snapshots],
            "snapshot_rounds": [s for s, _ in self.snapshots],
            "replay": [[{"round": q, "n": inputs[q]["n"], "reset": inputs[q]["reset"],
                         "migrants": inputs[q]["migrants"] is not None} for q in sorted(inputs) if q < self.round]
                       for inputs in self.inputs],
            # the pipeline: epochs started ahead are not saved (resume starts them again from
            # the same inputs); migrants on their way are
            "round": self.round,
            "incoming": sorted(self.incoming),
        }
        arrays: dict[str, np.ndarray] = {}
        for i, (_, state) in enumerate(self.snapshots):
            arrays.update({f"island{i}_{key}": value for key, value in state.arrays.items()})
            for q, step in self.inputs[i].items():
                if q < self.round and step["migrants"] is not None:
                    arrays.update({f"replay{i}_{q}_{key}": value for key, value in step["migrants"].items()})
        for r, shares in self.incoming.items():
            for i, share in enumerate(shares):
                arrays.update({f"incoming{r}_island{i}_{key}": value for key, value in share.items()})
        return meta, arrays

    def restore_part(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        memory = self.campaign.memory
        if not isinstance(meta["islands"], list) or len(meta["islands"]) != len(self.islands):
            raise ValueError(f"{len(meta['islands'])} islands in the checkpoint, {len(self.islands)} in the config")
        self.migration_rng.bit_generator.state = fields.pcg64_state(meta, "migration_rng")
        self.round = fields.count(meta, "round")
        # (a checkpoint written before snapshots holds every island as of the last round)
        snapshot_rounds = meta.get("snapshot_rounds", [self.round - 1] * len(self.islands))
        replays = meta.get("replay", [[] for _ in self.islands])
        if len(snapshot_rounds) != len(self.islands) or len(replays) != len(self.islands):
            raise ValueError("snapshot_rounds and replay must have an entry per island")
        for i, island_meta in enumerate(meta["islands"]):
            snapshot = IslandState(IslandMeta.from_json(island_meta), prefixed(arrays, f"island{i}_"))
            self._check_island(snapshot)
            s, records = int(snapshot_rounds[i]), replays[i]
            if (not -1 <= s < self.round or not isinstance(records, list) or len(records) != self.round - s - 1
                    or [int(step["round"]) for step in records] != list(range(s + 1, self.round))):
                raise ValueError(f"island {i}: a snapshot of round {s} and the replay {records!r} "
                                 f"do not lead to round {self.round}")
            replay = [self._replay_step(step, prefixed(arrays, f"replay{i}_{int(step['round'])}_")) for step in records]
            # the island before round self.round, rebuilt here once (a first epoch ships it)
            state = replay_island(self.config_toml, snapshot, replay)
            self.islands[i], self.snapshots[i] = state, (self.round - 1, state)
        for r in meta["incoming"]:
            shares = []
            for i in range(len(self.islands)):
                share = prefixed(arrays, f"incoming{int(r)}_island{i}_")
                check_migrants(share, self.islands[i])
                for program in programs_from_arrays(share, "population"):
                    validate(program, memory)
                shares.append(share)
            self.incoming[int(r)] = shares
        self._sync_counters()

    def _replay_step(self, step: dict, share: dict[str, np.ndarray]) -> dict:
        """One round's inputs read back from a checkpoint, checked."""
        n, reset, has_migrants = int(step["n"]), step["reset"], step["migrants"]
        if not 0 <= n <= self.config.campaign.migration_interval or not isinstance(reset, bool) or not isinstance(has_migrants, bool):
            raise ValueError(f"replay step {step!r}: n must be 0..migration_interval, reset and migrants booleans")
        if not has_migrants:
            return {"n": n, "reset": reset, "migrants": None}
        check_program_arrays(share)
        for program in programs_from_arrays(share, "population"):
            validate(program, self.campaign.memory)
        return {"n": n, "reset": reset, "migrants": share}

    def _check_island(self, island: IslandState) -> None:
        """Everything an epoch will read from an island state read back from a checkpoint, so
        that a bad one fails here, as one clear error, not in a worker: its FEC cache and (valid)
        programs (its streams and counters were checked by :meth:`IslandMeta.from_json`)."""
        FECCache(self.config.evaluation.fec_cache_size).load_arrays(island.arrays)
        if island.meta.has_population:
            programs = programs_from_arrays(island.arrays, "population", self.campaign.memory)
            fields.fitness_array(island.arrays, "population_fitness", len(programs))
            if len(programs) != self.config.search.population_size:
                raise ValueError(f"{len(programs)} island members, search.population_size is "
                                 f"{self.config.search.population_size}")
        population = island_population(island)  # validates the population arrays
        if population is not None:
            if not 0 <= population.head < len(population.members):
                raise ValueError(f"head {population.head} outside 0..{len(population.members) - 1}")
