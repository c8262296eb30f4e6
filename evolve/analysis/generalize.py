"""Generalization probe: the discovered program on tasks unlike the search tasks, with baselines.

AutoML-Zero §4.2-4.3 checks discovered algorithms beyond their search tasks (other datasets,
longer training, other input sizes) and reports where they keep their advantage. The probe runs
the program and the baselines (:func:`evolve.analysis.baselines.compare`: the shipped hand-written
algorithms and scikit-learn's linear references, its MLPs on request) on the run's own held-out tasks and on variants that
change one thing: the number of features F (×½, ×2, ×4), the train examples (×4), the epochs
(×4), and another dataset or task family. Each row: the program's fitness, the best shipped
algorithm and the best scikit-learn reference, and the verdict — ``ahead``/``level`` (within
``LEVEL``)/``behind`` the best shipped algorithm, ``breaks`` when the program keeps less than
half its fitness on the run's own tasks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from evolve.analysis.baselines import compare

LEVEL = 0.01
#: Other task families to try, per suite.
OTHER_SUITES = {"linear": ("affine", "nn_teacher"), "affine": ("linear", "nn_teacher"),
                "nn_teacher": ("linear", "affine")}


@dataclass
class ProbeRow:
    variant: str
    program: float
    shipped: tuple[str, float] | None
    sklearn: tuple[str, float] | None
    verdict: str

    def as_dict(self) -> dict:
        return {"variant": self.variant, "program": self.program,
                "best_shipped": list(self.shipped) if self.shipped else None,
                "best_sklearn": list(self.sklearn) if self.sklearn else None,
                "verdict": self.verdict}


def variants(problem: str, params: dict) -> list[tuple[str, str, dict]]:
    """``(label, suite name, params)``: the run's own tasks first, then one change each."""
    from problems.registry import make_suite

    suite = make_suite(problem, params)
    allowed = type(suite).parameters()
    out = [("as searched (held-out tasks)", problem, dict(params))]
    F = getattr(suite, "features_size", None)
    if "features_size" in allowed and F:
        for factor, label in ((0.5, "½"), (2, "2"), (4, "4")):
            value = int(F * factor)
            if value >= 1 and value != F:
                out.append((f"F = {value} (×{label})", problem, {**params, "features_size": value}))
    n = int(params.get("num_train_examples", getattr(suite, "num_train_examples", 0)) or 0)
    if "num_train_examples" in allowed and n > 0 and problem != "projected_binary":
        out.append((f"{4 * n} train examples (×4)", problem, {**params, "num_train_examples": 4 * n}))
    epochs = int(getattr(suite, "num_train_epochs", 1))
    if "num_train_epochs" in allowed:
        out.append((f"{4 * epochs} epochs (×4)", problem, {**params, "num_train_epochs": 4 * epochs}))
    if problem == "projected_binary":
        from problems.projected_binary import DATASET_SIZES

        current = getattr(suite, "dataset", "digits")
        others = [d for d in DATASET_SIZES if d != current][:2]
        keep = {k: v for k, v in params.items() if k not in ("dataset", "held_out_pairs")}
        out += [(f"dataset {d}", problem, {**keep, "dataset": d}) for d in others]
    for other in OTHER_SUITES.get(problem, ()):
        out.append((f"{other} tasks", other, dict(params)))
    return out


def probe(program, memory, problem: str, params: dict, *, split: str = "final", n_tasks: int = 10,
          seed: int = 0, max_abs_error: float = 100.0, reduction: str = "mean",
          sklearn: bool = True, mlp: bool = False) -> tuple[list[ProbeRow], float]:
    """The probe table (module doc) and the seconds it took; scikit-learn's MLPs (slow) only
    with ``mlp``."""
    from evolve.analysis.baselines import score_programs, score_sklearn
    from evolve.reference_programs import BUILTIN_ALGORITHMS, load_algorithm
    from problems.registry import get_tasks, make_suite

    started = time.perf_counter()
    rows: list[ProbeRow] = []
    own = None
    from problems.base import ProblemError

    for label, name, p in variants(problem, params):
        try:
            tasks = get_tasks(make_suite(name, p), split, n_tasks, seed)
        except ProblemError:  # a variant the suite cannot make (a data file with too few rows)
            if own is None:
                raise
            continue
        kw = {"max_abs_error": max_abs_error, "reduction": reduction}
        scores = compare({"program": program}, tasks, memory, baselines=False, **kw)
        fit = scores[0].fitness
        own = fit if own is None else own
        shipped = score_programs({n: load_algorithm(n) for n in BUILTIN_ALGORITHMS}, tasks,
                                 kind="shipped", **kw)
        best_shipped = max(((s.name, s.fitness) for s in shipped), key=lambda t: t[1])
        best_sklearn = None
        if sklearn:
            sk = score_sklearn(tasks, linear_only=not mlp, **kw)
            best_sklearn = max(((s.name, s.fitness) for s in sk), key=lambda t: t[1])
        if fit < 0.5 * own:
            verdict = "breaks"
        elif fit > best_shipped[1] + LEVEL:
            verdict = "ahead"
        elif fit >= best_shipped[1] - LEVEL:
            verdict = "level"
        else:
            verdict = "behind"
        rows.append(ProbeRow(label, float(fit), best_shipped, best_sklearn, verdict))
    return rows, time.perf_counter() - started


def format_probe(rows: list[ProbeRow], markdown: bool = False) -> str:
    head = ("tasks", "program", "best shipped", "best scikit-learn", "verdict")
    body = [(r.variant, f"{r.program:.3f}",
             f"{r.shipped[1]:.3f} {r.shipped[0]}" if r.shipped else "-",
             f"{r.sklearn[1]:.3f} {r.sklearn[0]}" if r.sklearn else "-", r.verdict) for r in rows]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|---|---:|---|---|---|"]
        lines += ["| " + " | ".join(b) + " |" for b in body]
        return "\n".join(lines) + "\n"
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(5)]
    out = ["  ".join(c.ljust(w) if i != 1 else c.rjust(w)
                     for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()
           for r in [head, *body]]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out) + "\n"


def summary(rows: list[ProbeRow]) -> str:
    groups: dict[str, list[str]] = {}
    for r in rows[1:]:
        groups.setdefault(r.verdict, []).append(r.variant)
    parts = [f"{k}: {', '.join(v)}" for k, v in groups.items()]
    base = rows[0] if rows else None
    head = (f"On its own held-out tasks the program scores {base.program:.3f} ({base.verdict} "
            "against the best shipped algorithm). ") if base else ""
    return head + ("; ".join(parts) + "." if parts else "")
