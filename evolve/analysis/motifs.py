"""Motifs: update rules and instruction patterns that recur across runs' discovered programs.

AutoML-Zero §4.2 reads its best programs side by side and names what recurs ("gradient
normalization", "noisy inputs", "weight averaging" ... in N of M runs). This module counts it:

- **rules**: the prediction and every state update of the program's math
  (:func:`evolve.analysis.math_view.program_math`) with each number replaced by a constant ``c`` (its
  sign kept), expanded, and powers and products of ``c`` folded into one ``c``, so that
  ``w ← w + 0.1·(y − ŷ)·x`` and ``w ← w + 0.37·(y − ŷ)·x`` are one rule;
- **patterns**: per component, the live ops and the dataflow edges ``op₁ → op₂`` (``op₂`` reads
  what ``op₁`` wrote);
- **concepts**: a few named ideas read off the rules and ops (error-driven update, input noise,
  normalization, non-linear prediction, random initialisation, scaled prediction).

Each is counted once per program; the report lists those in at least two programs, most common
first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import sympy

from primitives.ops import OPS, OPS_BY_NAME
from primitives.program import COMPONENT_TITLES, Program
from primitives.prune import live_instructions, prune

C = sympy.Symbol("c")
NORMS = frozenset({"vector_norm", "matrix_norm", "matrix_column_norm", "matrix_row_norm"})


@dataclass
class Motif:
    kind: str  # "rule", "pattern" or "concept"
    text: str
    programs: list[str]

    @property
    def count(self) -> int:
        return len(self.programs)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "motif": self.text, "count": self.count,
                "programs": self.programs}


def canonical(expr) -> sympy.Expr:
    """``expr`` with every number a constant ``c`` (sign kept) and ``c``'s products folded."""
    e = sympy.sympify(expr)
    for _ in range(4):
        before = e
        e = e.replace(lambda a: a.is_Number and a not in (0, 1, -1),
                      lambda a: C if a > 0 else -C)
        e = sympy.expand(e)
        e = e.replace(lambda a: a.is_Pow and a.base == C, lambda a: C)
        if e == before:
            break
    return e


def rules(program: Program, eval_type: str = "rms", seconds: float = 2.0) -> set[str]:
    """Canonical text of the prediction and of each Predict/Learn state update."""
    from evolve.analysis.math_view import program_math, to_text

    math = program_math(program, eval_type, seconds)
    p = lambda e: to_text(canonical(e), 4, math.kinds)  # noqa: E731
    found = {f"ŷ = σ({p(math.prediction)})" if math.accuracy else f"ŷ = {p(math.prediction)}"}
    for component, updates in (("Predict", math.predict_updates), ("Learn", math.learn_updates)):
        found |= {f"{component}: {p(s)} ← {p(v)}" for s, v in updates}
    return found


def patterns(program: Program) -> set[str]:
    """Live ops per component and dataflow edges between them within a component."""
    pruned = prune(program)
    found = set()
    for c in range(3):
        code, _ = pruned.component(c)
        title = COMPONENT_TITLES[c]
        writer: dict[tuple[int, int], str] = {}
        for row in code:
            op = OPS[int(row[0])]
            found.add(f"{title}: {op.name}")
            for slot, kind in enumerate(op.inputs):
                source = writer.get((kind, int(row[1 + slot])))
                if source is not None:
                    found.add(f"{title}: {source} → {op.name}")
            if op.output is not None:
                writer[(op.output, int(row[3]))] = op.name
    return found


def concepts(program: Program, rule_set: set[str]) -> set[str]:
    """Named ideas (module doc), read off the live ops and the canonical rules."""
    pruned = prune(program)
    names = [{OPS[int(r[0])].name for r in pruned.component(c)[0]} for c in range(3)]
    random_in = [any(OPS_BY_NAME[n].random for n in comp) for comp in names]
    found = set()
    learn_rules = [r for r in rule_set if r.startswith("Learn:")]
    if any("y" in r.split("←")[1] and "ŷ" in r for r in learn_rules):
        found.add("error-driven update (the rule uses both y and ŷ)")
    if random_in[0]:
        found.add("random initialisation in Setup")
    if random_in[1] or random_in[2]:
        found.add("noise injected in Predict/Learn")
    if (names[1] | names[2]) & NORMS:
        found.add("normalization (a norm in Predict/Learn)")
    if names[1] & {"vector_max", "vector_min", "vector_heaviside", "matrix_max", "matrix_min",
                   "matrix_heaviside", "scalar_max", "scalar_min"}:
        found.add("non-linear prediction (max/min/heaviside in Predict)")
    if any(r.startswith("ŷ = ") and ("c·" in r or "-c·" in r) for r in rule_set):
        found.add("scaled prediction (ŷ = c · ...)")
    return found


def find_motifs(programs: Sequence[tuple[str, Program, str]], *, min_count: int = 2,
                seconds: float = 2.0) -> list[Motif]:
    """Motifs of ``(name, program, eval_type)`` triples found in at least ``min_count`` of them,
    most common first (rules, then concepts, then patterns, among equal counts)."""
    where: dict[tuple[str, str], list[str]] = {}
    for name, program, eval_type in programs:
        if not live_instructions(program).any():
            continue
        rule_set = rules(program, eval_type, seconds)
        for kind, items in (("rule", rule_set), ("concept", concepts(program, rule_set)),
                            ("pattern", patterns(program))):
            for item in items:
                where.setdefault((kind, item), []).append(name)
    order = {"rule": 0, "concept": 1, "pattern": 2}
    motifs = [Motif(kind, text, names) for (kind, text), names in where.items()
              if len(names) >= min_count]
    motifs.sort(key=lambda m: (-m.count, order[m.kind], m.text))
    return motifs


def format_motifs(motifs: Sequence[Motif], n_programs: int, limit: int = 40) -> str:
    if not motifs:
        return f"No motif recurs in {n_programs} programs.\n"
    lines = [f"Motifs in {n_programs} programs (each counted once per program):"]
    counts = Counter(m.kind for m in motifs)
    for kind, title in (("rule", "Update rules (numbers as c)"), ("concept", "Concepts"),
                        ("pattern", "Instruction patterns")):
        chosen = [m for m in motifs if m.kind == kind][:limit]
        if not chosen:
            continue
        more = counts[kind] - len(chosen)
        lines.append(f"\n{title}:" + (f" ({more} more not shown)" if more > 0 else ""))
        for m in chosen:
            lines.append(f"  {m.count} of {n_programs}  {m.text}")
    return "\n".join(lines) + "\n"
