"""Islands: several aging populations that evolve apart and exchange migrants (the island model;
Skolicki and De Jong 2005).

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
migrants); the state is a typed record wherever it travels (:class:`IslandState`: numpy arrays --
programs, fitness, FEC cache -- and an :class:`IslandMeta` -- ring head, both RNG states,
counters), and a live island is labelled with the epoch that made it. Each epoch's inputs are
fixed before it starts, and migration is drawn by the coordinator with its own seeded stream, in
round order, so a seeded run gives the same result
whichever executor runs it, however many workers it has, and whether workers died or lost their
islands on the way (an epoch is rerun, or replayed, from the same inputs). The checkpoint holds
every island as its last snapshot plus the inputs of the rounds since, and the migrants on their
way; a resumed run equals the uninterrupted one.

The package, one concept a module: :mod:`~evolve.islands.state` (an island's typed records),
:mod:`~evolve.islands.epoch` (the epoch a worker runs, the resident islands, snapshots and
replay), :mod:`~evolve.islands.migration`, :mod:`~evolve.islands.coordinator`
(:class:`Islands`, the strategy a campaign drives: rounds, pipelining, checkpoint and restore) and
:mod:`~evolve.islands.checkpoint` (checks of island state read back from a checkpoint).
"""

from __future__ import annotations

from evolve.islands.coordinator import Islands
from evolve.islands.epoch import (
    LiveIsland,
    epoch_task,
    replay_island,
    run_island_epoch,
    warm_island,
)
from evolve.islands.migration import deal_migrants, migrate, receive_migrants
from evolve.islands.state import (
    IslandMeta,
    IslandState,
    fresh_island,
    island_population,
    island_streams,
    mutation_state,
    set_mutation_state,
    with_population,
)

__all__ = [
    "IslandMeta",
    "IslandState",
    "Islands",
    "LiveIsland",
    "deal_migrants",
    "epoch_task",
    "fresh_island",
    "island_population",
    "island_streams",
    "migrate",
    "mutation_state",
    "receive_migrants",
    "replay_island",
    "run_island_epoch",
    "set_mutation_state",
    "warm_island",
    "with_population",
]
