"""The Numba interpreter: AutoML-Zero's executor (Real et al. 2020, §3 and Supplementary S1).

On each task: wipe memory, run Setup once; for each epoch and each train example (epoch 0 in order,
later epochs shuffled) set ``v0 = x, s0 = 0`` and run Predict (for accuracy tasks
``s1 <- sigmoid(s1)``), stop training if ``|y - s1|`` is NaN or ``> max_abs_error`` (a stop in the
first epoch scores 0), then set ``s0 = y`` and run Learn; after each epoch run Predict alone over the
validation examples and score them. Regression scores ``1 - (2/pi) arctan(RMSE)``, accuracy tasks
the fraction with ``sigmoid(s1) > 0.5`` matching the label; NaN/inf or any ``|error| >
max_abs_error`` scores 0. A task's fitness is its best epoch's score.

This module is the driver: per program, prune dead code (:mod:`primitives.liveness`: instructions
that cannot reach a prediction; most of a random program), reset memory and streams, run the phases
(:mod:`primitives.dispatch`, kernels in :mod:`primitives.kernels`), score, and hash predictions for
FEC (:mod:`primitives.fec_hash`). Random ops and shuffles draw from SplitMix64
(:mod:`primitives.splitmix`); the draws of random ops are memoised per task set and evaluation
seed, since every program restarts the same streams. The memory the phases work on is passed as
views without reference counts (:mod:`primitives.unmanaged`): Numba's atomic reference counting of
a dozen array arguments per call cost more than the few live instructions most programs execute.
Kernels take arrays and scalars only and are cached on disk (``cache=True``).

Bit-identical results: the same fitness and hashes on every run, in every process and on every
x86-64 or arm64 CPU whose C library gives the same ``sin``/``cos``/``exp``/``log``/... (the
scalar transcendental ops and Box-Muller call libm per element); no sum is reassociated and no
multiply-add fused (:mod:`primitives.kernels`), so SIMD width does not change a bit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
from numba import njit

from primitives.dispatch import EVAL_ACCURACY, EVAL_RMS, run_phase
from primitives.dispatch import run as _run  # noqa: F401  (the op tests' entry point)
from primitives.executor import DEFAULT_MAX_ABS_ERROR
from primitives.fec_hash import hash_predictions as _hash_predictions
from primitives.liveness import OP_TABLE, compact
from primitives.splitmix import (
    SALT_RANDOM_OPS as _SALT_RANDOM_OPS,
)
from primitives.splitmix import (
    SALT_SHUFFLE as _SALT_SHUFFLE,
)
from primitives.splitmix import (
    DrawTable,
)
from primitives.splitmix import (
    next_uniform as _uniform,
)
from primitives.splitmix import (
    stream_start as _stream_start,
)
from primitives.unmanaged import unmanaged as _unmanaged

EVAL_TYPE_CODES = {"rms": EVAL_RMS, "accuracy": EVAL_ACCURACY}
#: Random-op draws memoised per task (uniforms and Gaussians): 8192 covers the Setup of any program
#: of the shipped presets (a matrix Gaussian set at F=16 takes 512 draws); later draws are computed.
DRAW_TABLE_SIZE = 8192
#: Tables kept (least recently used dropped): one per (thread, task seeds, evaluation seed).
DRAW_TABLES_KEPT = 8

_TWO_OVER_PI = 2.0 / np.pi
_JIT = {"cache": True, "error_model": "numpy", "nogil": True}

@njit(**_JIT)
def _evaluate_batch(code, data, bounds, train_x, train_y, valid_x, valid_y, eval_type,
                    num_epochs, max_abs_error, n_scalars, n_vectors, n_matrices, task_seeds,
                    eval_seed, record, prune, op_table, fitness, hashes, filled, rvalues, S, V, Mx,
                    tmp, rng, draws, shuffle_rng, order, active, best, sq, correct, bad, preds, keep,
                    live_code, live_data, scratch):
    """Run each program on all tasks in lockstep; ``fitness[p, t]`` is its best epoch's score.

    With ``record`` the predictions are written to ``preds[t, :]``: the train predictions
    (after the sigmoid for accuracy tasks) of the first epoch, then the validation predictions of
    the first epoch; entries after a stop stay NaN; ``hashes[p]`` is their hash (functional
    equivalence checking). ``filled``/``rvalues`` are the memoised random-op draws of these tasks
    (:class:`primitives.splitmix.DrawTable`); the work arrays after them come from
    :func:`evaluate_batch`.

    One jitted level above the phase function on purpose: Numba re-optimises a callee's code
    inside every caller, so each level of calls adds seconds to the cold compile."""
    # The caller holds every argument for the whole call, so views without a reference count
    # are safe here (see _unmanaged); they make the calls below cheap.
    S = _unmanaged(S)
    V = _unmanaged(V)
    Mx = _unmanaged(Mx)
    tmp = _unmanaged(tmp)
    rng = _unmanaged(rng)
    draws = _unmanaged(draws)
    filled = _unmanaged(filled)
    rvalues = _unmanaged(rvalues)
    live_code = _unmanaged(live_code)
    live_data = _unmanaged(live_data)
    code = _unmanaged(code)
    data = _unmanaged(data)
    T, n_train, F = train_x.shape
    n_valid = valid_x.shape[1]
    live_bounds = np.zeros(4, dtype=np.int64)
    # Typed variables, never literals, in the phase calls: a literal argument makes Numba
    # compile another specialization of the (large) phase function.
    setup_mode, train_mode, valid_mode = np.int64(0), np.int64(1), np.int64(2)
    no_offset = np.int64(0)
    valid_offset = np.int64(n_train)
    for p in range(bounds.shape[0]):
        if prune:
            compact(code, data, bounds, p, n_scalars, n_vectors, n_matrices, op_table, keep,
                    live_code, live_data, live_bounds, scratch)
            c, d = live_code, live_data
            setup_start, predict_start = live_bounds[0], live_bounds[1]
            learn_start, end = live_bounds[2], live_bounds[3]
        else:
            c, d = code, data
            setup_start, predict_start = bounds[p, 0], bounds[p, 1]
            learn_start, end = bounds[p, 2], bounds[p, 3]
        S[:, :] = 0.0
        V[:, :] = 0.0
        Mx[:, :] = 0.0
        for t in range(T):
            rng[t] = _stream_start(task_seeds[t], eval_seed, _SALT_RANDOM_OPS)
            draws[t] = 0
            shuffle_rng[t] = _stream_start(task_seeds[t], eval_seed, _SALT_SHUFFLE)
            for i in range(n_train):
                order[t, i] = i
            active[t] = True
            best[t] = 0.0
        if record:
            preds[:, :] = np.nan
        if setup_start < predict_start:
            run_phase(c, d, setup_start, predict_start, predict_start, setup_mode, S, V, Mx, T,
                      F, rng, draws, filled, rvalues, tmp, train_x, train_y, order, eval_type, max_abs_error, active,
                       record, preds, no_offset, sq, correct, bad)
        for epoch in range(num_epochs):
            if epoch > 0:
                for t in range(T):
                    for i in range(n_train - 1, 0, -1):
                        j = int(_uniform(shuffle_rng, t) * (i + 1))
                        swap = order[t, i]
                        order[t, i] = order[t, j]
                        order[t, j] = swap
            n_active = run_phase(c, d, predict_start, learn_start, end, train_mode, S, V, Mx, T,
                                 F, rng, draws, filled, rvalues, tmp, train_x, train_y, order, eval_type,
                                  max_abs_error, active, record and epoch == 0, preds,
                                  no_offset, sq, correct, bad)
            if n_active == 0:
                break
            for t in range(T):
                sq[t] = 0.0
                correct[t] = 0
                bad[t] = False
            run_phase(c, d, predict_start, learn_start, learn_start, valid_mode, S, V, Mx, T, F,
                      rng, draws, filled, rvalues, tmp, valid_x, valid_y, order, eval_type, max_abs_error, active,
                       record and epoch == 0, preds, valid_offset, sq, correct, bad)
            for t in range(T):
                if not active[t]:
                    continue
                if eval_type == EVAL_ACCURACY:
                    score = correct[t] / n_valid
                elif bad[t]:
                    score = 0.0
                else:
                    score = 1.0 - _TWO_OVER_PI * np.arctan(np.sqrt(sq[t] / n_valid))
                if score > best[t]:
                    best[t] = score
        for t in range(T):
            fitness[p, t] = best[t]
        if record:
            hashes[p] = _hash_predictions(preds)


def evaluate_batch(
    code: np.ndarray,
    data: np.ndarray,
    bounds: np.ndarray,
    train_x: np.ndarray,
    train_y: np.ndarray,
    valid_x: np.ndarray,
    valid_y: np.ndarray,
    *,
    eval_type: int,
    num_epochs: int,
    memory: tuple[int, int, int],
    task_seeds: np.ndarray,
    eval_seed: int = 0,
    max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
    record: bool = False,
    prune: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate ``P`` packed programs on ``T`` tasks in one jitted call.

    ``code`` (N, 4) int64 rows ``(op, in1, in2, out)`` and ``data`` (N, 3) float64 constants hold
    all programs back to back; ``bounds[p] = (setup_start, predict_start, learn_start, end)``.
    Task arrays are stacked: ``train_x`` (T, n, F), ``train_y`` (T, n), likewise ``valid_*``.
    Returns ``(fitness (P, T), hashes (P,) uint64)``; hashes are filled when ``record`` is set
    (functional equivalence checking on the predictions of this call). Arguments must already be
    validated (see :func:`primitives.program.pack`); the kernel does no bounds checks of its own.
    With ``prune`` (the default) each program's dead code is skipped
    (:mod:`primitives.liveness`); the results are the same bit for bit, only faster.
    """
    n_programs = bounds.shape[0]
    T, n_train, F = train_x.shape
    n_valid = valid_x.shape[1]
    fitness = np.zeros((n_programs, T))
    hashes = np.zeros(n_programs, dtype=np.uint64)
    n_s, n_v, n_m = (int(v) for v in memory)
    c = np.ascontiguousarray
    code = c(code, dtype=np.int64)
    bounds = c(bounds, dtype=np.int64)
    longest = int((bounds[:, 3] - bounds[:, 0]).max()) if n_programs else 0
    seeds = task_seeds.astype(np.uint64)
    eval_seed = np.uint64(eval_seed & 0xFFFFFFFFFFFFFFFF)
    table = draw_table(seeds, int(eval_seed))
    work = _work_arrays(n_s, n_v, n_m, T, F, n_train, n_valid, code.shape[0], longest)
    _evaluate_batch(
        code, c(data, dtype=np.float64), bounds, c(train_x), c(train_y), c(valid_x), c(valid_y),
        int(eval_type), int(num_epochs), float(max_abs_error), n_s, n_v, n_m,
        seeds, eval_seed, bool(record), bool(prune), OP_TABLE, fitness, hashes, table.filled,
        table.values, *work,
    )
    return fitness, hashes


#: Work arrays kept per (thread, memory, task shape): the most recently used are reused.
WORK_SETS_KEPT = 8
_work_sets: OrderedDict[tuple, list] = OrderedDict()
_work_lock = threading.Lock()


def _work_arrays(n_s: int, n_v: int, n_m: int, T: int, F: int, n_train: int, n_valid: int,
                 rows: int, longest: int) -> tuple:
    """The kernel's work arrays (memory banks, streams, per-task state, scratch) for this
    thread and shape, reused from call to call: the kernel sets every element it reads before
    reading it, per program, so what a previous call left in them changes nothing (programs
    of one call already share them). Allocating 18 arrays per call cost ~1 us a child on
    the linear demo. The two sized by the programs grow to the largest batch seen."""
    key = (threading.get_ident(), n_s, n_v, n_m, T, F, n_train, n_valid)
    with _work_lock:
        work = _work_sets.get(key)
        if work is None:
            work = _work_sets[key] = [
                np.zeros((n_s, T)), np.zeros((n_v, T * F)), np.zeros((max(n_m, 1), T * F * F)),
                np.zeros(T * F * F + T * F), np.zeros(T, np.uint64), np.zeros(T, np.int64),
                np.zeros(T, np.uint64),
                np.zeros((T, n_train), np.int64), np.zeros(T, np.bool_), np.zeros(T), np.zeros(T),
                np.zeros(T, np.int64), np.zeros(T, np.bool_), np.full((T, n_train + n_valid), np.nan),
                np.zeros(0, np.bool_), np.zeros((0, 4), np.int64),
                np.zeros((0, 3)), np.zeros((5, n_s + n_v + n_m + 1), np.bool_),
            ]
            while len(_work_sets) > WORK_SETS_KEPT:
                _work_sets.popitem(last=False)
        else:
            _work_sets.move_to_end(key)
        if work[14].shape[0] < rows:
            work[14] = np.zeros(max(rows, 2 * work[14].shape[0]), np.bool_)
        if work[15].shape[0] < longest:
            size = max(longest, 2 * work[15].shape[0])
            work[15] = np.zeros((size, 4), np.int64)
            work[16] = np.zeros((size, 3))
        return tuple(work)


_draw_tables: OrderedDict[tuple, DrawTable] = OrderedDict()
_draw_tables_lock = threading.Lock()


def draw_table(task_seeds: np.ndarray, eval_seed: int) -> DrawTable:
    """The memoised random-op draws of these tasks and evaluation seed for the calling thread (a
    table is filled by one kernel at a time); the least recently used beyond
    :data:`DRAW_TABLES_KEPT` are dropped."""
    key = (threading.get_ident(), task_seeds.tobytes(), eval_seed)
    with _draw_tables_lock:
        table = _draw_tables.get(key)
        if table is None:
            table = _draw_tables[key] = DrawTable(len(task_seeds), DRAW_TABLE_SIZE)
            while len(_draw_tables) > DRAW_TABLES_KEPT:
                _draw_tables.popitem(last=False)
        else:
            _draw_tables.move_to_end(key)
    return table


@njit(**_JIT)
def _uniform_stream(state, n):
    states = np.array([state], dtype=np.uint64)
    out = np.empty(n)
    for i in range(n):
        out[i] = _uniform(states, 0)
    return out


def jitted_stream(task_seed: int, eval_seed: int, salt: int, n: int) -> np.ndarray:
    """``n`` uniforms from the jitted stream (to test it against :mod:`primitives.rng`)."""
    state = _stream_start(np.uint64(task_seed), np.uint64(eval_seed), np.uint64(salt))
    return _uniform_stream(np.uint64(state), n)
