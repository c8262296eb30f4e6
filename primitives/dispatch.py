"""The interpreter's dispatch: one phase (Setup, a training epoch, a validation pass) of the
executor for all tasks of a batch in lockstep (Real et al. 2020, §3 and Supplementary S1).

Every instruction is dispatched once and executed for all tasks (memory is laid out
``[address, task, ...]``; above F = 8 a task's matrix column by column,
:func:`primitives.kernels.matrix_index`),
so the integer dispatch and the loop overhead are shared by the tasks.
The dispatch sits in one place inside the example loop, so an example costs no function call;
vector and matrix ops call the kernels of :mod:`primitives.kernels`. Random ops draw from one
SplitMix64 stream per task, memoised (:func:`primitives.splitmix.table_uniform`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from primitives import opcodes as OP
from primitives.kernels import (
    COLUMN_MAJOR_ABOVE,
    broadcast,
    elementwise16,
    ew_binary,
    ew_unary,
    matmul,
    matrix_index,
    matrix_rows,
    outer,
    row_sums,
    scale,
    task_sums,
    transpose,
)
from primitives.simd import SIMD_F, copy16, dot16
from primitives.splitmix import table_fill

EVAL_RMS = 0
EVAL_ACCURACY = 1

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}
#: Elementwise vector ops run as plain loops in the dispatch, except an aliased one (``v1 = v1 +
#: v2``) above this F, which goes through a kernel and ``tmp``: LLVM vectorises a plain loop only
#: when the output does not overlap an input, and at T*F <= 80 a kernel call costs more than
#: vectorising saves. Matrix elementwise ops always run as plain loops (memory-bound: the aliased
#: scalar loop is faster than the two passes through ``tmp``; docs/performance.md, "Why these
#: forms").
_INLINE_F = 8


@njit(**_JIT)
def _const_index(f, size):
    i = int(np.float32(size) * np.float32(f))
    return size - 1 if i > size - 1 else i


@njit(**_JIT)
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@njit(**_JIT)
def _above_half(p):
    """``1.0 if sigmoid(p) > 0.5 else 0.0``, without ``exp`` unless ``|p|`` is tiny: for
    ``p > 1e-6``, ``1 + exp(-p) <= 2 - 9.9e-7`` and so ``sigmoid(p) >= 0.5 + 2.4e-7`` (likewise
    below 0.5 for ``p < -1e-6``), far from any rounding; near 0 and for NaN the sigmoid decides."""
    if p > 1e-6:
        return 1.0
    if p < -1e-6:
        return 0.0
    return 1.0 if sigmoid(p) > 0.5 else 0.0


@njit(**_JIT)
def run_phase(code, data, seg_start, seg_mid, seg_end, mode, S, V, Mx, T, F, rng, draws, filled,
              rvalues, tmp, xs, ys, order, eval_type, max_abs_error, active, record, preds,
              pred_offset, sq, correct, bad):
    """One phase of the executor for all ``T`` tasks in lockstep; returns the active task count.

    - mode 0 (Setup): ``code[seg_start:seg_mid]`` once.
    - mode 1 (a training epoch): for each example ``i`` (row ``order[t, i]`` of ``xs``/``ys``):
      ``v0 = x, s0 = 0``; Predict ``code[seg_start:seg_mid]``; for accuracy tasks
      ``s1 <- sigmoid(s1)``; record ``s1``; a task whose ``|y - s1|`` is NaN or
      ``> max_abs_error`` stops (``active[t] = False``; when none is left, return 0);
      ``s0 = y``; Learn ``code[seg_mid:seg_end]``.
    - mode 2 (validation): for each example ``v0 = x, s0 = 0``; Predict; score ``s1`` into
      ``sq``/``bad`` (rms) or ``correct`` (accuracy) of the active tasks.

    ``S`` is (nS, T), ``V`` (nV, T*F), ``Mx`` (nM, T*F*F); ``rng`` holds one random-op stream
    state per task, ``draws`` the draws of this program per task, ``filled``/``rvalues`` the
    memoised draws (:class:`primitives.splitmix.DrawTable`; N = 0 computes every draw). The instruction dispatch sits in one place inside the example loop, so an
    example costs no function call (calls cost more than the few instructions most programs run).
    """
    FF = F * F
    TF = T * F
    TFF = T * FF
    n_active = 0
    for t in range(T):
        if active[t]:
            n_active += 1
    n_steps = 1 if mode == 0 else xs.shape[1]
    for ex in range(n_steps):
        if mode != 0 and F == SIMD_F:
            for t in range(T):
                row = order[t, ex] if mode == 1 else ex
                copy16(xs, (t * xs.shape[1] + row) * F, V, t * F)  # one block (primitives.simd)
                S[0, t] = 0.0
        elif mode != 0:
            for t in range(T):
                row = order[t, ex] if mode == 1 else ex
                # Indexed element by element: a row view of ``xs`` (a managed array) would cost
                # an atomic reference count per example and task (docs/performance.md).
                for f in range(F):
                    V[0, t * F + f] = xs[t, row, f]
                S[0, t] = 0.0
        start = seg_start
        end = seg_mid
        for seg in range(2):
            if seg == 1:
                if mode != 1:
                    break
                for t in range(T):
                    if not active[t]:
                        continue
                    if eval_type == EVAL_ACCURACY:
                        S[1, t] = sigmoid(S[1, t])
                    if record:
                        preds[t, pred_offset + ex] = S[1, t]
                    err = abs(ys[t, order[t, ex]] - S[1, t])
                    if not (err <= max_abs_error):
                        active[t] = False
                        n_active -= 1
                if n_active == 0:
                    return 0
                for t in range(T):
                    S[0, t] = ys[t, order[t, ex]]
                start = seg_mid
                end = seg_end
            for k in range(start, end):
                op = code[k, 0]
                a = code[k, 1]
                b = code[k, 2]
                o = code[k, 3]
                if op == OP.NO_OP:
                    pass
                # ---- scalar arithmetic (OP1-OP15) ----
                elif op == OP.SCALAR_SUM:
                    for t in range(T):
                        S[o, t] = S[a, t] + S[b, t]
                elif op == OP.SCALAR_DIFF:
                    for t in range(T):
                        S[o, t] = S[a, t] - S[b, t]
                elif op == OP.SCALAR_PRODUCT:
                    for t in range(T):
                        S[o, t] = S[a, t] * S[b, t]
                elif op == OP.SCALAR_DIVISION:
                    for t in range(T):
                        S[o, t] = S[a, t] / S[b, t]
                elif op == OP.SCALAR_ABS:
                    for t in range(T):
                        S[o, t] = abs(S[a, t])
                elif op == OP.SCALAR_RECIPROCAL:
                    for t in range(T):
                        S[o, t] = 1.0 / S[a, t]
                elif op == OP.SCALAR_SIN:
                    for t in range(T):
                        S[o, t] = np.sin(S[a, t])
                elif op == OP.SCALAR_COS:
                    for t in range(T):
                        S[o, t] = np.cos(S[a, t])
                elif op == OP.SCALAR_TAN:
                    for t in range(T):
                        S[o, t] = np.tan(S[a, t])
                elif op == OP.SCALAR_ARCSIN:
                    for t in range(T):
                        S[o, t] = np.arcsin(S[a, t])
                elif op == OP.SCALAR_ARCCOS:
                    for t in range(T):
                        S[o, t] = np.arccos(S[a, t])
                elif op == OP.SCALAR_ARCTAN:
                    for t in range(T):
                        S[o, t] = np.arctan(S[a, t])
                elif op == OP.SCALAR_EXP:
                    for t in range(T):
                        S[o, t] = np.exp(S[a, t])
                elif op == OP.SCALAR_LOG:
                    for t in range(T):
                        S[o, t] = np.log(S[a, t])
                elif op == OP.SCALAR_HEAVISIDE:
                    for t in range(T):
                        S[o, t] = 1.0 if S[a, t] >= 0.0 else 0.0
                elif F == SIMD_F and ((op >= OP.VECTOR_HEAVISIDE and op <= OP.MATRIX_HEAVISIDE) or op == OP.VECTOR_RECIPROCAL or op == OP.VECTOR_ABS
                                      or (op >= OP.VECTOR_SUM and op <= OP.VECTOR_DIVISION) or op == OP.MATRIX_RECIPROCAL or op == OP.MATRIX_ABS
                                      or (op >= OP.MATRIX_SUM and op <= OP.MATRIX_DIVISION) or op == OP.VECTOR_MIN or op == OP.MATRIX_MIN
                                      or op == OP.VECTOR_MAX or op == OP.MATRIX_MAX):
                    # F = 16: whole blocks, aliased or not (primitives.simd)
                    if (op == OP.MATRIX_HEAVISIDE or op == OP.MATRIX_RECIPROCAL or op == OP.MATRIX_ABS or (op >= OP.MATRIX_SUM and op <= OP.MATRIX_DIVISION) or op == OP.MATRIX_MIN
                            or op == OP.MATRIX_MAX):
                        elementwise16(Mx, a, b, o, TFF, op)
                    else:
                        elementwise16(V, a, b, o, TF, op)
                elif (op == OP.VECTOR_HEAVISIDE or op == OP.VECTOR_RECIPROCAL or op == OP.VECTOR_ABS) and o == a and F > _INLINE_F:
                    ew_unary(V, a, o, TF, op, tmp)
                elif op == OP.VECTOR_HEAVISIDE:
                    for i in range(TF):
                        V[o, i] = 1.0 if V[a, i] > 0.0 else 0.0
                elif op == OP.VECTOR_RECIPROCAL:
                    for i in range(TF):
                        V[o, i] = 1.0 / V[a, i]
                elif op == OP.VECTOR_ABS:
                    for i in range(TF):
                        V[o, i] = abs(V[a, i])
                elif op == OP.MATRIX_HEAVISIDE:
                    for i in range(TFF):
                        Mx[o, i] = 1.0 if Mx[a, i] > 0.0 else 0.0
                elif op == OP.MATRIX_RECIPROCAL:
                    for i in range(TFF):
                        Mx[o, i] = 1.0 / Mx[a, i]
                elif op == OP.MATRIX_ABS:
                    for i in range(TFF):
                        Mx[o, i] = abs(Mx[a, i])
                # ---- vector ops (OP18-OP28) ----
                elif op == OP.SCALAR_VECTOR_PRODUCT:
                    if F == SIMD_F:
                        scale(S, V, a, b, o, T, F, tmp)
                    elif F <= _INLINE_F or o != b:
                        for t in range(T):
                            s = S[a, t]
                            for f in range(t * F, t * F + F):
                                V[o, f] = s * V[b, f]
                    else:
                        scale(S, V, a, b, o, T, F, tmp)
                elif op == OP.SCALAR_BROADCAST:
                    for t in range(T):
                        s = S[a, t]
                        for f in range(t * F, t * F + F):
                            V[o, f] = s
                elif op == OP.VECTOR_NORM:
                    for t in range(T):
                        acc = 0.0
                        for f in range(t * F, t * F + F):
                            acc += V[a, f] * V[a, f]
                        S[o, t] = np.sqrt(acc)
                elif op == OP.VECTOR_INNER_PRODUCT and F == SIMD_F:
                    for t in range(T):
                        S[o, t] = dot16(V, a * TF + t * F, V, b * TF + t * F)
                elif op == OP.VECTOR_INNER_PRODUCT:
                    for t in range(T):
                        acc = 0.0
                        for f in range(t * F, t * F + F):
                            acc += V[a, f] * V[b, f]
                        S[o, t] = acc
                elif op == OP.VECTOR_MEAN:
                    for t in range(T):
                        acc = 0.0
                        for f in range(t * F, t * F + F):
                            acc += V[a, f]
                        S[o, t] = acc / F
                elif op == OP.VECTOR_STD:
                    for t in range(T):
                        acc = 0.0
                        acc2 = 0.0
                        for f in range(t * F, t * F + F):
                            acc += V[a, f]
                            acc2 += V[a, f] * V[a, f]
                        mean = acc / F
                        S[o, t] = np.sqrt(acc2 / F - mean * mean)
                elif ((op == OP.VECTOR_SUM or op == OP.VECTOR_DIFF or op == OP.VECTOR_PRODUCT or op == OP.VECTOR_DIVISION or op == OP.VECTOR_MIN or op == OP.VECTOR_MAX)
                      and (o == a or o == b) and F > _INLINE_F):
                    ew_binary(V, a, b, o, TF, op, tmp)
                elif op == OP.VECTOR_SUM:
                    for i in range(TF):
                        V[o, i] = V[a, i] + V[b, i]
                elif op == OP.VECTOR_DIFF:
                    for i in range(TF):
                        V[o, i] = V[a, i] - V[b, i]
                elif op == OP.VECTOR_PRODUCT:
                    for i in range(TF):
                        V[o, i] = V[a, i] * V[b, i]
                elif op == OP.VECTOR_DIVISION:
                    for i in range(TF):
                        V[o, i] = V[a, i] / V[b, i]
                elif op == OP.VECTOR_MIN:
                    for i in range(TF):
                        x = V[a, i]
                        y = V[b, i]
                        V[o, i] = y if y < x else x
                elif op == OP.VECTOR_MAX:
                    for i in range(TF):
                        x = V[a, i]
                        y = V[b, i]
                        V[o, i] = y if x < y else x
                elif op == OP.VECTOR_OUTER_PRODUCT:
                    outer(V, Mx, a, b, o, T, F)
                # ---- matrix ops (OP29-OP43) ----
                elif op == OP.SCALAR_MATRIX_PRODUCT:
                    scale(S, Mx, a, b, o, T, FF, tmp)
                elif op == OP.MATRIX_VECTOR_PRODUCT:
                    row_sums(V, Mx, a, b, o, T, F, op, tmp)
                elif op == OP.VECTOR_COLUMN_BROADCAST or op == OP.VECTOR_ROW_BROADCAST:
                    broadcast(V, Mx, a, o, T, F, op == OP.VECTOR_ROW_BROADCAST)
                elif op == OP.MATRIX_NORM or op == OP.MATRIX_MEAN or op == OP.MATRIX_STD:
                    task_sums(S, Mx, a, a, o, T, FF, op)
                elif op == OP.MATRIX_COLUMN_NORM or op == OP.MATRIX_ROW_NORM or op == OP.MATRIX_ROW_MEAN or op == OP.MATRIX_ROW_STD:
                    matrix_rows(V, Mx, a, o, T, F, op)
                elif op == OP.MATRIX_TRANSPOSE:
                    transpose(Mx, a, o, tmp, T, F)
                elif op == OP.MATRIX_SUM:
                    for i in range(TFF):
                        Mx[o, i] = Mx[a, i] + Mx[b, i]
                elif op == OP.MATRIX_DIFF:
                    for i in range(TFF):
                        Mx[o, i] = Mx[a, i] - Mx[b, i]
                elif op == OP.MATRIX_PRODUCT:
                    for i in range(TFF):
                        Mx[o, i] = Mx[a, i] * Mx[b, i]
                elif op == OP.MATRIX_DIVISION:
                    for i in range(TFF):
                        Mx[o, i] = Mx[a, i] / Mx[b, i]
                elif op == OP.MATRIX_MIN:
                    for i in range(TFF):
                        x = Mx[a, i]
                        y = Mx[b, i]
                        Mx[o, i] = x if x < y else y
                elif op == OP.MATRIX_MAX:
                    for i in range(TFF):
                        x = Mx[a, i]
                        y = Mx[b, i]
                        Mx[o, i] = x if x > y else y
                elif op == OP.MATRIX_MATRIX_PRODUCT:
                    matmul(Mx, a, b, o, tmp, T, F)
                # ---- min / max (OP44-OP49), std::min/std::max order for scalars and vectors ----
                elif op == OP.SCALAR_MIN:
                    for t in range(T):
                        x = S[a, t]
                        y = S[b, t]
                        S[o, t] = y if y < x else x
                elif op == OP.SCALAR_MAX:
                    for t in range(T):
                        x = S[a, t]
                        y = S[b, t]
                        S[o, t] = y if x < y else x
                # ---- constants and random sets (OP56-OP64) ----
                elif op == OP.SCALAR_CONST_SET:
                    c = data[k, 0]
                    for t in range(T):
                        S[o, t] = c
                elif op == OP.VECTOR_CONST_SET:
                    i = _const_index(data[k, 0], F)
                    c = data[k, 1]
                    for t in range(T):
                        V[o, t * F + i] = c
                elif op == OP.MATRIX_CONST_SET:
                    i = _const_index(data[k, 0], F)
                    j = _const_index(data[k, 1], F)
                    c = data[k, 2]
                    for t in range(T):
                        Mx[o, t * FF + matrix_index(i, j, F)] = c
                elif op >= OP.SCALAR_UNIFORM_SET:
                    # 59-61 uniform sets (low, high), 62-64 Gaussian sets (mean, std)
                    kind = (op - 59) % 3
                    n = 1 if kind == 0 else (F if kind == 1 else FF)
                    gauss = op >= OP.SCALAR_GAUSSIAN_SET
                    p0 = data[k, 0]
                    p1 = data[k, 1]
                    for t in range(T):
                        if kind == 0:
                            dst = S[o, t : t + 1]
                        elif kind == 1:
                            dst = V[o, t * F : t * F + F]
                        else:
                            dst = Mx[o, t * FF : t * FF + FF]
                        # a matrix is drawn row by row; above F = 8 it is stored by column
                        table_fill(dst, n, gauss, p0, p1, rng, draws, filled, rvalues, t,
                                   F if kind == 2 and F > COLUMN_MAJOR_ABOVE else 0)

        if mode == 2:
            for t in range(T):
                if not active[t]:
                    continue
                p = S[1, t]
                if record:
                    preds[t, pred_offset + ex] = p
                if eval_type == EVAL_ACCURACY:
                    label = _above_half(p)
                    if label == ys[t, ex]:
                        correct[t] += 1
                else:
                    err = ys[t, ex] - p
                    if not (abs(err) <= max_abs_error):
                        bad[t] = True
                    else:
                        sq[t] += err * err
    return n_active


@njit(**_JIT)
def run(code, data, start, end, S, V, Mx, T, F, rng, tmp):
    """Execute instructions ``start:end`` once for all ``T`` tasks (Setup; used by the op tests)."""
    dummy_x = np.zeros((T, 0, F))
    dummy_y = np.zeros((T, 0))
    active = np.ones(T, dtype=np.bool_)
    no_record = start > end  # a typed False, not a literal (see _evaluate_batch); Setup records nothing
    run_phase(code, data, start, end, end, np.int64(0), S, V, Mx, T, F, rng,
              np.zeros(T, np.int64), np.zeros(T, np.int64), np.zeros((T, 2, 0)), tmp, dummy_x,
              dummy_y, np.zeros((T, 0), dtype=np.int64), np.int64(EVAL_RMS), np.float64(0.0),
              active, no_record, np.zeros((T, 0)), np.int64(0), np.zeros(T),
              np.zeros(T, dtype=np.int64), np.zeros(T, dtype=np.bool_))
