"""The op table is the one place per-op knowledge lives: a new op is its row there and its interpreter branch.

Three claims are checked:
- a throw-away op appended to a copy of the table is picked up by every view that derives from
  it (text printer and parser, random generation, program validation, liveness, the compute
  cost, the exporter, the math view, ``evolve ops``), in a fresh interpreter so the real table is
  untouched; and a row with a missing column fails at once with a message naming the column;
- for every op, the exporter's NumPy line (the ``numpy`` column run in the exported runtime)
  computes the same values as the op's reference on random inputs: the same bits, a NaN where
  the reference has a NaN;
- for every op, the math view's symbolic form (the ``symbolic`` column) evaluates, with numbers
  substituted for its symbols, to the reference's values (to 1e-9 relative: SymPy evaluates
  elementary functions in arbitrary precision and the reference in float64 through libm, so the
  two legitimately differ in the last bits; sums may also be re-associated by SymPy).
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import sympy
from test_ops import assert_same_values

from evolve.analysis.algebra import N_FEATURES, ONES, Algebra
from evolve.analysis.export import _RUNTIME, instruction_code
from primitives.memory import MATRIX, SCALAR, VECTOR
from primitives.ops import OPS, Op, _constant, check_table
from primitives.rng import SALT_RANDOM_OPS, Stream, stream_start

ROOT = Path(__file__).resolve().parents[2]

THROWAWAY = textwrap.dedent(
    """
    import numpy as np
    import primitives.ops as ops
    from primitives.memory import SCALAR

    new = ops.Op(len(ops.OPS), "scalar_cube", (SCALAR,), SCALAR, (), "{out} = cube({in1})",
                 cost=ops._constant, reference=lambda a, b, c, F, r: a * a * a,
                 numpy="{o} = {a} * {a} * {a}", symbolic=lambda alg, a, b, c, old: a**3)
    ops.OPS = (*ops.OPS, new)
    ops.OPS_BY_NAME[new.name] = new
    ops.NUM_OPS = len(ops.OPS)
    ops.check_table(ops.OPS)
    code = new.code

    # every view is imported after the table grew, as it would be with the row in the source
    from primitives.generate import random_program, usable_ops
    from primitives.liveness import OP_TABLE
    from primitives.memory import MemorySpec
    from primitives.program import validate
    from primitives.text import format_program, parse_program
    from evolve.evaluation.evaluator import op_costs
    from evolve.analysis.export import instruction_code
    from evolve.analysis.math_view import program_math
    from primitives.prune import prune

    text = ("def Setup():\\ndef Predict():\\n  s2 = dot(v1, v0)\\n  s1 = cube(s2)\\n"
            "def Learn():\\n  s3 = s0 - s1\\n  v2 = s3 * v0\\n  v1 = v1 + v2\\n")
    program = parse_program(text)
    assert "s1 = cube(s2)" in format_program(program), "printer"
    memory = MemorySpec(4, 3, 1)
    validate(program, memory)
    assert code in usable_ops(range(ops.NUM_OPS), memory), "generator's op list"
    rng = np.random.default_rng(0)
    drawn = {int(c) for _ in range(200)
             for c in random_program((1, 4, 1), [[code]] * 3, memory, rng).component(1)[0][:, 0]}
    assert drawn == {code}, f"random programs of the new op only: {drawn}"
    assert OP_TABLE.shape[0] == ops.NUM_OPS and list(OP_TABLE[code]) == [SCALAR, -1, SCALAR, 0, 0, 0], "liveness table"
    assert len(op_costs(4)) == ops.NUM_OPS and op_costs(4)[code] == 1, "compute cost"
    assert instruction_code([code, 0, 0, 2], [0.0, 0.0, 0.0]) == ["s[2] = s[0] * s[0] * s[0]"]
    assert "s1 = cube(s2)" in format_program(prune(program)), "pruning keeps the live cube"
    math_text = program_math(program).to_text()
    print("VIEWS-OK", math_text.replace("\\n", " | "))
    """
)


def test_a_new_op_needs_only_its_row_and_every_view_picks_it_up() -> None:
    result = subprocess.run([sys.executable, "-c", THROWAWAY], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "VIEWS-OK" in result.stdout
    # the math view read the symbolic column: the prediction is the cube of w·x
    assert "ŷ = (w·x)**3" in result.stdout or "ŷ = (w·x)³" in result.stdout, result.stdout


def test_evolve_ops_lists_every_row() -> None:
    result = subprocess.run([sys.executable, "-m", "evolve.cli", "ops", "--json"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:  # an older CLI without --json: the text listing
        result = subprocess.run([sys.executable, "-m", "evolve.cli", "ops"], cwd=ROOT,
                                capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    for op in OPS:
        assert op.name in result.stdout


def test_a_row_without_a_column_fails_naming_it() -> None:
    with pytest.raises(TypeError, match="numpy"):
        Op(99, "broken", (SCALAR,), SCALAR, (), "{out} = broken({in1})", cost=_constant,  # type: ignore[call-arg]
           reference=lambda a, b, c, F, r: a, symbolic=lambda alg, a, b, c, old: a)
    incomplete = Op(len(OPS), "broken", (SCALAR,), SCALAR, (), "{out} = broken({in1})",
                    cost=_constant, reference=lambda a, b, c, F, r: a, numpy="{o} = {a}",
                    symbolic=None)
    with pytest.raises(ValueError, match="'symbolic'"):
        check_table((*OPS, incomplete))
    misnumbered = Op(len(OPS) + 3, "late", (SCALAR,), SCALAR, (), "{out} = late({in1})",
                     cost=_constant, reference=lambda a, b, c, F, r: a, numpy="{o} = {a}",
                     symbolic=lambda alg, a, b, c, old: a)
    with pytest.raises(ValueError, match="in order"):
        check_table((*OPS, misnumbered))
    wrong_operand = Op(len(OPS), "wrong", (SCALAR,), SCALAR, (), "{out} = wrong({in1})",
                       cost=_constant, reference=lambda a, b, c, F, r: a,
                       numpy="{o} = {a} + {b}", symbolic=lambda alg, a, b, c, old: a)
    with pytest.raises(ValueError, match="'numpy' uses \\['b'\\]"):
        check_table((*OPS, wrong_operand))


def test_random_and_partial_write_are_columns_not_code_ranges() -> None:
    assert {op.code for op in OPS if op.random} == {59, 60, 61, 62, 63, 64}
    assert {op.code for op in OPS if op.partial_write} == {57, 58}
    assert all(op.random == op.name.endswith(("uniform_set", "gaussian_set")) for op in OPS)


# ---------------------------------------------------------------- random inputs for every op


def _value(kind: int, F: int, rng: np.random.Generator, special: bool):
    shape = {SCALAR: (), VECTOR: (F,), MATRIX: (F, F)}[kind]
    values = rng.normal(size=shape) * rng.choice([1e-2, 1.0, 30.0], size=shape)
    if special:
        values = np.where(rng.random(shape) < 0.3,
                          rng.choice(np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 2.0, -1.5]),
                                     size=shape), values)
    return float(values) if kind == SCALAR else np.asarray(values, dtype=np.float64)


def _constants(op: Op, rng: np.random.Generator) -> list[float]:
    c = list(rng.uniform(-1.0, 1.0, size=3))
    for i, kind in enumerate(op.constants):
        if kind in ("index", "std"):
            c[i] = float(rng.uniform(0.0, 1.0))
    return [float(x) for x in c]


def _inputs(op: Op, F: int, rng: np.random.Generator, special: bool) -> tuple[list, object]:
    args = [_value(kind, F, rng, special) for kind in op.inputs]
    old = _value(op.output, F, rng, special) if op.partial_write else None
    return args, old


WITH_OUTPUT = [op for op in OPS if op.output is not None]


@pytest.mark.parametrize("F", [1, 3, 5])
@pytest.mark.parametrize("op", WITH_OUTPUT, ids=[op.name for op in WITH_OUTPUT])
def test_exported_numpy_equals_reference(op: Op, F: int) -> None:
    namespace: dict = {}
    exec(_RUNTIME, namespace)  # the exported module's runtime: libm, _sum, _std, streams
    rng = np.random.default_rng(op.code * 31 + F)
    scalar_only = all(kind == SCALAR for kind in op.inputs) and op.output == SCALAR
    edge = (0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 710.0)
    # Scalar ops: every pair of edge values, then many random ones (an ulp apart is rare).
    pairs = [[x, y][: len(op.inputs)] for x in edge for y in edge] if scalar_only else []
    for trial in range(len(pairs) + (400 if scalar_only else 12)):
        args, old = _inputs(op, F, rng, special=trial % 2 == 1)
        if trial < len(pairs):
            args = pairs[trial]
        consts = _constants(op, rng)
        s, v, m = np.zeros(4), np.zeros((4, F)), np.zeros((4, F, F))
        banks = {SCALAR: s, VECTOR: v, MATRIX: m}
        for slot, (kind, value) in enumerate(zip(op.inputs, args, strict=False)):
            banks[kind][1 + slot] = value
        if op.partial_write:
            banks[op.output][3] = old
        a, b = 1, 2
        line = instruction_code([op.code, a, b, 3], consts)[0]
        start = stream_start(11, trial, SALT_RANDOM_OPS)
        namespace.update(s=s, v=v, m=m, F=F, rng=namespace["splitmix"].Stream(start))
        with np.errstate(all="ignore"):
            exec(line, namespace)
            reference_args = [old] if op.partial_write else args
            reference_args += [None] * (2 - len(reference_args))
            expected = op.reference(*reference_args, consts, F, Stream(start))
        got = banks[op.output][3]
        assert_same_values(got, expected, f"{op.name} F={F} trial {trial}: {line}")


# ------------------------------------------------------------- the symbolic view, evaluated


def _idx(f, size: int) -> int:
    return min(int(np.float32(size) * np.float32(float(f))), size - 1)


def _numeric(e, env: dict, F: int):
    """Evaluate an expression of the math view with NumPy: the meaning of its named functions."""
    if e in env:
        return env[e]
    if e == ONES:
        return np.ones(F)
    if e == N_FEATURES:
        return float(F)
    if e.is_Number:
        return float(e)
    if isinstance(e, sympy.Symbol):
        name = e.name
        if name.startswith("e["):
            out = np.zeros(F)
            out[_idx(name[2:-1], F)] = 1.0
            return out
        if name.startswith("E["):
            i, j = name[2:-1].split(",")
            out = np.zeros((F, F))
            out[_idx(i, F), _idx(j, F)] = 1.0
            return out
        raise KeyError(name)
    args = [_numeric(a, env, F) for a in e.args]
    if e.is_Add:
        return sum(args[1:], args[0])
    if e.is_Mul:
        out = args[0]
        for x in args[1:]:
            out = out * x
        return out
    if e.is_Pow:
        return args[0] ** args[1]
    scalar_fns = {sympy.sin: math.sin, sympy.cos: math.cos, sympy.tan: math.tan,
                  sympy.asin: math.asin, sympy.acos: math.acos, sympy.atan: math.atan,
                  sympy.exp: math.exp, sympy.log: math.log, sympy.Abs: abs}
    if e.func in scalar_fns:
        return scalar_fns[e.func](args[0])
    if e.func == sympy.Heaviside:
        return 1.0 if args[0] >= 0 else 0.0
    if e.func in (sympy.Min, sympy.Max):
        return (min if e.func == sympy.Min else max)(args)
    name = e.func.__name__
    a = args[0]
    b = args[1] if len(args) > 1 else None
    named = {
        "dot": lambda: float(np.dot(a, b)), "sum": lambda: float(np.sum(a)),
        "hadamard": lambda: a * b, "recip": lambda: 1.0 / a, "outer": lambda: np.outer(a, b),
        "matvec": lambda: a @ b, "matmul": lambda: a @ b, "transpose": lambda: a.T,
        "bcast_col": lambda: np.repeat(a[:, None], F, axis=1),
        "bcast_row": lambda: np.repeat(a[None, :], F, axis=0),
        "mean": lambda: float(np.mean(a)), "abs": lambda: np.abs(a),
        "heaviside": lambda: np.where(a > 0, 1.0, 0.0),
        "min": lambda: np.minimum(a, b), "max": lambda: np.maximum(a, b),
        "norm": lambda: float(np.sqrt(np.sum(a * a))), "std": lambda: float(np.std(a)),
        "col_norm": lambda: np.sqrt(np.sum(a * a, axis=0)),
        "row_norm": lambda: np.sqrt(np.sum(a * a, axis=1)),
        "row_mean": lambda: np.mean(a, axis=1), "row_std": lambda: np.std(a, axis=1),
    }
    if name == "set":
        out = np.array(a, dtype=np.float64)
        if out.ndim == 1:
            out[_idx(args[1], F)] = args[2]
        else:
            out[_idx(args[1], F), _idx(args[2], F)] = args[3]
        return out
    return named[name]()


SYMBOLIC = [op for op in WITH_OUTPUT if not op.random]


@pytest.mark.parametrize("F", [1, 3, 4])
@pytest.mark.parametrize("op", SYMBOLIC, ids=[op.name for op in SYMBOLIC])
def test_symbolic_form_equals_reference(op: Op, F: int) -> None:
    rng = np.random.default_rng(op.code * 17 + F)
    checked = 0
    for trial in range(10):
        args, old = _inputs(op, F, rng, special=False)
        if op.code in (10, 11):  # arcsin/arccos: inside their domain, where SymPy is real
            args = [float(np.clip(args[0], -1.0, 1.0))]
        if op.code == 14:
            args = [abs(args[0]) + 1e-3]
        consts = _constants(op, rng)
        alg = Algebra()
        env: dict = {}
        symbols = []
        for i, kind in enumerate(op.inputs):
            sym = sympy.Symbol(f"in{i}") if kind == SCALAR else alg.symbol(f"IN{i}", kind)
            env[sym] = args[i]
            symbols.append(sym)
        old_value = sympy.Integer(0)
        if op.partial_write:
            old_value = alg.symbol("OLD", op.output) if trial % 2 else sympy.Integer(0)
            if trial % 2:
                env[old_value] = old
            else:
                old = np.zeros_like(old)
        symbols += [None] * (2 - len(symbols))
        expression = op.symbolic(alg, symbols[0], symbols[1], consts, old_value)
        with np.errstate(all="ignore"):
            got = np.asarray(_numeric(sympy.sympify(expression), env, F), dtype=np.float64)
            reference_args = [old] if op.partial_write else list(args)
            reference_args += [None] * (2 - len(reference_args))
            expected = np.asarray(op.reference(*reference_args, consts, F, None), dtype=np.float64)
        if op.output != SCALAR and got.ndim == 0:  # a scalar times the ones atom, broadcast
            got = np.broadcast_to(got, expected.shape)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12,
                                   err_msg=f"{op.name} F={F} trial {trial}: {expression}")
        checked += 1
    assert checked == 10


@pytest.mark.parametrize("op", [op for op in OPS if op.random], ids=lambda op: op.name)
def test_random_ops_are_named_draws_with_their_constants(op: Op) -> None:
    alg = Algebra()
    expression = op.symbolic(alg, None, None, [0.25, 0.5, 0.0], sympy.Integer(0))
    assert expression.func.__name__.startswith("uniform" if "uniform" in op.name else "gaussian")
    assert [float(x) for x in expression.args[:2]] == [0.25, 0.5]
    assert alg.kinds.get(expression, SCALAR) == op.output


def test_named_op_codes_are_generated_from_the_table():
    """``primitives/opcodes.py`` is what ``python -m primitives.gen_opcodes`` writes, and the
    interpreter's branches compare op codes by name, never by bare number."""
    import re

    from primitives import gen_opcodes, opcodes

    assert (ROOT / "primitives" / "opcodes.py").read_text() == gen_opcodes.source()
    for op in OPS:
        assert getattr(opcodes, op.name.upper()) == op.code
    for name in ("dispatch.py", "kernels.py", "simd.py"):
        text = (ROOT / "primitives" / name).read_text()
        bare = re.findall(r"\bop\s*(?:==|!=|>=|<=|<|>)\s*\d+", text)
        assert not bare, f"{name}: op codes compared by number: {bare[:5]}"
