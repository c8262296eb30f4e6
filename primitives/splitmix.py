"""SplitMix64 streams in Numba: the one jitted RNG of the interpreter and the batch mutator.

SplitMix64 (Steele, Lea and Flood 2014, "Fast splittable pseudorandom number generators"): the
state advances by the golden gamma ``0x9E3779B97F4A7C15`` (mod 2^64) and each output is the
state through the ``mix64`` finalizer. A uniform in [0, 1) is the top 53 bits of an output times
2^-53; a Gaussian is Box-Muller on two consecutive uniforms, ``sqrt(-2 log(1 - u1)) cos(2 pi u2)``.
:mod:`primitives.rng` is the slow, obvious twin with Python integers (tests prove they agree).

API (all jitted; a *stream array* is a uint64 array holding one stream state per element):

- ``mix64(z)``, ``stream_start(task_seed, eval_seed, salt)`` (= ``mix64(mix64(mix64(task) ^
  eval) ^ salt)``), ``SALT_RANDOM_OPS``, ``SALT_SHUFFLE``;
- ``next_uniform(states, i)``, ``next_gaussian(states, i)``, ``next_below(states, i, n)``: advance
  stream ``i`` of ``states`` and return a uniform, a N(0, 1) draw, an integer in [0, n);
- ``table_uniform`` / ``table_gaussian``: the same draws of the interpreter's random ops, memoised
  per task in a :class:`DrawTable` (see there).

The exporter (:mod:`evolve.analysis.export`) embeds the pure-Python twin, :mod:`primitives.rng`, verbatim.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
SALT_RANDOM_OPS = np.uint64(0x5EED0001)
SALT_SHUFFLE = np.uint64(0x5EED0002)
INV_2_53 = 1.0 / 9007199254740992.0
TWO_PI = 2.0 * np.pi

_U64 = np.uint64
_JIT = {"cache": True, "error_model": "numpy", "nogil": True}


@njit(**_JIT)
def mix64(z):
    """SplitMix64's finalizer, a bijection of 64 bits."""
    z = (z ^ (z >> _U64(30))) * MIX1
    z = (z ^ (z >> _U64(27))) * MIX2
    return z ^ (z >> _U64(31))


@njit(**_JIT)
def stream_start(task_seed, eval_seed, salt):
    """Initial state of the stream of one (task, evaluation seed, purpose)."""
    return mix64(mix64(mix64(task_seed) ^ eval_seed) ^ salt)


@njit(**_JIT)
def next_uniform(states, i):
    """Advance stream ``i``; its next uniform in [0, 1) (53 random bits)."""
    s = states[i] + GOLDEN
    states[i] = s
    return float(mix64(s) >> _U64(11)) * INV_2_53


@njit(**_JIT)
def next_gaussian(states, i):
    """Box-Muller on the next two uniforms of stream ``i``: one N(0, 1) draw."""
    u1 = next_uniform(states, i)
    u2 = next_uniform(states, i)
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(TWO_PI * u2)


@njit(**_JIT)
def next_below(states, i, n):
    """An integer in [0, n) from the next uniform of stream ``i`` (``int(u * n)``)."""
    return int(next_uniform(states, i) * n)


# ---- memoised draws of the interpreter's random ops ---------------------------------------------
#
# Every program's evaluation restarts each task's random-op stream at the same state, so the n-th
# draw of task t is the same number in every program. A DrawTable remembers the first N of them:
# ``values[t, 0, n]`` the n-th uniform, ``values[t, 1, n]`` the Box-Muller Gaussian of uniforms n
# and n + 1 (0.0 until computed: a draw of exactly +-0.0 is recomputed each time, which changes
# nothing), and
# ``filled[t]`` the uniforms stored so far; ``draws[t]`` counts the current program's draws (the
# caller's, reset per program). Draws past N are computed. The stream state advances exactly as
# without a table, so results are the same bit for bit; a random op costs a load instead of a log
# and a cos. An empty table (N = 0) computes every draw. A table is filled by one thread at a time.


@njit(**_JIT)
def table_uniform(states, draws, filled, values, t):
    """Stream ``t``'s next uniform, memoised in ``values[t, 0]``."""
    s = states[t] + GOLDEN
    states[t] = s
    n = draws[t]
    draws[t] = n + 1
    if n < values.shape[2]:
        if n < filled[t]:
            return values[t, 0, n]
        u = float(mix64(s) >> _U64(11)) * INV_2_53
        values[t, 0, n] = u  # draws come in order, so n == filled[t] here
        filled[t] = n + 1
        return u
    return float(mix64(s) >> _U64(11)) * INV_2_53


@njit(**_JIT)
def table_gaussian(states, draws, filled, values, t):
    """Stream ``t``'s next N(0, 1) draw (two uniforms), memoised in ``values[t, 1]``."""
    n = draws[t]
    if n + 1 < values.shape[2]:
        g = values[t, 1, n]
        if g != 0.0:
            states[t] = states[t] + GOLDEN + GOLDEN
            draws[t] = n + 2
            return g
    u1 = table_uniform(states, draws, filled, values, t)
    u2 = table_uniform(states, draws, filled, values, t)
    g = math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(TWO_PI * u2)
    if n + 1 < values.shape[2]:
        values[t, 1, n] = g
    return g


class DrawTable:
    """Memoised random-op draws of ``T`` tasks for one (task seeds, evaluation seed): ``values``
    (T, 2, N) float64 and ``filled`` (T,) int64, filled lazily by the kernel (zeros: the operating
    system maps memory only where draws were stored)."""

    def __init__(self, num_tasks: int, size: int) -> None:
        self.values = np.zeros((num_tasks, 2, size))
        self.filled = np.zeros(num_tasks, np.int64)

    @property
    def nbytes(self) -> int:
        return int(self.values.nbytes + self.filled.nbytes)


@njit(**_JIT)
def _drawn_to(k, side):
    """Where draw ``k`` of a fill goes: ``k``, or for a ``side`` x ``side`` matrix drawn row by
    row and stored by column, ``(k % side) * side + k // side``."""
    return k if side == 0 else (k % side) * side + k // side


@njit(**_JIT)
def table_fill(dst, n, gauss, p0, p1, states, draws, filled, values, t, side=0):
    """``n`` values from stream ``t`` into ``dst``: uniforms ``p0 + (p1 - p0) u`` (``p0`` when
    ``p0 >= p1``, the draw still made) or Gaussians ``p0 + p1 g``, exactly as ``n`` calls of
    :func:`table_uniform` / :func:`table_gaussian` would; memoised draws are read in one loop.
    Draw ``k`` goes to ``dst[_drawn_to(k, side)]`` (``side`` > 0: a matrix stored by column)."""
    n0 = draws[t]
    i = 0
    if not gauss:
        if n0 + n <= filled[t]:
            if p0 >= p1:
                for k in range(n):
                    dst[k] = p0  # every element the same: the order does not matter
            elif side > 0:
                span = p1 - p0
                row = values[t, 0, n0 : n0 + n]
                # the common case, without a division per draw: draw r * side + c is (r, c)
                for r in range(side):
                    for c in range(side):
                        dst[c * side + r] = p0 + span * row[r * side + c]
            else:
                span = p1 - p0
                row = values[t, 0, n0 : n0 + n]
                for k in range(n):
                    dst[k] = p0 + span * row[k]
            states[t] = states[t] + _U64(n) * GOLDEN
            draws[t] = n0 + n
            return
        if side > 0:  # without a division per draw (2x faster than _drawn_to here)
            for r in range(side):
                for c in range(side):
                    u = table_uniform(states, draws, filled, values, t)
                    dst[c * side + r] = p0 if p0 >= p1 else p0 + (p1 - p0) * u
            return
        for k in range(n):
            u = table_uniform(states, draws, filled, values, t)
            dst[k] = p0 if p0 >= p1 else p0 + (p1 - p0) * u
        return
    # Gaussians: each draw costs far more than the index arithmetic of _drawn_to
    if n0 + 2 * n <= values.shape[2]:
        row = values[t, 1, n0 : n0 + 2 * n]
        while i < n:
            g = row[2 * i]
            if g == 0.0:
                break
            dst[_drawn_to(i, side)] = p0 + p1 * g
            i += 1
        states[t] = states[t] + _U64(2 * i) * GOLDEN
        draws[t] = n0 + 2 * i
    for k in range(i, n):
        dst[_drawn_to(k, side)] = p0 + p1 * table_gaussian(states, draws, filled, values, t)
