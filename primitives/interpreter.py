"""The Numba interpreter: AutoML-Zero's executor (Real et al. 2020, §3 and Supplementary S1).

On each task: wipe memory, run Setup once; for each epoch and each train example (epoch 0 in order,
later epochs shuffled) set ``v0 = x, s0 = 0`` and run Predict (for accuracy tasks
``s1 <- sigmoid(s1)``), stop training if ``|y - s1|`` is NaN or ``> max_abs_error`` (a stop in the
first epoch scores 0), then set ``s0 = y`` and run Learn; after each epoch run Predict alone over the
validation examples and score them. Regression scores ``1 - (2/pi) arctan(RMSE)``, accuracy tasks
the fraction with ``sigmoid(s1) > 0.5`` matching the label; NaN/inf or any ``|error| >
max_abs_error`` scores 0. A task's fitness is its best epoch's score.

Speed: every instruction is dispatched once and executed for all tasks of the batch in lockstep
(memory is laid out ``[address, task, ...]``), so the integer dispatch and the loop overhead are
shared by the tasks. Tasks that stopped keep computing in the shadows but are never scored again.
Before a program runs, its dead code is removed (:mod:`primitives.liveness`: instructions that
cannot reach a prediction; most of a random program). The executor loop is one function call per
phase (Setup, a training epoch, a validation pass), with the dispatch inside the example loop,
and the memory it works on is passed as views without reference counts: a call per example, or
Numba's atomic reference counting of seven array arguments per call, cost more than the few live
instructions most programs execute. Kernels take arrays and scalars only and are cached on disk
(``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import carray, njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from primitives.liveness import OP_TABLE, compact

EVAL_RMS = 0
EVAL_ACCURACY = 1
EVAL_TYPE_CODES = {"rms": EVAL_RMS, "accuracy": EVAL_ACCURACY}
DEFAULT_MAX_ABS_ERROR = 100.0

_U64 = np.uint64
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_SALT_RANDOM_OPS = np.uint64(0x5EED0001)
_SALT_SHUFFLE = np.uint64(0x5EED0002)
_FNV_PRIME = np.uint64(0x100000001B3)
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_NAN_BITS = np.uint64(0x7FF8000000000000)
_TWO_PI = 2.0 * np.pi
_TWO_OVER_PI = 2.0 / np.pi
_INV_2_53 = 1.0 / 9007199254740992.0

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}


@intrinsic
def _address_as_voidptr(typingctx, address):
    """``(void *) address`` inside a kernel."""

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return types.voidptr(address), codegen


@njit(**_JIT)
def _unmanaged(a):
    """A view of ``a`` that carries no reference count (Numba's ``carray`` over its buffer).

    Numba increments and decrements the reference count of every array argument of a call, an
    atomic operation each; ``_run`` takes seven arrays and is called two or three times per
    example, which cost more than the instructions it runs. Views without a count make those
    calls cheap. The caller must keep ``a`` alive while the view is used."""
    return carray(_address_as_voidptr(a.ctypes.data), a.shape, a.dtype)


@njit(**_JIT)
def _mix64(z):
    z = (z ^ (z >> _U64(30))) * _MIX1
    z = (z ^ (z >> _U64(27))) * _MIX2
    return z ^ (z >> _U64(31))


@njit(**_JIT)
def _stream_start(task_seed, eval_seed, salt):
    return _mix64(_mix64(_mix64(task_seed) ^ eval_seed) ^ salt)


@njit(**_JIT)
def _uniform(states, t):
    s = states[t] + _GOLDEN
    states[t] = s
    return float(_mix64(s) >> _U64(11)) * _INV_2_53


@njit(**_JIT)
def _gaussian(states, t):
    u1 = _uniform(states, t)
    u2 = _uniform(states, t)
    return np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(_TWO_PI * u2)


@njit(**_JIT)
def _const_index(f, size):
    i = int(np.float32(size) * np.float32(f))
    return size - 1 if i > size - 1 else i


@njit(**_JIT)
def _outer(V, Mx, a, b, o, T, F):
    """OP28: M[i, j] = u[i] * v[j] for every task."""
    FF = F * F
    U = V[a]
    W = V[b]
    out = Mx[o]
    for t in range(T):
        # Row views: the inner index is the loop variable itself, which lets LLVM vectorise
        # (an index like ``row + j`` carries a negative-index check on every access).
        w = W[t * F : t * F + F]
        for i in range(F):
            x = U[t * F + i]
            orow = out[t * FF + i * F : t * FF + i * F + F]
            for j in range(F):
                orow[j] = x * w[j]


@njit(**_JIT)
def _scalar_matrix(S, Mx, a, b, o, T, F):
    """OP29: M = s * M' for every task."""
    FF = F * F
    B = Mx[b]
    out = Mx[o]
    for t in range(T):
        s = S[a, t]
        for i in range(t * FF, t * FF + FF):
            out[i] = s * B[i]


@njit(**_JIT)
def _matrix_unary(Mx, a, o, n, kind):
    """OP30 (kind 0): 1 / M; OP38 (kind 1): |M|; elementwise over all tasks."""
    A = Mx[a]
    out = Mx[o]
    if kind == 0:
        for i in range(n):
            out[i] = 1.0 / A[i]
    else:
        for i in range(n):
            out[i] = abs(A[i])


@njit(**_JIT)
def _matrix_binary(Mx, a, b, o, n, op):
    """OP39-OP42: elementwise sum, difference, product, division over all tasks."""
    A = Mx[a]
    B = Mx[b]
    out = Mx[o]
    if op == 39:
        for i in range(n):
            out[i] = A[i] + B[i]
    elif op == 40:
        for i in range(n):
            out[i] = A[i] - B[i]
    elif op == 41:
        for i in range(n):
            out[i] = A[i] * B[i]
    else:
        for i in range(n):
            out[i] = A[i] / B[i]


@njit(**_JIT)
def _matvec(V, Mx, a, b, o, tmp, T, F):
    """OP31: v = M u (u may be the output: the product goes through ``tmp``)."""
    FF = F * F
    A = Mx[a]
    U = V[b]
    for t in range(T):
        for i in range(F):
            acc = 0.0
            row = t * FF + i * F
            for j in range(F):
                acc += A[row + j] * U[t * F + j]
            tmp[t * F + i] = acc
    out = V[o]
    for i in range(T * F):
        out[i] = tmp[i]


@njit(**_JIT)
def _broadcast(V, Mx, a, o, T, F, rows):
    """OP32: M[i, j] = v[i] (columns are v); OP33 (``rows``): M[i, j] = v[j]."""
    FF = F * F
    U = V[a]
    out = Mx[o]
    for t in range(T):
        u = U[t * F : t * F + F]
        for i in range(F):
            orow = out[t * FF + i * F : t * FF + i * F + F]
            if rows:
                for j in range(F):
                    orow[j] = u[j]
            else:
                x = u[i]
                for j in range(F):
                    orow[j] = x


@njit(**_JIT)
def _matrix_reduce(S, Mx, a, o, T, F, op):
    """OP34 Frobenius norm, OP51 mean, OP55 std sqrt(E[x^2] - mean^2), sums left to right."""
    FF = F * F
    A = Mx[a]
    for t in range(T):
        acc = 0.0
        acc2 = 0.0
        for i in range(t * FF, t * FF + FF):
            x = A[i]
            acc += x
            acc2 += x * x
        if op == 34:
            S[o, t] = np.sqrt(acc2)
        elif op == 51:
            S[o, t] = acc / FF
        else:
            mean = acc / FF
            S[o, t] = np.sqrt(acc2 / FF - mean * mean)


@njit(**_JIT)
def _matrix_rows(V, Mx, a, o, T, F, op):
    """OP35 column norms, OP36 row norms, OP52 row means, OP53 row stds (sums left to right)."""
    FF = F * F
    A = Mx[a]
    out = V[o]
    for t in range(T):
        for i in range(F):
            acc = 0.0
            acc2 = 0.0
            for j in range(F):
                x = A[t * FF + j * F + i] if op == 35 else A[t * FF + i * F + j]
                acc += x
                acc2 += x * x
            if op == 35 or op == 36:
                out[t * F + i] = np.sqrt(acc2)
            elif op == 52:
                out[t * F + i] = acc / F
            else:
                mean = acc / F
                out[t * F + i] = np.sqrt(acc2 / F - mean * mean)


@njit(**_JIT)
def _transpose(Mx, a, o, tmp, T, F):
    """OP37: M = transpose(M') (through ``tmp``: the output may be the input)."""
    FF = F * F
    A = Mx[a]
    for t in range(T):
        for i in range(F):
            for j in range(F):
                tmp[t * FF + j * F + i] = A[t * FF + i * F + j]
    out = Mx[o]
    for i in range(T * FF):
        out[i] = tmp[i]


@njit(**_JIT)
def _matmul(Mx, a, b, o, tmp, T, F):
    """OP43 for all tasks. i-q-j order: the inner loop runs along rows, and every element still
    sums its products in q order, as the reference does. A function of its own: LLVM optimises
    the loop nest far better outside the big dispatch function."""
    FF = F * F
    A = Mx[a]
    B = Mx[b]
    for i in range(T * FF):
        tmp[i] = 0.0
    for t in range(T):
        base = t * FF
        for i in range(F):
            row = base + i * F
            for q in range(F):
                x = A[row + q]
                col = base + q * F
                for j in range(F):
                    tmp[row + j] += x * B[col + j]
    out = Mx[o]
    for i in range(T * FF):
        out[i] = tmp[i]


@njit(**_JIT)
def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@njit(**_JIT)
def _run_phase(code, data, seg_start, seg_mid, seg_end, mode, S, V, Mx, T, F, rng, tmp,
               xs, ys, order, eval_type, max_abs_error, active, record, preds, pred_offset,
               sq, correct, bad):
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
    state per task. The instruction dispatch sits in one place inside the example loop, so an
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
        if mode != 0:
            for t in range(T):
                row = order[t, ex] if mode == 1 else ex
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
                        S[1, t] = _sigmoid(S[1, t])
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
                if op == 0:
                    pass
                # ---- scalar arithmetic (OP1-OP15) ----
                elif op == 1:
                    for t in range(T):
                        S[o, t] = S[a, t] + S[b, t]
                elif op == 2:
                    for t in range(T):
                        S[o, t] = S[a, t] - S[b, t]
                elif op == 3:
                    for t in range(T):
                        S[o, t] = S[a, t] * S[b, t]
                elif op == 4:
                    for t in range(T):
                        S[o, t] = S[a, t] / S[b, t]
                elif op == 5:
                    for t in range(T):
                        S[o, t] = abs(S[a, t])
                elif op == 6:
                    for t in range(T):
                        S[o, t] = 1.0 / S[a, t]
                elif op == 7:
                    for t in range(T):
                        S[o, t] = np.sin(S[a, t])
                elif op == 8:
                    for t in range(T):
                        S[o, t] = np.cos(S[a, t])
                elif op == 9:
                    for t in range(T):
                        S[o, t] = np.tan(S[a, t])
                elif op == 10:
                    for t in range(T):
                        S[o, t] = np.arcsin(S[a, t])
                elif op == 11:
                    for t in range(T):
                        S[o, t] = np.arccos(S[a, t])
                elif op == 12:
                    for t in range(T):
                        S[o, t] = np.arctan(S[a, t])
                elif op == 13:
                    for t in range(T):
                        S[o, t] = np.exp(S[a, t])
                elif op == 14:
                    for t in range(T):
                        S[o, t] = np.log(S[a, t])
                elif op == 15:
                    for t in range(T):
                        S[o, t] = 1.0 if S[a, t] >= 0.0 else 0.0
                elif op == 16:
                    for i in range(TF):
                        V[o, i] = 1.0 if V[a, i] > 0.0 else 0.0
                elif op == 17:
                    for i in range(TFF):
                        Mx[o, i] = 1.0 if Mx[a, i] > 0.0 else 0.0
                # ---- vector ops (OP18-OP28) ----
                elif op == 18:
                    for t in range(T):
                        s = S[a, t]
                        for f in range(t * F, t * F + F):
                            V[o, f] = s * V[b, f]
                elif op == 19:
                    for t in range(T):
                        s = S[a, t]
                        for f in range(t * F, t * F + F):
                            V[o, f] = s
                elif op == 20:
                    for i in range(TF):
                        V[o, i] = 1.0 / V[a, i]
                elif op == 21:
                    for t in range(T):
                        acc = 0.0
                        for f in range(t * F, t * F + F):
                            acc += V[a, f] * V[a, f]
                        S[o, t] = np.sqrt(acc)
                elif op == 22:
                    for i in range(TF):
                        V[o, i] = abs(V[a, i])
                elif op == 23:
                    for i in range(TF):
                        V[o, i] = V[a, i] + V[b, i]
                elif op == 24:
                    for i in range(TF):
                        V[o, i] = V[a, i] - V[b, i]
                elif op == 25:
                    for i in range(TF):
                        V[o, i] = V[a, i] * V[b, i]
                elif op == 26:
                    for i in range(TF):
                        V[o, i] = V[a, i] / V[b, i]
                elif op == 27:
                    for t in range(T):
                        acc = 0.0
                        for f in range(t * F, t * F + F):
                            acc += V[a, f] * V[b, f]
                        S[o, t] = acc
                elif op == 28:
                    _outer(V, Mx, a, b, o, T, F)
                # ---- matrix ops (OP29-OP43) ----
                elif op == 29:
                    _scalar_matrix(S, Mx, a, b, o, T, F)
                elif op == 30:
                    _matrix_unary(Mx, a, o, T * F * F, 0)
                elif op == 31:
                    _matvec(V, Mx, a, b, o, tmp, T, F)
                elif op == 32 or op == 33:
                    _broadcast(V, Mx, a, o, T, F, op == 33)
                elif op == 34 or op == 51 or op == 55:
                    _matrix_reduce(S, Mx, a, o, T, F, op)
                elif op == 35 or op == 36 or op == 52 or op == 53:
                    _matrix_rows(V, Mx, a, o, T, F, op)
                elif op == 37:
                    _transpose(Mx, a, o, tmp, T, F)
                elif op == 38:
                    _matrix_unary(Mx, a, o, T * F * F, 1)
                elif op == 39 or op == 40 or op == 41 or op == 42:
                    _matrix_binary(Mx, a, b, o, T * F * F, op)
                elif op == 43:
                    _matmul(Mx, a, b, o, tmp, T, F)
                # ---- min / max (OP44-OP49), std::min/std::max order for scalars and vectors ----
                elif op == 44:
                    for t in range(T):
                        x = S[a, t]
                        y = S[b, t]
                        S[o, t] = y if y < x else x
                elif op == 45:
                    for i in range(TF):
                        x = V[a, i]
                        y = V[b, i]
                        V[o, i] = y if y < x else x
                elif op == 46:
                    for i in range(TFF):
                        x = Mx[a, i]
                        y = Mx[b, i]
                        Mx[o, i] = x if x < y else y
                elif op == 47:
                    for t in range(T):
                        x = S[a, t]
                        y = S[b, t]
                        S[o, t] = y if x < y else x
                elif op == 48:
                    for i in range(TF):
                        x = V[a, i]
                        y = V[b, i]
                        V[o, i] = y if x < y else x
                elif op == 49:
                    for i in range(TFF):
                        x = Mx[a, i]
                        y = Mx[b, i]
                        Mx[o, i] = x if x > y else y
                # ---- statistics (OP50-OP55) ----
                elif op == 50:
                    for t in range(T):
                        acc = 0.0
                        for f in range(t * F, t * F + F):
                            acc += V[a, f]
                        S[o, t] = acc / F
                elif op == 54:
                    for t in range(T):
                        acc = 0.0
                        acc2 = 0.0
                        for f in range(t * F, t * F + F):
                            acc += V[a, f]
                            acc2 += V[a, f] * V[a, f]
                        mean = acc / F
                        S[o, t] = np.sqrt(acc2 / F - mean * mean)
                # ---- constants and random sets (OP56-OP64) ----
                elif op == 56:
                    c = data[k, 0]
                    for t in range(T):
                        S[o, t] = c
                elif op == 57:
                    i = _const_index(data[k, 0], F)
                    c = data[k, 1]
                    for t in range(T):
                        V[o, t * F + i] = c
                elif op == 58:
                    i = _const_index(data[k, 0], F)
                    j = _const_index(data[k, 1], F)
                    c = data[k, 2]
                    for t in range(T):
                        Mx[o, t * FF + i * F + j] = c
                elif op == 59 or op == 60 or op == 61:
                    low = data[k, 0]
                    high = data[k, 1]
                    n = 1 if op == 59 else (F if op == 60 else FF)
                    for t in range(T):
                        for i in range(n):
                            u = _uniform(rng, t)
                            x = low if low >= high else low + (high - low) * u
                            if op == 59:
                                S[o, t] = x
                            elif op == 60:
                                V[o, t * F + i] = x
                            else:
                                Mx[o, t * FF + i] = x
                elif op == 62 or op == 63 or op == 64:
                    mean = data[k, 0]
                    std = data[k, 1]
                    n = 1 if op == 62 else (F if op == 63 else FF)
                    for t in range(T):
                        for i in range(n):
                            x = mean + std * _gaussian(rng, t)
                            if op == 62:
                                S[o, t] = x
                            elif op == 63:
                                V[o, t * F + i] = x
                            else:
                                Mx[o, t * FF + i] = x


        if mode == 2:
            for t in range(T):
                if not active[t]:
                    continue
                p = S[1, t]
                if record:
                    preds[t, pred_offset + ex] = p
                if eval_type == EVAL_ACCURACY:
                    label = 1.0 if _sigmoid(p) > 0.5 else 0.0
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
def _run(code, data, start, end, S, V, Mx, T, F, rng, tmp):
    """Execute instructions ``start:end`` once for all ``T`` tasks (Setup; used by the op tests)."""
    dummy_x = np.zeros((T, 0, F))
    dummy_y = np.zeros((T, 0))
    active = np.ones(T, dtype=np.bool_)
    no_record = start > end  # a typed False, not a literal (see _evaluate_batch); Setup records nothing
    _run_phase(code, data, start, end, end, np.int64(0), S, V, Mx, T, F, rng, tmp, dummy_x,
               dummy_y, np.zeros((T, 0), dtype=np.int64), np.int64(EVAL_RMS), np.float64(0.0),
               active, no_record, np.zeros((T, 0)), np.int64(0), np.zeros(T),
               np.zeros(T, dtype=np.int64), np.zeros(T, dtype=np.bool_))


@njit(**_JIT)
def _hash_predictions(preds):
    """FNV-1a over the SplitMix-scrambled 64-bit patterns of the predictions (all NaNs alike).

    Scrambling each word first matters: a multiply carries a difference only towards the high
    bits, and predictions such as 0.0 and 2.0 differ only in their (high) exponent bits, so plain
    FNV over raw doubles lets such differences fall off the top and collide."""
    h = _FNV_OFFSET
    bits = preds.reshape(-1).view(np.uint64)
    flat = preds.reshape(-1)
    for i in range(flat.size):
        w = _NAN_BITS if np.isnan(flat[i]) else bits[i]
        h = (h ^ _mix64(w)) * _FNV_PRIME
    return _mix64(h)


@njit(**_JIT)
def _evaluate_batch(code, data, bounds, train_x, train_y, valid_x, valid_y, eval_type,
                    num_epochs, max_abs_error, n_scalars, n_vectors, n_matrices, task_seeds,
                    eval_seed, record, prune, op_table, fitness, hashes, S, V, Mx, tmp, rng,
                    shuffle_rng, order, active, best, sq, correct, bad, preds, keep, live_code,
                    live_data, scratch):
    """Run each program on all tasks in lockstep; ``fitness[p, t]`` is its best epoch's score.

    With ``record`` the predictions are written to ``preds[t, :]``: the train predictions
    (after the sigmoid for accuracy tasks) of the first epoch, then the validation predictions of
    the first epoch; entries after a stop stay NaN; ``hashes[p]`` is their hash (functional
    equivalence checking). The work arrays after ``hashes`` come from :func:`evaluate_batch`.

    One jitted level above the phase function on purpose: Numba re-optimises a callee's code
    inside every caller, so each level of calls adds seconds to the cold compile."""
    # The caller holds every argument for the whole call, so views without a reference count
    # are safe here (see _unmanaged); they make the calls below cheap.
    S = _unmanaged(S)
    V = _unmanaged(V)
    Mx = _unmanaged(Mx)
    tmp = _unmanaged(tmp)
    rng = _unmanaged(rng)
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
            shuffle_rng[t] = _stream_start(task_seeds[t], eval_seed, _SALT_SHUFFLE)
            for i in range(n_train):
                order[t, i] = i
            active[t] = True
            best[t] = 0.0
        if record:
            preds[:, :] = np.nan
        if setup_start < predict_start:
            _run_phase(c, d, setup_start, predict_start, predict_start, setup_mode, S, V, Mx, T,
                       F, rng, tmp, train_x, train_y, order, eval_type, max_abs_error, active,
                       record, preds, no_offset, sq, correct, bad)
        for epoch in range(num_epochs):
            if epoch > 0:
                for t in range(T):
                    for i in range(n_train - 1, 0, -1):
                        j = int(_uniform(shuffle_rng, t) * (i + 1))
                        swap = order[t, i]
                        order[t, i] = order[t, j]
                        order[t, j] = swap
            n_active = _run_phase(c, d, predict_start, learn_start, end, train_mode, S, V, Mx, T,
                                  F, rng, tmp, train_x, train_y, order, eval_type,
                                  max_abs_error, active, record and epoch == 0, preds,
                                  no_offset, sq, correct, bad)
            if n_active == 0:
                break
            for t in range(T):
                sq[t] = 0.0
                correct[t] = 0
                bad[t] = False
            _run_phase(c, d, predict_start, learn_start, learn_start, valid_mode, S, V, Mx, T, F,
                       rng, tmp, valid_x, valid_y, order, eval_type, max_abs_error, active,
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
    # work arrays, allocated here so that they outlive the kernel's reference-free views
    work = (
        np.zeros((n_s, T)), np.zeros((n_v, T * F)), np.zeros((max(n_m, 1), T * F * F)),
        np.zeros(T * F * F + T * F), np.zeros(T, np.uint64), np.zeros(T, np.uint64),
        np.zeros((T, n_train), np.int64), np.zeros(T, np.bool_), np.zeros(T), np.zeros(T),
        np.zeros(T, np.int64), np.zeros(T, np.bool_), np.full((T, n_train + n_valid), np.nan),
        np.zeros(code.shape[0], np.bool_), np.zeros((longest, 4), np.int64),
        np.zeros((longest, 3)), np.zeros((5, n_s + n_v + n_m + 1), np.bool_),
    )
    _evaluate_batch(
        code, c(data, dtype=np.float64), bounds, c(train_x), c(train_y), c(valid_x), c(valid_y),
        int(eval_type), int(num_epochs), float(max_abs_error), n_s, n_v, n_m,
        task_seeds.astype(np.uint64), np.uint64(eval_seed & 0xFFFFFFFFFFFFFFFF), bool(record),
        bool(prune), OP_TABLE, fitness, hashes, *work,
    )
    return fitness, hashes


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
