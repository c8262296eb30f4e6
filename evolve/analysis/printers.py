"""Printers for the math view: plain text (``ŷ = c·(w·x)``) and LaTeX of simplified expressions.

Vector and matrix atoms (``kinds``) print after scalars; bilinear functions print infix
(``w·x``, ``u⊗v``, ``a∘b``); numbers are rounded to ``digits`` significant digits for people.
"""

from __future__ import annotations

import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

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
