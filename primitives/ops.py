"""The instruction set: AutoML-Zero's 65 ops, declared once (Real et al. 2020, Table S1).

Each :class:`Op` carries its stable code ("OPn" in the paper), name, operand kinds, output kind,
constants (with how they are drawn at creation), text form (AutoML-Zero's
``Instruction::ToString``), a NumPy reference and a SymPy form. The Numba interpreter, the
mutator, the random generator, the printer/parser, the pruner and the SymPy translator are all
derived from :data:`OPS`; tests prove each view agrees with this table.

Semantics follow AutoML-Zero's C++ executor exactly where it matters for fitness:
heaviside(NaN) is 0; scalar/vector ``min(a, b) = b < a ? b : a`` and ``max(a, b) = a < b ? b : a``;
matrix ``min = a < b ? a : b`` and ``max = a > b ? a : b``; std is ``sqrt(sum(x^2)/n - mean^2)``
without clamping; const-set indices are ``int(float32(F) * float32(f))`` (clamped to ``F - 1``);
``uniform(a, b)`` with ``a >= b`` gives ``a``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from primitives import libm
from primitives.memory import MATRIX, SCALAR, VECTOR

# How constants are drawn when an instruction is created or randomized (DESIGN.md).
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
    """One op of the instruction set.

    ``inputs`` are the kinds of ``in1`` and ``in2`` (0, 1 or 2 operands); ``output`` is the kind
    written (``None`` for no_op); ``constants`` name the float data slots in order; ``text`` is the
    printed form with ``{out}``, ``{in1}``, ``{in2}``, ``{c0}``.. placeholders; ``reference(a, b, c,
    F, rng)`` is the NumPy meaning (``rng`` offers ``uniform()`` and ``gaussian()``); ``sympy_form(a,
    b, c, F)`` is the SymPy meaning (imported lazily); ``random`` marks ops that draw random numbers.
    """

    code: int
    name: str
    inputs: tuple[int, ...]
    output: int | None
    constants: tuple[str, ...]
    text: str
    reference: Callable[..., Any]
    sympy_form: Callable[..., Any] | None
    random: bool = False


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


# ---- SymPy forms (sympy imported lazily; vectors/matrices are sympy Matrix objects) ----------


def _sp():
    import sympy

    return sympy


def _ew(func):
    return lambda a, *_: a.applyfunc(func)


def _sp_heaviside_ge(a, *_):
    return _sp().Heaviside(a, 1)


def _sp_heaviside_gt(a, *_):
    return a.applyfunc(lambda e: _sp().Heaviside(e, 0))


def _sp_norm(a, *_):
    return _sp().sqrt(sum(e**2 for e in a))


def _sp_mean(a, *_):
    return sum(a) / len(a)


def _sp_std(a, *_):
    n = len(a)
    return _sp().sqrt(sum(e**2 for e in a) / n - (sum(a) / n) ** 2)


def _sp_rows(a, func):
    return _sp().Matrix([func(list(a.row(i))) for i in range(a.rows)])


def _sp_set(old, c, dims):
    # Const-set ops keep the rest of their output: ``old`` is the output's previous value.
    new = old.copy()
    size = old.rows
    if dims == 1:
        new[_idx(c[0], size)] = _sp().Float(c[1])
    else:
        new[_idx(c[0], size), _idx(c[1], size)] = _sp().Float(c[2])
    return new


def _sp_random(name):
    def form(a, b, c, F):
        return _sp().Function(name)(*[_sp().Float(x) for x in c[:2]])

    return form


def _sp_random_array(name, matrix):
    def form(a, b, c, F):
        sp = _sp()
        fn = sp.Function(name)
        return fn(sp.Float(c[0]), sp.Float(c[1]), sp.Symbol("matrix" if matrix else "vector"))

    return form


S, V, M = SCALAR, VECTOR, MATRIX
_OP_ROWS: list[tuple] = [
    # code, name, inputs, output, constants, text, reference(a, b, c, F, rng), sympy(a, b, c)
    (0, "no_op", (), None, (), "NoOp()", lambda a, b, c, F, r: None, None),
    (1, "scalar_sum", (S, S), S, (), "{out} = {in1} + {in2}", lambda a, b, c, F, r: a + b, lambda a, b, c, F: a + b),
    (2, "scalar_diff", (S, S), S, (), "{out} = {in1} - {in2}", lambda a, b, c, F, r: a - b, lambda a, b, c, F: a - b),
    (3, "scalar_product", (S, S), S, (), "{out} = {in1} * {in2}", lambda a, b, c, F, r: a * b, lambda a, b, c, F: a * b),
    (4, "scalar_division", (S, S), S, (), "{out} = {in1} / {in2}", lambda a, b, c, F, r: _f(np.float64(a) / np.float64(b)), lambda a, b, c, F: a / b),
    (5, "scalar_abs", (S,), S, (), "{out} = abs({in1})", lambda a, b, c, F, r: abs(a), lambda a, b, c, F: _sp().Abs(a)),
    (6, "scalar_reciprocal", (S,), S, (), "{out} = 1 / {in1}", lambda a, b, c, F, r: _f(1.0 / np.float64(a)), lambda a, b, c, F: 1 / a),
    (7, "scalar_sin", (S,), S, (), "{out} = sin({in1})", lambda a, b, c, F, r: libm.sin(a), lambda a, b, c, F: _sp().sin(a)),
    (8, "scalar_cos", (S,), S, (), "{out} = cos({in1})", lambda a, b, c, F, r: libm.cos(a), lambda a, b, c, F: _sp().cos(a)),
    (9, "scalar_tan", (S,), S, (), "{out} = tan({in1})", lambda a, b, c, F, r: libm.tan(a), lambda a, b, c, F: _sp().tan(a)),
    (10, "scalar_arcsin", (S,), S, (), "{out} = arcsin({in1})", lambda a, b, c, F, r: libm.asin(a), lambda a, b, c, F: _sp().asin(a)),
    (11, "scalar_arccos", (S,), S, (), "{out} = arccos({in1})", lambda a, b, c, F, r: libm.acos(a), lambda a, b, c, F: _sp().acos(a)),
    (12, "scalar_arctan", (S,), S, (), "{out} = arctan({in1})", lambda a, b, c, F, r: libm.atan(a), lambda a, b, c, F: _sp().atan(a)),
    (13, "scalar_exp", (S,), S, (), "{out} = exp({in1})", lambda a, b, c, F, r: libm.exp(a), lambda a, b, c, F: _sp().exp(a)),
    (14, "scalar_log", (S,), S, (), "{out} = log({in1})", lambda a, b, c, F, r: libm.log(a), lambda a, b, c, F: _sp().log(a)),
    (15, "scalar_heaviside", (S,), S, (), "{out} = heaviside({in1}, 1.0)", lambda a, b, c, F, r: 1.0 if a >= 0.0 else 0.0, _sp_heaviside_ge),
    (16, "vector_heaviside", (V,), V, (), "{out} = heaviside({in1}, 1.0)", lambda a, b, c, F, r: np.where(a > 0.0, 1.0, 0.0), _sp_heaviside_gt),
    (17, "matrix_heaviside", (M,), M, (), "{out} = heaviside({in1}, 1.0)", lambda a, b, c, F, r: np.where(a > 0.0, 1.0, 0.0), _sp_heaviside_gt),
    (18, "scalar_vector_product", (S, V), V, (), "{out} = {in1} * {in2}", lambda a, b, c, F, r: a * b, lambda a, b, c, F: a * b),
    (19, "scalar_broadcast", (S,), V, (), "{out} = bcast({in1})", lambda a, b, c, F, r: np.full(F, a), lambda a, b, c, F: _sp().Matrix([a] * F)),
    (20, "vector_reciprocal", (V,), V, (), "{out} = 1 / {in1}", lambda a, b, c, F, r: 1.0 / a, _ew(lambda e: 1 / e)),
    (21, "vector_norm", (V,), S, (), "{out} = norm({in1})", lambda a, b, c, F, r: _f(np.sqrt(_sum(a * a))), _sp_norm),
    (22, "vector_abs", (V,), V, (), "{out} = abs({in1})", lambda a, b, c, F, r: np.abs(a), _ew(lambda e: _sp().Abs(e))),
    (23, "vector_sum", (V, V), V, (), "{out} = {in1} + {in2}", lambda a, b, c, F, r: a + b, lambda a, b, c, F: a + b),
    (24, "vector_diff", (V, V), V, (), "{out} = {in1} - {in2}", lambda a, b, c, F, r: a - b, lambda a, b, c, F: a - b),
    (25, "vector_product", (V, V), V, (), "{out} = {in1} * {in2}", lambda a, b, c, F, r: a * b, lambda a, b, c, F: a.multiply_elementwise(b)),
    (26, "vector_division", (V, V), V, (), "{out} = {in1} / {in2}", lambda a, b, c, F, r: a / b, lambda a, b, c, F: a.multiply_elementwise(b.applyfunc(lambda e: 1 / e))),
    (27, "vector_inner_product", (V, V), S, (), "{out} = dot({in1}, {in2})", lambda a, b, c, F, r: _sum(a * b), lambda a, b, c, F: a.dot(b)),
    (28, "vector_outer_product", (V, V), M, (), "{out} = outer({in1}, {in2})", lambda a, b, c, F, r: np.outer(a, b), lambda a, b, c, F: a * b.T),
    (29, "scalar_matrix_product", (S, M), M, (), "{out} = {in1} * {in2}", lambda a, b, c, F, r: a * b, lambda a, b, c, F: a * b),
    (30, "matrix_reciprocal", (M,), M, (), "{out} = 1 / {in1}", lambda a, b, c, F, r: 1.0 / a, _ew(lambda e: 1 / e)),
    (31, "matrix_vector_product", (M, V), V, (), "{out} = dot({in1}, {in2})", lambda a, b, c, F, r: _matvec(a, b), lambda a, b, c, F: a * b),
    (32, "vector_column_broadcast", (V,), M, (), "{out} = bcast({in1}, axis=0)", lambda a, b, c, F, r: np.repeat(a[:, None], F, axis=1), lambda a, b, c, F: _sp().Matrix.hstack(*([a] * a.rows))),
    (33, "vector_row_broadcast", (V,), M, (), "{out} = bcast({in1}, axis=1)", lambda a, b, c, F, r: np.repeat(a[None, :], F, axis=0), lambda a, b, c, F: _sp().Matrix.vstack(*([a.T] * a.rows))),
    (34, "matrix_norm", (M,), S, (), "{out} = norm({in1})", lambda a, b, c, F, r: _f(np.sqrt(_sum(a * a))), _sp_norm),
    (35, "matrix_column_norm", (M,), V, (), "{out} = norm({in1}, axis=0)", lambda a, b, c, F, r: np.sqrt(_row_sums((a * a).T)), lambda a, b, c, F: _sp_rows(a.T, _sp_norm)),
    (36, "matrix_row_norm", (M,), V, (), "{out} = norm({in1}, axis=1)", lambda a, b, c, F, r: np.sqrt(_row_sums(a * a)), lambda a, b, c, F: _sp_rows(a, _sp_norm)),
    (37, "matrix_transpose", (M,), M, (), "{out} = transpose({in1})", lambda a, b, c, F, r: a.T.copy(), lambda a, b, c, F: a.T),
    (38, "matrix_abs", (M,), M, (), "{out} = abs({in1})", lambda a, b, c, F, r: np.abs(a), _ew(lambda e: _sp().Abs(e))),
    (39, "matrix_sum", (M, M), M, (), "{out} = {in1} + {in2}", lambda a, b, c, F, r: a + b, lambda a, b, c, F: a + b),
    (40, "matrix_diff", (M, M), M, (), "{out} = {in1} - {in2}", lambda a, b, c, F, r: a - b, lambda a, b, c, F: a - b),
    (41, "matrix_product", (M, M), M, (), "{out} = {in1} * {in2}", lambda a, b, c, F, r: a * b, lambda a, b, c, F: a.multiply_elementwise(b)),
    (42, "matrix_division", (M, M), M, (), "{out} = {in1} / {in2}", lambda a, b, c, F, r: a / b, lambda a, b, c, F: a.multiply_elementwise(b.applyfunc(lambda e: 1 / e))),
    (43, "matrix_matrix_product", (M, M), M, (), "{out} = matmul({in1}, {in2})", lambda a, b, c, F, r: _matmul(a, b), lambda a, b, c, F: a * b),
    (44, "scalar_min", (S, S), S, (), "{out} = minimum({in1}, {in2})", lambda a, b, c, F, r: _f(_smin(a, b)), lambda a, b, c, F: _sp().Min(a, b)),
    (45, "vector_min", (V, V), V, (), "{out} = minimum({in1}, {in2})", lambda a, b, c, F, r: _smin(a, b), lambda a, b, c, F: _sp().Matrix([_sp().Min(x, y) for x, y in zip(a, b, strict=True)])),
    (46, "matrix_min", (M, M), M, (), "{out} = minimum({in1}, {in2})", lambda a, b, c, F, r: np.where(a < b, a, b), lambda a, b, c, F: _sp().Matrix(a.rows, a.cols, [_sp().Min(x, y) for x, y in zip(a, b, strict=True)])),
    (47, "scalar_max", (S, S), S, (), "{out} = maximum({in1}, {in2})", lambda a, b, c, F, r: _f(_smax(a, b)), lambda a, b, c, F: _sp().Max(a, b)),
    (48, "vector_max", (V, V), V, (), "{out} = maximum({in1}, {in2})", lambda a, b, c, F, r: _smax(a, b), lambda a, b, c, F: _sp().Matrix([_sp().Max(x, y) for x, y in zip(a, b, strict=True)])),
    (49, "matrix_max", (M, M), M, (), "{out} = maximum({in1}, {in2})", lambda a, b, c, F, r: np.where(a > b, a, b), lambda a, b, c, F: _sp().Matrix(a.rows, a.cols, [_sp().Max(x, y) for x, y in zip(a, b, strict=True)])),
    (50, "vector_mean", (V,), S, (), "{out} = mean({in1})", lambda a, b, c, F, r: _sum(a) / a.size, _sp_mean),
    (51, "matrix_mean", (M,), S, (), "{out} = mean({in1})", lambda a, b, c, F, r: _sum(a) / a.size, _sp_mean),
    (52, "matrix_row_mean", (M,), V, (), "{out} = mean({in1}, axis=1)", lambda a, b, c, F, r: _row_sums(a) / a.shape[1], lambda a, b, c, F: _sp_rows(a, _sp_mean)),
    (53, "matrix_row_std", (M,), V, (), "{out} = std({in1}, axis=1)", lambda a, b, c, F, r: _row_std(a), lambda a, b, c, F: _sp_rows(a, _sp_std)),
    (54, "vector_std", (V,), S, (), "{out} = std({in1})", lambda a, b, c, F, r: _f(_std(a)), _sp_std),
    (55, "matrix_std", (M,), S, (), "{out} = std({in1})", lambda a, b, c, F, r: _f(_std(a)), _sp_std),
    (56, "scalar_const_set", (), S, (CONST_VALUE,), "{out} = {c0}", lambda a, b, c, F, r: float(c[0]), lambda a, b, c, F: _sp().Float(c[0])),
    (57, "vector_const_set", (), V, (CONST_INDEX, CONST_VALUE), "{out}[{c0}] = {c1}", lambda a, b, c, F, r: _vset(a, c, F), lambda a, b, c, F: _sp_set(a, c, 1)),
    (58, "matrix_const_set", (), M, (CONST_INDEX, CONST_INDEX, CONST_VALUE), "{out}[{c0}, {c1}] = {c2}", lambda a, b, c, F, r: _mset(a, c, F), lambda a, b, c, F: _sp_set(a, c, 2)),
    (59, "scalar_uniform_set", (), S, (CONST_LOW, CONST_HIGH), "{out} = uniform({c0}, {c1})", lambda a, b, c, F, r: _uniform(c[0], c[1], r, ()), _sp_random("uniform")),
    (60, "vector_uniform_set", (), V, (CONST_LOW, CONST_HIGH), "{out} = uniform({c0}, {c1}, n_features)", lambda a, b, c, F, r: _uniform(c[0], c[1], r, (F,)), _sp_random_array("uniform", False)),
    (61, "matrix_uniform_set", (), M, (CONST_LOW, CONST_HIGH), "{out} = uniform({c0}, {c1}, (n_features, n_features))", lambda a, b, c, F, r: _uniform(c[0], c[1], r, (F, F)), _sp_random_array("uniform", True)),
    (62, "scalar_gaussian_set", (), S, (CONST_MEAN, CONST_STD), "{out} = gaussian({c0}, {c1})", lambda a, b, c, F, r: _gaussian(c[0], c[1], r, ()), _sp_random("gaussian")),
    (63, "vector_gaussian_set", (), V, (CONST_MEAN, CONST_STD), "{out} = gaussian({c0}, {c1}, n_features)", lambda a, b, c, F, r: _gaussian(c[0], c[1], r, (F,)), _sp_random_array("gaussian", False)),
    (64, "matrix_gaussian_set", (), M, (CONST_MEAN, CONST_STD), "{out} = gaussian({c0}, {c1}, (n_features, n_features))", lambda a, b, c, F, r: _gaussian(c[0], c[1], r, (F, F)), _sp_random_array("gaussian", True)),
]


def _build() -> tuple[Op, ...]:
    ops = []
    for code, name, inputs, output, consts, text, ref, form in _OP_ROWS:
        ops.append(
            Op(code, name, inputs, output, consts, text, ref, form, random=code >= 59)
        )
    return tuple(ops)


OPS: tuple[Op, ...] = _build()
OPS_BY_NAME: dict[str, Op] = {op.name: op for op in OPS}
NUM_OPS = len(OPS)

# Ops that write one element of their output and keep the rest: they also read their output,
# so their ``reference``/``sympy_form`` receive the output's previous value as ``a``.
PARTIAL_WRITE_OPS = frozenset({57, 58})


def op_by_name(name: str) -> Op:
    """The op called ``name``; a clear error lists the allowed names."""
    try:
        return OPS_BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"unknown op {name!r}; allowed: {', '.join(sorted(OPS_BY_NAME))}"
        ) from None


assert [op.code for op in OPS] == list(range(65)), "op codes must be 0..64 in order"
