"""The C library's scalar functions with C's results, as the interpreter calls them.

The Numba kernel lowers ``np.sin(x)`` etc. on a float64 scalar to a call of the C library (libm)
function of that name, which returns IEEE special values (C99 Annex F) instead of raising:
``log(0) = -inf``, ``log(x < 0) = NaN``, ``exp(x > 709.78) = inf``, ``asin(|x| > 1) = NaN``,
``tan(±inf) = NaN``. Python's :mod:`math` calls the same libm functions but raises on domain and
range errors; this module maps those errors back to C's values, so each function here returns
exactly what the kernel computes on the same machine.

NumPy's ufuncs are *not* used: on CPUs with AVX-512 (and others) NumPy dispatches to its own SIMD
implementations, which differ from libm by an ulp and in the sign of NaN. What the interpreter
means by an op is "libm, per element"; these functions state that meaning. The source of this
module is also embedded in exported programs (:mod:`evolve.analysis.export`), so a standalone
export computes the same bits. Across machines, libm itself may differ in the last ulp (glibc
selects FMA/non-FMA variants by CPU; other C libraries use other algorithms): see the README's
"Determinism" section.
"""

from __future__ import annotations

import math

__all__ = ["acos", "asin", "atan", "cos", "exp", "log", "sigmoid", "sin", "tan"]


def sin(x: float) -> float:
    """``sin(x)``; ``sin(±inf) = NaN``."""
    return math.sin(x) if math.isfinite(x) else math.nan


def cos(x: float) -> float:
    """``cos(x)``; ``cos(±inf) = NaN``."""
    return math.cos(x) if math.isfinite(x) else math.nan


def tan(x: float) -> float:
    """``tan(x)``; ``tan(±inf) = NaN``."""
    return math.tan(x) if math.isfinite(x) else math.nan


def asin(x: float) -> float:
    """``arcsin(x)``; NaN outside ``[-1, 1]``."""
    return math.asin(x) if -1.0 <= x <= 1.0 else math.nan


def acos(x: float) -> float:
    """``arccos(x)``; NaN outside ``[-1, 1]``."""
    return math.acos(x) if -1.0 <= x <= 1.0 else math.nan


def atan(x: float) -> float:
    """``arctan(x)``; ``atan(±inf) = ±π/2``, as C."""
    return math.atan(x)


def exp(x: float) -> float:
    """``e**x``; ``inf`` on overflow (``x > 709.78``), ``0`` on underflow, as C."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def log(x: float) -> float:
    """Natural log; ``log(±0) = -inf``, ``log(x < 0) = NaN``, ``log(inf) = inf``, as C."""
    if x > 0.0 or x != x:
        return math.log(x)
    if x == 0.0:
        return -math.inf
    return math.nan


def sigmoid(x: float) -> float:
    """``1 / (1 + exp(-x))`` with C's ``exp``: the executor's squashing of accuracy predictions."""
    return 1.0 / (1.0 + exp(-x))
