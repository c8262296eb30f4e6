"""Search-time evaluation: functional equivalence checking (FEC), hurdles and compute budgets.

FEC (AutoML-Zero §4, "functional equivalence checking"): a child's predictions on the first ``k``
train and ``k`` valid examples of every search task are hashed; a cache (:mod:`evolve.evaluation.fec`, LRU
replacement in halves) maps hash -> fitness, so a function already seen costs a short run and a
hash, not a full evaluation. Hurdles (progressive
evaluation, So et al. 2019): children are first scored on ``hurdle_tasks`` tasks and only go on to
the rest if they reach the given percentile of recent hurdle scores. A compute budget scores 0 any
algorithm whose estimated cost exceeds a multiple of the 2-layer network's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from evolve.evaluation.fec import FECCache, LiveKeyHashes
from evolve.evaluation.scoring import (
    TaskBatch,
    packed_form,
    per_task_fitness_packed,
    reduce_fitness,
)
from primitives.liveness import OP_TABLE, live_keys
from primitives.memory import MemorySpec
from primitives.ops import OPS
from primitives.program import LEARN, PREDICT, SETUP, Program

HURDLE_WINDOW = 1000
#: Live-code keys remembered with their FEC hash (emptied when full; 25 bytes a slot, twice as
#: many slots as entries). Forgetting one only means its next FEC pass runs again: no result
#: depends on this.
LIVE_KEYS_KEPT = 50_000
CHUNK_SECONDS = 0.25  # with a deadline, one kernel call runs about this long at most


class BudgetExhausted(Exception):
    """The campaign's wall-clock budget ended inside a batch (raised between kernel calls)."""


def op_costs(features_size: int) -> np.ndarray:
    """Cost per op code at ``F = features_size``: the op table's ``cost`` column (1 per scalar
    result, F per vector, F^2 per matrix, F^3 for a matrix product, 0 for no_op)."""
    return np.array([float(op.cost(features_size)) for op in OPS])


def program_cost(program: Program, costs: np.ndarray, n_train: int, n_valid: int, epochs: int) -> float:
    """Operations of one task: ``setup + epochs * (n_train * (predict + learn) + n_valid * predict)``."""
    per = [float(costs[program.component(c)[0][:, 0]].sum()) for c in (SETUP, PREDICT, LEARN)]
    return per[0] + epochs * (n_train * (per[1] + per[2]) + n_valid * per[1])


def packed_costs(code: np.ndarray, bounds: np.ndarray, costs: np.ndarray, n_train: int, n_valid: int,
                 epochs: int) -> np.ndarray:
    """:func:`program_cost` of every packed program at once (``bounds`` as
    :func:`primitives.program.pack` gives). Op costs are whole numbers far below 2**53, so every
    sum is exact and equals the per-program one whatever the order of addition."""
    if not len(bounds):
        return np.zeros(0)
    end = int(bounds[:, 3].max())
    running = np.concatenate(([0.0], np.cumsum(costs[code[:end, 0]])))
    per = running[bounds[:, 1:]] - running[bounds[:, :3]]  # (P, 3): setup, predict, learn
    return per[:, 0] + epochs * (n_train * (per[:, 1] + per[:, 2]) + n_valid * per[:, 1])


class SearchEvaluator:
    """Scores batches of children on the search tasks (the toolbox's ``evaluate``)."""

    def __init__(
        self,
        batch: TaskBatch,
        memory: MemorySpec,
        *,
        reduction: str = "mean",
        max_abs_error: float = 100.0,
        fec: bool = True,
        fec_train_examples: int = 10,
        fec_valid_examples: int = 10,
        fec_cache_size: int = 100_000,
        hurdle_tasks: int = 0,
        hurdle_percentile: float = 75.0,
        max_cost: float = 0.0,
        eval_seed: int = 0,
    ) -> None:
        self.batch = batch
        self.memory = memory
        self.reduction = reduction
        self.max_abs_error = max_abs_error
        self.eval_seed = eval_seed
        self.fec = fec
        self.head = batch.head(fec_train_examples, fec_valid_examples) if fec else None
        self.cache = FECCache(fec_cache_size)
        # canonical live code -> FEC hash (see _fec_hashes); exact, so never checkpointed
        self.live_hashes = LiveKeyHashes(LIVE_KEYS_KEPT)
        self.fec_passes = 0  # FEC passes run (children whose live code was not known)
        # wall seconds spent in the kernels, for `evolve bench` (one clock read per kernel call)
        self.seconds = {"full": 0.0, "fec_pass": 0.0, "live_keys": 0.0}
        self.hurdle_tasks = hurdle_tasks
        self.hurdle_percentile = hurdle_percentile
        self.hurdle_scores: list[float] = []
        self.max_cost = max_cost
        self.costs = op_costs(batch.features_size)
        self.evaluations = 0  # full evaluations run (cache misses)
        self.individuals = 0  # children scored, cached or not
        # monotonic time at which the campaign's budget ends (None: no limit); a batch then runs
        # in chunks of programs of ~CHUNK_SECONDS each, so that however long one batch would
        # take (population, epochs, sizes) the budget ends within a second. Each program is
        # scored on its own (the kernel resets memory and streams per program): chunks change
        # no result.
        self.deadline: float | None = None
        self._seconds_per_unit = 0.0  # measured kernel time per program x task x example

    def _kernel(self, code: np.ndarray, data: np.ndarray, bounds: np.ndarray, batch: TaskBatch,
                **kwargs) -> tuple[np.ndarray, np.ndarray]:
        """:func:`per_task_fitness_packed`, in chunks when a deadline is set."""
        if self.deadline is None:
            return per_task_fitness_packed(code, data, bounds, batch, self.memory, **kwargs)
        units = batch.num_tasks * batch.num_epochs * (batch.train_x.shape[1] + batch.valid_x.shape[1])
        fitness, hashes, start = [], [], 0
        while start < len(bounds):
            if time.monotonic() >= self.deadline:
                raise BudgetExhausted
            per_program = self._seconds_per_unit * units  # 0 until measured: one program first
            step = 1 if per_program <= 0 else max(1, int(CHUNK_SECONDS / per_program))
            step = min(step, len(bounds) - start)
            began = time.monotonic()
            f, h = per_task_fitness_packed(code, data, bounds[start : start + step], batch, self.memory, **kwargs)
            self._seconds_per_unit = (time.monotonic() - began) / (step * max(units, 1))
            fitness.append(f)
            hashes.append(h)
            start += step
        if not fitness:
            return per_task_fitness_packed(code, data, bounds, batch, self.memory, **kwargs)
        return np.concatenate(fitness), np.concatenate(hashes)

    def _score(self, code: np.ndarray, data: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        began = time.perf_counter()
        try:
            return self._score_timed(code, data, bounds)
        finally:
            self.seconds["full"] += time.perf_counter() - began

    def _score_timed(self, code: np.ndarray, data: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        kwargs = {"max_abs_error": self.max_abs_error, "eval_seed": self.eval_seed}
        if not self.hurdle_tasks:
            fitness, _ = self._kernel(code, data, bounds, self.batch, **kwargs)
            return reduce_fitness(fitness, self.reduction)
        first = self.batch.subset(slice(0, self.hurdle_tasks))
        rest = self.batch.subset(slice(self.hurdle_tasks, None))
        early, _ = self._kernel(code, data, bounds, first, **kwargs)
        early_mean = reduce_fitness(early, self.reduction)
        hurdle = (
            float(np.percentile(self.hurdle_scores, self.hurdle_percentile))
            if len(self.hurdle_scores) >= 10 else -np.inf
        )
        self.hurdle_scores.extend(float(v) for v in early_mean)
        del self.hurdle_scores[:-HURDLE_WINDOW]
        passed = [i for i, v in enumerate(early_mean) if v >= hurdle]
        result = early_mean.copy()
        if passed:
            late, _ = self._kernel(code, data, bounds[passed], rest, **kwargs)
            full = np.concatenate([early[passed], late], axis=1)
            result[passed] = reduce_fitness(full, self.reduction)
        return result

    def _fec_hashes(self, code: np.ndarray, data: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        """The FEC hash of each program: its predictions on the head of the tasks, hashed by
        the interpreter. The hash is a function of the program's canonical live code
        (:func:`primitives.liveness.live_keys`: the interpreter runs only that code), so a
        program whose live code was seen before takes the remembered hash without running
        (:class:`evolve.evaluation.fec.LiveKeyHashes`): a mutation of dead code, or a child equal to an
        earlier one, costs a lookup. The hashes, and so every fitness and FEC count, are those
        of running every pass."""
        m = self.memory
        keys = np.zeros((len(bounds), 2), dtype=np.uint64)
        began = time.perf_counter()
        live_keys(code, data.view(np.uint64), bounds, m.scalars, m.vectors, m.matrices, OP_TABLE, keys)
        self.seconds["live_keys"] += time.perf_counter() - began
        hashes, found = self.live_hashes.lookup(keys)
        unknown = np.flatnonzero(~found)
        if unknown.size:
            # the first program of each unknown key runs; later ones in this batch share its hash
            # (a dict, not np.unique(axis=0): that costs ~1 us a program at these batch sizes)
            pairs = [tuple(pair) for pair in keys[unknown].tolist()]
            slot: dict[tuple[int, int], int] = {}
            first: list[int] = []
            for j, pair in enumerate(pairs):
                if pair not in slot:
                    slot[pair] = len(first)
                    first.append(j)
            inverse = [slot[pair] for pair in pairs]
            run = unknown[np.asarray(first, dtype=np.int64)]
            began = time.perf_counter()
            _, fresh = self._kernel(code, data, bounds[run], self.head, max_abs_error=self.max_abs_error,
                                    eval_seed=self.eval_seed, record=True)
            self.seconds["fec_pass"] += time.perf_counter() - began
            self.fec_passes += len(run)
            hashes[unknown] = fresh[np.asarray(inverse)]
            self.live_hashes.insert(keys[run], fresh)
        return hashes

    def __call__(self, programs: Sequence[Program]) -> np.ndarray:
        """Fitness of each program; FEC hits and in-batch duplicates are not re-evaluated."""
        n = len(programs)
        self.individuals += n
        fitness = np.zeros(n)
        code, data, bounds = packed_form(programs)
        todo = list(range(n))
        if self.max_cost > 0:
            b = self.batch
            n_train, n_valid = b.train_x.shape[1], b.valid_x.shape[1]
            cost = packed_costs(code, bounds, self.costs, n_train, n_valid, b.num_epochs)
            todo = np.flatnonzero(cost <= self.max_cost).tolist()
        if not self.fec:
            if todo:
                fitness[todo] = self._score(code, data, bounds[todo])
                self.evaluations += len(todo)
            return fitness
        hashes = self._fec_hashes(code, data, bounds[todo])
        cached, found = self.cache.lookup(hashes)
        todo_array = np.asarray(todo, dtype=np.int64)
        fitness[todo_array[found]] = cached[found]
        hits = int(found.sum())
        # Among the rest, the first of each hash is evaluated; later equal hashes in this batch
        # are duplicates (counted as hits) and take its fitness.
        rest = np.flatnonzero(~found)
        _, first, inverse = np.unique(hashes[rest], return_index=True, return_inverse=True)
        first_sorted = np.sort(first)
        misses = rest[first_sorted]
        self.cache.hits += hits + (len(rest) - len(misses))
        self.cache.misses += len(misses)
        if len(misses):
            scores = self._score(code, data, bounds[todo_array[misses]])
            self.evaluations += len(misses)
            fitness[todo_array[misses]] = scores
            self.cache.insert(hashes[misses], scores)
            # every member of ``rest`` takes the score of the first occurrence of its hash
            score_of_unique = np.empty(len(first))
            score_of_unique[np.argsort(first)] = scores
            fitness[todo_array[rest]] = score_of_unique[inverse.reshape(-1)]
        return fitness
