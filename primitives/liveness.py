"""Jitted dead-code elimination of packed programs, run by the interpreter before each evaluation.

An instruction whose result can never reach a prediction does not change any fitness, so the
executor may skip it; random programs are mostly such code (about 89% of the instructions of the
benchmark's random programs and 75% of AutoML-Zero's demo shape are dead). The analysis is the
liveness fixed point of :mod:`primitives.prune` (the readable reference it is tested against)
over AutoML-Zero's loop ``Setup -> (Predict -> Learn)* -> Predict`` (Real et al. 2020, §3)::

    out(Setup)   = entry(Predict)
    out(Predict) = {s1} ∪ entry(Learn) ∪ entry(Predict)
    out(Learn)   = entry(Predict)
    entry(C)     = in(C) minus {s0, v0}        (the executor writes them before each component)

Registers are numbered ``scalars, vectors, matrices, rng``: a random op (OP59-OP64) reads and
writes the task's random stream, so it is kept while a later kept random op draws from it, and
the numbers every kept random op draws are unchanged. Const-set ops (OP57, OP58) write one element
and so also read their output. The compacted program evaluates bit for bit as the original.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from primitives.memory import (
    FEATURES_VECTOR_ADDRESS,
    LABEL_SCALAR_ADDRESS,
    PREDICTION_SCALAR_ADDRESS,
)
from primitives.ops import OPS
from primitives.splitmix import mix64

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}


def _op_tables() -> np.ndarray:
    """Per op code: ``(kind of in1, kind of in2, output kind, partial write, random, constants
    read)``, -1 = none."""
    table = np.full((len(OPS), 6), -1, dtype=np.int64)
    for op in OPS:
        for slot, kind in enumerate(op.inputs):
            table[op.code, slot] = kind
        table[op.code, 2] = -1 if op.output is None else op.output
        table[op.code, 3] = 1 if op.partial_write else 0
        table[op.code, 4] = 1 if op.random else 0
        table[op.code, 5] = len(op.constants)
    return table


OP_TABLE = _op_tables()
_KEY_OFFSET_1 = np.uint64(0xCBF29CE484222325)  # FNV-1a's offset basis
_KEY_OFFSET_2 = np.uint64(0x84222325CBF29CE4)
_KEY_PRIME = np.uint64(0x100000001B3)  # FNV-1a's prime
_KEY_SALT = np.uint64(0x9E3779B97F4A7C15)


@njit(**_JIT)
def _backward(code, start, end, live, base, op_table, rng_reg, keep):
    """Walk ``code[start:end]`` backwards from the live set ``live`` (updated in place to the
    entry live set); ``keep[k]`` tells whether instruction ``k`` writes something live."""
    for k in range(end - 1, start - 1, -1):
        op = code[k, 0]
        out_kind = op_table[op, 2]
        random = op_table[op, 4] == 1
        needed = False
        if out_kind >= 0 and live[base[out_kind] + code[k, 3]]:
            needed = True
        if random and live[rng_reg]:
            needed = True
        keep[k] = needed
        if not needed:
            continue
        if out_kind >= 0 and op_table[op, 3] == 0:
            live[base[out_kind] + code[k, 3]] = False
        if random:
            live[rng_reg] = True
        for slot in range(2):
            kind = op_table[op, slot]
            if kind >= 0:
                live[base[kind] + code[k, 1 + slot]] = True


@njit(**_JIT)
def live_mask(code, setup_start, predict_start, learn_start, end, n_scalars, n_vectors,
              n_matrices, op_table, keep, bits=True):
    """Fill ``keep[setup_start:end]`` with True for the instructions that affect predictions
    (``bits=False`` forces the general boolean-array path; tests compare the two)."""
    scratch = np.zeros((5, n_scalars + n_vectors + n_matrices + 1), dtype=np.bool_)
    if bits:
        _live_mask(code, setup_start, predict_start, learn_start, end, n_scalars, n_vectors,
                   n_matrices, op_table, keep, scratch)
    else:
        _live_mask_arrays(code, setup_start, predict_start, learn_start, end, n_scalars,
                          n_vectors, n_matrices, op_table, keep, scratch)


_ONE = np.uint64(1)


@njit(**_JIT)
def _backward_bits(code, start, end, live, base, op_table, rng_reg, keep):
    """:func:`_backward` with the live set as the bits of one integer (at most 64 registers)."""
    for k in range(end - 1, start - 1, -1):
        op = code[k, 0]
        out_kind = op_table[op, 2]
        random = op_table[op, 4] == 1
        needed = False
        out_bit = np.uint64(0)
        if out_kind >= 0:
            out_bit = _ONE << np.uint64(base[out_kind] + code[k, 3])
            needed = (live & out_bit) != 0
        if random and (live & (_ONE << np.uint64(rng_reg))) != 0:
            needed = True
        keep[k] = needed
        if not needed:
            continue
        if out_kind >= 0 and op_table[op, 3] == 0:
            live &= ~out_bit
        if random:
            live |= _ONE << np.uint64(rng_reg)
        for slot in range(2):
            kind = op_table[op, slot]
            if kind >= 0:
                live |= _ONE << np.uint64(base[kind] + code[k, 1 + slot])
    return live


@njit(**_JIT)
def _live_mask_bits(code, setup_start, predict_start, learn_start, end, n_scalars, n_vectors,
                    n_matrices, op_table, keep):
    """:func:`_live_mask` for memories of at most 63 addresses: live sets are 64-bit integers."""
    n_regs = n_scalars + n_vectors + n_matrices + 1
    rng_reg = n_regs - 1
    base = (0, n_scalars, n_scalars + n_vectors)
    executor_written = ~((_ONE << np.uint64(LABEL_SCALAR_ADDRESS))
                         | (_ONE << np.uint64(n_scalars + FEATURES_VECTOR_ADDRESS)))
    prediction = _ONE << np.uint64(PREDICTION_SCALAR_ADDRESS)
    out_predict = prediction
    out_learn = np.uint64(0)
    while True:
        entry_predict = _backward_bits(code, predict_start, learn_start, out_predict, base,
                                       op_table, rng_reg, keep) & executor_written
        entry_learn = _backward_bits(code, learn_start, end, out_learn, base, op_table, rng_reg,
                                     keep) & executor_written
        new_predict = prediction | entry_learn | entry_predict
        if new_predict == out_predict and entry_predict == out_learn:
            break
        out_predict = new_predict
        out_learn = entry_predict
    _backward_bits(code, setup_start, predict_start, entry_predict, base, op_table, rng_reg, keep)


@njit(**_JIT)
def _live_mask(code, setup_start, predict_start, learn_start, end, n_scalars, n_vectors,
               n_matrices, op_table, keep, scratch):
    """:func:`live_mask` with caller-provided work space ``scratch`` (5, registers) of bools
    (unused when the registers fit the bits of one integer)."""
    n_regs = n_scalars + n_vectors + n_matrices + 1
    if n_regs <= 64:
        _live_mask_bits(code, setup_start, predict_start, learn_start, end, n_scalars, n_vectors,
                        n_matrices, op_table, keep)
        return
    _live_mask_arrays(code, setup_start, predict_start, learn_start, end, n_scalars, n_vectors,
                      n_matrices, op_table, keep, scratch)


@njit(**_JIT)
def _live_mask_arrays(code, setup_start, predict_start, learn_start, end, n_scalars, n_vectors,
                      n_matrices, op_table, keep, scratch):
    """The liveness fixed point with live sets as boolean arrays (any number of registers)."""
    n_regs = n_scalars + n_vectors + n_matrices + 1
    rng_reg = n_regs - 1
    base = (0, n_scalars, n_scalars + n_vectors)
    label = LABEL_SCALAR_ADDRESS
    features = n_scalars + FEATURES_VECTOR_ADDRESS
    prediction = PREDICTION_SCALAR_ADDRESS
    out_predict = scratch[0, :n_regs]
    out_learn = scratch[1, :n_regs]
    entry_predict = scratch[2, :n_regs]
    entry_learn = scratch[3, :n_regs]
    setup_live = scratch[4, :n_regs]
    out_predict[:] = False
    out_learn[:] = False
    out_predict[prediction] = True
    while True:
        entry_predict[:] = out_predict
        _backward(code, predict_start, learn_start, entry_predict, base, op_table, rng_reg, keep)
        entry_learn[:] = out_learn
        _backward(code, learn_start, end, entry_learn, base, op_table, rng_reg, keep)
        entry_predict[label] = False
        entry_predict[features] = False
        entry_learn[label] = False
        entry_learn[features] = False
        changed = False
        for r in range(n_regs):
            new_predict = r == prediction or entry_learn[r] or entry_predict[r]
            if new_predict != out_predict[r] or entry_predict[r] != out_learn[r]:
                changed = True
            out_predict[r] = new_predict
            out_learn[r] = entry_predict[r]
        if not changed:
            break
    # At the fixed point the last passes over Predict and Learn already used these live sets.
    setup_live[:] = entry_predict
    _backward(code, setup_start, predict_start, setup_live, base, op_table, rng_reg, keep)


@njit(**_JIT)
def compact(code, data, bounds, p, n_scalars, n_vectors, n_matrices, op_table, keep,
            out_code, out_data, out_bounds, scratch):
    """Copy program ``p`` of the packed batch without its dead instructions into ``out_code`` /
    ``out_data`` (from row 0) and its component bounds into ``out_bounds``; returns rows kept.
    ``scratch`` is work space for :func:`_live_mask`."""
    s, pr, le, en = bounds[p, 0], bounds[p, 1], bounds[p, 2], bounds[p, 3]
    _live_mask(code, s, pr, le, en, n_scalars, n_vectors, n_matrices, op_table, keep, scratch)
    n = 0
    for k in range(s, en):
        if k == pr:
            out_bounds[1] = n
        if k == le:
            out_bounds[2] = n
        if keep[k]:
            for j in range(4):
                out_code[n, j] = code[k, j]
            for j in range(3):
                out_data[n, j] = data[k, j]
            n += 1
    out_bounds[0] = 0
    if pr == en:
        out_bounds[1] = n
    if le == en:
        out_bounds[2] = n
    out_bounds[3] = n
    return n



@njit(**_JIT)
def live_keys(code, data_bits, bounds, n_scalars, n_vectors, n_matrices, op_table, keys):
    """``keys[p]``: two independent 64-bit hashes of program ``p``'s canonical live code: the rows
    :func:`compact` keeps, each as ``(op, in1, in2, out)`` with the fields the op does not read
    set to 0 (absent inputs, no output) and the bit patterns of the constants it reads
    (``data_bits`` is ``data.view(np.uint64)``), then the three component sizes. The interpreter
    runs only this code and reads only these fields, so two programs with the same canonical
    live code evaluate bit for bit alike on any tasks: the key stands for whatever their
    evaluation gives (two 64-bit hashes agreeing by chance: about 2^-128 per pair)."""
    P = bounds.shape[0]
    longest = 0
    for p in range(P):
        longest = max(longest, bounds[p, 3] - bounds[p, 0])
    keep = np.zeros(code.shape[0], dtype=np.bool_)
    live_code = np.zeros((longest, 4), dtype=np.int64)
    live_data = np.zeros((longest, 3), dtype=np.uint64)
    live_bounds = np.zeros(4, dtype=np.int64)
    scratch = np.zeros((5, n_scalars + n_vectors + n_matrices + 1), dtype=np.bool_)
    words = np.zeros(8, dtype=np.uint64)
    for p in range(P):
        kept = compact(code, data_bits, bounds, p, n_scalars, n_vectors, n_matrices, op_table,
                       keep, live_code, live_data, live_bounds, scratch)
        h1 = _KEY_OFFSET_1
        h2 = _KEY_OFFSET_2
        for k in range(kept + 1):
            if k < kept:
                op = live_code[k, 0]
                words[0] = np.uint64(op)
                words[1] = np.uint64(live_code[k, 1]) if op_table[op, 0] >= 0 else np.uint64(0)
                words[2] = np.uint64(live_code[k, 2]) if op_table[op, 1] >= 0 else np.uint64(0)
                words[3] = np.uint64(live_code[k, 3]) if op_table[op, 2] >= 0 else np.uint64(0)
                for j in range(3):
                    words[4 + j] = live_data[k, j] if j < op_table[op, 5] else np.uint64(0)
                words[7] = np.uint64(0)
            else:  # the component sizes close the key
                words[:] = 0
                words[0] = np.uint64(live_bounds[1])
                words[1] = np.uint64(live_bounds[2] - live_bounds[1])
                words[2] = np.uint64(live_bounds[3] - live_bounds[2])
                words[7] = np.uint64(1)
            for w in words:
                h1 = (h1 ^ mix64(w)) * _KEY_PRIME
                h2 = (h2 ^ mix64(w ^ _KEY_SALT)) * _KEY_PRIME
        keys[p, 0] = mix64(h1)
        keys[p, 1] = mix64(h2)
