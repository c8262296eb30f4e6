"""The hash of a program's predictions for functional equivalence checking (AutoML-Zero §4).

FNV-1a (Fowler, Noll, Vo) over the SplitMix-scrambled 64-bit patterns of the predictions, every
NaN taken as the same pattern. Scrambling each word first matters: a multiply carries a difference
only towards the high bits, and predictions such as 0.0 and 2.0 differ only in their (high)
exponent bits, so plain FNV over raw doubles lets such differences fall off the top and collide.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from primitives.splitmix import mix64

FNV_PRIME = np.uint64(0x100000001B3)
FNV_OFFSET = np.uint64(0xCBF29CE484222325)
NAN_BITS = np.uint64(0x7FF8000000000000)

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}


@njit(**_JIT)
def hash_predictions(preds):
    """``mix64`` of the FNV-1a hash of ``mix64(bits(p))`` over ``preds`` in C order."""
    h = FNV_OFFSET
    bits = preds.reshape(-1).view(np.uint64)
    flat = preds.reshape(-1)
    for i in range(flat.size):
        w = NAN_BITS if np.isnan(flat[i]) else bits[i]
        h = (h ^ mix64(w)) * FNV_PRIME
    return mix64(h)
