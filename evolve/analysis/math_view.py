"""The math of a program: Predict and Learn as simplified SymPy expressions of named roles.

The pruned program (:func:`primitives.prune.prune`) is executed symbolically through the op
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

from evolve.analysis.algebra import GREEK, Algebra, _name, execute
from evolve.analysis.printers import to_latex, to_text
from primitives.memory import MATRIX, SCALAR, VECTOR
from primitives.ops import OPS
from primitives.program import LEARN, PREDICT, SETUP, Program
from primitives.prune import EXECUTOR_WRITTEN, FEATURES, LABEL, PREDICTION, liveness, prune

__all__ = ["Algebra", "ProgramMath", "execute", "program_math", "simplify_scalar", "simplify_value",
           "to_latex", "to_text"]

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


def one_line_math(program: Program, eval_type: str = "rms", seconds: float = 0.5) -> str | None:
    """The prediction and the Learn updates of ``program`` on one line, e.g.
    ``ŷ = 0.43·(w·x); w ← w + 0.43·(y − ŷ)·x``; ``None`` if SymPy cannot translate it."""
    try:
        m = program_math(program, eval_type, seconds=seconds)
    except Exception:
        return None
    p = lambda e: to_text(e, 4, m.kinds)  # noqa: E731
    pred = p(m.prediction)
    parts = [f"ŷ = σ({pred})" if m.accuracy else f"ŷ = {pred}"]
    parts += [f"{p(s)} ← {p(v)}" for s, v in m.predict_updates + m.learn_updates]
    return "; ".join(parts)
