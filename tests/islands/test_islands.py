"""Islands: every executor gives the same seeded result, workers may die, migration moves exactly
half a population, a resumed island run equals the uninterrupted one, and an unreachable scheduler
is one clear error before any work."""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import io
import json
import os
import pickle
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from programs import NON_RANDOM_OPS

from evolve.cli import main
from evolve.config import load_config, to_toml
from evolve.engine.campaign import Campaign, resume_campaign, start_campaign
from evolve.errors import CheckpointError
from evolve.islands import (
    IslandMeta,
    IslandState,
    deal_migrants,
    epoch_task,
    executors,
    fresh_island,
    island_population,
    island_streams,
    migrate,
    receive_migrants,
    run_island_epoch,
    with_population,
)
from evolve.islands import epoch as islands_epoch
from evolve.search.evolution import Population, as_individual
from primitives.generate import random_program
from primitives.memory import MemorySpec
from primitives.program import Program
from primitives.rng import Stream

TINY = [
    "search.population_size=50", "search.batch_size=25", "campaign.migration_interval=100",
    "tasks.select=5", "tasks.final=5", "campaign.max_evaluations=2000", "campaign.islands=2",
    "campaign.workers=2",
]
SAME = ("success", "stopped_by", "evaluations", "individuals", "fec_hit_rate", "experiments",
        "search_fitness", "select_fitness", "final_fitness")


def tiny_config(*extra: str):
    return load_config("linear-demo", TINY + list(extra))


def outcome(summary: dict, run_dir: Path) -> dict:
    """What must not depend on the backend: the summary's numbers and the programs found."""
    return {**{k: summary[k] for k in SAME}, "best": (run_dir / "best.txt").read_text(),
            "hall_of_fame": (run_dir / "hall_of_fame.txt").read_text()}


def run_tiny(run_dir: Path, *extra: str, epoch_function=None) -> dict:
    run_dir.mkdir()
    campaign = start_campaign(tiny_config(*extra), run_dir, quiet=True)
    if epoch_function is not None:
        campaign.strategy.epoch_function = epoch_function
    return outcome(campaign.run(), run_dir)


@pytest.fixture(scope="module")
def serial_outcome(tmp_path_factory) -> dict:
    return run_tiny(tmp_path_factory.mktemp("serial") / "run", "campaign.executor='serial'")


def test_serial_island_run_counts_every_island(serial_outcome):
    assert serial_outcome["individuals"] == 2000
    assert serial_outcome["stopped_by"] == "max_evaluations"
    assert 0 < serial_outcome["evaluations"] < 2000  # FEC saved some


@pytest.mark.parametrize("executor", ["processes", "dask"])
def test_every_executor_gives_the_serial_result(executor, tmp_path, serial_outcome):
    assert run_tiny(tmp_path / "run", f"campaign.executor='{executor}'") == serial_outcome


def crash_first_call(flag: str, task: dict) -> dict:
    """An epoch whose first call, in whichever worker, kills that worker."""
    if not os.path.exists(flag):
        Path(flag).touch()
        os._exit(1)
    return run_island_epoch(task)


def test_a_dead_worker_costs_only_its_epoch(tmp_path, serial_outcome):
    flag = tmp_path / "crashed"
    crash = functools.partial(crash_first_call, str(flag))
    result = run_tiny(tmp_path / "run", "campaign.executor='processes'", epoch_function=crash)
    assert flag.exists()
    assert result == serial_outcome


def forget_then_epoch(every: int, task: dict) -> dict:
    """An epoch in a worker that lost every live island it held, every ``every``-th call."""
    _FORGET_CALLS.append(1)
    if len(_FORGET_CALLS) % every == 0:
        islands_epoch._RESIDENT.clear()
    return run_island_epoch(task)


_FORGET_CALLS: list[int] = []


@pytest.mark.parametrize("executor,every", [("serial", 1), ("serial", 3), ("processes", 2)])
def test_a_worker_without_the_live_island_gets_the_state_shipped_and_the_same_result(
        executor, every, tmp_path, serial_outcome):
    """Whenever the worker an epoch goes to does not hold its island, the coordinator ships the
    last snapshot and the rounds since, the worker replays them, and nothing changes."""
    calls = len(_FORGET_CALLS)
    forget = functools.partial(forget_then_epoch, every)
    assert run_tiny(tmp_path / "run", f"campaign.executor='{executor}'", epoch_function=forget) == serial_outcome
    if executor == "serial":
        assert len(_FORGET_CALLS) - calls > 20  # the misses were sent again


def forget_once_epoch(folder: str, task: dict) -> dict:
    """An epoch that notes in ``folder`` whether it shipped the island; the worker holding island
    0 loses it once, before island 0's 4th epoch."""
    log = Path(folder, "shipped")
    with log.open("a") as handle:
        handle.write(f"{task['island']} {int(task['base'] is not None)}\n")
    if task["island"] == 0 and sum(line.startswith("0 ") for line in log.read_text().splitlines()) == 4:
        islands_epoch._RESIDENT.get(task["key"], {}).pop(0, None)
    return run_island_epoch(task)


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_a_lost_island_is_shipped_once_not_to_every_epoch_queued_behind_it(executor, tmp_path, serial_outcome):
    forget = functools.partial(forget_once_epoch, str(tmp_path))
    assert run_tiny(tmp_path / "run", f"campaign.executor='{executor}'", epoch_function=forget) == serial_outcome
    # each island's first epoch, then island 0 once more (its next epoch, queued behind the one
    # that missed, is started again after it rather than missing and shipping the island too)
    shipped = [line.split() for line in (tmp_path / "shipped").read_text().splitlines()]
    assert sorted(island for island, base in shipped if base == "1") == ["0", "0", "1"], shipped


@pytest.mark.parametrize("rounds", [1, 3])
def test_how_often_snapshots_come_back_changes_nothing(rounds, tmp_path, monkeypatch, serial_outcome):
    monkeypatch.setattr(islands_epoch, "SNAPSHOT_ROUNDS", rounds)
    assert run_tiny(tmp_path / "run", "campaign.executor='serial'") == serial_outcome


def test_resume_equals_the_uninterrupted_run(tmp_path, serial_outcome):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    campaign = start_campaign(tiny_config("campaign.executor='serial'"), run_dir, quiet=True)
    step, rounds = campaign._step, []

    def step_then_interrupt() -> None:  # as a Ctrl-C after two rounds (migration included)
        step()
        rounds.append(1)
        campaign._stop_signal = len(rounds) == 2

    campaign.reraise_signals = False  # as the CLI does: report the stop, raise nothing
    campaign._step = step_then_interrupt
    first = campaign.run()
    assert first["stopped_by"] == "interrupted" and first["individuals"] == 500
    resumed, warnings = resume_campaign(run_dir, quiet=True)
    assert not warnings and resumed.individuals == 500 and len(resumed.strategy.islands) == 2
    assert outcome(resumed.run(), run_dir) == serial_outcome


def test_an_epoch_is_a_pure_function_of_its_task(tmp_path):
    config = tiny_config()
    task = epoch_task(to_toml(config), Campaign(config, tmp_path).strategy.islands[1], 50)
    before = repr(task)
    a, b = run_island_epoch(task), run_island_epoch(task)
    assert repr(task) == before
    assert a["added"] == 100 and repr(a) == repr(b)
    assert island_population(a["state"]).head == 0  # 50 children aged out exactly the 50 initial members
    # the view is the state without its FEC table
    assert _same_state(a["view"], IslandState(a["state"].meta, {
        k: v for k, v in a["state"].arrays.items() if k not in ("fec_keys", "fec_values")}))
    # the worker kept the live island: the next epoch, sent without the state, finds it ...
    follow = {**task, "token": 1, "expect": 0, "base": None}
    c = run_island_epoch(follow)
    again = run_island_epoch(epoch_task(to_toml(config), a["state"], 50, key="elsewhere"))
    assert c["added"] == 50 and _same_state(c["state"], again["state"])
    # ... once: a worker that does not hold it says so
    assert run_island_epoch(follow) == {"missing": True}


def test_epochs_in_threads_of_one_worker_do_not_share_a_world(tmp_path):
    """A Dask worker with several threads runs several epochs at once: each gets the result it
    gets alone."""
    config = tiny_config()
    campaign = Campaign(config, tmp_path).strategy
    tasks = [epoch_task(to_toml(config), island, 100, key=f"thread-test-{i}") for i, island in enumerate(campaign.islands)] * 2
    alone = [run_island_epoch(task) for task in tasks]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        together = list(pool.map(run_island_epoch, tasks))
    for a, b in zip(alone, together, strict=True):
        assert _same_state(a["state"], b["state"]) and a["added"] == b["added"]


def tagged_island(island: int, size: int) -> IslandState:
    """An island whose member j carries the id ``100 * island + j`` as fitness and first constant."""
    members = []
    for j in range(size):
        constants = np.zeros((3, 3))
        constants[0, 0] = 100 * island + j
        members.append(as_individual(Program(np.zeros((3, 4), np.int64), constants, (1, 1, 1)), 100 * island + j))
    population = Population(members, np.array([100.0 * island + j for j in range(size)]), head=island)
    return with_population(fresh_island(Stream(island), island), population)


def reference_migrate(islands: list[IslandState], rng: np.random.Generator) -> list[IslandState]:
    """The slow, obvious migration: build every population, move individuals one by one."""
    populations = [island_population(island) for island in islands]
    if any(p is None for p in populations) or len(populations) < 2:
        return list(islands)
    half = len(populations[0].members) // 2
    pool = []
    for population in populations:
        for j in rng.choice(len(population.members), size=half, replace=False).tolist():
            pool.append((population.members[j], float(population.fitness[j])))
    order = rng.permutation(len(pool)).tolist()
    for i, population in enumerate(populations):
        for k in order[i * half : (i + 1) * half]:
            program, fitness = pool[k]
            migrant = as_individual(Program(program.instructions.copy(), program.constants.copy(), program.sizes), fitness)
            population.replace_oldest(migrant, fitness)
    return [with_population(island, population) for island, population in zip(islands, populations, strict=True)]


def random_island(rng: np.random.Generator, index: int, size: int) -> IslandState:
    memory = MemorySpec(4, 3, 1)
    members = [as_individual(random_program([int(v) for v in rng.integers(0, 5, 3)], [list(NON_RANDOM_OPS)] * 3,
                                            memory, rng), float(rng.random())) for _ in range(size)]
    fitness = np.array([m.fitness.values[0] for m in members])
    population = Population(members, fitness, head=int(rng.integers(0, size)))
    return with_population(fresh_island(Stream(index), index), population)


@pytest.mark.parametrize("count,size", [(2, 10), (3, 7), (4, 1)])
def test_migration_on_arrays_equals_the_object_version(count, size):
    rng = np.random.default_rng(count * 10 + size)
    islands = [random_island(rng, i, size) for i in range(count)]
    fast = migrate(islands, np.random.default_rng(3))
    slow = reference_migrate(islands, np.random.default_rng(3))
    for a, b in zip(fast, slow, strict=True):
        assert a.meta == b.meta
        assert sorted(a.arrays) == sorted(b.arrays)
        for key in a.arrays:
            assert np.array_equal(a.arrays[key], b.arrays[key]), key


def test_island_meta_reads_back_its_json_and_rejects_bad_fields():
    island = run_island_epoch(epoch_task(to_toml(tiny_config()), fresh_island(Stream(5), 5), 20))["state"]
    meta = island.meta
    data = json.loads(json.dumps(meta.to_json()))
    # the checkpoint's keys, as before the records were typed (old checkpoints still resume)
    assert list(data) == ["mutation_rng", "selection_rng", "has_population", "head", "evaluations",
                          "evaluator_individuals", "hurdle_scores"]
    assert meta.has_population and meta.evaluations > 0
    assert IslandMeta.from_json(data) == meta
    assert _same_state(pickle.loads(pickle.dumps(island)), island)  # as workers receive it
    for key, bad in [("mutation_rng", -1), ("mutation_rng", 2**64), ("selection_rng", {"bit_generator": "MT19937"}),
                     ("has_population", 1), ("head", -2), ("head", 1.5), ("evaluations", "3"),
                     ("evaluator_individuals", None), ("hurdle_scores", [float("inf")]), ("hurdle_scores", 0.5)]:
        with pytest.raises(ValueError, match=key):
            IslandMeta.from_json({**data, key: bad})
    with pytest.raises(ValueError, match="head"):
        IslandMeta.from_json({k: v for k, v in data.items() if k != "head"})
    with pytest.raises(ValueError, match="expected an object"):
        IslandMeta.from_json([1, 2])


def test_migration_moves_half_of_every_population():
    size, half, count = 6, 3, 3
    islands = [tagged_island(i, size) for i in range(count)]
    before = repr(islands)
    after = migrate(islands, np.random.default_rng(7))
    assert repr(islands) == before
    assert repr(after) == repr(migrate(islands, np.random.default_rng(7)))
    migrants = []
    for old, new in zip(islands, after, strict=True):
        old_pop, new_pop = island_population(old), island_population(new)
        assert len(new_pop.members) == size and new_pop.head == (old_pop.head + half) % size
        ids = [int(new_pop.fitness[k]) for k in new_pop.in_age_order()]
        assert [int(m.constants[0, 0]) for m in (new_pop.members[k] for k in new_pop.in_age_order())] == ids
        survivors = [int(old_pop.fitness[k]) for k in old_pop.in_age_order()][half:]
        assert ids[:size - half] == survivors  # the oldest half died, the rest kept their order
        migrants += ids[size - half:]  # the migrants are the newest members
    assert len(migrants) == len(set(migrants)) == count * half  # every emigrant landed exactly once
    assert sorted(m // 100 for m in migrants) == sorted(list(range(count)) * half)  # half of each island


def test_unreachable_scheduler_is_one_clear_error_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setattr(executors, "SCHEDULER_TIMEOUT_S", 1.0)
    run_dir = tmp_path / "run"
    err = io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["run", "linear-demo", "--out", str(run_dir), "--quiet", "--executor", "dask",
                     "--scheduler", "tcp://127.0.0.1:1", "--set", "campaign.islands=2"])
    assert time.monotonic() - start < 15
    assert code == 2
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and "tcp://127.0.0.1:1" in lines[0] and "cannot reach" in lines[0], lines
    assert not (run_dir / "config.toml").exists()


def test_a_malformed_scheduler_address_names_the_field():
    with pytest.raises(executors.EvolveError, match=r"campaign\.scheduler"):
        executors.make_executor("dask", 1, "nonsense")


def mark_process(folder: str) -> None:
    """Leave this process's id in ``folder`` (slowly, as a real warm-up epoch takes a while)."""
    time.sleep(1.0)
    Path(folder, str(os.getpid())).touch()


def test_items_of_one_affinity_run_in_one_process():
    executor = executors.make_executor("processes", 2)
    try:
        jobs = [executor.start(call_and_report_pid, (time.sleep, 0.05), affinity=k % 3) for k in range(9)]
        while not all(job.done for job in jobs):
            executor.wait_any([job for job in jobs if not job.done])
        pids = [job.value for job in jobs]
        assert pids[0::3] == [pids[0]] * 3 and pids[1::3] == [pids[1]] * 3 and pids[2::3] == [pids[0]] * 3
        assert pids[0] != pids[1]  # affinity 0 and 2 share the first process, 1 has the second
    finally:
        executor.close()


def profiler_enabled() -> bool:
    import dask

    return bool(dask.config.get("distributed.worker.profile.enabled"))


def test_the_local_dask_cluster_runs_its_workers_without_the_profiler():
    executor = executors.make_executor("dask", 2)
    try:
        assert list(executor.client.run(profiler_enabled).values()) == [False, False]
    finally:
        executor.close()


def sleep_and_report(seconds: float) -> tuple[int, float]:
    start = time.monotonic()
    time.sleep(seconds)
    return os.getpid(), start


def test_the_local_dask_cluster_runs_an_affinitys_queued_items_in_its_worker_in_order():
    # without work stealing, items queued behind a busy worker stay there while the other idles
    executor = executors.make_executor("dask", 2)
    try:
        assert executor.ordered_affinity
        jobs = [executor.start(sleep_and_report, 0.3, affinity=0) for _ in range(6)]
        jobs.append(executor.start(sleep_and_report, 0.01, affinity=1))
        while not all(job.done for job in jobs):
            executor.wait_any([job for job in jobs if not job.done])
        pids, starts = zip(*(job.value for job in jobs[:6]), strict=True)
        assert len(set(pids)) == 1 and jobs[6].value[0] != pids[0]
        assert list(starts) == sorted(starts)
    finally:
        executor.close()


def test_a_scheduler_that_steals_work_makes_dask_affinities_unordered():
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=0, processes=True, dashboard_address=None)  # a scheduler at tcp://
    try:
        executor = executors.make_executor("dask", 1, cluster.scheduler_address)
        try:
            assert not executor.ordered_affinity  # `dask scheduler` steals by default
        finally:
            executor.close()
    finally:
        cluster.close()


def call_and_report_pid(job: tuple) -> int:
    fn, item = job
    fn(item)
    return os.getpid()


@pytest.mark.parametrize("kind", ["serial", "processes", "dask"])
def test_warm_runs_in_every_worker_before_the_work(kind, tmp_path):
    executor = executors.make_executor(kind, 2)
    try:
        executor.warm(mark_process, str(tmp_path))
        warmed = {int(path.name) for path in tmp_path.iterdir()}
        assert len(warmed) == (1 if kind == "serial" else 2)
        # the work then runs in those same, warm processes
        jobs = [(time.sleep, 0.2)] * 6
        assert set(executor.map(call_and_report_pid, jobs)) <= warmed
    finally:
        executor.close()


def _same_arrays(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return sorted(a) == sorted(b) and all(np.array_equal(a[k], b[k]) for k in a)


def _same_state(a: IslandState, b: IslandState) -> bool:
    return a.meta == b.meta and _same_arrays(a.arrays, b.arrays)


def test_pipelined_rounds_receive_the_migrants_dealt_two_rounds_before(tmp_path, monkeypatch):
    """Each epoch, rebuilt the slow way, as a pure function of whole states shipped as arrays:
    round 0 from the fresh islands, round 1 from round 0's output, round r >= 2 from round r - 1's
    output plus the migrants dealt (with the migration stream, in round order) from every
    island's round r - 2 output. The campaign itself ships no state after round 0: each epoch
    continues the live island its worker kept."""
    monkeypatch.setattr(islands_epoch, "SNAPSHOT_ROUNDS", 1)  # every epoch also returns its whole state
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    config = tiny_config("campaign.executor='serial'", "campaign.max_evaluations=1500")
    campaign = start_campaign(config, run_dir, quiet=True)
    islands = campaign.strategy
    fresh = list(islands.islands)
    tasks, outputs = {}, {}
    start = islands._start_epoch

    def recording_start(i: int, r: int) -> None:
        start(i, r)
        job = islands.jobs[(i, r)]
        tasks[(i, r)], outputs[(i, r)] = job.item, job.value

    islands._start_epoch = recording_start
    summary = campaign.run()
    assert summary["individuals"] == 1500
    rounds = max(r for _, r in tasks) + 1
    assert rounds >= 4 and set(tasks) == {(i, r) for i in range(2) for r in range(rounds)}
    rng = np.random.Generator(np.random.PCG64(island_streams(config.seed, 2)[0]))
    dealt = {r + 2: deal_migrants([outputs[(i, r)]["view"] for i in range(2)], rng) for r in range(rounds - 2)}
    toml = to_toml(config)
    for i in range(2):
        assert _same_state(tasks[(i, 0)]["base"]["state"], fresh[i]) and not tasks[(i, 0)]["base"]["replay"]
        for r in range(rounds):
            task, output = tasks[(i, r)], outputs[(i, r)]
            if r:
                assert task["base"] is None and task["expect"] == tasks[(i, r - 1)]["token"]
            state = fresh[i] if r == 0 else outputs[(i, r - 1)]["state"]
            if r >= 2:
                assert _same_arrays(task["migrants"], dealt[r][i])
                state = receive_migrants(state, dealt[r][i])
            else:
                assert task["migrants"] is None
            slow = run_island_epoch(epoch_task(toml, state, task["n"]))
            assert _same_state(output["state"], slow["state"]), (i, r)
            assert _same_state(output["view"], slow["view"]) and output["added"] == slow["added"]


def shipping_epoch(shipped: list, task: dict) -> dict:
    """An epoch that notes whether its task shipped the island's state."""
    shipped.append(task["base"] is not None)
    return run_island_epoch(task)


def test_restarts_drop_the_epochs_started_ahead_the_same_way_on_every_executor(tmp_path):
    """A stalled experiment restarts while the next round may already be running: those epochs
    and the migrants on their way are dropped, whichever executor ran them. No epoch is started
    ahead over a round that may end the experiment, so no worker has moved its island on and
    the islands never travel again after their first epoch."""
    extra = ("campaign.stall_individuals=300", "campaign.stall_tolerance=0.5", "campaign.max_evaluations=3000")
    shipped: list[bool] = []
    serial = run_tiny(tmp_path / "serial", "campaign.executor='serial'", *extra,
                      epoch_function=functools.partial(shipping_epoch, shipped))
    assert serial["experiments"] >= 3 and serial["individuals"] == 3000
    assert shipped[:2] == [True, True] and not any(shipped[2:]) and len(shipped) > 20
    assert run_tiny(tmp_path / "processes", "campaign.executor='processes'", *extra) == serial


@pytest.fixture(scope="module")
def interrupted_island_run(tmp_path_factory) -> Path:
    """A two-island run stopped after two rounds: its checkpoint holds migrants on their way."""
    run_dir = tmp_path_factory.mktemp("islands") / "run"
    run_dir.mkdir()
    campaign = start_campaign(tiny_config("campaign.executor='serial'"), run_dir, quiet=True)
    step = campaign._step

    def step_then_interrupt() -> None:
        step()
        campaign._stop_signal = campaign.strategy.round == 2

    campaign.reraise_signals = False  # as the CLI does: report the stop, raise nothing
    campaign._step = step_then_interrupt
    campaign.run()
    return run_dir


_JUNK = st.one_of(st.none(), st.booleans(), st.integers(-3, 2**70), st.floats(allow_nan=True),
                  st.text(max_size=4), st.lists(st.integers(-2, 5), max_size=3), st.dictionaries(st.text(max_size=2), st.integers(), max_size=2))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_island_checkpoint_fuzz_only_clear_errors(interrupted_island_run, tmp_path, data):
    run_dir = tmp_path / "copy"
    shutil.copytree(interrupted_island_run, run_dir, dirs_exist_ok=True)
    path = run_dir / "checkpoint.npz"
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays["meta"].tobytes())
    assert meta["incoming"]  # the fixture's checkpoint has migrants on their way ...
    assert all(len(steps) == 2 for steps in meta["replay"])  # ... and rounds to replay
    how = data.draw(st.sampled_from(["meta", "island meta", "replay step", "drop array", "reshape array", "ops"]))
    if how == "meta":
        meta[data.draw(st.sampled_from(sorted(meta)))] = data.draw(_JUNK)
    elif how == "replay step":
        steps = meta["replay"][data.draw(st.integers(0, 1))]
        step = steps[data.draw(st.integers(0, len(steps) - 1))]
        step[data.draw(st.sampled_from(sorted(step)))] = data.draw(_JUNK)
    elif how == "island meta":
        island = meta["islands"][data.draw(st.integers(0, 1))]
        island[data.draw(st.sampled_from(sorted(island)))] = data.draw(_JUNK)
    else:
        key = data.draw(st.sampled_from(sorted(k for k in arrays if k != "meta")))
        if how == "drop array":
            del arrays[key]
        elif how == "reshape array":
            arrays[key] = arrays[key].reshape(-1)[: data.draw(st.integers(0, arrays[key].size))]
        else:  # out-of-range values in a program or counter array
            values = arrays[key].copy()
            if values.size:
                values.reshape(-1)[data.draw(st.integers(0, values.size - 1))] = data.draw(st.integers(-5, 10**6))
            arrays[key] = values
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())
    (run_dir / "checkpoint.prev.npz").unlink(missing_ok=True)
    try:
        campaign, _ = resume_campaign(run_dir, quiet=True)
    except CheckpointError as exc:
        assert str(exc)
        return
    # accepted: then it must run (one round on the serial executor)
    campaign.open()
    try:
        campaign._step()
    finally:
        campaign.strategy.close()
        campaign.progress.close()
