"""Symbolic execution of a program: the abstract algebra of vectors and matrices.

Scalars are SymPy expressions. Vectors and matrices are kept abstract, as linear combinations
``sum_i c_i X_i`` of vector (matrix) atoms, so ``dot``, Hadamard, outer and matrix products expand
bilinearly: ``dot(s·x + w, x)`` reads ``s·(x·x) + w·x`` whatever the number of features.
Element-wise functions, random draws and what SymPy cannot express stay named functions. What each
op means symbolically is the op table's ``symbolic`` column (:data:`primitives.ops.OPS`); this
module supplies the algebra it is written in and runs a component through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import sympy
from sympy.core.function import AppliedUndef

from primitives.memory import SCALAR
from primitives.ops import OPS
from primitives.program import Program

SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
GREEK = "αβγδεζηθκλμνξπρστφχψω"


def _name(base: str, k: int) -> str:
    return base if k == 0 else f"{base}{str(k + 1).translate(SUBSCRIPTS)}"


ONES = sympy.Symbol("𝟙")
N_FEATURES = sympy.Symbol("n")


@dataclass
class Algebra:
    """Builds abstract vector/matrix expressions; ``kinds`` maps every atom to its kind.

    ``ones`` is the all-ones atom (``bcast(s) = s·𝟙``) and ``n_features`` the symbol ``n`` for F;
    the op table's ``symbolic`` column builds its values with these methods."""

    kinds: dict = field(default_factory=dict)
    draws: int = 0
    ones: ClassVar[sympy.Symbol] = ONES
    n_features: ClassVar[sympy.Symbol] = N_FEATURES

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


def apply_op(alg: Algebra, code: int, a, b, consts, old) -> sympy.Expr:
    """SymPy value of op ``code`` on symbolic inputs: the op table's ``symbolic`` column
    (``old``: the output's previous value, read by partial-write ops)."""
    op = OPS[code]
    if op.symbolic is None:
        raise ValueError(f"no symbolic form for op {code} ({op.name})")
    return op.symbolic(alg, a, b, [float(v) for v in consts], old)


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
