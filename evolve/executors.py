"""Executors: who runs the island epochs (in this process, a process pool, or a Dask cluster).

One small interface, :class:`Executor`: ``map(fn, items) -> list`` (results in the order of
``items``) and ``close()``. Work is coarse (one item is an island epoch of thousands of
evaluations) and travels as plain data, so the three backends differ only in where ``fn`` runs:

- ``serial``: in this process, one item after the other.
- ``processes``: a :class:`concurrent.futures.ProcessPoolExecutor` of ``workers`` spawned processes
  (the default on one machine: one island per core). Workers inherit the environment, hence
  ``NUMBA_CACHE_DIR``, and load the compiled kernels from the on-disk cache.
- ``dask``: a ``distributed`` cluster: a ``LocalCluster(n_workers=workers, threads_per_worker=1,
  processes=True)`` started here, or the running cluster whose scheduler is at ``scheduler``.

Faults: a worker that dies mid-item costs that item, which is submitted again (the pool is rebuilt
when it broke); ``fn`` must therefore be a pure function of its item. An item whose worker dies
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

MAX_ATTEMPTS = 3
SCHEDULER_TIMEOUT_S = 5.0


class Executor(Protocol):
    """Runs a module-level function over items; results come back in the order of the items."""

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list: ...

    def start(self, fn: Callable[[Any], Any], item: Any) -> Job:
        """Begin ``fn(item)``; the job is ``done`` with its ``value`` once :meth:`wait_any` saw it."""

    def wait_any(self, jobs: Sequence[Job]) -> None:
        """Block until at least one of ``jobs`` is done (at once if one already is); a job whose
        worker died is started again."""

    def warm(self, fn: Callable[[Any], Any], item: Any) -> None:
        """Start the workers and run ``fn(item)`` once in each (imports, compiled kernels), so
        that the timed work that follows does not pay for start-up."""

    def close(self) -> None: ...


class Job:
    """One item on its way through an executor: ``done`` once ``value`` holds ``fn(item)``."""

    def __init__(self, fn: Callable[[Any], Any], item: Any) -> None:
        self.fn = fn
        self.item = item
        self.done = False
        self.value: Any = None
        self.future: Any = None
        self.attempts = 0
        self.generation = -1  # which incarnation of the backend runs it (a process pool is rebuilt)


class SerialExecutor:
    """Every item in this process, in order (a job is done as soon as it is started)."""

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list:
        return [fn(item) for item in items]

    def start(self, fn: Callable[[Any], Any], item: Any) -> Job:
        job = Job(fn, item)
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
    _generation = 0

    def _submit(self, fn: Callable[[Any], Any], item: Any) -> Any:
        raise NotImplementedError

    def _wait_first(self, futures: list[Any]) -> None:
        raise NotImplementedError

    def _recover(self) -> None:
        """Make the backend usable again after a worker died."""

    def _recover_once(self, generation: int) -> None:
        # every future of a broken pool fails; the pool is rebuilt once, for the first of them
        if generation == self._generation:
            self._recover()
            self._generation += 1

    def _launch(self, job: Job) -> None:
        while True:
            if job.attempts >= MAX_ATTEMPTS:
                raise EvolveError(
                    f"{type(self).__name__}: a worker died {MAX_ATTEMPTS} times running the same item")
            job.attempts += 1
            try:
                job.future, job.generation = self._submit(job.fn, job.item), self._generation
                return
            except self.lost:
                self._recover_once(self._generation)

    def start(self, fn: Callable[[Any], Any], item: Any) -> Job:
        job = Job(fn, item)
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
                    self._recover_once(job.generation)
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


class ProcessExecutor(_RetryingExecutor):
    """A pool of ``workers`` spawned processes (spawn: no fork of a threaded parent)."""

    # a broken pool fails its futures; shutting it down cancels any it had not failed yet
    lost = (BrokenProcessPool, CancelledError)

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def _submit(self, fn: Callable[[Any], Any], item: Any) -> Any:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_ignore_sigint,
            )
        return self._pool.submit(fn, item)

    def _wait_first(self, futures: list[Any]) -> None:
        concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_COMPLETED)

    def _recover(self) -> None:
        self.close()

    def warm(self, fn: Callable[[Any], Any], item: Any) -> None:
        """A pool has no "run on every worker": submitting ``workers`` items at once starts every
        process; an item a busy process took twice is submitted again until each process has run
        one, for at most :data:`MAX_ATTEMPTS` rounds (a process left cold only starts slower)."""
        warmed: set[int] = set()
        for _attempt in range(MAX_ATTEMPTS):
            pids = self.map(_call_and_report_pid, [(fn, item)] * (self.workers - len(warmed)))
            warmed.update(pids)
            if len(warmed) >= self.workers:
                return

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor(_RetryingExecutor):
    """A ``distributed`` client of a local cluster (started here) or of a running scheduler."""

    def __init__(self, workers: int, scheduler: str = "") -> None:
        from distributed import Client, KilledWorker, LocalCluster
        from distributed.comm import CommClosedError

        # a dead worker's task is rescheduled by Dask itself; these reach us when that gave up
        self.lost = (KilledWorker, CancelledError, CommClosedError)
        self._cluster = None
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
            self._cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                silence_logs=logging.ERROR, env={"NUMBA_CACHE_DIR": numba_cache} if numba_cache else None,
            )
            self.client = Client(self._cluster, set_as_default=False)

    def _submit(self, fn: Callable[[Any], Any], item: Any) -> Any:
        return self.client.submit(fn, item, pure=False)

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


def _call_and_report_pid(job: tuple[Callable[[Any], Any], Any]) -> int:
    fn, item = job
    fn(item)
    return os.getpid()


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
