"""Search-time evaluation: functional equivalence checking (FEC), hurdles and compute budgets.

FEC (AutoML-Zero §4, "functional equivalence checking"): a child's predictions on the first ``k``
train and ``k`` valid examples of every search task are hashed; an LRU cache maps hash -> fitness, so
a function already seen costs a short run and a hash, not a full evaluation. Hurdles (progressive
evaluation, So et al. 2019): children are first scored on ``hurdle_tasks`` tasks and only go on to
the rest if they reach the given percentile of recent hurdle scores. A compute budget scores 0 any
algorithm whose estimated cost exceeds a multiple of the 2-layer network's.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from evolve.evaluation import TaskBatch, packed_form, per_task_fitness_packed, reduce_fitness
from primitives.memory import MemorySpec
from primitives.ops import OPS
from primitives.program import LEARN, PREDICT, SETUP, Program

HURDLE_WINDOW = 1000


def op_costs(features_size: int) -> np.ndarray:
    """Cost per op code: 1 for scalar results, F for vector, F^2 for matrix (F^3 for matmul)."""
    F = features_size
    costs = np.ones(len(OPS))
    for op in OPS:
        kinds = [*op.inputs, op.output if op.output is not None else 0]
        costs[op.code] = [1, F, F * F][max(kinds)] if op.code else 0
    costs[43] = F**3
    costs[31] = F * F
    return costs


def program_cost(program: Program, costs: np.ndarray, n_train: int, n_valid: int, epochs: int) -> float:
    """Operations of one task: ``setup + epochs * (n_train * (predict + learn) + n_valid * predict)``."""
    per = [float(costs[program.component(c)[0][:, 0]].sum()) for c in (SETUP, PREDICT, LEARN)]
    return per[0] + epochs * (n_train * (per[1] + per[2]) + n_valid * per[1])


class FECCache:
    """LRU cache of fitness keyed by the hash of a function's predictions."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.entries: OrderedDict[int, float] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: int) -> float | None:
        value = self.entries.get(key)
        if value is None:
            self.misses += 1
            return None
        self.entries.move_to_end(key)
        self.hits += 1
        return value

    def put(self, key: int, fitness: float) -> None:
        self.entries[key] = fitness
        self.entries.move_to_end(key)
        if len(self.entries) > self.capacity:
            self.entries.popitem(last=False)

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def to_arrays(self) -> dict[str, np.ndarray]:
        keys = np.fromiter(self.entries.keys(), dtype=np.uint64, count=len(self.entries))
        values = np.fromiter(self.entries.values(), dtype=np.float64, count=len(self.entries))
        return {"fec_keys": keys, "fec_values": values,
                "fec_counts": np.array([self.hits, self.misses], dtype=np.int64)}

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.entries = OrderedDict(
            zip((int(k) for k in arrays["fec_keys"]), (float(v) for v in arrays["fec_values"]), strict=True)
        )
        self.hits, self.misses = (int(v) for v in arrays["fec_counts"])


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
        self.hurdle_tasks = hurdle_tasks
        self.hurdle_percentile = hurdle_percentile
        self.hurdle_scores: list[float] = []
        self.max_cost = max_cost
        self.costs = op_costs(batch.features_size)
        self.evaluations = 0  # full evaluations run (cache misses)
        self.individuals = 0  # children scored, cached or not

    def _score(self, code: np.ndarray, data: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        kwargs = {"max_abs_error": self.max_abs_error, "eval_seed": self.eval_seed}
        if not self.hurdle_tasks:
            fitness, _ = per_task_fitness_packed(code, data, bounds, self.batch, self.memory, **kwargs)
            return reduce_fitness(fitness, self.reduction)
        first = self.batch.subset(slice(0, self.hurdle_tasks))
        rest = self.batch.subset(slice(self.hurdle_tasks, None))
        early, _ = per_task_fitness_packed(code, data, bounds, first, self.memory, **kwargs)
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
            late, _ = per_task_fitness_packed(code, data, bounds[passed], rest, self.memory, **kwargs)
            full = np.concatenate([early[passed], late], axis=1)
            result[passed] = reduce_fitness(full, self.reduction)
        return result

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
            todo = [i for i in todo
                    if program_cost(programs[i], self.costs, n_train, n_valid, b.num_epochs) <= self.max_cost]
        if not self.fec:
            if todo:
                fitness[todo] = self._score(code, data, bounds[todo])
                self.evaluations += len(todo)
            return fitness
        _, hashes = per_task_fitness_packed(
            code, data, bounds[todo], self.head, self.memory,
            max_abs_error=self.max_abs_error, eval_seed=self.eval_seed, record=True,
        )
        misses: list[int] = []
        hash_of = dict(zip(todo, hashes.tolist(), strict=True))
        first_of: dict[int, int] = {}
        duplicates: list[tuple[int, int]] = []
        for i, h in hash_of.items():
            cached = self.cache.get(h)
            if cached is not None:
                fitness[i] = cached
            elif h in first_of:
                duplicates.append((i, first_of[h]))
                self.cache.hits += 1
                self.cache.misses -= 1
            else:
                first_of[h] = i
                misses.append(i)
        if misses:
            scores = self._score(code, data, bounds[misses])
            self.evaluations += len(misses)
            for i, score in zip(misses, scores.tolist(), strict=True):
                fitness[i] = score
                self.cache.put(hash_of[i], score)
        for i, j in duplicates:
            fitness[i] = fitness[j]
        return fitness
