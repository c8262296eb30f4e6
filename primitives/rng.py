"""Counter-based random streams shared by the Numba interpreter and its pure-Python twin.

Random ops (OP59-OP64) and epoch shuffles draw from SplitMix64 streams (Steele et al. 2014),
one per (task, evaluation seed, purpose), so a program scores the same on every run, in every
process, whichever batch it is evaluated in. This module is the slow, obvious version written
with Python integers; :mod:`primitives.splitmix` has the jitted twin and a test proves they agree.
"""

from __future__ import annotations

import math

MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15
MIX_1 = 0xBF58476D1CE4E5B9
MIX_2 = 0x94D049BB133111EB
SALT_RANDOM_OPS = 0x5EED0001
SALT_SHUFFLE = 0x5EED0002


def mix64(z: int) -> int:
    """SplitMix64's finalizer: a bijective avalanche of 64 bits."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * MIX_1) & MASK64
    z = ((z ^ (z >> 27)) * MIX_2) & MASK64
    return z ^ (z >> 31)


def stream_start(task_seed: int, eval_seed: int, salt: int) -> int:
    """Initial state of the stream for one (task, evaluation seed, purpose)."""
    return mix64(mix64(mix64(task_seed & MASK64) ^ (eval_seed & MASK64)) ^ salt)


class Stream:
    """A SplitMix64 stream: ``next64``, ``uniform`` in [0, 1), Box-Muller ``gaussian``.

    Its whole state is one 64-bit integer, so it checkpoints as plain JSON."""

    def __init__(self, state: int) -> None:
        self.state = state & MASK64

    def next64(self) -> int:
        self.state = (self.state + GOLDEN_GAMMA) & MASK64
        return mix64(self.state)

    def uniform(self) -> float:
        return (self.next64() >> 11) * (1.0 / 9007199254740992.0)

    def gaussian(self) -> float:
        u1 = self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)

    def random(self) -> float:
        """Alias of :meth:`uniform` (the ``random.Random`` spelling the mutator uses)."""
        return self.uniform()

    def gauss(self, mu: float, sigma: float) -> float:
        """``mu + sigma * N(0, 1)`` by Box-Muller."""
        return mu + sigma * self.gaussian()

    def below(self, n: int) -> int:
        """An integer in [0, n) (used by Fisher-Yates shuffles)."""
        return int(self.uniform() * n)
