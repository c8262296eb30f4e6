"""The math of a program: Predict and Learn as simplified SymPy expressions of named roles.

The pruned program (:func:`evolve.inspect.prune.prune`) is executed symbolically through the op
table's SymPy forms (:data:`primitives.ops.OPS`). Scalars are SymPy expressions. Vectors and
matrices are kept abstract, as linear combinations ``sum_i c_i X_i`` of vector (matrix) atoms, so
``dot``, Hadamard, outer and matrix products expand bilinearly: ``dot(s·x + w, x)`` reads
``s·(x·x) + w·x`` whatever the number of features. Element-wise functions, random draws and
what SymPy cannot express stay named functions.

Roles replace addresses (AutoML-Zero §4 reads its discoveries the same way): ``x`` the features
(v0), ``y`` the label (s0 in Learn; s0 is 0 in Predict), ``ŷ`` the prediction (s1). Registers that
carry information between components are the evolved state: vectors ``w, w₂..``, matrices
``W, W₂..``, scalars ``α, β..``. State that Predict and Learn never change, or only ever set to the
same number, becomes that number.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import sympy
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from evolve.inspect.prune import EXECUTOR_WRITTEN, FEATURES, LABEL, PREDICTION, liveness, prune
from primitives.memory import MATRIX, SCALAR, VECTOR
from primitives.ops import OPS
from primitives.program import LEARN, PREDICT, SETUP, Program

SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
GREEK = "αβγδεζηθκλμνξπρστφχψω"
_ELEMENTWISE_SCALAR = {5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}


def _name(base: str, k: int) -> str:
    return base if k == 0 else f"{base}{str(k + 1).translate(SUBSCRIPTS)}"


@dataclass
class Algebra:
    """Builds abstract vector/matrix expressions; ``kinds`` maps every atom to its kind."""

    kinds: dict = field(default_factory=dict)
    draws: int = 0

    def atom(self, expr: sympy.Expr, kind: int) -> sympy.Expr:
        if kind != SCALAR:
            self.kinds[expr] = kind
        return expr

    def symbol(self, name: str, kind: int) -> sympy.Symbol:
        return self.atom(sympy.Symbol(name), kind)

    def fn(self, name: str, kind: int, *args) -> sympy.Expr:
        return self.atom(sympy.Function(name)(*[sympy.sympify(a) for a in args]), kind)

    def has_atom(self, e) -> bool:
        return e in self.kinds or ((e.is_Add or e.is_Mul) and any(self.has_atom(a) for a in e.args))

    def terms(self, e) -> dict:
        """``{atom: coefficient}`` of a vector/matrix expression."""
        e = sympy.sympify(e)
        if e == 0:
            return {}
        if e in self.kinds:
            return {e: sympy.Integer(1)}
        out: dict = {}
        if e.is_Add:
            for arg in e.args:
                for atom, c in self.terms(arg).items():
                    out[atom] = out.get(atom, 0) + c
            return out
        if e.is_Mul:
            inner = [a for a in e.args if self.has_atom(a)]
            if len(inner) == 1:
                coef = sympy.Mul(*[a for a in e.args if a is not inner[0]])
                return {atom: coef * c for atom, c in self.terms(inner[0]).items()}
        raise ValueError(f"not a linear combination of atoms: {e}")

    def substitute(self, e, kind: int, subs: dict) -> sympy.Expr:
        """``e.xreplace(subs)``, keeping the atoms of a vector/matrix expression registered."""
        e = sympy.sympify(e)
        if kind == SCALAR or not subs:
            return e.xreplace(subs)
        out = []
        for atom, c in self.terms(e).items():
            new = atom.xreplace(subs)
            if new != atom and new not in self.kinds and new.atoms(AppliedUndef) & {new}:
                self.kinds[new] = self.kinds[atom]
            out.append(c.xreplace(subs) * new)
        return sympy.Add(*out)

    def linear(self, name: str, kind: int, e, identity=None) -> sympy.Expr:
        """A linear map applied term by term (``identity``: its value on the ones atom)."""
        out = []
        for atom, c in self.terms(e).items():
            if identity is not None and atom == ONES:
                out.append(c * identity)
            else:
                out.append(c * self.fn(name, kind, atom))
        return sympy.Add(*out)

    def bilinear(self, name: str, kind: int, a, b, symmetric=False, unit=None) -> sympy.Expr:
        out = []
        for x, cx in self.terms(a).items():
            for z, cz in self.terms(b).items():
                if unit is not None and ONES in (x, z):
                    out.append(cx * cz * unit(x, z))
                    continue
                args = sorted((x, z), key=sympy.default_sort_key) if symmetric else (x, z)
                out.append(cx * cz * self.fn(name, kind, *args))
        return sympy.Add(*out)

    def elementwise(self, name: str, kind: int, *args) -> sympy.Expr:
        return self.fn(name, kind, *[a for a in args])

    def random(self, name: str, kind: int, c) -> sympy.Expr:
        self.draws += 1
        return self.fn(_name(name, self.draws - 1), kind, sympy.Float(c[0]), sympy.Float(c[1]))


ONES = sympy.Symbol("𝟙")
N_FEATURES = sympy.Symbol("n")


def _hadamard_unit(x, z):
    return z if x == ONES else x


def apply_op(alg: Algebra, code: int, a, b, consts, old) -> sympy.Expr:
    """SymPy value of op ``code`` on symbolic inputs (``old``: the output's previous value)."""
    op = OPS[code]
    c = [float(v) for v in consts]
    if op.output == SCALAR and all(k == SCALAR for k in op.inputs) and not op.random:
        return op.sympy_form(a, b, c, None)
    if code == 18 or code == 29:
        return a * b
    if code == 19:
        return alg.atom(ONES, VECTOR) * a
    if code in (23, 39):
        return a + b
    if code in (24, 40):
        return a - b
    if code == 27:
        return alg.bilinear("dot", SCALAR, a, b, symmetric=True,
                            unit=lambda x, z: N_FEATURES if x == z == ONES else
                            alg.fn("sum", SCALAR, z if x == ONES else x))
    if code == 21:
        return sympy.sqrt(apply_op(alg, 27, a, a, consts, None))
    if code in (25, 41):
        return alg.bilinear("hadamard", op.output, a, b, symmetric=True, unit=_hadamard_unit)
    if code in (26, 42):
        return alg.bilinear("hadamard", op.output, a, alg.elementwise("recip", op.output, b),
                            symmetric=True, unit=_hadamard_unit)
    if code == 28:
        return alg.bilinear("outer", MATRIX, a, b)
    if code == 31:
        return alg.bilinear("matvec", VECTOR, a, b)
    if code == 43:
        return alg.bilinear("matmul", MATRIX, a, b)
    if code == 37:
        return alg.linear("transpose", MATRIX, a)
    if code in (32, 33):
        return alg.linear("bcast_col" if code == 32 else "bcast_row", MATRIX, a)
    if code in (50, 51):
        return alg.linear("mean", SCALAR, a, identity=sympy.Integer(1))
    if code in (20, 30):
        return alg.elementwise("recip", op.output, a)
    if code in (22, 38):
        return alg.elementwise("abs", op.output, a)
    if code in (16, 17):
        return alg.elementwise("heaviside", op.output, a)
    if code in (45, 46, 48, 49):
        return alg.elementwise("min" if code in (45, 46) else "max", op.output, a, b)
    if code in (34, 54, 55):
        return alg.fn({34: "norm", 54: "std", 55: "std"}[code], SCALAR, a)
    if code in (35, 36, 52, 53):
        names = {35: "col_norm", 36: "row_norm", 52: "row_mean", 53: "row_std"}
        return alg.fn(names[code], VECTOR, a)
    if code == 57:
        if old == 0:
            return sympy.Float(c[1]) * alg.symbol(f"e[{c[0]:g}]", VECTOR)
        return alg.fn("set", VECTOR, old, sympy.Float(c[0]), sympy.Float(c[1]))
    if code == 58:
        if old == 0:
            return sympy.Float(c[2]) * alg.symbol(f"E[{c[0]:g},{c[1]:g}]", MATRIX)
        return alg.fn("set", MATRIX, old, sympy.Float(c[0]), sympy.Float(c[1]), sympy.Float(c[2]))
    if op.random:
        return alg.random("uniform" if code <= 61 else "gaussian", op.output, c)
    raise ValueError(f"no symbolic form for op {code} ({op.name})")  # pragma: no cover


def execute(alg: Algebra, program: Program, component: int, memory: dict) -> dict:
    """Run one component symbolically; ``memory`` maps registers to expressions (missing = 0)."""
    memory = dict(memory)
    instructions, constants = program.component(component)
    for row, consts in zip(instructions, constants, strict=True):
        op = OPS[int(row[0])]
        if op.output is None:
            continue
        ins = [memory.get((kind, int(row[1 + s])), sympy.Integer(0))
               for s, kind in enumerate(op.inputs)] + [None, None]
        out = (op.output, int(row[3]))
        memory[out] = apply_op(alg, op.code, ins[0], ins[1], consts,
                               memory.get(out, sympy.Integer(0)))
    return memory


# ------------------------------------------------------------------------------ simplification


@contextmanager
def _time_limit(seconds: float):
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def stop(signum, frame):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def simplify_scalar(e, seconds: float = 2.0):
    e = sympy.sympify(e)
    candidates = [sympy.factor_terms(e), e]
    try:
        with _time_limit(seconds):
            candidates.append(sympy.simplify(e))
    except (TimeoutError, RecursionError):
        pass
    return _pull_common_number(min(candidates, key=sympy.count_ops))


def _pull_common_number(e):
    """``0.1·y - 0.1·ŷ`` -> ``0.1·(y - ŷ)`` (SymPy distributes a number over a sum by default)."""
    if not e.is_Add:
        return e
    coeffs = {abs(t.as_coeff_Mul()[0]) for t in e.args}
    if len(coeffs) != 1:
        return e
    c = coeffs.pop()
    if c == 1 or c == 0:
        return e
    return sympy.Mul(c, sympy.Add(*[t / c for t in e.args]), evaluate=False)


def simplify_value(alg: Algebra, e, kind: int, seconds: float = 2.0):
    if kind == SCALAR:
        return simplify_scalar(e, seconds)
    terms = alg.terms(e)
    out = []
    for atom, c in terms.items():
        c = simplify_scalar(c, seconds / max(len(terms), 1))
        if c != 0:
            out.append(c * atom)
    return sympy.Add(*out)


# ------------------------------------------------------------------------------ the result

@dataclass
class ProgramMath:
    """Setup values, the prediction and the state updates of a program, as SymPy expressions."""

    setup: list = field(default_factory=list)  # (state symbol, initial value)
    constants: list = field(default_factory=list)  # (state symbol, steady number, initial value)
    temporaries: list = field(default_factory=list)  # (symbol, value computed in Predict)
    prediction: sympy.Expr = field(default_factory=lambda: sympy.Integer(0))
    predict_updates: list = field(default_factory=list)
    learn_updates: list = field(default_factory=list)
    accuracy: bool = False
    kinds: dict = field(default_factory=dict)  # vector/matrix atoms (printed after scalars)

    def to_text(self, digits: int = 4) -> str:
        p = lambda e: to_text(e, digits, self.kinds)  # noqa: E731
        lines = ["Setup:"]
        lines += [f"  {p(s)} = {p(v)}" for s, v in self.setup] or ["  (nothing)"]
        for _state, number, initial in self.constants:
            lines.append(f"  ({p(number)} is {p(initial)} before the first Learn)")
        lines.append("Predict:")
        lines += [f"  {p(s)} = {p(v)}" for s, v in self.temporaries]
        pred = p(self.prediction)
        lines.append(f"  ŷ = σ({pred})" if self.accuracy else f"  ŷ = {pred}")
        lines += [f"  {p(s)} ← {p(v)}" for s, v in self.predict_updates]
        lines.append("Learn:")
        lines += [f"  {p(s)} ← {p(v)}" for s, v in self.learn_updates] or ["  (nothing)"]
        return "\n".join(lines) + "\n"

    def to_latex(self, digits: int = 4) -> str:
        p = lambda e: to_latex(e, digits, self.kinds)  # noqa: E731
        rows = [r"\text{Setup:} & \\"]
        rows += [f"& {p(s)} = {p(v)} \\\\" for s, v in self.setup]
        rows.append(r"\text{Predict:} & \\")
        rows += [f"& {p(s)} = {p(v)} \\\\" for s, v in self.temporaries]
        pred = p(self.prediction)
        rows.append(f"& \\hat{{y}} = \\sigma\\left({pred}\\right) \\\\" if self.accuracy
                    else f"& \\hat{{y}} = {pred} \\\\")
        rows += [f"& {p(s)} \\leftarrow {p(v)} \\\\" for s, v in self.predict_updates]
        rows.append(r"\text{Learn:} & \\")
        rows += [f"& {p(s)} \\leftarrow {p(v)} \\\\" for s, v in self.learn_updates]
        return "\\begin{aligned}\n" + "\n".join(rows) + "\n\\end{aligned}\n"


def program_math(program: Program, eval_type: str = "rms", seconds: float = 2.0) -> ProgramMath:
    """Translate ``program`` (pruned first) into :class:`ProgramMath`."""
    program = prune(program)
    live = liveness(program)
    alg = Algebra()
    x = alg.symbol("x", VECTOR)
    y, yhat = sympy.Symbol("y"), sympy.Symbol("ŷ")
    entry_predict = set(live["setup"])  # out(Setup) = entry(Predict)
    entry_learn = (live["predict"] - {PREDICTION}) - entry_predict
    entry_learn = {r for r in entry_learn if r != ("rng",)}
    predict_writes = {(OPS[int(r[0])].output, int(r[3])) for r in program.component(PREDICT)[0]}
    learn_writes = {(OPS[int(r[0])].output, int(r[3])) for r in program.component(LEARN)[0]}
    state_regs = sorted(r for r in entry_predict | (entry_learn - predict_writes)
                        if r != ("rng",) and r not in EXECUTOR_WRITTEN)

    counters = {SCALAR: 0, VECTOR: 0, MATRIX: 0}
    bases = {VECTOR: "w", MATRIX: "W"}
    state = {}
    for reg in state_regs:
        kind = reg[0]
        k = counters[kind]
        counters[kind] += 1
        name = (GREEK[k] if k < len(GREEK) else f"θ{k}") if kind == SCALAR else _name(bases[kind], k)
        state[reg] = alg.symbol(name, kind)

    setup_mem = execute(alg, program, SETUP, {})
    initial = {r: setup_mem.get(r, sympy.Integer(0)) for r in state_regs}

    def predict_inputs():
        mem = {r: state[r] for r in state_regs}
        mem[LABEL] = sympy.Integer(0)
        mem[FEATURES] = x
        return mem

    predict_mem = execute(alg, program, PREDICT, predict_inputs())
    predict_updates = {r: predict_mem[r] for r in state_regs
                       if r in predict_writes and r in live["predict"] and predict_mem[r] != state[r]}
    learn_in = {r: state[r] for r in state_regs}
    temporaries = []
    for reg in sorted(entry_learn & predict_writes - {PREDICTION}):
        value = predict_mem.get(reg, sympy.Integer(0))
        if predict_updates:
            sym = alg.symbol(_name("h", len(temporaries)), reg[0])
            temporaries.append((sym, value, reg[0]))
            value = sym
        learn_in[reg] = value
    learn_in[LABEL], learn_in[FEATURES], learn_in[PREDICTION] = y, x, yhat
    learn_mem = execute(alg, program, LEARN, learn_in)
    learn_updates = {r: learn_mem[r] for r in state_regs
                     if r in learn_writes and r in live["learn"] and learn_mem[r] != state[r]}

    # State that is constant in the steady state becomes a number.
    subs, constants = {}, []
    for reg in state_regs:
        updates = [u[reg] for u in (predict_updates, learn_updates) if reg in u]
        value = initial[reg]
        if not updates and not value.free_symbols and not value.atoms(AppliedUndef) \
                and not alg.has_atom(value):
            subs[state[reg]] = value
        elif updates and all(u.is_Number for u in updates) and len(set(updates)) == 1 \
                and reg not in predict_updates:
            subs[state[reg]] = updates[0]
            if initial[reg] != updates[0]:
                constants.append((state[reg], updates[0], initial[reg]))

    def final(e, kind):
        return simplify_value(alg, alg.substitute(e, kind, subs), kind, seconds)

    result = ProgramMath(accuracy=eval_type == "accuracy", kinds=alg.kinds)
    result.setup = [(state[r], initial[r]) for r in state_regs if state[r] not in subs]
    result.constants = constants
    result.temporaries = [(s, final(v, k)) for s, v, k in temporaries]
    result.prediction = final(predict_mem.get(PREDICTION, 0), SCALAR)
    result.predict_updates = [(state[r], final(v, r[0])) for r, v in predict_updates.items()
                              if state[r] not in subs]
    result.learn_updates = [(state[r], final(v, r[0])) for r, v in learn_updates.items()
                            if state[r] not in subs]
    return result


# ------------------------------------------------------------------------------ printing

_INFIX = {"dot": "·", "matvec": "", "matmul": "", "hadamard": "∘", "outer": "⊗"}


def _round(e, digits: int):
    e = sympy.sympify(e)
    return e.xreplace({f: sympy.Float(f, digits) for f in e.atoms(sympy.Float)})


def _split_mul(expr, kinds):
    """Scalar factors and array factors of a product (arrays are printed last)."""
    arrays = [a for a in expr.args if a in kinds]
    scalars = [a for a in expr.args if a not in kinds]
    if len(scalars) == 1:
        return scalars[0], arrays
    return sympy.Mul(*scalars, evaluate=False), arrays


class _TextPrinter(StrPrinter):
    def __init__(self, kinds=None):
        super().__init__()
        self.kinds = kinds or {}

    def _print_Function(self, expr):
        name = expr.func.__name__
        args = [self._print(a) for a in expr.args]
        if name in _INFIX and len(args) == 2:
            sep = _INFIX[name]
            return f"({args[0]}{sep}{args[1]})" if sep else f"{args[0]}{args[1]}"
        if name == "transpose":
            return f"{args[0]}ᵀ"
        if name == "recip":
            return f"1/{args[0]}"
        if name == "sum":
            return f"Σ{args[0]}"
        if name.startswith(("uniform", "gaussian")):
            return f"{name.rstrip('₀₁₂₃₄₅₆₇₈₉')}({', '.join(args)})"
        return super()._print_Function(expr)

    def _print_Mul(self, expr):
        scalar, arrays = _split_mul(expr, self.kinds)
        if not arrays:
            return super()._print_Mul(expr).replace("*", "·")
        parts = [self._print(a) for a in arrays]
        if scalar == -1:
            return "-" + "·".join(parts)
        if scalar != 1:
            text = self._print(scalar)
            if scalar.is_Add:
                text = f"({text})"
            parts.insert(0, text)
        return "·".join(parts)


class _LatexPrinter(LatexPrinter):
    def __init__(self, kinds=None):
        super().__init__()
        self.kinds = kinds or {}

    def _print_Mul(self, expr):
        scalar, arrays = _split_mul(expr, self.kinds)
        if not arrays:
            return super()._print_Mul(expr)
        parts = [self._print(a) for a in arrays]
        if scalar == -1:
            return "-" + " ".join(parts)
        if scalar != 1:
            text = self._print(scalar)
            if scalar.is_Add:
                text = f"\\left({text}\\right)"
            parts.insert(0, text)
        return " ".join(parts)

    def _print_Function(self, expr, exp=None):
        name = expr.func.__name__
        args = [self._print(a) for a in expr.args]
        latex_infix = {"dot": r" \cdot ", "matvec": " ", "matmul": " ", "hadamard": r" \odot ",
                       "outer": r" \otimes "}
        if name in latex_infix and len(args) == 2:
            text = f"\\left({args[0]}{latex_infix[name]}{args[1]}\\right)"
        elif name == "transpose":
            text = f"{args[0]}^{{\\top}}"
        elif name == "sum":
            text = f"\\sum {args[0]}"
        elif name == "recip":
            text = f"\\frac{{1}}{{{args[0]}}}"
        elif name.startswith(("uniform", "gaussian")):
            text = f"\\operatorname{{{name.rstrip('₀₁₂₃₄₅₆₇₈₉')}}}\\left({', '.join(args)}\\right)"
        else:
            return super()._print_Function(expr, exp)
        return f"{text}^{{{exp}}}" if exp else text

    def _print_Symbol(self, expr, style="plain"):
        names = {"x": r"\mathbf{x}", "ŷ": r"\hat{y}", "𝟙": r"\mathbf{1}"}
        name = expr.name
        if name in names:
            return names[name]
        base, sub = name[0], name[1:].translate({ord(s): str(i) for i, s in enumerate("₀₁₂₃₄₅₆₇₈₉")})
        latex_base = {"w": r"\mathbf{w}", "h": r"\mathbf{h}", "W": r"\mathbf{W}"}.get(base)
        if latex_base is None:
            return super()._print_Symbol(expr)
        return f"{latex_base}_{{{sub}}}" if sub else latex_base


def to_text(e, digits: int = 4, kinds: dict | None = None) -> str:
    """Plain-text form (unicode), outer parentheses of a lone product dropped."""
    text = _TextPrinter(kinds).doprint(_round(e, digits))
    if text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1]
    return text


def to_latex(e, digits: int = 4, kinds: dict | None = None) -> str:
    return _LatexPrinter(kinds).doprint(_round(e, digits))


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0
