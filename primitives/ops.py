"""The instruction set: AutoML-Zero's 65 ops, declared once (Real et al. 2020, Table S1).

Each :class:`Op` is one row of :data:`OPS` and the only place where knowledge about that op lives:
its stable code ("OPn" in the paper), name, operand kinds, output kind, constants (with how they
are drawn at creation), text form (AutoML-Zero's ``Instruction::ToString``), whether it draws random
numbers, whether it writes only part of its output, its compute cost, its NumPy reference (the
executor's semantics, what tests compare the kernel with), the NumPy source the exporter writes,
and its symbolic form for the math view. The Numba interpreter's branch for the op is the one other
place a new op needs (an integer dispatch cannot be derived); the mutator, the random generator,
the printer/parser, liveness and pruning, the compute budget, the exporter and the math view all
derive from this table, and ``tests/primitives/test_op_table.py`` adds a throw-away op to a copy of the table
to prove that each of them picks it up.

Semantics follow AutoML-Zero's C++ executor exactly where it matters for fitness:
heaviside(NaN) is 0; scalar/vector ``min(a, b) = b < a ? b : a`` and ``max(a, b) = a < b ? b : a``;
matrix ``min = a < b ? a : b`` and ``max = a > b ? a : b``; std is ``sqrt(sum(x^2)/n - mean^2)``
without clamping; const-set indices are ``int(float32(F) * float32(f))`` (clamped to ``F - 1``);
``uniform(a, b)`` with ``a >= b`` gives ``a``; transcendental functions are the C library's, per
element (:mod:`primitives.libm`), as the kernel calls them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any

import numpy as np

from primitives import libm
from primitives.memory import MATRIX, SCALAR, VECTOR

# How constants are drawn when an instruction is created or randomized (Real et al. 2020, Supplementary S1).
CONST_VALUE = "value"  # c ~ U(-1, 1)
CONST_INDEX = "index"  # f ~ U(0, 1), used as int(F * f)
CONST_LOW = "low"  # a ~ U(-1, 1)
CONST_HIGH = "high"  # b ~ U(-1, 1)
CONST_MEAN = "mean"  # mu ~ U(-1, 1)
CONST_STD = "std"  # sigma ~ U(0, 1)
CONST_RANGES = {
    CONST_VALUE: (-1.0, 1.0),
    CONST_INDEX: (0.0, 1.0),
    CONST_LOW: (-1.0, 1.0),
    CONST_HIGH: (-1.0, 1.0),
    CONST_MEAN: (-1.0, 1.0),
    CONST_STD: (0.0, 1.0),
}
MAX_CONSTANTS = 3


@dataclass(frozen=True)
class Op:
    """One op of the instruction set: one row of :data:`OPS`, every column required.

    - ``inputs``: the kinds of ``in1`` and ``in2`` (0, 1 or 2 operands); ``output``: the kind
      written (``None`` for no_op); ``constants``: the float data slots in order.
    - ``text``: the printed form with ``{out}``, ``{in1}``, ``{in2}``, ``{c0}``.. placeholders.
    - ``cost(F)``: the op's compute cost for the budget (1 per scalar result, ``F`` per vector,
      ``F^2`` per matrix, ``F^3`` for a matrix product; AutoML-Zero §4.2's compute limits).
    - ``reference(a, b, c, F, rng)``: the NumPy meaning (``rng`` offers ``uniform()`` and
      ``gaussian()``); for partial-write ops ``a`` is the output's previous value.
    - ``numpy``: the exporter's source line over registers ``{o}``, ``{a}``, ``{b}`` and constants
      ``{c0}``..; it may use NumPy (``np``), ``math``, ``libm`` (:mod:`primitives.libm`), the
      runtime helpers ``_sum`` (left-to-right), ``_std``, ``_index``, ``_uniform_in`` and the
      random stream ``rng`` (see :mod:`evolve.analysis.export`).
    - ``symbolic(alg, a, b, c, old)``: the math view's SymPy value: scalars are SymPy expressions,
      vectors and matrices abstract linear combinations built with the algebra ``alg``
      (:class:`evolve.analysis.algebra.Algebra`: ``atom``, ``symbol``, ``fn``, ``linear``,
      ``bilinear``, ``elementwise``, ``random``, ``ones``, ``n_features``); ``old`` is the
      output's previous value.
    - ``random``: draws random numbers on every execution (never dead, never constant-folded).
    - ``partial_write``: writes one element and keeps the rest (so it also reads its output).
    """

    code: int
    name: str
    inputs: tuple[int, ...]
    output: int | None
    constants: tuple[str, ...]
    text: str
    _: KW_ONLY
    cost: Callable[[int], int]
    reference: Callable[..., Any]
    numpy: str | None
    symbolic: Callable[..., Any] | None
    random: bool = False
    partial_write: bool = False


def _idx(f: float, size: int) -> int:
    """AutoML-Zero's const-set index: ``int(float32(F) * float32(f))``, clamped to ``F - 1``."""
    return min(int(np.float32(size) * np.float32(f)), size - 1)


def _smin(a, b):
    return np.where(b < a, b, a)


def _smax(a, b):
    return np.where(a < b, b, a)


def _sum(x):
    """Left-to-right sum, as the interpreter adds (``np.sum`` is pairwise: other roundings)."""
    return float(np.cumsum(np.ravel(x))[-1])


def _row_sums(m):
    return np.cumsum(m, axis=1)[:, -1]


def _std(x):
    n = x.size
    mean = _sum(x) / n
    return np.sqrt(_sum(x * x) / n - mean * mean)


def _row_std(m):
    n = m.shape[1]
    mean = _row_sums(m) / n
    return np.sqrt(_row_sums(m * m) / n - mean * mean)


def _matvec(m, v):
    return _row_sums(m * v[None, :])


def _matmul(a, b):
    return np.cumsum(a[:, :, None] * b[None, :, :], axis=1)[:, -1, :]


def _uniform(low, high, rng, shape):
    out = np.empty(shape)
    flat = out.reshape(-1)
    for i in range(flat.size):
        u = rng.uniform()
        flat[i] = low if low >= high else low + (high - low) * u
    return out if shape else float(flat[0])


def _gaussian(mean, std, rng, shape):
    out = np.empty(shape)
    flat = out.reshape(-1)
    for i in range(flat.size):
        flat[i] = mean + std * rng.gaussian()
    return out if shape else float(flat[0])


def _vset(v, c, F):
    out = v.copy()
    out[_idx(c[0], F)] = c[1]
    return out


def _mset(m, c, F):
    out = m.copy()
    out[_idx(c[0], F), _idx(c[1], F)] = c[2]
    return out


def _f(x):
    return float(x)


# ---- compute costs (AutoML-Zero §4.2: the compute limit counts work per op) ---------------------


def _free(F: int) -> int:
    return 0


def _constant(F: int) -> int:
    return 1


def _linear(F: int) -> int:
    return F


def _quadratic(F: int) -> int:
    return F * F


def _cubic(F: int) -> int:
    return F**3


# ---- symbolic forms (sympy imported lazily; the algebra ``alg`` is the math view's) -----------


def _sp():
    import sympy

    return sympy


def _sym_dot(alg, a, b):
    """``a · b`` expanded bilinearly; ``𝟙·𝟙 = n`` and ``𝟙·w = sum(w)``."""
    ones = alg.ones

    def unit(x, z):
        if x == z == ones:
            return alg.n_features
        return alg.fn("sum", SCALAR, z if x == ones else x)

    return alg.bilinear("dot", SCALAR, a, b, symmetric=True, unit=unit)


def _sym_hadamard(alg, kind: int, a, b):
    """Element-wise product expanded bilinearly; ``𝟙 ∘ w = w``."""
    ones = alg.ones
    return alg.bilinear("hadamard", kind, a, b, symmetric=True,
                        unit=lambda x, z: z if x == ones else x)


def _sym_set(alg, kind: int, old, c):
    """Const-set: ``c·e[f]`` on a zero register, otherwise ``set(old, f.., c)``."""
    sp = _sp()
    if kind == VECTOR:
        if old == 0:
            return sp.Float(c[1]) * alg.symbol(f"e[{c[0]:g}]", VECTOR)
        return alg.fn("set", VECTOR, old, sp.Float(c[0]), sp.Float(c[1]))
    if old == 0:
        return sp.Float(c[2]) * alg.symbol(f"E[{c[0]:g},{c[1]:g}]", MATRIX)
    return alg.fn("set", MATRIX, old, sp.Float(c[0]), sp.Float(c[1]), sp.Float(c[2]))


S, V, M = SCALAR, VECTOR, MATRIX
OPS: tuple[Op, ...] = (
    Op(0, "no_op", (), None, (), "NoOp()", cost=_free,
       reference=lambda a, b, c, F, r: None,
       numpy=None,
       symbolic=None),
    Op(1, "scalar_sum", (S, S), S, (), "{out} = {in1} + {in2}", cost=_constant,
       reference=lambda a, b, c, F, r: a + b,
       numpy="{o} = {a} + {b}",
       symbolic=lambda alg, a, b, c, old: a + b),
    Op(2, "scalar_diff", (S, S), S, (), "{out} = {in1} - {in2}", cost=_constant,
       reference=lambda a, b, c, F, r: a - b,
       numpy="{o} = {a} - {b}",
       symbolic=lambda alg, a, b, c, old: a - b),
    Op(3, "scalar_product", (S, S), S, (), "{out} = {in1} * {in2}", cost=_constant,
       reference=lambda a, b, c, F, r: a * b,
       numpy="{o} = {a} * {b}",
       symbolic=lambda alg, a, b, c, old: a * b),
    Op(4, "scalar_division", (S, S), S, (), "{out} = {in1} / {in2}", cost=_constant,
       reference=lambda a, b, c, F, r: _f(np.float64(a) / np.float64(b)),
       numpy="{o} = {a} / {b}",
       symbolic=lambda alg, a, b, c, old: a / b),
    Op(5, "scalar_abs", (S,), S, (), "{out} = abs({in1})", cost=_constant,
       reference=lambda a, b, c, F, r: abs(a),
       numpy="{o} = np.abs({a})",
       symbolic=lambda alg, a, b, c, old: _sp().Abs(a)),
    Op(6, "scalar_reciprocal", (S,), S, (), "{out} = 1 / {in1}", cost=_constant,
       reference=lambda a, b, c, F, r: _f(1.0 / np.float64(a)),
       numpy="{o} = 1.0 / {a}",
       symbolic=lambda alg, a, b, c, old: 1 / a),
    Op(7, "scalar_sin", (S,), S, (), "{out} = sin({in1})", cost=_constant,
       reference=lambda a, b, c, F, r: libm.sin(a),
       numpy="{o} = libm.sin({a})",
       symbolic=lambda alg, a, b, c, old: _sp().sin(a)),
    Op(8, "scalar_cos", (S,), S, (), "{out} = cos({in1})", cost=_constant,
       reference=lambda a, b, c, F, r: libm.cos(a),
       numpy="{o} = libm.cos({a})",
       symbolic=lambda alg, a, b, c, old: _sp().cos(a)),
    Op(9, "scalar_tan", (S,), S, (), "{out} = tan({in1})", cost=_constant,
       reference=lambda a, b, c, F, r: libm.tan(a),
       numpy="{o} = libm.tan({a})",
       symbolic=lambda alg, a, b, c, old: _sp().tan(a)),
    Op(10, "scalar_arcsin", (S,), S, (), "{out} = arcsin({in1})", cost=_constant,
       reference=lambda a, b, c, F, r: libm.asin(a),
       numpy="{o} = libm.asin({a})",
       symbolic=lambda alg, a, b, c, old: _sp().asin(a)),
    Op(11, "scalar_arccos", (S,), S, (), "{out} = arccos({in1})", cost=_constant,
       reference=lambda a, b, c, F, r: libm.acos(a),
       numpy="{o} = libm.acos({a})",
       symbolic=lambda alg, a, b, c, old: _sp().acos(a)),
    Op(12, "scalar_arctan", (S,), S, (), "{out} = arctan({in1})", cost=_constant,
       reference=lambda a, b, c, F, r: libm.atan(a),
       numpy="{o} = libm.atan({a})",
       symbolic=lambda alg, a, b, c, old: _sp().atan(a)),
    Op(13, "scalar_exp", (S,), S, (), "{out} = exp({in1})", cost=_constant,
       reference=lambda a, b, c, F, r: libm.exp(a),
       numpy="{o} = libm.exp({a})",
       symbolic=lambda alg, a, b, c, old: _sp().exp(a)),
    Op(14, "scalar_log", (S,), S, (), "{out} = log({in1})", cost=_constant,
       reference=lambda a, b, c, F, r: libm.log(a),
       numpy="{o} = libm.log({a})",
       symbolic=lambda alg, a, b, c, old: _sp().log(a)),
    Op(15, "scalar_heaviside", (S,), S, (), "{out} = heaviside({in1}, 1.0)", cost=_constant,
       reference=lambda a, b, c, F, r: 1.0 if a >= 0.0 else 0.0,
       numpy="{o} = 1.0 if {a} >= 0.0 else 0.0",
       symbolic=lambda alg, a, b, c, old: _sp().Heaviside(a, 1)),
    Op(16, "vector_heaviside", (V,), V, (), "{out} = heaviside({in1}, 1.0)", cost=_linear,
       reference=lambda a, b, c, F, r: np.where(a > 0.0, 1.0, 0.0),
       numpy="{o} = np.where({a} > 0.0, 1.0, 0.0)",
       symbolic=lambda alg, a, b, c, old: alg.elementwise("heaviside", V, a)),
    Op(17, "matrix_heaviside", (M,), M, (), "{out} = heaviside({in1}, 1.0)", cost=_quadratic,
       reference=lambda a, b, c, F, r: np.where(a > 0.0, 1.0, 0.0),
       numpy="{o} = np.where({a} > 0.0, 1.0, 0.0)",
       symbolic=lambda alg, a, b, c, old: alg.elementwise("heaviside", M, a)),
    Op(18, "scalar_vector_product", (S, V), V, (), "{out} = {in1} * {in2}", cost=_linear,
       reference=lambda a, b, c, F, r: a * b,
       numpy="{o} = {a} * {b}",
       symbolic=lambda alg, a, b, c, old: a * b),
    Op(19, "scalar_broadcast", (S,), V, (), "{out} = bcast({in1})", cost=_linear,
       reference=lambda a, b, c, F, r: np.full(F, a),
       numpy="{o} = {a}",
       symbolic=lambda alg, a, b, c, old: alg.atom(alg.ones, V) * a),
    Op(20, "vector_reciprocal", (V,), V, (), "{out} = 1 / {in1}", cost=_linear,
       reference=lambda a, b, c, F, r: 1.0 / a,
       numpy="{o} = 1.0 / {a}",
       symbolic=lambda alg, a, b, c, old: alg.elementwise("recip", V, a)),
    Op(21, "vector_norm", (V,), S, (), "{out} = norm({in1})", cost=_linear,
       reference=lambda a, b, c, F, r: _f(np.sqrt(_sum(a * a))),
       numpy="{o} = np.sqrt(_sum({a} * {a}))",
       symbolic=lambda alg, a, b, c, old: _sp().sqrt(_sym_dot(alg, a, a))),
    Op(22, "vector_abs", (V,), V, (), "{out} = abs({in1})", cost=_linear,
       reference=lambda a, b, c, F, r: np.abs(a),
       numpy="{o} = np.abs({a})",
       symbolic=lambda alg, a, b, c, old: alg.elementwise("abs", V, a)),
    Op(23, "vector_sum", (V, V), V, (), "{out} = {in1} + {in2}", cost=_linear,
       reference=lambda a, b, c, F, r: a + b,
       numpy="{o} = {a} + {b}",
       symbolic=lambda alg, a, b, c, old: a + b),
    Op(24, "vector_diff", (V, V), V, (), "{out} = {in1} - {in2}", cost=_linear,
       reference=lambda a, b, c, F, r: a - b,
       numpy="{o} = {a} - {b}",
       symbolic=lambda alg, a, b, c, old: a - b),
    Op(25, "vector_product", (V, V), V, (), "{out} = {in1} * {in2}", cost=_linear,
       reference=lambda a, b, c, F, r: a * b,
       numpy="{o} = {a} * {b}",
       symbolic=lambda alg, a, b, c, old: _sym_hadamard(alg, V, a, b)),
    Op(26, "vector_division", (V, V), V, (), "{out} = {in1} / {in2}", cost=_linear,
       reference=lambda a, b, c, F, r: a / b,
       numpy="{o} = {a} / {b}",
       symbolic=lambda alg, a, b, c, old: _sym_hadamard(alg, V, a, alg.elementwise("recip", V, b))),
    Op(27, "vector_inner_product", (V, V), S, (), "{out} = dot({in1}, {in2})", cost=_linear,
       reference=lambda a, b, c, F, r: _sum(a * b),
       numpy="{o} = _sum({a} * {b})",
       symbolic=lambda alg, a, b, c, old: _sym_dot(alg, a, b)),
    Op(28, "vector_outer_product", (V, V), M, (), "{out} = outer({in1}, {in2})", cost=_quadratic,
       reference=lambda a, b, c, F, r: np.outer(a, b),
       numpy="{o} = np.outer({a}, {b})",
       symbolic=lambda alg, a, b, c, old: alg.bilinear("outer", M, a, b)),
    Op(29, "scalar_matrix_product", (S, M), M, (), "{out} = {in1} * {in2}", cost=_quadratic,
       reference=lambda a, b, c, F, r: a * b,
       numpy="{o} = {a} * {b}",
       symbolic=lambda alg, a, b, c, old: a * b),
    Op(30, "matrix_reciprocal", (M,), M, (), "{out} = 1 / {in1}", cost=_quadratic,
       reference=lambda a, b, c, F, r: 1.0 / a,
       numpy="{o} = 1.0 / {a}",
       symbolic=lambda alg, a, b, c, old: alg.elementwise("recip", M, a)),
    Op(31, "matrix_vector_product", (M, V), V, (), "{out} = dot({in1}, {in2})", cost=_quadratic,
       reference=lambda a, b, c, F, r: _matvec(a, b),
       numpy="{o} = _sum({a} * {b}[None, :], axis=1)",
       symbolic=lambda alg, a, b, c, old: alg.bilinear("matvec", V, a, b)),
    Op(32, "vector_column_broadcast", (V,), M, (), "{out} = bcast({in1}, axis=0)", cost=_quadratic,
       reference=lambda a, b, c, F, r: np.repeat(a[:, None], F, axis=1),
       numpy="{o} = {a}[:, None]",
       symbolic=lambda alg, a, b, c, old: alg.linear("bcast_col", M, a)),
    Op(33, "vector_row_broadcast", (V,), M, (), "{out} = bcast({in1}, axis=1)", cost=_quadratic,
       reference=lambda a, b, c, F, r: np.repeat(a[None, :], F, axis=0),
       numpy="{o} = {a}[None, :]",
       symbolic=lambda alg, a, b, c, old: alg.linear("bcast_row", M, a)),
    Op(34, "matrix_norm", (M,), S, (), "{out} = norm({in1})", cost=_quadratic,
       reference=lambda a, b, c, F, r: _f(np.sqrt(_sum(a * a))),
       numpy="{o} = np.sqrt(_sum(({a} * {a}).ravel()))",
       symbolic=lambda alg, a, b, c, old: alg.fn("norm", S, a)),
    Op(35, "matrix_column_norm", (M,), V, (), "{out} = norm({in1}, axis=0)", cost=_quadratic,
       reference=lambda a, b, c, F, r: np.sqrt(_row_sums((a * a).T)),
       numpy="{o} = np.sqrt(_sum({a} * {a}, axis=0))",
       symbolic=lambda alg, a, b, c, old: alg.fn("col_norm", V, a)),
    Op(36, "matrix_row_norm", (M,), V, (), "{out} = norm({in1}, axis=1)", cost=_quadratic,
       reference=lambda a, b, c, F, r: np.sqrt(_row_sums(a * a)),
       numpy="{o} = np.sqrt(_sum({a} * {a}, axis=1))",
       symbolic=lambda alg, a, b, c, old: alg.fn("row_norm", V, a)),
    Op(37, "matrix_transpose", (M,), M, (), "{out} = transpose({in1})", cost=_quadratic,
       reference=lambda a, b, c, F, r: a.T.copy(),
       numpy="{o} = {a}.T.copy()",
       symbolic=lambda alg, a, b, c, old: alg.linear("transpose", M, a)),
    Op(38, "matrix_abs", (M,), M, (), "{out} = abs({in1})", cost=_quadratic,
       reference=lambda a, b, c, F, r: np.abs(a),
       numpy="{o} = np.abs({a})",
       symbolic=lambda alg, a, b, c, old: alg.elementwise("abs", M, a)),
    Op(39, "matrix_sum", (M, M), M, (), "{out} = {in1} + {in2}", cost=_quadratic,
       reference=lambda a, b, c, F, r: a + b,
       numpy="{o} = {a} + {b}",
       symbolic=lambda alg, a, b, c, old: a + b),
    Op(40, "matrix_diff", (M, M), M, (), "{out} = {in1} - {in2}", cost=_quadratic,
       reference=lambda a, b, c, F, r: a - b,
       numpy="{o} = {a} - {b}",
       symbolic=lambda alg, a, b, c, old: a - b),
    Op(41, "matrix_product", (M, M), M, (), "{out} = {in1} * {in2}", cost=_quadratic,
       reference=lambda a, b, c, F, r: a * b,
       numpy="{o} = {a} * {b}",
       symbolic=lambda alg, a, b, c, old: _sym_hadamard(alg, M, a, b)),
    Op(42, "matrix_division", (M, M), M, (), "{out} = {in1} / {in2}", cost=_quadratic,
       reference=lambda a, b, c, F, r: a / b,
       numpy="{o} = {a} / {b}",
       symbolic=lambda alg, a, b, c, old: _sym_hadamard(alg, M, a, alg.elementwise("recip", M, b))),
    Op(43, "matrix_matrix_product", (M, M), M, (), "{out} = matmul({in1}, {in2})", cost=_cubic,
       reference=lambda a, b, c, F, r: _matmul(a, b),
       numpy="{o} = _sum({a}[:, :, None] * {b}[None, :, :], axis=1)",
       symbolic=lambda alg, a, b, c, old: alg.bilinear("matmul", M, a, b)),
    Op(44, "scalar_min", (S, S), S, (), "{out} = minimum({in1}, {in2})", cost=_constant,
       reference=lambda a, b, c, F, r: _f(_smin(a, b)),
       numpy="{o} = {b} if {b} < {a} else {a}",
       symbolic=lambda alg, a, b, c, old: _sp().Min(a, b)),
    Op(45, "vector_min", (V, V), V, (), "{out} = minimum({in1}, {in2})", cost=_linear,
       reference=lambda a, b, c, F, r: _smin(a, b),
       numpy="{o} = np.where({b} < {a}, {b}, {a})",
       symbolic=lambda alg, a, b, c, old: alg.elementwise("min", V, a, b)),
    Op(46, "matrix_min", (M, M), M, (), "{out} = minimum({in1}, {in2})", cost=_quadratic,
       reference=lambda a, b, c, F, r: np.where(a < b, a, b),
       numpy="{o} = np.where({a} < {b}, {a}, {b})",
       symbolic=lambda alg, a, b, c, old: alg.elementwise("min", M, a, b)),
    Op(47, "scalar_max", (S, S), S, (), "{out} = maximum({in1}, {in2})", cost=_constant,
       reference=lambda a, b, c, F, r: _f(_smax(a, b)),
       numpy="{o} = {b} if {a} < {b} else {a}",
       symbolic=lambda alg, a, b, c, old: _sp().Max(a, b)),
    Op(48, "vector_max", (V, V), V, (), "{out} = maximum({in1}, {in2})", cost=_linear,
       reference=lambda a, b, c, F, r: _smax(a, b),
       numpy="{o} = np.where({a} < {b}, {b}, {a})",
       symbolic=lambda alg, a, b, c, old: alg.elementwise("max", V, a, b)),
    Op(49, "matrix_max", (M, M), M, (), "{out} = maximum({in1}, {in2})", cost=_quadratic,
       reference=lambda a, b, c, F, r: np.where(a > b, a, b),
       numpy="{o} = np.where({a} > {b}, {a}, {b})",
       symbolic=lambda alg, a, b, c, old: alg.elementwise("max", M, a, b)),
    Op(50, "vector_mean", (V,), S, (), "{out} = mean({in1})", cost=_linear,
       reference=lambda a, b, c, F, r: _sum(a) / a.size,
       numpy="{o} = _sum({a}) / F",
       symbolic=lambda alg, a, b, c, old: alg.linear("mean", S, a, identity=1)),
    Op(51, "matrix_mean", (M,), S, (), "{out} = mean({in1})", cost=_quadratic,
       reference=lambda a, b, c, F, r: _sum(a) / a.size,
       numpy="{o} = _sum({a}.ravel()) / (F * F)",
       symbolic=lambda alg, a, b, c, old: alg.linear("mean", S, a, identity=1)),
    Op(52, "matrix_row_mean", (M,), V, (), "{out} = mean({in1}, axis=1)", cost=_quadratic,
       reference=lambda a, b, c, F, r: _row_sums(a) / a.shape[1],
       numpy="{o} = _sum({a}, axis=1) / F",
       symbolic=lambda alg, a, b, c, old: alg.fn("row_mean", V, a)),
    Op(53, "matrix_row_std", (M,), V, (), "{out} = std({in1}, axis=1)", cost=_quadratic,
       reference=lambda a, b, c, F, r: _row_std(a),
       numpy="{o} = _std({a}, axis=1)",
       symbolic=lambda alg, a, b, c, old: alg.fn("row_std", V, a)),
    Op(54, "vector_std", (V,), S, (), "{out} = std({in1})", cost=_linear,
       reference=lambda a, b, c, F, r: _f(_std(a)),
       numpy="{o} = _std({a})",
       symbolic=lambda alg, a, b, c, old: alg.fn("std", S, a)),
    Op(55, "matrix_std", (M,), S, (), "{out} = std({in1})", cost=_quadratic,
       reference=lambda a, b, c, F, r: _f(_std(a)),
       numpy="{o} = _std({a}.ravel())",
       symbolic=lambda alg, a, b, c, old: alg.fn("std", S, a)),
    Op(56, "scalar_const_set", (), S, (CONST_VALUE,), "{out} = {c0}", cost=_constant,
       reference=lambda a, b, c, F, r: float(c[0]),
       numpy="{o} = {c0}",
       symbolic=lambda alg, a, b, c, old: _sp().Float(c[0])),
    Op(57, "vector_const_set", (), V, (CONST_INDEX, CONST_VALUE), "{out}[{c0}] = {c1}", partial_write=True, cost=_linear,
       reference=lambda a, b, c, F, r: _vset(a, c, F),
       numpy="{o}[_index({c0}, F)] = {c1}",
       symbolic=lambda alg, a, b, c, old: _sym_set(alg, V, old, c)),
    Op(58, "matrix_const_set", (), M, (CONST_INDEX, CONST_INDEX, CONST_VALUE), "{out}[{c0}, {c1}] = {c2}", partial_write=True, cost=_quadratic,
       reference=lambda a, b, c, F, r: _mset(a, c, F),
       numpy="{o}[_index({c0}, F), _index({c1}, F)] = {c2}",
       symbolic=lambda alg, a, b, c, old: _sym_set(alg, M, old, c)),
    Op(59, "scalar_uniform_set", (), S, (CONST_LOW, CONST_HIGH), "{out} = uniform({c0}, {c1})", random=True, cost=_constant,
       reference=lambda a, b, c, F, r: _uniform(c[0], c[1], r, ()),
       numpy="{o} = _uniform_in(rng, {c0}, {c1})",
       symbolic=lambda alg, a, b, c, old: alg.random("uniform", S, c)),
    Op(60, "vector_uniform_set", (), V, (CONST_LOW, CONST_HIGH), "{out} = uniform({c0}, {c1}, n_features)", random=True, cost=_linear,
       reference=lambda a, b, c, F, r: _uniform(c[0], c[1], r, (F,)),
       numpy="{o} = [_uniform_in(rng, {c0}, {c1}) for _ in range(F)]",
       symbolic=lambda alg, a, b, c, old: alg.random("uniform", V, c)),
    Op(61, "matrix_uniform_set", (), M, (CONST_LOW, CONST_HIGH), "{out} = uniform({c0}, {c1}, (n_features, n_features))", random=True, cost=_quadratic,
       reference=lambda a, b, c, F, r: _uniform(c[0], c[1], r, (F, F)),
       numpy="{o} = np.reshape([_uniform_in(rng, {c0}, {c1}) for _ in range(F * F)], (F, F))",
       symbolic=lambda alg, a, b, c, old: alg.random("uniform", M, c)),
    Op(62, "scalar_gaussian_set", (), S, (CONST_MEAN, CONST_STD), "{out} = gaussian({c0}, {c1})", random=True, cost=_constant,
       reference=lambda a, b, c, F, r: _gaussian(c[0], c[1], r, ()),
       numpy="{o} = {c0} + {c1} * rng.gaussian()",
       symbolic=lambda alg, a, b, c, old: alg.random("gaussian", S, c)),
    Op(63, "vector_gaussian_set", (), V, (CONST_MEAN, CONST_STD), "{out} = gaussian({c0}, {c1}, n_features)", random=True, cost=_linear,
       reference=lambda a, b, c, F, r: _gaussian(c[0], c[1], r, (F,)),
       numpy="{o} = [{c0} + {c1} * rng.gaussian() for _ in range(F)]",
       symbolic=lambda alg, a, b, c, old: alg.random("gaussian", V, c)),
    Op(64, "matrix_gaussian_set", (), M, (CONST_MEAN, CONST_STD), "{out} = gaussian({c0}, {c1}, (n_features, n_features))", random=True, cost=_quadratic,
       reference=lambda a, b, c, F, r: _gaussian(c[0], c[1], r, (F, F)),
       numpy="{o} = np.reshape([{c0} + {c1} * rng.gaussian() for _ in range(F * F)], (F, F))",
       symbolic=lambda alg, a, b, c, old: alg.random("gaussian", M, c)),
)
OPS_BY_NAME: dict[str, Op] = {op.name: op for op in OPS}
NUM_OPS = len(OPS)

# Derived from the table's ``partial_write`` column (kept as a set for the views that test it).
PARTIAL_WRITE_OPS = frozenset(op.code for op in OPS if op.partial_write)


def op_by_name(name: str) -> Op:
    """The op called ``name``; a clear error lists the allowed names."""
    try:
        return OPS_BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"unknown op {name!r}; allowed: {', '.join(sorted(OPS_BY_NAME))}"
        ) from None


def check_table(ops: tuple[Op, ...]) -> None:
    """Raise ``ValueError`` naming the op and the column when a row of ``ops`` is incomplete.

    Codes are 0..n-1 in order (they index every derived table); an op with an output has a NumPy
    source and a symbolic form; placeholders of the text and NumPy source match its operands and
    constants."""
    for index, op in enumerate(ops):
        where = f"op {op.code} ({op.name})"
        if op.code != index:
            raise ValueError(f"{where}: op codes must be 0..{len(ops) - 1} in order, got {op.code} at {index}")
        if op.output is None:
            continue
        if op.numpy is None or op.symbolic is None:
            missing = "numpy" if op.numpy is None else "symbolic"
            raise ValueError(f"{where}: column {missing!r} is missing (every op with an output needs it)")
        for column, text, names in (("text", op.text, ("out", "in1", "in2")), ("numpy", op.numpy, ("o", "a", "b"))):
            wanted = {names[0]} | {names[1 + i] for i in range(len(op.inputs))} | {
                f"c{i}" for i in range(len(op.constants))}
            if op.partial_write:
                wanted.discard(names[1])
            found = {field for field in ("out", "in1", "in2", "o", "a", "b", "c0", "c1", "c2")
                     if "{" + field + "}" in text}
            if not found <= wanted:
                raise ValueError(f"{where}: column {column!r} uses {sorted(found - wanted)}, which the op does not have")
        if op.partial_write and op.random:
            raise ValueError(f"{where}: an op cannot be both random and a partial write")


check_table(OPS)
