"""Executors: who runs the island epochs (in this process, a process pool, or a Dask cluster).

One small interface, :class:`Executor`: ``start(fn, item, affinity) -> Job``, ``wait_any(jobs)``,
``map(fn, items) -> list`` (results in the order of ``items``), ``warm`` and ``close()``. Work is
coarse (one item is an island epoch of thousands of evaluations) and travels as plain data, so the
three backends differ only in where ``fn`` runs:

- ``serial``: in this process, one item after the other.
- ``processes``: ``workers`` spawned processes, each a one-process
  :class:`concurrent.futures.ProcessPoolExecutor` (the default on one machine: one island per
  core). Workers inherit the environment, hence ``NUMBA_CACHE_DIR``, and load the compiled kernels
  from the on-disk cache.
- ``dask``: a ``distributed`` cluster: a ``LocalCluster(n_workers=workers, threads_per_worker=1,
  processes=True)`` started here (without work stealing and the workers' profiler), or the
  running cluster whose scheduler is at ``scheduler``.

Affinity: items started with the same ``affinity`` go to the same worker while it lives (process
``affinity % workers``; on Dask the worker of that rank, as a loose restriction the scheduler may
override), so a worker can keep what an item left behind for the next one (an island's state,
:mod:`evolve.islands`). Nothing may depend on it for correctness: it is a hint. ``ordered_affinity``
says whether a worker also runs one affinity's items in the order started, so that the next one
may be queued behind the current one: serial and processes yes; Dask when its scheduler does not
steal work (a stealing scheduler moves queued tasks to idle workers).

Faults: a worker that dies mid-item costs that item, which is submitted again (its process is
replaced when it broke); ``fn``'s result must therefore be a function of its item alone (``fn`` may
keep things in its worker to go faster, as the island epochs do, never to decide the result). An item whose worker dies
:data:`MAX_ATTEMPTS` times, or a scheduler that cannot be reached, is one :class:`EvolveError`.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol
from urllib.parse import urlsplit

from evolve.errors import ConfigError, EvolveError
from evolve.islands.parent_watch import watch_parent

MAX_ATTEMPTS = 3
SCHEDULER_TIMEOUT_S = 5.0


class Executor(Protocol):
    """Runs a module-level function over items; results come back in the order of the items."""

    ordered_affinity: bool  # the worker an affinity names runs its items in the order started

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list: ...

    def start(self, fn: Callable[[Any], Any], item: Any, affinity: int | None = None) -> Job:
        """Begin ``fn(item)`` (on the worker ``affinity`` names, if it can); the job is ``done``
        with its ``value`` once :meth:`wait_any` saw it."""

    def wait_any(self, jobs: Sequence[Job]) -> None:
        """Block until at least one of ``jobs`` is done (at once if one already is); a job whose
        worker died is started again."""

    def warm(self, fn: Callable[[Any], Any], item: Any) -> None:
        """Start the workers and run ``fn(item)`` once in each (imports, compiled kernels), so
        that the timed work that follows does not pay for start-up."""

    def close(self) -> None: ...


class Job:
    """One item on its way through an executor: ``done`` once ``value`` holds ``fn(item)``."""

    def __init__(self, fn: Callable[[Any], Any], item: Any, affinity: int | None = None) -> None:
        self.fn = fn
        self.item = item
        self.affinity = affinity
        self.done = False
        self.value: Any = None
        self.future: Any = None
        self.attempts = 0
        self.slot = 0  # which worker slot of the backend runs it
        self.generation = -1  # which incarnation of that slot (a dead process is replaced)


class SerialExecutor:
    """Every item in this process, in order (a job is done as soon as it is started)."""

    ordered_affinity = True  # items of one affinity run in the order they were started

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list:
        return [fn(item) for item in items]

    def start(self, fn: Callable[[Any], Any], item: Any, affinity: int | None = None) -> Job:
        job = Job(fn, item, affinity)
        job.value, job.done = fn(item), True
        return job

    def wait_any(self, jobs: Sequence[Job]) -> None:
        pass

    def warm(self, fn: Callable[[Any], Any], item: Any) -> None:
        fn(item)

    def close(self) -> None:
        pass


class _RetryingExecutor:
    """Runs jobs on a backend of futures and starts again the jobs whose worker died."""

    lost: tuple[type[BaseException], ...] = ()
    ordered_affinity = False  # does the worker an affinity names run its items in start order?

    def __init__(self) -> None:
        self._generations: dict[int, int] = {}

    def _slot(self, affinity: int | None) -> int:
        """The worker slot a job with this affinity goes to (one slot unless overridden)."""
        return 0

    def _submit(self, fn: Callable[[Any], Any], item: Any, slot: int) -> Any:
        raise NotImplementedError

    def _wait_first(self, futures: list[Any]) -> None:
        raise NotImplementedError

    def _recover(self, slot: int) -> None:
        """Make the slot usable again after its worker died."""

    def _recover_once(self, slot: int, generation: int) -> None:
        # every future of a broken pool fails; the slot is rebuilt once, for the first of them
        if generation == self._generations.get(slot, 0):
            self._recover(slot)
            self._generations[slot] = generation + 1

    def _launch(self, job: Job) -> None:
        while True:
            if job.attempts >= MAX_ATTEMPTS:
                raise EvolveError(
                    f"{type(self).__name__}: a worker died {MAX_ATTEMPTS} times running the same item")
            job.attempts += 1
            job.slot = self._slot(job.affinity)
            job.generation = self._generations.get(job.slot, 0)
            try:
                job.future = self._submit(job.fn, job.item, job.slot)
                return
            except self.lost:
                self._recover_once(job.slot, job.generation)

    def start(self, fn: Callable[[Any], Any], item: Any, affinity: int | None = None) -> Job:
        job = Job(fn, item, affinity)
        self._launch(job)
        return job

    def wait_any(self, jobs: Sequence[Job]) -> None:
        pending = [job for job in jobs if not job.done]
        if len(pending) < len(jobs) or not pending:
            return
        while True:
            self._wait_first([job.future for job in pending])
            finished = False
            for job in pending:
                if not job.future.done():
                    continue
                try:
                    job.value = job.future.result()
                except self.lost:
                    self._recover_once(job.slot, job.generation)
                    self._launch(job)
                else:
                    job.done, job.future, finished = True, None, True
            if finished:
                return

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list:
        jobs = [self.start(fn, item) for item in items]
        while not all(job.done for job in jobs):
            self.wait_any([job for job in jobs if not job.done])
        return [job.value for job in jobs]


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group; the coordinator stops cleanly after the round.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _worker_init(coordinator: int) -> None:
    _ignore_sigint()
    watch_parent(coordinator)


class ProcessExecutor(_RetryingExecutor):
    """``workers`` spawned processes (spawn: no fork of a threaded parent), each the one process
    of its own pool, so that an item goes to the process its affinity names; an item without
    one goes to the next process in turn. A process that dies is replaced (its pool rebuilt)."""

    # a broken pool fails its futures; shutting it down cancels any it had not failed yet
    lost = (BrokenProcessPool, CancelledError)
    ordered_affinity = True  # one process per affinity runs its items in the order they came

    def __init__(self, workers: int) -> None:
        super().__init__()
        self.workers = workers
        self._pools: list[ProcessPoolExecutor | None] = [None] * workers
        self._turn = 0

    def _slot(self, affinity: int | None) -> int:
        if affinity is None:
            self._turn = (self._turn + 1) % self.workers
            return self._turn
        return affinity % self.workers

    def _submit(self, fn: Callable[[Any], Any], item: Any, slot: int) -> Any:
        pool = self._pools[slot]
        if pool is None:
            pool = self._pools[slot] = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init, initargs=(os.getpid(),),
            )
        return pool.submit(fn, item)

    def _wait_first(self, futures: list[Any]) -> None:
        concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_COMPLETED)

    def _recover(self, slot: int) -> None:
        pool, self._pools[slot] = self._pools[slot], None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def warm(self, fn: Callable[[Any], Any], item: Any) -> None:
        """``fn(item)`` once in every process (started here), all at once."""
        jobs = [self.start(fn, item, affinity=slot) for slot in range(self.workers)]
        while not all(job.done for job in jobs):
            self.wait_any([job for job in jobs if not job.done])

    def close(self) -> None:
        for slot in range(self.workers):
            self._recover(slot)


class DaskExecutor(_RetryingExecutor):
    """A ``distributed`` client of a local cluster (started here) or of a running scheduler."""

    def __init__(self, workers: int, scheduler: str = "") -> None:
        import dask
        from distributed import Client, KilledWorker, LocalCluster
        from distributed.comm import CommClosedError

        super().__init__()
        # a dead worker's task is rescheduled by Dask itself; these reach us when that gave up
        self.lost = (KilledWorker, CancelledError, CommClosedError)
        self._cluster = None
        self._workers: list[str] = []
        self._submitted = 0
        if scheduler:
            _check_address(scheduler)
            try:
                self.client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise EvolveError(
                    f"campaign.scheduler = {scheduler!r}: cannot reach the Dask scheduler "
                    f"within {SCHEDULER_TIMEOUT_S:g} s ({exc})"
                ) from None
        else:
            numba_cache = os.environ.get("NUMBA_CACHE_DIR")
            # the workers' statistical profiler samples the task's stack every 10 ms, holding the
            # GIL: of no use for one long task per epoch (a remote cluster sets it in its workers'
            # config: DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False)
            # and no work stealing: an island's next epoch waits in its own worker's queue (see
            # ordered_affinity) instead of being moved to the other worker, which does not hold it
            with dask.config.set({"distributed.worker.profile.enabled": False,
                                  "distributed.scheduler.work-stealing": False}):
                self._cluster = LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                    silence_logs=logging.ERROR, env={"NUMBA_CACHE_DIR": numba_cache} if numba_cache else None,
                )
            self.client = Client(self._cluster, set_as_default=False)
            # workers we started exit with us, even after kill -9 (never asked of a remote cluster)
            from evolve.islands.dask_plugins import ParentWatch

            self.client.register_plugin(ParentWatch(os.getpid()))
        # Without work stealing a task restricted to a worker that is alive runs there, in the
        # order submitted: affinities are ordered, so island epochs may queue ahead. A cluster
        # whose scheduler steals (the default of `dask scheduler`) may move a queued epoch away
        # from the worker that holds its island (correct, but the island is shipped again).
        try:
            self.ordered_affinity = not self.client.run_on_scheduler(_steals)
        except Exception:  # a scheduler that refuses to run code: assume it steals
            self.ordered_affinity = False

    def _slot(self, affinity: int | None) -> int:
        return -1 if affinity is None else affinity

    def _submit(self, fn: Callable[[Any], Any], item: Any, slot: int) -> Any:
        if slot < 0:
            return self.client.submit(fn, item, pure=False)
        if not self._workers:
            self._workers = sorted(self.client.nthreads())  # every worker's address
        # a loose restriction: if that worker is gone or busy the scheduler may place it elsewhere;
        # a falling priority runs a worker's queue in the order submitted (Dask gives tasks
        # submitted within its fifo-timeout, 60 ms, the same priority, and so any order)
        self._submitted += 1
        return self.client.submit(fn, item, pure=False, workers=[self._workers[slot % len(self._workers)]],
                                  allow_other_workers=True, priority=-self._submitted)

    def _recover(self, slot: int) -> None:
        self._workers = []  # the cluster changed: ask the scheduler again

    def _wait_first(self, futures: list[Any]) -> None:
        # distributed.wait needs a default client; this one is not (set_as_default=False)
        finished = threading.Event()
        for future in futures:
            future.add_done_callback(lambda _future: finished.set())
        finished.wait()

    def warm(self, fn: Callable[[Any], Any], item: Any) -> None:
        """``Client.run``: ``fn(item)`` on every worker of the cluster, outside the task graph."""
        self.client.run(fn, item)

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def _steals(dask_scheduler: Any) -> bool:
    """Run on the scheduler: does it have the work-stealing extension?"""
    return "stealing" in dask_scheduler.extensions


def _check_address(address: str) -> None:
    try:
        parts = urlsplit(address)
        port = parts.port
    except ValueError:
        port = None
        parts = None
    if parts is None or not parts.scheme or not parts.hostname or port is None:
        raise ConfigError(f"campaign.scheduler = {address!r}: expected a Dask scheduler address tcp://HOST:PORT")


def make_executor(kind: str, workers: int = 1, scheduler: str = "") -> Executor:
    """The executor named by ``campaign.executor`` (serial, processes or dask)."""
    if kind == "serial":
        return SerialExecutor()
    if kind == "processes":
        return ProcessExecutor(workers)
    if kind == "dask":
        return DaskExecutor(workers, scheduler)
    raise ConfigError(f"campaign.executor = {kind!r}: expected one of serial, processes, dask")
