"""Lineage views: a best program's chain of ancestors as text and as a fitness plot.

The record itself (``lineage.csv``, its steps, its checkpoint table) is :mod:`evolve.rundir.lineage`.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence

from evolve.errors import EvolveError
from evolve.rundir.lineage import Step


def chain_of(steps: Sequence[Step], program: str = "best") -> list[Step]:
    chain = [s for s in steps if s.program == program]
    if not chain:
        names = sorted({s.program for s in steps}, key=lambda n: (n != "best", len(n), n))
        raise EvolveError(f"no lineage for {program!r}; the run has: {', '.join(names)}")
    return chain


def format_lineage(chain: Sequence[Step], every_step: bool = False) -> str:
    """The path from the initial program to the last one: by default only the steps that changed
    the fitness (and the first and last), each with its mutation and what changed."""
    kinds: dict[str, int] = {}
    for s in chain[1:]:
        kinds[s.mutation] = kinds.get(s.mutation, 0) + 1
    copies = sum(s.copies for s in chain)
    lines = [f"{chain[0].program}: {len(chain) - 1} mutations from the initial program "
             f"(fitness {chain[0].fitness:.4f} → {chain[-1].fitness:.4f}; {copies} unmutated "
             "copies folded in)",
             "mutations: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items(),
                                                                      key=lambda kv: -kv[1]))]
    rows = [("step", "id", "parent", "mutation", "fitness", "Δ", "changed")]
    previous = None
    for n, s in enumerate(chain):
        delta = 0.0 if previous is None else s.fitness - previous.fitness
        if every_step or n in (0, len(chain) - 1) or abs(delta) >= 5e-5:  # shows as ±0.0001
            rows.append((str(s.step), str(s.id), "-" if s.parent_id < 0 else str(s.parent_id),
                         s.mutation, f"{s.fitness:.4f}", "" if previous is None else f"{delta:+.4f}",
                         s.changed))
        previous = s
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    for n, r in enumerate(rows):
        cells = [c.rjust(w) if i in (0, 1, 2, 4, 5) else c.ljust(w)
                 for i, (c, w) in enumerate(zip(r[:6], widths, strict=True))]
        lines.append("  ".join(cells) + "  " + r[6])
        if n == 0:
            lines.append("  ".join("-" * w for w in widths) + "  -------")
    if not every_step:
        lines.append("(steps that changed the fitness by less than 0.0001 are not shown; --all "
                     "shows them)")
    return "\n".join(lines) + "\n"


def lineage_plot(chain: Sequence[Step], threshold: float | None = None) -> bytes:
    """PNG: fitness along the lineage, each improvement marked with its mutation kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [s.step for s in chain]
    fitness = [s.fitness for s in chain]
    fig, ax = plt.subplots(figsize=(8, 4), dpi=110)
    ax.step(steps, fitness, where="post", color="#1f77b4", lw=1.6, label="fitness of ancestor")
    gains = [(s, s.fitness - p.fitness) for p, s in itertools.pairwise(chain)
             if s.fitness - p.fitness > 1e-9]
    if gains:
        ax.plot([s.step for s, _ in gains], [s.fitness for s, _ in gains], "o", color="#d62728",
                ms=4, label="improving mutation")
        for s, _ in sorted(gains, key=lambda g: -g[1])[:6]:
            ax.annotate(s.mutation.replace("_", " "), (s.step, s.fitness), fontsize=8,
                        xytext=(4, -12), textcoords="offset points")
    if threshold is not None:
        ax.axhline(threshold, color="gray", ls=":", lw=1.2, label=f"success {threshold:g}")
    ax.set_xlabel("mutations from the initial program")
    ax.set_ylabel("search fitness")
    ax.set_title(f"Lineage of {chain[0].program} ({len(chain) - 1} mutations)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()
