"""Array kernels of the interpreter: vector and matrix ops over all tasks of a batch at once.

Memory banks are laid out ``[address, task * size + element]`` (see :mod:`primitives.dispatch`):
``S`` (nS, T), ``V`` (nV, T*F), ``Mx`` (nM, T*F*F); ``tmp`` is scratch of at least T*F*F + T*F.

Bit-identical by construction, on every CPU: every output element is computed by the same IEEE
operations in the same order as the reference (:mod:`primitives.ops`): sums run left to right from
0.0, a product is a multiply then an add (no fused multiply-add: Numba compiles without
fast-math, so LLVM neither contracts nor reassociates). Speed comes only from *independent*
work: elementwise loops are vectorised by LLVM at whatever SIMD width the CPU has (each lane its
own element, so the width cannot change a bit), and each sequential sum is interleaved with others
(four tasks, or eight rows of a matrix) so the adder's latency is hidden; no sum is ever
split.

Aliasing: an op may write the array it reads (``v1 = v1 + v2``). LLVM vectorises a loop only after
a run-time check that the output does not overlap an input, and an exact overlap fails it, so an
aliased op writes ``tmp`` and copies back (two passes, still far faster than a scalar loop).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}


@njit(**_JIT)
def _copy(src, dst, n):
    for i in range(n):
        dst[i] = src[i]


@njit(**_JIT)
def ew_unary(X, a, o, n, op, tmp):
    """OP16/17 heaviside (``x > 0``), OP20/30 reciprocal, OP22/38 abs: ``X[o] = f(X[a])``."""
    A = X[a]
    out = tmp if o == a else X[o]
    if op == 16 or op == 17:
        for i in range(n):
            out[i] = 1.0 if A[i] > 0.0 else 0.0
    elif op == 20 or op == 30:
        for i in range(n):
            out[i] = 1.0 / A[i]
    else:
        for i in range(n):
            out[i] = abs(A[i])
    if o == a:
        _copy(out, A, n)


@njit(**_JIT)
def ew_binary(X, a, b, o, n, op, tmp):
    """Elementwise ``X[o] = X[a] op X[b]``: OP23-26 / OP39-42 (+ - * /), OP45/46 min, OP48/49 max,
    each with the comparison of its reference (they differ for NaN and signed zeros)."""
    A = X[a]
    B = X[b]
    alias = o == a or o == b
    out = tmp if alias else X[o]
    if op == 23 or op == 39:
        for i in range(n):
            out[i] = A[i] + B[i]
    elif op == 24 or op == 40:
        for i in range(n):
            out[i] = A[i] - B[i]
    elif op == 25 or op == 41:
        for i in range(n):
            out[i] = A[i] * B[i]
    elif op == 26 or op == 42:
        for i in range(n):
            out[i] = A[i] / B[i]
    elif op == 45:
        for i in range(n):
            x = A[i]
            y = B[i]
            out[i] = y if y < x else x
    elif op == 46:
        for i in range(n):
            x = A[i]
            y = B[i]
            out[i] = x if x < y else y
    elif op == 48:
        for i in range(n):
            x = A[i]
            y = B[i]
            out[i] = y if x < y else x
    else:  # 49
        for i in range(n):
            x = A[i]
            y = B[i]
            out[i] = x if x > y else y
    if alias:
        _copy(out, X[o], n)


@njit(**_JIT)
def scale(S, X, a, b, o, T, K, tmp):
    """OP18 (K = F) / OP29 (K = F*F): ``X[o] = s * X[b]`` with task t's scalar ``s = S[a, t]``."""
    B = X[b]
    out = tmp if o == b else X[o]
    for t in range(T):
        s = S[a, t]
        src = B[t * K : t * K + K]
        dst = out[t * K : t * K + K]
        for i in range(K):
            dst[i] = s * src[i]
    if o == b:
        _copy(out, B, T * K)


@njit(**_JIT)
def task_sums(S, X, a, b, o, T, K, op):
    """Per-task sums over K elements, four tasks interleaved (each summed left to right):
    OP34 norm, OP51 mean, OP55 std (K = F*F; the vector forms OP21, OP27, OP50, OP54 also work,
    but at K = F the dispatch's plain loops measured faster). Std is ``sqrt(E[x^2] - mean^2)``."""
    A = X[a]
    B = X[b]
    if K <= 64 and (op == 34 or op == 51 or op == 55):
        # small matrices: one task at a time (measured faster at F=4 than four interleaved)
        for t in range(T):
            acc = 0.0
            acc2 = 0.0
            for i in range(t * K, t * K + K):
                x = A[i]
                acc += x
                acc2 += x * x
            if op == 34:
                S[o, t] = np.sqrt(acc2)
            elif op == 51:
                S[o, t] = acc / K
            else:
                mean = acc / K
                S[o, t] = np.sqrt(acc2 / K - mean * mean)
        return
    for t0 in range(0, T, 4):
        t1 = min(t0 + 1, T - 1)
        t2 = min(t0 + 2, T - 1)
        t3 = min(t0 + 3, T - 1)  # lanes past the last task repeat it; only real ones are stored
        c0 = t0 * K
        c1 = t1 * K
        c2 = t2 * K
        c3 = t3 * K
        s0 = s1 = s2 = s3 = 0.0
        q0 = q1 = q2 = q3 = 0.0
        if op == 27:
            for i in range(K):
                s0 += A[c0 + i] * B[c0 + i]
                s1 += A[c1 + i] * B[c1 + i]
                s2 += A[c2 + i] * B[c2 + i]
                s3 += A[c3 + i] * B[c3 + i]
        elif op == 21 or op == 34:
            for i in range(K):
                x0 = A[c0 + i]
                x1 = A[c1 + i]
                x2 = A[c2 + i]
                x3 = A[c3 + i]
                s0 += x0 * x0
                s1 += x1 * x1
                s2 += x2 * x2
                s3 += x3 * x3
        else:
            for i in range(K):
                x0 = A[c0 + i]
                x1 = A[c1 + i]
                x2 = A[c2 + i]
                x3 = A[c3 + i]
                s0 += x0
                s1 += x1
                s2 += x2
                s3 += x3
                q0 += x0 * x0
                q1 += x1 * x1
                q2 += x2 * x2
                q3 += x3 * x3
        for k in range(min(4, T - t0)):
            s = s0 if k == 0 else (s1 if k == 1 else (s2 if k == 2 else s3))
            q = q0 if k == 0 else (q1 if k == 1 else (q2 if k == 2 else q3))
            if op == 27:
                r = s
            elif op == 21 or op == 34:
                r = np.sqrt(s)
            elif op == 50 or op == 51:
                r = s / K
            else:
                mean = s / K
                r = np.sqrt(q / K - mean * mean)
            S[o, t0 + k] = r


@njit(**_JIT)
def outer(V, Mx, a, b, o, T, F):
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
def row_sums(V, Mx, a, b, o, T, F, op, tmp):
    """Sums along the rows of each task's matrix, eight rows interleaved (each left to right):
    OP31 ``v = M u`` (``b`` is u; through ``tmp``, as u may be the output), OP36 row norms,
    OP52 row means, OP53 row stds. Eight independent sums keep both adders busy; a matrix with
    fewer rows repeats its last row in the spare lanes (computed, never stored)."""
    FF = F * F
    A = Mx[a]
    U = V[b]
    if op == 31 and F <= 8:
        # small F: one row at a time (measured 2x faster at F=4 than the interleaved form)
        for t in range(T):
            for i in range(F):
                acc = 0.0
                row = t * FF + i * F
                for j in range(F):
                    acc += A[row + j] * U[t * F + j]
                tmp[t * F + i] = acc
        _copy(tmp, V[o], T * F)
        return
    last = F - 1
    for t in range(T):
        ub = t * F
        base = t * FF
        for i0 in range(0, F, 8):
            r0 = base + i0 * F
            r1 = base + min(i0 + 1, last) * F
            r2 = base + min(i0 + 2, last) * F
            r3 = base + min(i0 + 3, last) * F
            r4 = base + min(i0 + 4, last) * F
            r5 = base + min(i0 + 5, last) * F
            r6 = base + min(i0 + 6, last) * F
            r7 = base + min(i0 + 7, last) * F
            s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
            q0 = q1 = q2 = q3 = q4 = q5 = q6 = q7 = 0.0
            if op == 31:
                for j in range(F):
                    uj = U[ub + j]
                    s0 += A[r0 + j] * uj
                    s1 += A[r1 + j] * uj
                    s2 += A[r2 + j] * uj
                    s3 += A[r3 + j] * uj
                    s4 += A[r4 + j] * uj
                    s5 += A[r5 + j] * uj
                    s6 += A[r6 + j] * uj
                    s7 += A[r7 + j] * uj
            elif op == 36:
                for j in range(F):
                    x0 = A[r0 + j]
                    x1 = A[r1 + j]
                    x2 = A[r2 + j]
                    x3 = A[r3 + j]
                    x4 = A[r4 + j]
                    x5 = A[r5 + j]
                    x6 = A[r6 + j]
                    x7 = A[r7 + j]
                    q0 += x0 * x0
                    q1 += x1 * x1
                    q2 += x2 * x2
                    q3 += x3 * x3
                    q4 += x4 * x4
                    q5 += x5 * x5
                    q6 += x6 * x6
                    q7 += x7 * x7
            else:
                for j in range(F):
                    x0 = A[r0 + j]
                    x1 = A[r1 + j]
                    x2 = A[r2 + j]
                    x3 = A[r3 + j]
                    x4 = A[r4 + j]
                    x5 = A[r5 + j]
                    x6 = A[r6 + j]
                    x7 = A[r7 + j]
                    s0 += x0
                    s1 += x1
                    s2 += x2
                    s3 += x3
                    s4 += x4
                    s5 += x5
                    s6 += x6
                    s7 += x7
                    q0 += x0 * x0
                    q1 += x1 * x1
                    q2 += x2 * x2
                    q3 += x3 * x3
                    q4 += x4 * x4
                    q5 += x5 * x5
                    q6 += x6 * x6
                    q7 += x7 * x7
            ob = t * F + i0
            for k in range(min(8, F - i0)):
                if k < 4:
                    s = s0 if k == 0 else (s1 if k == 1 else (s2 if k == 2 else s3))
                    q = q0 if k == 0 else (q1 if k == 1 else (q2 if k == 2 else q3))
                else:
                    s = s4 if k == 4 else (s5 if k == 5 else (s6 if k == 6 else s7))
                    q = q4 if k == 4 else (q5 if k == 5 else (q6 if k == 6 else q7))
                if op == 31:
                    tmp[ob + k] = s
                elif op == 36:
                    tmp[ob + k] = np.sqrt(q)
                elif op == 52:
                    tmp[ob + k] = s / F
                else:
                    mean = s / F
                    tmp[ob + k] = np.sqrt(q / F - mean * mean)
    _copy(tmp, V[o], T * F)


@njit(**_JIT)
def matrix_rows(V, Mx, a, o, T, F, op):
    """OP35 column norms, OP36 row norms, OP52 row means, OP53 row stds (sums left to right).
    One row at a time: the rows are independent, so the CPU overlaps their sums by itself (this
    form, select included, measured faster than interleaved or sliced variants)."""
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
def broadcast(V, Mx, a, o, T, F, rows):
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
def transpose(Mx, a, o, tmp, T, F):
    """OP37: M = transpose(M') (through ``tmp``: the output may be the input)."""
    FF = F * F
    A = Mx[a]
    for t in range(T):
        for i in range(F):
            for j in range(F):
                tmp[t * FF + j * F + i] = A[t * FF + i * F + j]
    _copy(tmp, Mx[o], T * FF)


@njit(**_JIT)
def matmul(Mx, a, b, o, tmp, T, F):
    """OP43 for all tasks; every element sums its products in q order from 0.0, as the reference
    does (through ``tmp``: the output may be an input). Loops run i-q-j with the row of sums in
    ``tmp``: the inner loop runs along rows, so LLVM vectorises it (a row of sixteen register
    accumulators at F=16 measured 1.6x slower, interleaved with the old build in one process)."""
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
    _copy(tmp, Mx[o], T * FF)
