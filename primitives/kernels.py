"""Array kernels of the interpreter: vector and matrix ops over all tasks of a batch at once.

Memory banks are laid out ``[address, task * size + element]`` (see :mod:`primitives.dispatch`):
``S`` (nS, T), ``V`` (nV, T*F), ``Mx`` (nM, T*F*F); ``tmp`` is scratch of at least T*F*F + T*F.
Above F = 8 (:data:`COLUMN_MAJOR_ABOVE`) a task's matrix is stored column by column: element
``(i, j)`` at ``j * F + i`` (:func:`matrix_index`; row by row, ``i * F + j``, up to F = 8). Then
``M u`` and ``A B``, whose sums run along a row, add whole columns at once: each lane
accumulates its own row, in the reference's order, and LLVM vectorises the column loop. At small F
the row-major forms are faster, so they stay (docs/performance.md, "Why these forms").

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

from primitives import opcodes as OP
from primitives.simd import SIMD_F, binary16, matvec16, outer16, scale16, unary16

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}
#: Matrices of side F above this are stored column by column (see the module docstring).
COLUMN_MAJOR_ABOVE = 8


@njit(**_JIT)
def _copy(src, dst, n):
    for i in range(n):
        dst[i] = src[i]


@njit(**_JIT)
def ew_unary(X, a, o, n, op, tmp):
    """OP16/17 heaviside (``x > 0``), OP20/30 reciprocal, OP22/38 abs: ``X[o] = f(X[a])``."""
    A = X[a]
    out = tmp if o == a else X[o]
    if op == OP.VECTOR_HEAVISIDE or op == OP.MATRIX_HEAVISIDE:
        for i in range(n):
            out[i] = 1.0 if A[i] > 0.0 else 0.0
    elif op == OP.VECTOR_RECIPROCAL or op == OP.MATRIX_RECIPROCAL:
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
    if op == OP.VECTOR_SUM or op == OP.MATRIX_SUM:
        for i in range(n):
            out[i] = A[i] + B[i]
    elif op == OP.VECTOR_DIFF or op == OP.MATRIX_DIFF:
        for i in range(n):
            out[i] = A[i] - B[i]
    elif op == OP.VECTOR_PRODUCT or op == OP.MATRIX_PRODUCT:
        for i in range(n):
            out[i] = A[i] * B[i]
    elif op == OP.VECTOR_DIVISION or op == OP.MATRIX_DIVISION:
        for i in range(n):
            out[i] = A[i] / B[i]
    elif op == OP.VECTOR_MIN:
        for i in range(n):
            x = A[i]
            y = B[i]
            out[i] = y if y < x else x
    elif op == OP.MATRIX_MIN:
        for i in range(n):
            x = A[i]
            y = B[i]
            out[i] = x if x < y else y
    elif op == OP.VECTOR_MAX:
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
    if K == SIMD_F or K == SIMD_F * SIMD_F:
        # whole blocks, in place when o == b (primitives.simd): F = 16's vectors and matrices,
        # and F = 4's matrices (K = 16), an elementwise product either way
        for t in range(T):
            scale16(S[a, t], X, b * T * K + t * K, X, o * T * K + t * K, K // SIMD_F)
        return
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
    OP34 norm, OP51 mean, OP55 std (K = F*F, summed row by row as the reference does; above
    F = 8 the matrix is stored by column, so that walks it with stride F; the vector forms
    OP21, OP27, OP50, OP54 also work, but at K = F the dispatch's plain loops are faster).
    Std is ``sqrt(E[x^2] - mean^2)``."""
    A = X[a]
    B = X[b]
    matrix = op == OP.MATRIX_NORM or op == OP.MATRIX_MEAN or op == OP.MATRIX_STD
    F = int(np.sqrt(K)) if matrix else K
    # the reference's order as `lines` runs of `length` elements, run r starting at
    # r * line_step, consecutive elements `step` apart: a matrix row by row (stored by column
    # here, above F = 8), a vector straight along
    lines, length, line_step, step = (F, F, 1, F) if matrix else (1, K, 0, 1)
    if matrix and F <= COLUMN_MAJOR_ABOVE:
        # small matrices: one task at a time (faster at F=4 than four interleaved)
        for t in range(T):
            acc = 0.0
            acc2 = 0.0
            for i in range(t * K, t * K + K):  # stored by row up to F = 8: the reference's order
                x = A[i]
                acc += x
                acc2 += x * x
            if op == OP.MATRIX_NORM:
                S[o, t] = np.sqrt(acc2)
            elif op == OP.MATRIX_MEAN:
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
        if op == OP.VECTOR_INNER_PRODUCT:
            for i in range(K):  # a vector op: stored in order
                s0 += A[c0 + i] * B[c0 + i]
                s1 += A[c1 + i] * B[c1 + i]
                s2 += A[c2 + i] * B[c2 + i]
                s3 += A[c3 + i] * B[c3 + i]
        else:
            squares_only = op == OP.VECTOR_NORM or op == OP.MATRIX_NORM
            for r in range(lines):
                i = r * line_step
                for _ in range(length):
                    x0 = A[c0 + i]
                    x1 = A[c1 + i]
                    x2 = A[c2 + i]
                    x3 = A[c3 + i]
                    if not squares_only:
                        s0 += x0
                        s1 += x1
                        s2 += x2
                        s3 += x3
                    q0 += x0 * x0
                    q1 += x1 * x1
                    q2 += x2 * x2
                    q3 += x3 * x3
                    i += step
        for k in range(min(4, T - t0)):
            s = s0 if k == 0 else (s1 if k == 1 else (s2 if k == 2 else s3))
            q = q0 if k == 0 else (q1 if k == 1 else (q2 if k == 2 else q3))
            if op == OP.VECTOR_INNER_PRODUCT:
                r = s
            elif op == OP.VECTOR_NORM or op == OP.MATRIX_NORM:
                r = np.sqrt(q)
            elif op == OP.VECTOR_MEAN or op == OP.MATRIX_MEAN:
                r = s / K
            else:
                mean = s / K
                r = np.sqrt(q / K - mean * mean)
            S[o, t0 + k] = r


@njit(**_JIT)
def outer(V, Mx, a, b, o, T, F):
    """OP28: M[i, j] = u[i] * v[j] for every task (stored by column above F = 8: column j is
    ``u * v[j]``)."""
    FF = F * F
    U = V[a]
    W = V[b]
    out = Mx[o]
    if F <= COLUMN_MAJOR_ABOVE:
        for t in range(T):
            # Row views: the inner index is the loop variable itself, which lets LLVM vectorise
            # (an index like ``row + j`` carries a negative-index check on every access).
            w = W[t * F : t * F + F]
            for i in range(F):
                x = U[t * F + i]
                orow = out[t * FF + i * F : t * FF + i * F + F]
                for j in range(F):
                    orow[j] = x * w[j]
        return
    if F == SIMD_F:
        for t in range(T):
            outer16(V, a * T * F + t * F, V, b * T * F + t * F, Mx, o * T * FF + t * FF)
        return
    for t in range(T):
        u = U[t * F : t * F + F]
        for j in range(F):
            x = W[t * F + j]
            ocol = out[t * FF + j * F : t * FF + j * F + F]
            for i in range(F):
                ocol[i] = u[i] * x


@njit(**_JIT)
def matrix_index(i, j, F):
    """Where element ``(i, j)`` of a task's F x F matrix is stored: by column above
    :data:`COLUMN_MAJOR_ABOVE`, by row up to it."""
    return j * F + i if F > COLUMN_MAJOR_ABOVE else i * F + j


@njit(**_JIT)
def row_sums(V, Mx, a, b, o, T, F, op, tmp):
    """OP31 ``v = M u`` for every task, each element summed left to right from 0.0 (through
    ``tmp``: u may be the output). Up to F = 8 one row at a time (stored by row); above it the
    matrix is stored by column, so the loop down a column adds one term to every row's sum:
    the lanes are rows, each in the reference's order, and LLVM vectorises it (the inner index
    is the loop variable of a slice: no negative-index check). ``op`` is kept for the callers."""
    FF = F * F
    A = Mx[a]
    U = V[b]
    TF = T * F
    if F <= COLUMN_MAJOR_ABOVE:
        for t in range(T):
            for i in range(F):
                acc = 0.0
                row = t * FF + i * F
                for j in range(F):
                    acc += A[row + j] * U[t * F + j]
                tmp[t * F + i] = acc
        _copy(tmp, V[o], TF)
        return
    if F == SIMD_F:
        # u may be the output: a task's block is stored after its last load (primitives.simd)
        for t in range(T):
            matvec16(Mx, a * T * FF + t * FF, V, b * TF + t * F, V, o * TF + t * F)
        return
    for i in range(TF):
        tmp[i] = 0.0
    for t in range(T):
        acc = tmp[t * F : t * F + F]
        for j in range(F):
            col = A[t * FF + j * F : t * FF + j * F + F]
            uj = U[t * F + j]
            for i in range(F):
                acc[i] += col[i] * uj
    _copy(tmp, V[o], TF)


@njit(**_JIT)
def matrix_rows(V, Mx, a, o, T, F, op):
    """OP35 column norms, OP36 row norms, OP52 row means, OP53 row stds (sums left to right).
    One row (or column) at a time: they are independent, so the CPU overlaps their sums by
    itself (this form, select included, is faster than interleaved or sliced variants, and than
    summing whole stored columns at once for the row ops above F = 8)."""
    FF = F * F
    A = Mx[a]
    out = V[o]
    by_row = F <= COLUMN_MAJOR_ABOVE
    along = op != OP.MATRIX_COLUMN_NORM  # a row op sums along a row
    # element (i, j) of the line summed: stride si between lines, sj along one
    si, sj = (F, 1) if along == by_row else (1, F)
    for t in range(T):
        for i in range(F):
            acc = 0.0
            acc2 = 0.0
            base = t * FF + i * si
            for j in range(F):
                x = A[base + j * sj]
                acc += x
                acc2 += x * x
            if op == OP.MATRIX_COLUMN_NORM or op == OP.MATRIX_ROW_NORM:
                out[t * F + i] = np.sqrt(acc2)
            elif op == OP.MATRIX_ROW_MEAN:
                out[t * F + i] = acc / F
            else:
                mean = acc / F
                out[t * F + i] = np.sqrt(acc2 / F - mean * mean)


@njit(**_JIT)
def broadcast(V, Mx, a, o, T, F, rows):
    """OP32: M[i, j] = v[i] (columns are v); OP33 (``rows``): M[i, j] = v[j]. Stored by column
    above F = 8: there OP32 copies v into every column and OP33 fills column j with v[j]."""
    FF = F * F
    U = V[a]
    out = Mx[o]
    # whether each stored line (a row up to F = 8, a column above) is a copy of v
    copies = rows if F <= COLUMN_MAJOR_ABOVE else not rows
    if copies:
        for t in range(T):
            u = U[t * F : t * F + F]
            for i in range(F):
                line = out[t * FF + i * F : t * FF + i * F + F]
                for j in range(F):
                    line[j] = u[j]
    else:
        for t in range(T):
            for i in range(F):
                x = U[t * F + i]
                line = out[t * FF + i * F : t * FF + i * F + F]
                for j in range(F):
                    line[j] = x


@njit(**_JIT)
def transpose(Mx, a, o, tmp, T, F):
    """OP37: M = transpose(M') (through ``tmp``: the output may be the input). The same loop for
    either storage order: element ``(j, i)`` of the result is element ``(i, j)`` of the input."""
    FF = F * F
    A = Mx[a]
    for t in range(T):
        for i in range(F):
            for j in range(F):
                tmp[t * FF + j * F + i] = A[t * FF + i * F + j]
    _copy(tmp, Mx[o], T * FF)


@njit(**_JIT)
def matmul(Mx, a, b, o, tmp, T, F):
    """OP43 for all tasks: ``C[i, k] = sum_q A[i, q] B[q, k]``, every element summed in q order
    from 0.0, as the reference does (through ``tmp``: the output may be an input). Up to F = 8
    (stored by row) loops run i-q-k with the row of sums in ``tmp`` (a row of sixteen register
    accumulators is slower: docs/performance.md); above it (stored by column) k-q-i: column k of C
    accumulates column q of A times ``B[q, k]``. Either way the inner loop runs along stored
    memory and LLVM vectorises it."""
    FF = F * F
    A = Mx[a]
    B = Mx[b]
    for i in range(T * FF):
        tmp[i] = 0.0
    if F <= COLUMN_MAJOR_ABOVE:
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
        return
    if F == SIMD_F:
        # column k of C is A times column k of B (primitives.simd), into tmp: C may be A or B
        for t in range(T):
            for k in range(F):
                matvec16(Mx, a * T * FF + t * FF, Mx, b * T * FF + t * FF + k * F, tmp,
                         t * FF + k * F)
        _copy(tmp, Mx[o], T * FF)
        return
    for t in range(T):
        base = t * FF
        for k in range(F):
            ccol = tmp[base + k * F : base + k * F + F]
            for q in range(F):
                x = B[base + k * F + q]
                acol = A[base + q * F : base + q * F + F]
                for i in range(F):
                    ccol[i] += acol[i] * x
    _copy(tmp, Mx[o], T * FF)


@njit(**_JIT)
def elementwise16(X, a, b, o, n, op):
    """Elementwise vector or matrix ops at F = 16 (``n`` = T*F or T*F*F elements of rows ``a``,
    ``b``, ``o`` of the bank ``X``) as whole blocks (:mod:`primitives.simd`), any of the three
    rows the same: OP23-26 / OP39-42 (+ - * /), OP45/46 min, OP48/49 max, OP16/17 heaviside,
    OP20/30 reciprocal, OP22/38 abs, each as its reference computes it."""
    ia = a * n
    ib = b * n
    io = o * n
    nb = n // SIMD_F
    if op == OP.VECTOR_SUM:
        binary16(23, X, ia, X, ib, X, io, nb)
    elif op == OP.VECTOR_DIFF:
        binary16(24, X, ia, X, ib, X, io, nb)
    elif op == OP.VECTOR_PRODUCT:
        binary16(25, X, ia, X, ib, X, io, nb)
    elif op == OP.VECTOR_DIVISION:
        binary16(26, X, ia, X, ib, X, io, nb)
    elif op == OP.MATRIX_SUM:
        binary16(39, X, ia, X, ib, X, io, nb)
    elif op == OP.MATRIX_DIFF:
        binary16(40, X, ia, X, ib, X, io, nb)
    elif op == OP.MATRIX_PRODUCT:
        binary16(41, X, ia, X, ib, X, io, nb)
    elif op == OP.MATRIX_DIVISION:
        binary16(42, X, ia, X, ib, X, io, nb)
    elif op == OP.VECTOR_MIN:
        binary16(45, X, ia, X, ib, X, io, nb)
    elif op == OP.MATRIX_MIN:
        binary16(46, X, ia, X, ib, X, io, nb)
    elif op == OP.VECTOR_MAX:
        binary16(48, X, ia, X, ib, X, io, nb)
    elif op == OP.MATRIX_MAX:
        binary16(49, X, ia, X, ib, X, io, nb)
    elif op == OP.VECTOR_HEAVISIDE or op == OP.MATRIX_HEAVISIDE:
        unary16(16, X, ia, X, io, nb)
    elif op == OP.VECTOR_RECIPROCAL or op == OP.MATRIX_RECIPROCAL:
        unary16(20, X, ia, X, io, nb)
    else:  # 22, 38
        unary16(22, X, ia, X, io, nb)
