"""The search protocol that generalizes: resampled search tasks, dataset mixing, funnel selection,
restarts from the best, and the select-task curve (AutoML-Zero §4.2; Lion, Chen et al. 2023).

Every option is off by default (``tasks.resample_individuals = 0``, ``tasks.funnel = 0``,
``campaign.restart_from = "initial"``), and a campaign then runs exactly as before.

- **Task pool** (AutoML-Zero §4.2: 36 search pairs x 100 projections, fitness on D tasks drawn
  from the pool). With ``tasks.resample_individuals = R > 0`` the search tasks are redrawn every
  R individuals: draw ``r`` (``r = individuals // R``) takes ``tasks.search`` distinct tasks of a
  pool of ``tasks.search_pool`` search-split tasks (task ``i`` of the pool is the suite's search
  task ``i``: pair ``i mod pairs``, its own projection), or, with ``search_pool = 0``, fresh tasks
  (the suite's search split under a seed derived from (campaign seed, r)). A program that merely
  fits the random draws of ten fixed tasks then loses its lead at the next draw. At each draw
  the FEC table is emptied and the population re-scored on the new tasks (those re-scorings are
  evaluations, not new individuals).
- **Dataset mixing** (the paper's 50% MNIST workers): with ``tasks.mix_fraction = q``, each draw
  uses, with probability q, the suite with its ``dataset`` parameter set to
  ``tasks.mix_dataset`` (its own pool). Select and final tasks never mix.
- **Funnel** (Lion: candidates promoted to larger proxy tasks before the real check): with
  ``tasks.funnel = K``, a new best search program is first scored on K further search-pair
  tasks (never select or final ones); only one at least as good there as the best funnel score
  so far goes on to the select tasks.
- **Restarts from the best**: ``campaign.restart_from = "best"`` refills a stalled experiment's
  population with copies of the best-on-select candidate instead of the initial programs.
- **Select curve**: every select check is one row of ``select_curve.csv`` (individuals, seconds,
  search, funnel and select fitness, kept); the reported program is the best on select.
"""

from __future__ import annotations

import numpy as np

from evolve.evaluation.evaluator import SearchEvaluator, op_costs, program_cost
from evolve.evaluation.fec import FECCache, LiveKeyHashes
from evolve.evaluation.scoring import TaskBatch
from problems.registry import get_tasks, make_suite

RESTART_FROM = ("initial", "best")
CURVE_COLUMNS = ("individuals", "seconds", "search", "funnel", "select", "kept")

# Seed arguments of the suite's search split for the draws and the funnel: far from the campaign
# seed's own search tasks (task seeds are hashes of (suite seed, seed argument, index)).
_DRAW_SALT = 0x5EED_D2A4
_FUNNEL_SALT = 0xF0_4E11


def derived_seed(*words: int) -> int:
    """A 63-bit seed from integers (NumPy SeedSequence), for the suite's ``seed`` argument."""
    state = np.random.SeedSequence([int(w) % 2**64 for w in words]).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & (2**63 - 1)


class SearchTasks:
    """The search tasks of each draw (see the module docstring); fixed when resampling is off."""

    def __init__(self, config) -> None:
        c = config
        t = c.tasks
        self.seed = c.seed
        self.count = t.search
        self.every = t.resample_individuals
        self.pool_size = t.search_pool
        self.mix_fraction = t.mix_fraction
        self.suites = [make_suite(c.problem.name, c.problem.params)]
        if t.mix_fraction > 0:
            self.suites.append(make_suite(c.problem.name, {**c.problem.params,
                                                             "dataset": t.mix_dataset}))
        self._pools: dict[int, list] = {}
        self._last: tuple[int, TaskBatch] | None = None

    @property
    def active(self) -> bool:
        return self.every > 0

    def draw_of(self, individuals: int) -> int:
        return individuals // self.every if self.active else 0

    def choice(self, draw: int) -> tuple[int, np.ndarray | None]:
        """(suite index, pool indices or None for fresh tasks) of draw ``draw``."""
        rng = np.random.default_rng([self.seed % 2**64, draw, 3])
        suite = 1 if len(self.suites) > 1 and rng.random() < self.mix_fraction else 0
        if not self.pool_size:
            return suite, None
        return suite, np.sort(rng.choice(self.pool_size, size=self.count, replace=False))

    def _pool(self, suite: int) -> list:
        if suite not in self._pools:
            self._pools[suite] = get_tasks(self.suites[suite], "search", self.pool_size, self.seed)
        return self._pools[suite]

    def tasks(self, draw: int) -> list:
        if not self.active:
            return get_tasks(self.suites[0], "search", self.count, self.seed)
        suite, indices = self.choice(draw)
        if indices is None:
            seed = derived_seed(self.seed, _DRAW_SALT, draw)
            return get_tasks(self.suites[suite], "search", self.count, seed)
        pool = self._pool(suite)
        return [pool[i] for i in indices.tolist()]

    def batch(self, draw: int) -> TaskBatch:
        if self._last is None or self._last[0] != draw:
            self._last = (draw, TaskBatch.from_tasks(self.tasks(draw)))
        return self._last[1]


def funnel_batch(config) -> TaskBatch | None:
    """The funnel's tasks: ``tasks.funnel`` search-pair tasks under their own seed (None: off)."""
    if not config.tasks.funnel:
        return None
    suite = make_suite(config.problem.name, config.problem.params)
    seed = derived_seed(config.seed, _FUNNEL_SALT)
    return TaskBatch.from_tasks(get_tasks(suite, "search", config.tasks.funnel, seed))


def swap_batch(evaluator: SearchEvaluator, batch: TaskBatch, max_cost_ratio: float,
               reference) -> None:
    """Point ``evaluator`` at new search tasks: a fresh FEC table (hit and miss counts kept) and
    live-code hashes, no hurdle history, the compute limit for the new tasks' sizes."""
    evaluator.batch = batch
    if evaluator.fec:
        n_train = evaluator.head.train_x.shape[1]
        n_valid = evaluator.head.valid_x.shape[1]
        evaluator.head = batch.head(n_train, n_valid)
    hits, misses = evaluator.cache.hits, evaluator.cache.misses
    evaluator.cache = FECCache(evaluator.cache.capacity)
    evaluator.cache.hits, evaluator.cache.misses = hits, misses
    # A remembered FEC hash is the hash of predictions on the *old* head examples: kept, it would
    # look up the new table with a stale key (and a resumed run, which starts without them, would
    # go another way). Emptied with the table it keys.
    evaluator.live_hashes = LiveKeyHashes(evaluator.live_hashes.capacity)
    evaluator.hurdle_scores = []
    evaluator.costs = op_costs(batch.features_size)
    if max_cost_ratio > 0:
        evaluator.max_cost = max_cost_ratio * program_cost(
            reference, evaluator.costs, batch.train_x.shape[1], batch.valid_x.shape[1],
            batch.num_epochs)


def curve_text(rows: list[tuple]) -> str:
    """``select_curve.csv``: a header and one row per select check."""
    lines = [",".join(CURVE_COLUMNS)]
    for row in rows:
        lines.append(",".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in row))
    return "\n".join(lines) + "\n"


def curve_array(rows: list[tuple]) -> np.ndarray:
    return np.asarray(rows, dtype=np.float64).reshape(-1, len(CURVE_COLUMNS))


def curve_rows(array: np.ndarray) -> list[tuple]:
    """Rows back from :func:`curve_array` (a checkpoint), checked for shape and finiteness."""
    array = np.asarray(array)
    if array.ndim != 2 or array.shape[1] != len(CURVE_COLUMNS) or not np.all(np.isfinite(array)):
        raise ValueError(f"select_curve: expected a finite (n, {len(CURVE_COLUMNS)}) array")
    return [(int(r[0]), float(r[1]), float(r[2]), float(r[3]), float(r[4]), int(r[5]))
            for r in array.tolist()]
