"""The interpreter's array kernels and memoised random draws against slow, obvious references.

Every kernel must give the reference's bits exactly (same operations, same order), whatever the
aliasing of its output and inputs; the memoised draws must equal the plain SplitMix64 stream.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import primitives.interpreter as interpreter
from primitives import kernels, splitmix
from primitives.generate import random_program, usable_ops
from primitives.memory import MemorySpec
from primitives.ops import OPS
from primitives.program import pack
from primitives.rng import Stream

MIN_MAX = {  # the reference's comparison for each min/max op (NaN and signed zeros differ)
    45: lambda x, y: y if y < x else x,
    46: lambda x, y: x if x < y else y,
    48: lambda x, y: y if x < y else x,
    49: lambda x, y: x if x > y else y,
}
BINARY = {23: "+", 39: "+", 24: "-", 40: "-", 25: "*", 41: "*", 26: "/", 42: "/"}


def _same(a, b) -> bool:
    """Bit equality, any NaN equal to any NaN (NaN payloads are never observed)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    nan = np.isnan(a) & np.isnan(b)
    return bool(np.array_equal(a.view(np.uint64)[~nan], b.view(np.uint64)[~nan])
                and np.array_equal(np.isnan(a), np.isnan(b)))


def _matrix(stored: np.ndarray, F: int) -> np.ndarray:
    """A task's F x F matrix from its stored elements (by column above COLUMN_MAJOR_ABOVE)."""
    M = stored.reshape(F, F)
    return M.T if F > kernels.COLUMN_MAJOR_ABOVE else M


def _stored(M: np.ndarray) -> np.ndarray:
    """The stored elements of an F x F matrix (inverse of :func:`_matrix`)."""
    return np.ravel(M.T if M.shape[0] > kernels.COLUMN_MAJOR_ABOVE else M)


def _values(rng: np.random.Generator, shape) -> np.ndarray:
    x = rng.normal(size=shape)
    x[rng.random(shape) < 0.05] = 0.0
    x[rng.random(shape) < 0.05] = -0.0
    x[rng.random(shape) < 0.02] = np.nan
    return x


def _binary_ref(op, x, y):
    if op in MIN_MAX:
        return MIN_MAX[op](x, y)
    kind = BINARY[op]
    with np.errstate(all="ignore"):
        x, y = np.float64(x), np.float64(y)
        return {"+": x + y, "-": x - y, "*": x * y, "/": x / y}[kind]


def _unary_ref(op, values) -> list:
    """OP16/17 heaviside (``x > 0``), OP20/30 reciprocal, OP22/38 abs, element by element."""
    with np.errstate(all="ignore"):
        if op in (16, 17):
            return [1.0 if x > 0.0 else 0.0 for x in values]
        if op in (20, 30):
            return [np.float64(1.0) / np.float64(x) for x in values]
        return [abs(x) for x in values]


@pytest.mark.parametrize("op", [23, 24, 25, 26, 39, 40, 41, 42, 45, 46, 48, 49])
@pytest.mark.parametrize("a,b,o", [(0, 1, 2), (0, 1, 0), (0, 1, 1), (0, 0, 0), (1, 1, 2)])
def test_elementwise_binary_any_aliasing(op, a, b, o):
    rng = np.random.default_rng(op * 10 + a + b + o)
    n = 37
    X = _values(rng, (3, n))
    expected = X.copy()
    expected[o] = [_binary_ref(op, X[a, i], X[b, i]) for i in range(n)]
    with np.errstate(all="ignore"):
        kernels.ew_binary(X, a, b, o, n, op, np.zeros(n))
    assert _same(X, expected)


@pytest.mark.parametrize("op", [16, 17, 20, 30, 22, 38])
@pytest.mark.parametrize("a,o", [(0, 1), (1, 1)])
def test_elementwise_unary_any_aliasing(op, a, o):
    rng = np.random.default_rng(op + 7 * a)
    n = 29
    X = _values(rng, (2, n))
    expected = X.copy()
    expected[o] = _unary_ref(op, X[a])
    with np.errstate(all="ignore"):
        kernels.ew_unary(X, a, o, n, op, np.zeros(n))
    assert _same(X, expected)


@pytest.mark.parametrize("K", [5, 16, 256])  # 16 = F and 256 = F*F at F = 16: whole blocks
@pytest.mark.parametrize("b,o", [(0, 1), (1, 1)])
def test_scale_any_aliasing(K, b, o):
    rng = np.random.default_rng(K + b + o)
    T = 3
    S = _values(rng, (2, T))
    X = _values(rng, (2, T * K))
    expected = X.copy()
    expected[o] = [S[1, i // K] * X[b, i] for i in range(T * K)]
    kernels.scale(S, X, 1, b, o, T, K, np.zeros(T * K))
    assert _same(X, expected)


@pytest.mark.parametrize("op", [23, 24, 25, 26, 39, 40, 41, 42, 45, 46, 48, 49])
@pytest.mark.parametrize("a,b,o", [(0, 1, 2), (0, 1, 0), (0, 1, 1), (0, 0, 0), (1, 1, 2)])
@pytest.mark.parametrize("n", [16, 3 * 16, 2 * 256])
def test_elementwise16_binary_any_aliasing(op, a, b, o, n):
    """The F = 16 block kernel (primitives.simd): every lane the reference's operation on its
    own element, whichever rows are the same memory (n = T*F or T*F*F elements)."""
    rng = np.random.default_rng(op * 10 + a + b + o + n)
    X = _values(rng, (3, n))
    X[:, :8] = [[1.0, -0.0, 0.0, np.nan, -1.0, np.inf, 2.0, 0.0]] * 3  # equal pairs, signed zeros
    X[1, :8] = [1.0, 0.0, -0.0, 1.0, np.nan, np.inf, -2.0, 5e-324]
    expected = X.copy()
    expected[o] = [_binary_ref(op, X[a, i], X[b, i]) for i in range(n)]
    with np.errstate(all="ignore"):
        kernels.elementwise16(X, a, b, o, n, op)
    assert _same(X, expected)


@pytest.mark.parametrize("op", [16, 17, 20, 30, 22, 38])
@pytest.mark.parametrize("a,o", [(0, 1), (1, 1)])
@pytest.mark.parametrize("n", [16, 2 * 256])
def test_elementwise16_unary_any_aliasing(op, a, o, n):
    rng = np.random.default_rng(op + 7 * a + n)
    X = _values(rng, (2, n))
    X[a, :6] = [0.0, -0.0, np.inf, -np.inf, 5e-324, -5e-324]
    expected = X.copy()
    expected[o] = _unary_ref(op, X[a])
    with np.errstate(all="ignore"):
        kernels.elementwise16(X, a, 0, o, n, op)
    assert _same(X, expected)
    if op in (22, 38):  # abs clears the sign bit of every element, NaN and -0.0 included
        assert not np.signbit(X[o]).any()


@pytest.mark.parametrize("F", [3, 11, 16])
@pytest.mark.parametrize("a,b", [(0, 1), (0, 0)])
def test_outer_product(F, a, b):
    rng = np.random.default_rng(F + a + b)
    T = 3
    V = _values(rng, (2, T * F))
    Mx = _values(rng, (2, T * F * F))
    expected = Mx.copy()
    for t in range(T):
        u, w = V[a, t * F : (t + 1) * F], V[b, t * F : (t + 1) * F]
        expected[1, t * F * F : (t + 1) * F * F] = _stored(np.array([[u[i] * w[j] for j in range(F)]
                                                                       for i in range(F)]))
    kernels.outer(V, Mx, a, b, 1, T, F)
    assert _same(Mx, expected)


def _left_sum(values) -> float:
    acc = 0.0
    for v in values:
        acc += v
    return acc


@pytest.mark.parametrize("T", [1, 3, 4, 5, 9])
@pytest.mark.parametrize("op", [34, 51, 55, 21, 27, 50, 54])
@pytest.mark.parametrize("side", [3, 9])  # matrices 3x3 (one task at a time) and 9x9 (interleaved)
def test_task_sums_sum_left_to_right(T, op, side):
    rng = np.random.default_rng(T * 100 + op + side)
    matrix = op in (34, 51, 55)
    F = side if matrix else 7
    K = F * F if matrix else F
    X = rng.normal(size=(2, T * K))
    S = np.zeros((2, T))
    kernels.task_sums(S, X, 0, 1, 1, T, K, op)
    for t in range(T):
        x = X[0, t * K : t * K + K]
        if matrix:  # summed row by row as the reference sums, whatever the storage order
            x = _matrix(x, F).ravel()
        if op == 27:
            expected = _left_sum(x * X[1, t * K : t * K + K])
        elif op in (21, 34):
            expected = np.sqrt(_left_sum(x * x))
        elif op in (50, 51):
            expected = _left_sum(x) / K
        else:
            mean = _left_sum(x) / K
            expected = np.sqrt(_left_sum(x * x) / K - mean * mean)
        assert _same(S[1, t], expected), (t, S[1, t], expected)


@pytest.mark.parametrize("F", [1, 3, 8, 11, 16])
@pytest.mark.parametrize("u_is_out", [False, True])
def test_matvec_rows_left_to_right(F, u_is_out):
    rng = np.random.default_rng(F)
    T = 2
    V = rng.normal(size=(2, T * F))
    Mx = rng.normal(size=(1, T * F * F))
    b, o = (1, 1) if u_is_out else (0, 1)
    expected = V.copy()
    for t in range(T):
        M = _matrix(Mx[0, t * F * F : (t + 1) * F * F], F)
        u = V[b, t * F : (t + 1) * F]
        expected[o, t * F : (t + 1) * F] = [_left_sum(M[i] * u) for i in range(F)]
    kernels.row_sums(V, Mx, 0, b, o, T, F, 31, np.zeros(T * F * F + T * F))
    assert _same(V, expected)


@pytest.mark.parametrize("F", [3, 16])
@pytest.mark.parametrize("a,b,o", [(0, 1, 2), (0, 1, 0), (0, 0, 0)])
def test_matmul_sums_in_q_order(F, a, b, o):
    rng = np.random.default_rng(F + a + b + o)
    T = 2
    Mx = rng.normal(size=(3, T * F * F))
    expected = Mx.copy()
    for t in range(T):
        A = _matrix(Mx[a, t * F * F : (t + 1) * F * F], F)
        B = _matrix(Mx[b, t * F * F : (t + 1) * F * F], F)
        C = [[_left_sum(A[i, q] * B[q, j] for q in range(F)) for j in range(F)] for i in range(F)]
        expected[o, t * F * F : (t + 1) * F * F] = _stored(np.array(C))
    kernels.matmul(Mx, a, b, o, np.zeros(T * F * F + T * F), T, F)
    assert _same(Mx, expected)


# ---- memoised random draws -----------------------------------------------------------------------


def _python_fill(stream: Stream, n: int, gauss: bool, p0: float, p1: float) -> list[float]:
    out = []
    for _ in range(n):
        if gauss:
            out.append(p0 + p1 * stream.gaussian())
        else:
            u = stream.uniform()
            out.append(p0 if p0 >= p1 else p0 + (p1 - p0) * u)
    return out


requests = st.lists(
    st.tuples(st.integers(1, 9), st.booleans(), st.sampled_from([(-1.0, 1.0), (0.5, 0.5), (0.0, 2.0)])),
    min_size=1, max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(programs=st.lists(requests, min_size=1, max_size=4), size=st.sampled_from([0, 1, 5, 16, 64]),
       seed=st.integers(0, 2**64 - 1))
def test_memoised_draws_equal_the_stream(programs, size, seed):
    """Several programs restart the same stream and share one table of ``size`` draws: every
    value, and the stream state after each fill, is the plain stream's (memoised or not)."""
    table = splitmix.DrawTable(1, size)
    for requests_ in programs:
        states = np.array([seed], np.uint64)
        draws = np.zeros(1, np.int64)
        stream = Stream(seed)
        for n, gauss, (p0, p1) in requests_:
            dst = np.zeros(n)
            splitmix.table_fill(dst, n, gauss, p0, p1, states, draws, table.filled, table.values, 0)
            expected = _python_fill(stream, n, gauss, p0, p1)
            assert _same(dst, expected)
            assert int(states[0]) == stream.state
    most = max(sum(n * (2 if g else 1) for n, g, _ in r) for r in programs)
    assert int(table.filled[0]) == min(size, most)  # filled in order, never past the table


def test_evaluation_with_and_without_draw_table_is_identical(monkeypatch):
    """Programs full of random ops score and hash the same with memoised draws, with a table too
    small for them, and with none."""
    rng = np.random.default_rng(5)
    memory = MemorySpec(5, 5, 3)
    every = usable_ops(tuple(op.code for op in OPS), memory)
    random_ops = usable_ops(tuple(op.code for op in OPS if op.random), memory)
    programs = [random_program((6, 4, 4), (random_ops, every, every), memory, rng) for _ in range(40)]
    code, data, bounds = pack(programs)
    T, F = 3, 4
    x = rng.normal(size=(T, 12, F))
    y = rng.normal(size=(T, 12))
    seeds = np.arange(T, dtype=np.uint64) * 977

    def run():
        interpreter._draw_tables.clear()
        return interpreter.evaluate_batch(code, data, bounds, x, y, x, y, eval_type=0, num_epochs=2,
                                          memory=memory.as_tuple(), task_seeds=seeds, record=True)

    with np.errstate(all="ignore"):
        results = [run()]
        for size in (0, 7):
            monkeypatch.setattr(interpreter, "DRAW_TABLE_SIZE", size)
            results.append(run())
        monkeypatch.setattr(interpreter, "DRAW_TABLE_SIZE", 8192)
        interpreter._draw_tables.clear()
        warm = interpreter.evaluate_batch(code, data, bounds, x, y, x, y, eval_type=0,
                                          num_epochs=2, memory=memory.as_tuple(), task_seeds=seeds,
                                          record=True)
        again = interpreter.evaluate_batch(code, data, bounds, x, y, x, y, eval_type=0,
                                           num_epochs=2, memory=memory.as_tuple(),
                                           task_seeds=seeds, record=True)
    for fitness, hashes in [*results[1:], warm, again]:
        assert _same(fitness, results[0][0]) and np.array_equal(hashes, results[0][1])


def test_draw_tables_are_bounded():
    interpreter._draw_tables.clear()
    for k in range(interpreter.DRAW_TABLES_KEPT + 3):
        interpreter.draw_table(np.array([k], np.uint64), 0)
    assert len(interpreter._draw_tables) == interpreter.DRAW_TABLES_KEPT


# ---- the validation decision of accuracy tasks ----------------------------------------------------


def _sigmoid_above_half(p: float) -> float:
    """The executor's decision, with the exp the kernel calls: the C library's when jitted, NumPy's
    ufunc under ``NUMBA_DISABLE_JIT=1`` (they may differ by an ulp, which decides at ``|p|`` near
    1e-16)."""
    if numba.config.DISABLE_JIT:
        with np.errstate(all="ignore"):
            e = np.exp(-np.float64(p))
    else:
        try:
            e = math.exp(-p)
        except OverflowError:
            e = math.inf
    return 1.0 if 1.0 / (1.0 + e) > 0.5 else 0.0


@settings(max_examples=400, deadline=None)
@given(p=st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.floats(-1e-5, 1e-5), st.floats(-1e-15, 1e-15),
                   st.sampled_from([1e-6, -1e-6, 0.0, -0.0, 5e-324, -5e-324, 1.1e-16, -1.1e-16])))
def test_label_without_exp_is_the_sigmoid_decision(p):
    """Validation labels ``sigmoid(p) > 0.5`` without calling exp when ``|p| > 1e-6``: the same
    decision for every double, NaN, infinities and values around the cut included."""
    from primitives.dispatch import _above_half

    assert _above_half(p) == _sigmoid_above_half(p), p
