"""What evolution changed: a discovered program against the program it started from.

Both programs are pruned (dead code removed) and each component is aligned instruction by
instruction with :class:`difflib.SequenceMatcher` on the instructions' *shape* (op code and
addresses, constants left out). Aligned rows whose constants differ are **constant** changes;
rows inserted, deleted or replaced are **structural** changes (one change per differing run of
rows). From scratch (``no_op`` or random starts) the reference is the nearest shipped algorithm:
the one with the fewest differing rows.

Scores (the run's select tasks by default, or any tasks given):

- every change is *knocked out alone*: the discovered program with that one change reverted to
  the start's rows; the fitness it loses is what that change is worth in context;
- the gain ``f(found) - f(start)`` is split between constants and structure by the two-player
  Shapley value over the two orders of applying them: ``f(C)`` is the start's structure with the
  discovered constants on its aligned rows, ``f(S)`` the discovered structure with the start's
  constants on the aligned rows;
  ``constants = ((f(C) - f(start)) + (f(found) - f(S))) / 2`` and
  ``structure = ((f(S) - f(start)) + (f(found) - f(C))) / 2``, which add up to the gain.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np

from primitives.program import COMPONENT_TITLES, Program
from primitives.prune import prune
from primitives.text import format_instruction


@dataclass(frozen=True)
class Change:
    """One difference: ``kind`` is ``"constant"`` or ``"structural"``; rows are
    ``(instruction row, constants)`` pairs of the start (``before``) and the found (``after``)."""

    component: int
    kind: str
    before: tuple
    after: tuple
    knockout_loss: float | None = None  # fitness lost when this change alone is reverted

    def describe(self) -> str:
        def rows(pairs) -> str:
            return "; ".join(format_instruction(r, c) for r, c in pairs) or "(nothing)"
        return f"{COMPONENT_TITLES[self.component]}: {rows(self.before)} -> {rows(self.after)}"


@dataclass(frozen=True)
class WhatChanged:
    reference: str  # the start's name (or the nearest shipped algorithm's)
    changes: list = field(default_factory=list)
    start_fitness: float | None = None
    found_fitness: float | None = None
    constants_gain: float | None = None
    structural_gain: float | None = None

    @property
    def gain(self) -> float | None:
        if self.start_fitness is None or self.found_fitness is None:
            return None
        return self.found_fitness - self.start_fitness

    @property
    def structural_share(self) -> float | None:
        """The structural part of the gain, as a fraction of it (None without a gain)."""
        gain = self.gain
        if gain is None or self.structural_gain is None or not gain > 0:
            return None
        return self.structural_gain / gain

    def as_dict(self) -> dict:
        return {"reference": self.reference, "start_fitness": self.start_fitness,
                "found_fitness": self.found_fitness, "gain": self.gain,
                "constants_gain": self.constants_gain, "structural_gain": self.structural_gain,
                "structural_share": self.structural_share,
                "changes": [{"component": COMPONENT_TITLES[c.component], "kind": c.kind,
                             "change": c.describe(), "knockout_loss": c.knockout_loss}
                            for c in self.changes]}

    def to_text(self) -> str:
        lines = [f"what changed, against {self.reference}: {len(self.changes)} change(s) "
                 f"({sum(c.kind == 'structural' for c in self.changes)} structural, "
                 f"{sum(c.kind == 'constant' for c in self.changes)} constant)"]
        if self.gain is not None:
            lines.append(f"  fitness {self.start_fitness:.4f} -> {self.found_fitness:.4f} "
                         f"({self.gain:+.4f}): constants {self.constants_gain:+.4f}, structure "
                         f"{self.structural_gain:+.4f}")
        for c in sorted(self.changes, key=lambda c: -(c.knockout_loss or 0.0)):
            loss = "" if c.knockout_loss is None else f"  [reverted alone: {-c.knockout_loss:+.4f}]"
            lines.append(f"  {c.kind:<10} {c.describe()}{loss}")
        return "\n".join(lines) + "\n"


def _rows(program: Program, component: int) -> list[tuple]:
    instructions, constants = program.component(component)
    return [(tuple(int(v) for v in r), tuple(float(v) for v in c))
            for r, c in zip(instructions, constants, strict=True)]


def _ops(rows: list[tuple]) -> list[tuple]:
    return [r for r, _ in rows]


def _diff(start: Program, found: Program) -> list[Change]:
    changes = []
    for component in range(3):
        a, b = _rows(start, component), _rows(found, component)
        matcher = difflib.SequenceMatcher(a=_ops(a), b=_ops(b), autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                    if a[i][1] != b[j][1]:
                        changes.append(Change(component, "constant", (a[i],), (b[j],)))
            else:
                changes.append(Change(component, "structural", tuple(a[i1:i2]), tuple(b[j1:j2])))
    return changes


def _build(start: Program, found: Program, keep: set[int] | None, constants: str) -> Program:
    """The found program with every change outside ``keep`` reverted (``keep=None``: all
    kept); ``constants`` "found" or "start" picks the constants of aligned rows."""
    components, index = [], 0
    for component in range(3):
        a, b = _rows(start, component), _rows(found, component)
        matcher = difflib.SequenceMatcher(a=_ops(a), b=_ops(b), autojunk=False)
        out = []
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                    if a[i][1] != b[j][1]:
                        take_found = (keep is None or index in keep) and constants == "found"
                        out.append(b[j] if take_found else a[i])
                        index += 1
                    else:
                        out.append(b[j])
            else:
                out += list(b[j1:j2]) if keep is None or index in keep else list(a[i1:i2])
                index += 1
        components.append([(*r, *c) for r, c in out])
    return Program.from_components(components)


def _structure_only(start: Program, found: Program) -> Program:
    """The found structure with the start's constants on aligned rows."""
    return _build(start, found, None, "start")


def _constants_only(start: Program, found: Program) -> Program:
    """The start's structure with the found constants on aligned rows."""
    constant_changes = {i for i, c in enumerate(_diff(start, found)) if c.kind == "constant"}
    return _build(start, found, constant_changes, "found")


def nearest_shipped(found: Program) -> tuple[str, Program]:
    """The shipped algorithm with the fewest differing rows from ``found`` (pruned)."""
    from evolve.reference_programs import BUILTIN_ALGORITHMS, load_algorithm

    def distance(program: Program) -> int:
        total = 0
        for component in range(3):
            a, b = _ops(_rows(program, component)), _ops(_rows(found, component))
            matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
            total += max(len(a), len(b)) - sum(block.size for block in matcher.get_matching_blocks())
        return total

    pruned = {name: prune(load_algorithm(name)) for name in BUILTIN_ALGORITHMS}
    name = min(pruned, key=lambda n: (distance(pruned[n]), n))
    return name, pruned[name]


def what_changed(found: Program, start: Program | None = None, start_name: str = "",
                 score=None) -> WhatChanged:
    """The changes from ``start`` (None: the nearest shipped algorithm) to ``found``, each
    knocked out alone, and the gain split, where ``score(programs) -> fitness per program`` is
    given (see the module docstring)."""
    found = prune(found)
    if start is None:
        start_name, start = nearest_shipped(found)
    else:
        start = prune(start)
    changes = _diff(start, found)
    if score is None:
        return WhatChanged(start_name, changes)
    variants = [start, found, _constants_only(start, found), _structure_only(start, found)]
    variants += [_build(start, found, set(range(len(changes))) - {k}, "found")
                 for k in range(len(changes))]
    fitness = np.asarray(score(variants), dtype=np.float64)
    f_start, f_found, f_c, f_s = (float(v) for v in fitness[:4])
    knocked = [Change(c.component, c.kind, c.before, c.after, f_found - float(fitness[4 + k]))
               for k, c in enumerate(changes)]
    constants = 0.5 * ((f_c - f_start) + (f_found - f_s))
    structure = 0.5 * ((f_s - f_start) + (f_found - f_c))
    return WhatChanged(start_name, knocked, f_start, f_found, constants, structure)


def run_changes(run_dir, split: str = "select", n: int | None = None) -> WhatChanged:
    """:func:`what_changed` for a run directory: against its ``algorithm.initial`` (or the
    nearest shipped algorithm from a random or no-op start), scored on its ``split`` tasks."""
    from pathlib import Path

    from evolve.analysis.load import final_tasks, load_source
    from evolve.engine.search_context import load_program
    from evolve.evaluation.scoring import TaskBatch, per_task_fitness, reduce_fitness

    source = load_source(Path(run_dir))
    config = source.config
    start, name = None, ""
    if config is not None and config.algorithm.initial not in ("random", "no_op"):
        name = config.algorithm.initial
        start = load_program(name, "algorithm.initial")
    score = None
    if config is not None:
        tasks = final_tasks(config, split, n or (config.tasks.select if split == "select" else config.tasks.final))
        batch = TaskBatch.from_tasks(tasks)

        def score(programs):
            from primitives.memory import MemorySpec

            need = [p.required_memory().as_tuple() for p in programs] + [source.memory.as_tuple()]
            memory = MemorySpec(*(max(x[i] for x in need) for i in range(3)))
            per_task, _ = per_task_fitness(programs, batch, memory,
                                           max_abs_error=config.evaluation.max_abs_error)
            return reduce_fitness(per_task, config.evaluation.reduction)
    return what_changed(source.program, start, name, score)
