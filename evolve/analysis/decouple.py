"""Hyperparameter coupling: scalars computed from data or F-sized memory used as a scale.

AutoML-Zero §4.2 ("hyperparameter coupling") found evolved learning rates computed as
``s2 = norm(v1)``: the rate then depends on the input dimension F, and the algorithm breaks when F
changes. This module finds such couplings and offers the decoupled program.

A **coupling** is a live instruction ``s = r(u)`` whose op ``r`` reduces an F-sized operand to a
scalar whose size grows or shrinks with F — ``norm`` (OP21, OP34), ``mean`` (OP50, OP51), ``std``
(OP54, OP55), or ``dot(u, u)`` (OP27 with both operands the same, a squared norm) — and whose
value, possibly through scalar products and quotients (OP3, OP4), scales a vector or a matrix
(OP18 ``v = s * u``, OP29 ``m = s * m'``): a learning rate or a scale. Products ``dot(w, x)`` of
two different vectors are predictions, not scales, and are left alone.

The **decoupled program** replaces ``s = r(u)`` by ``s = c`` (OP56), ``c`` tuned by a log-scale
sweep (±10⁻⁴ … 10², and 0) on the tasks at the original parameters: a constant a user can
re-tune. It is scored on tasks with one suite parameter varied (``features_size = 4, 8, 16,
32``), with ``c`` as tuned at the original parameters and re-tuned at each value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evolve.analysis.knockouts import locate, score
from evolve.evaluation.scoring import TaskBatch
from primitives.interpreter import DEFAULT_MAX_ABS_ERROR
from primitives.memory import SCALAR
from primitives.ops import OPS, OPS_BY_NAME
from primitives.program import COMPONENT_TITLES, LEARN, PREDICT, SETUP, Program
from primitives.prune import live_instructions
from primitives.text import format_instruction

#: Ops whose scalar result scales with F (a norm, mean, std or squared norm of F-sized memory).
SIZE_REDUCTIONS = frozenset({21, 27, 34, 50, 51, 54, 55})
#: Ops that pass a scalar's scale on to their scalar output (product, quotient).
SCALAR_CARRIERS = frozenset({3, 4})
#: Ops that use a scalar input to scale a vector or a matrix.
SCALING_USES = frozenset({18, 29})
CONST_SET = OPS_BY_NAME["scalar_const_set"].code

#: Candidate frozen values: 0 and ±10^-4 .. 10^2 in 25 log steps.
CANDIDATES = (0.0, *(s * float(v) for s in (1.0, -1.0) for v in 10.0 ** np.linspace(-4, 2, 25)))


@dataclass
class Coupling:
    """A scalar computed by a size reduction (``index``) and the scaling it feeds (``use``)."""

    index: int
    use: int
    text: str
    use_text: str
    where: str
    use_where: str


@dataclass
class DecouplingRow:
    """Fitness at one value of the varied parameter: program, decoupled (c tuned at the original
    parameters), decoupled re-tuned here (and the re-tuned c)."""

    value: str
    original: float
    decoupled: float
    retuned: float
    retuned_constant: float


@dataclass
class Decoupling:
    coupling: Coupling
    constant: float
    fitness: float  # the program at the original parameters
    decoupled_fitness: float
    rows: list[DecouplingRow] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"instruction": self.coupling.text, "where": self.coupling.where,
                "used_by": self.coupling.use_text, "used_where": self.coupling.use_where,
                "constant": self.constant, "fitness": self.fitness,
                "decoupled_fitness": self.decoupled_fitness,
                "rows": [vars(r) for r in self.rows]}


@dataclass
class DecouplingReport:
    vary_key: str | None
    results: list[Decoupling]

    def as_dict(self) -> dict:
        return {"vary": self.vary_key, "couplings": [d.as_dict() for d in self.results]}


def _execution_order(program: Program) -> list[int]:
    """Flat indices in the order the executor runs them: Setup, then Predict/Learn twice (enough
    for a value written in one Learn to reach the next Predict and Learn)."""
    comp = [list(range(program.component_slice(c).start, program.component_slice(c).stop))
            for c in (SETUP, PREDICT, LEARN)]
    return comp[0] + (comp[1] + comp[2]) * 2


def _reads(row: np.ndarray) -> list[tuple[int, int]]:
    op = OPS[int(row[0])]
    return [(kind, int(row[1 + slot])) for slot, kind in enumerate(op.inputs)]


def _writes(row: np.ndarray) -> tuple[int, int] | None:
    op = OPS[int(row[0])]
    return (op.output, int(row[3])) if op.output is not None else None


def find_couplings(program: Program) -> list[Coupling]:
    """Every live size reduction whose scalar reaches a vector/matrix scaling (see module doc)."""
    live = live_instructions(program)
    order = [i for i in _execution_order(program) if live[i]]
    found = []
    for start, i in enumerate(order[: int(live.sum())]):  # each live instruction once
        row = program.instructions[i]
        code = int(row[0])
        if code not in SIZE_REDUCTIONS or (code == 27 and row[1] != row[2]):
            continue
        carriers = {(SCALAR, int(row[3]))}
        for j in order[start + 1:]:
            r = program.instructions[j]
            reads = set(_reads(r)) & carriers
            out = _writes(r)
            if reads and int(r[0]) in SCALING_USES:
                found.append(_coupling(program, i, j))
                break
            if reads and int(r[0]) in SCALAR_CARRIERS:
                carriers.add(out)
            elif out in carriers:
                carriers.discard(out)
            if j == i or not carriers:
                break
    return found


def _coupling(program: Program, i: int, j: int) -> Coupling:
    def where(k):
        c, p = locate(program, k)
        return f"{COMPONENT_TITLES[c]} {p}"

    text = lambda k: format_instruction(program.instructions[k], program.constants[k])  # noqa: E731
    return Coupling(i, j, text(i), text(j), where(i), where(j))


def decoupled(program: Program, coupling: Coupling, constant: float) -> Program:
    """``program`` with the coupled reduction replaced by ``s = constant`` (OP56)."""
    edited = program.copy()
    out = int(edited.instructions[coupling.index, 3])
    edited.instructions[coupling.index] = (CONST_SET, 0, 0, out)
    edited.constants[coupling.index] = (float(constant), 0.0, 0.0)
    return edited


def tune_constant(program: Program, coupling: Coupling, batch: TaskBatch, memory, *,
                  max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
                  reduction: str = "mean") -> tuple[float, float]:
    """The candidate constant with the best fitness on ``batch`` (one interpreter call)."""
    variants = [decoupled(program, coupling, c) for c in CANDIDATES]
    fitness = score(variants, batch, memory, max_abs_error=max_abs_error, reduction=reduction)
    best = int(np.argmax(fitness))
    return CANDIDATES[best], float(fitness[best])


def decouple_report(program: Program, memory, problem: str, params: dict, split: str,
                    n_tasks: int, seed: int, *, vary: tuple[str, list[str]] | None = None,
                    max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
                    reduction: str = "mean") -> DecouplingReport:
    """Find couplings and score each decoupled program; with ``vary`` (or by default, when a
    coupling is found and the suite has ``features_size``: F = 4, 8, 16, 32) also on tasks with
    that parameter changed."""
    from problems.registry import get_tasks, make_suite

    couplings = find_couplings(program)
    if not couplings:
        return DecouplingReport(vary[0] if vary else None, [])

    def batch_for(extra: dict) -> TaskBatch:
        suite = make_suite(problem, {**params, **extra})
        return TaskBatch.from_tasks(get_tasks(suite, split, n_tasks, seed))

    base = batch_for({})
    if vary is None and "features_size" in type(make_suite(problem, params)).parameters():
        vary = ("features_size", ["4", "8", "16", "32"])
    kw = {"max_abs_error": max_abs_error, "reduction": reduction}
    results = []
    for coupling in couplings:
        constant, fit_decoupled = tune_constant(program, coupling, base, memory, **kw)
        fit = float(score([program], base, memory, **kw)[0])
        result = Decoupling(coupling, constant, fit, fit_decoupled)
        for value in (vary[1] if vary else []):
            batch = batch_for({vary[0]: value})
            original, fixed = score([program, decoupled(program, coupling, constant)], batch,
                                    memory, **kw)
            retuned_c, retuned = tune_constant(program, coupling, batch, memory, **kw)
            result.rows.append(DecouplingRow(value, float(original), float(fixed), retuned,
                                             retuned_c))
        results.append(result)
    return DecouplingReport(vary[0] if vary else None, results)


def format_decoupling(report: DecouplingReport) -> str:
    if not report.results:
        return ("Hyperparameter coupling: none found (no norm, mean, std or squared norm of "
                "data or F-sized memory scales a vector or matrix).\n")
    out = []
    for d in report.results:
        c = d.coupling
        out.append(f"Hyperparameter coupling: {c.where} `{c.text}` is a size-dependent scalar "
                   f"that scales {c.use_where} `{c.use_text}`.")
        out.append(f"Decoupled: `{c.text.split(' = ')[0]} = {d.constant:.4g}` (tuned on these "
                   f"tasks): fitness {d.decoupled_fitness:.4f} (program {d.fitness:.4f}).")
        if d.rows:
            key = report.vary_key
            head = (key, "program", "decoupled", "re-tuned", "re-tuned c")
            rows = [head] + [(r.value, f"{r.original:.4f}", f"{r.decoupled:.4f}",
                              f"{r.retuned:.4f}", f"{r.retuned_constant:.4g}") for r in d.rows]
            widths = [max(len(r[i]) for r in rows) for i in range(5)]
            for n, r in enumerate(rows):
                out.append("  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)))
                if n == 0:
                    out.append("  ".join("-" * w for w in widths))
        out.append("")
    return "\n".join(out) + "\n"
