"""Every op of the table: the Numba kernel equals the op's NumPy reference (the op table is the one source).

Each op runs as one instruction through the private jitted ``_run`` on lockstep memory for ``T``
tasks filled with random and edge values (0, -0, inf, NaN, 1e308, negatives for log/sqrt, |x| > 1
for arcsin, zero divisors); every task's output must equal ``OPS[code].reference`` on that task's
inputs, bit for bit (a NaN equals a NaN of either sign), except reductions, whose summation order may
differ. Transcendental ops mean "the C library's function, per element" (:mod:`primitives.libm`),
which is what the kernel calls; NumPy's SIMD ufuncs are not the reference (they differ by an ulp
on AVX-512 CPUs). Under ``NUMBA_DISABLE_JIT=1`` the kernel is plain Python calling NumPy's ufuncs
on float64 scalars, so there, and only there, those ops are checked against the same ufuncs: the
semantics checked is then that the interpreter applies the op it names to the right operands.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from primitives.interpreter import _run
from primitives.kernels import COLUMN_MAJOR_ABOVE
from primitives.memory import FIRST_OUT_ADDRESS, MATRIX, SCALAR, VECTOR
from primitives.ops import OPS, PARTIAL_WRITE_OPS
from primitives.rng import SALT_RANDOM_OPS, Stream, stream_start

N_SCALARS, N_VECTORS, N_MATRICES = 5, 4, 4
EDGE = (0.0, -0.0, np.inf, -np.inf, np.nan, 1e308, -1e308, 1.5, -2.0, -1.0, 1.0, 710.0, -745.5,
        5e-324, np.pi / 2)
# Reductions sum in an order NumPy may not share: no huge finite values, whose partial sums could
# overflow or cancel in one order and not the other.
EDGE_REDUCTION = (0.0, -0.0, np.inf, -np.inf, np.nan, 1.5, -2.0, 5e-324)
REDUCTIONS = frozenset({21, 27, 31, 34, 35, 36, 43, 50, 51, 52, 53, 54, 55})
TASK_SEEDS = (0, 7, 2**64 - 1)
# What the un-jitted kernel calls for the C library's functions (primitives/dispatch.py).
UFUNC_WITHOUT_JIT = {"scalar_sin": np.sin, "scalar_cos": np.cos, "scalar_tan": np.tan,
                     "scalar_arcsin": np.arcsin, "scalar_arccos": np.arccos, "scalar_arctan": np.arctan,
                     "scalar_exp": np.exp, "scalar_log": np.log}


def _fill(shape, rng: np.random.Generator, edge) -> np.ndarray:
    values = rng.normal(size=shape) * rng.choice([1e-3, 1.0, 50.0], size=shape)
    mask = rng.random(shape) < 0.3
    values[mask] = rng.choice(np.array(edge), size=int(mask.sum()))
    return values


def _task_value(bank: np.ndarray, kind: int, address: int, t: int, F: int):
    """The value at ``address`` of task ``t`` as the reference sees it."""
    if kind == SCALAR:
        return float(bank[address, t])
    if kind == VECTOR:
        return bank[address, t * F:(t + 1) * F].copy()
    matrix = bank[address, t * F * F:(t + 1) * F * F].reshape(F, F)
    # above COLUMN_MAJOR_ABOVE a task's matrix is stored column by column (kernels.matrix_index)
    return (matrix.T if F > COLUMN_MAJOR_ABOVE else matrix).copy()


def _address_cases(code: int) -> list[tuple[int, int, int]]:
    """(in1, in2, out): distinct, output aliasing in1 and in2, in1 == in2, reserved inputs."""
    op = OPS[code]
    cases = [(2, 3, 1 if op.output in (None, SCALAR) else 2)]
    if op.output is not None and op.inputs:
        first_out = FIRST_OUT_ADDRESS[op.output]
        if op.inputs[0] == op.output:
            cases.append((3, 2, 3))  # out == in1
        if len(op.inputs) == 2 and op.inputs[1] == op.output:
            cases.append((2, 3, 3))  # out == in2
        if len(op.inputs) == 2 and op.inputs[0] == op.inputs[1]:
            cases.append((3, 3, max(first_out, 1)))  # in1 == in2
            if op.output == op.inputs[0]:
                cases.append((2, 2, 2))  # everything aliased
        cases.append((0, 0, max(first_out, 1)))  # read s0/v0/m0
    return cases


@pytest.mark.parametrize("T", [1, 3])
@pytest.mark.parametrize("F", [1, 4, 7, 11, 16])  # 16: the block kernels (primitives.simd)
@pytest.mark.parametrize("code", [op.code for op in OPS], ids=[op.name for op in OPS])
def test_kernel_equals_reference(code: int, F: int, T: int) -> None:
    op = OPS[code]
    rng = np.random.default_rng(1000 * code + 10 * F + T)
    edge = EDGE_REDUCTION if code in REDUCTIONS else EDGE
    for repeat in range(4):
        for in1, in2, out in _address_cases(code):
            S = _fill((N_SCALARS, T), rng, edge)
            V = _fill((N_VECTORS, T * F), rng, edge)
            Mx = _fill((N_MATRICES, T * F * F), rng, edge)
            consts = rng.uniform(-1.0, 1.0, size=3)
            for i, kind in enumerate(op.constants):
                if kind in ("index", "std"):
                    consts[i] = rng.uniform(0.0, 1.0)
            if repeat == 3 and op.random:
                consts[1] = consts[0] - 0.25  # uniform(a, b) with a >= b gives a
            code_arr = np.array([[code, in1, in2, out]], dtype=np.int64)
            data = consts.reshape(1, 3).copy()
            starts = [stream_start(seed, repeat, SALT_RANDOM_OPS) for seed in TASK_SEEDS[:T]]
            states = np.array(starts, dtype=np.uint64)
            tmp = np.zeros(T * F * F + T * F)
            banks = {SCALAR: S.copy(), VECTOR: V.copy(), MATRIX: Mx.copy()}
            with np.errstate(all="ignore"):
                _run(code_arr, data, 0, 1, S, V, Mx, T, F, states, tmp)
            after = {SCALAR: S, VECTOR: V, MATRIX: Mx}
            where = f"{op.name} F={F} T={T} in1={in1} in2={in2} out={out} consts={consts}"
            _check_untouched(op, out, banks, after, where)
            if op.output is None:
                continue
            for t in range(T):
                stream = Stream(starts[t])
                if code in PARTIAL_WRITE_OPS:
                    args = [_task_value(banks[op.output], op.output, out, t, F)]
                else:
                    args = [_task_value(banks[kind], kind, addr, t, F)
                            for kind, addr in zip(op.inputs, (in1, in2), strict=False)]
                args += [None] * (2 - len(args))
                with np.errstate(all="ignore"):
                    if numba.config.DISABLE_JIT and op.name in UFUNC_WITHOUT_JIT:
                        expected = float(UFUNC_WITHOUT_JIT[op.name](np.float64(args[0])))
                    else:
                        expected = op.reference(args[0], args[1], list(consts), F, stream)
                got = _task_value(after[op.output], op.output, out, t, F)
                message = f"{where} task {t} inputs {args}"
                if code in REDUCTIONS:
                    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12,
                                               err_msg=message)
                else:
                    assert_same_values(got, expected, message)
                assert int(states[t]) == stream.state, f"{message}: random draws differ"


def assert_same_values(got, expected, message: str) -> None:
    """The executor's semantics, element by element: a NaN where the reference has a NaN (of
    either sign: the sign of a NaN is not part of IEEE 754's arithmetic results and differs
    between libm and SIMD code), otherwise the same float64 bits, the sign of zero included
    (``1 / -0.0`` is ``-inf`` downstream)."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert got.shape == expected.shape, f"{message}: shape {got.shape} != {expected.shape}"
    nan_got, nan_expected = np.isnan(got), np.isnan(expected)
    np.testing.assert_array_equal(nan_got, nan_expected, err_msg=message + " (NaN positions)")
    bits_got = got[~nan_got].view(np.uint64)
    bits_expected = expected[~nan_expected].view(np.uint64)
    bad = np.flatnonzero(bits_got != bits_expected)
    assert bad.size == 0, (
        f"{message}: {bad.size} element(s) differ, e.g. kernel {got[~nan_got][bad[0]]!r} "
        f"vs reference {expected[~nan_expected][bad[0]]!r}"
    )


def _check_untouched(op, out: int, before: dict, after: dict, where: str) -> None:
    """Only the output address changes."""
    for kind in (SCALAR, VECTOR, MATRIX):
        for address in range(before[kind].shape[0]):
            if kind == op.output and address == out:
                continue
            np.testing.assert_array_equal(
                after[kind][address], before[kind][address],
                err_msg=f"{where}: wrote {'svm'[kind]}{address}",
            )


def test_every_op_is_covered() -> None:
    assert [op.code for op in OPS] == list(range(len(OPS)))
    assert REDUCTIONS <= {op.code for op in OPS}


# Reductions of inputs whose elements are all equal: common in evolved programs (bcast, uniform
# with a >= b, const-set), and where std's E[x^2] - mean^2 decides between 0, a tiny number and
# NaN from rounding alone, so the kernel and the reference must sum in the same order.
CONSTANT_INPUT_REDUCTIONS = [21, 34, 35, 36, 50, 51, 52, 53, 54, 55]


@pytest.mark.parametrize("F", [1, 4, 7, 8, 9, 16])
@pytest.mark.parametrize("code", CONSTANT_INPUT_REDUCTIONS,
                         ids=[OPS[c].name for c in CONSTANT_INPUT_REDUCTIONS])
def test_reduction_of_constant_input_equals_reference_exactly(code: int, F: int) -> None:
    op = OPS[code]
    constants = np.random.default_rng(code).uniform(-1.0, 1.0, size=25)
    T = len(constants)
    size = F if op.inputs[0] == VECTOR else F * F
    S = np.zeros((N_SCALARS, T))
    V = np.zeros((N_VECTORS, T * F))
    Mx = np.zeros((N_MATRICES, T * F * F))
    bank = V if op.inputs[0] == VECTOR else Mx
    bank[1] = np.repeat(constants, size)
    with np.errstate(all="ignore"):
        _run(np.array([[code, 1, 0, 2]], dtype=np.int64), np.zeros((1, 3)), 0, 1, S, V, Mx, T, F,
             np.zeros(T, np.uint64), np.zeros(T * F * F + T * F))
        out = {SCALAR: S, VECTOR: V, MATRIX: Mx}[op.output]
        mismatches = []
        for t, c in enumerate(constants):
            value = _task_value(bank, op.inputs[0], 1, t, F)
            expected = np.asarray(op.reference(value, None, [0.0] * 3, F, None))
            got = np.asarray(_task_value(out, op.output, 2, t, F))
            if not np.array_equal(got, expected, equal_nan=True):
                mismatches.append(f"c={c!r}: kernel {got.ravel()[:2]}, reference {expected.ravel()[:2]}")
    assert not mismatches, f"{op.name} F={F}: {len(mismatches)}/{T} differ, e.g. {mismatches[:3]}"
