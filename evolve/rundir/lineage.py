"""Lineage, as recorded: the chain of ancestors of the best programs and the mutation at each step.

During regularized evolution every child keeps a reference to the individual it was bred from
(``child.parent``, set by :func:`evolve.search.evolution.link_parents`; one attribute per child, no
copies). Only ancestors of living individuals stay in memory, and of these only the ones still
reachable from the population, the hall of fame or the best candidate. Checkpoints hold that
ancestry as a table (:func:`lineage_to_arrays`), so a resumed run keeps it.

The mutation of a step is read from the parent → child difference (AutoML-Zero §3 mutation
types): equal programs are a ``copy`` (not mutated, or a mutation without effect); one instruction
changed keeps its op under ``alter_param`` and changes it under ``randomize_instruction`` (so a
redrawn instruction that happens to keep its op reads as ``alter_param``); one component longer or
shorter by one is ``insert``/``remove``; two rows exchanged is ``trade``; several rows of one
component ``randomize_component``; anything else ``randomize_algorithm``.

A run directory's ``lineage.csv`` lists, for the best program (``best``) and each hall-of-fame
rank (``hof1``, ``hof2`` ...), the steps from its initial ancestor: ``id`` (shared by programs
with a common ancestor), ``parent_id``, ``mutation``, ``fitness``, ``copies`` (consecutive
unchanged copies folded into the step) and ``changed`` (the instruction that changed).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evolve.errors import EvolveError
from evolve.rundir.schema import LINEAGE
from primitives.program import COMPONENT_TITLES, Program
from primitives.text import format_instruction
from problems.files import DATA_LIMIT, UnreadableFileError, read_text

LINEAGE_FILE = LINEAGE
FIELDS = ("program", "step", "id", "parent_id", "mutation", "fitness", "copies", "changed")


def ancestry(individual: Program) -> list[Program]:
    """The individual's ancestors, the initial one first, the individual last."""
    chain = [individual]
    seen = {id(individual)}
    node = getattr(individual, "parent", None)
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        chain.append(node)
        node = getattr(node, "parent", None)
    chain.reverse()
    return chain


def _fitness(ind: Program) -> float:
    values = getattr(getattr(ind, "fitness", None), "wvalues", ())
    return float(values[0]) if values else float("nan")


def _rows(program: Program, component: int) -> list[tuple]:
    code, data = program.component(component)
    return [tuple(code[k].tolist()) + tuple(data[k].tolist()) for k in range(len(code))]


def _text(program: Program, component: int, position: int) -> str:
    code, data = program.component(component)
    consts = np.array([float(f"{c:.4g}") for c in data[position]])
    return format_instruction(code[position], consts)


def infer_mutation(parent: Program, child: Program) -> tuple[str, str]:
    """``(mutation kind, what changed)`` from the parent → child difference (module doc)."""
    if parent == child:
        return "copy", ""
    changed = [c for c in range(3) if _rows(parent, c) != _rows(child, c)]
    if len(changed) != 1:
        return "randomize_algorithm", f"{len(changed)} components changed"
    c = changed[0]
    title = COMPONENT_TITLES[c]
    old, new = _rows(parent, c), _rows(child, c)
    if len(new) == len(old) + 1 or len(new) == len(old) - 1:
        longer, shorter = (new, old) if len(new) > len(old) else (old, new)
        k = next((i for i in range(len(shorter)) if longer[i] != shorter[i]), len(shorter))
        if longer[:k] + longer[k + 1:] == shorter:
            if len(new) > len(old):
                return "insert", f"{title} {k + 1}: + {_text(child, c, k)}"
            return "remove", f"{title} {k + 1}: − {_text(parent, c, k)}"
    if len(new) != len(old):
        return "randomize_component", f"{title}: {len(old)} → {len(new)} instructions"
    diff = [k for k in range(len(new)) if new[k] != old[k]]
    if len(diff) == 1:
        k = diff[0]
        kind = "alter_param" if new[k][0] == old[k][0] else "randomize_instruction"
        return kind, f"{title} {k + 1}: {_text(parent, c, k)} → {_text(child, c, k)}"
    if len(diff) == 2 and new[diff[0]] == old[diff[1]] and new[diff[1]] == old[diff[0]]:
        return "trade", f"{title} {diff[0] + 1} ↔ {diff[1] + 1}"
    return "randomize_component", f"{title}: {len(diff)} of {len(new)} instructions redrawn"


def _same(a: Program, b: Program) -> bool:
    return a is b or (a.sizes == b.sizes and a.instructions.tobytes() == b.instructions.tobytes()
                      and a.constants.tobytes() == b.constants.tobytes())


@dataclass
class Step:
    program: str
    step: int
    id: int
    parent_id: int
    mutation: str
    fitness: float
    copies: int
    changed: str


def lineage_steps(named: Sequence[tuple[str, Program]]) -> list[Step]:
    """Steps of each named individual's ancestry; consecutive equal programs fold into one step.
    Ids number distinct ancestors in order of first appearance, shared between programs."""
    ids: dict[int, int] = {}
    inferred: dict[tuple[int, int], tuple[str, str]] = {}  # chains share most of their steps
    steps = []
    for name, individual in named:
        chain = ancestry(individual)
        kept: list[tuple[Program, int]] = []  # (node, copies folded into it)
        for node in chain:
            if kept and _same(kept[-1][0], node):
                kept[-1] = (kept[-1][0], kept[-1][1] + 1)
            else:
                kept.append((node, 0))
        previous = None
        for n, (node, copies) in enumerate(kept):
            key = id(node)
            if key not in ids:
                ids[key] = len(ids)
            if previous is None:
                kind, what = "initial", ""
            else:
                pair = (id(previous), id(node))
                if pair not in inferred:
                    inferred[pair] = infer_mutation(previous, node)
                kind, what = inferred[pair]
            steps.append(Step(name, n, ids[key], -1 if previous is None else ids[id(previous)],
                              kind, _fitness(node), copies, what))
            previous = node
    return steps


def write_lineage(run_dir: Path, named: Sequence[tuple[str, Program]]) -> Path:
    """Write ``lineage.csv`` (atomically) for the named individuals."""
    from evolve.rundir.store import atomic_write_text

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FIELDS)
    for s in lineage_steps(named):
        writer.writerow([s.program, s.step, s.id, s.parent_id, s.mutation, repr(s.fitness),
                         s.copies, s.changed])
    path = Path(run_dir) / LINEAGE_FILE
    atomic_write_text(path, buffer.getvalue())
    return path


def record_lineage(run_dir: Path, best: Program | None, hall: Sequence[Program]) -> Path | None:
    """Write ``lineage.csv`` for the best candidate and the hall of fame, when the search bred
    them (regularized evolution); random search and NSGA-II runs have none."""
    named = ([("best", best)] if best is not None else [])
    named += [(f"hof{rank}", ind) for rank, ind in enumerate(hall, 1)]
    if not any(getattr(ind, "parent", None) is not None for _, ind in named):
        return None
    return write_lineage(run_dir, named)


def read_lineage(run_dir: Path) -> list[Step]:
    """The steps of a run directory's ``lineage.csv``; a clear error when absent or malformed."""
    path = Path(run_dir) / LINEAGE_FILE
    if not path.is_file():
        raise EvolveError(f"{run_dir}: no {LINEAGE_FILE} (runs record lineage since this "
                          "version, for one-population regularized evolution)")
    steps = []
    try:
        with io.StringIO(read_text(path, limit=DATA_LIMIT, what="lineage log"), newline="") as f:
            reader = csv.DictReader(f)
            if tuple(reader.fieldnames or ()) != FIELDS:
                raise EvolveError(f"{path}: header {reader.fieldnames}; expected {list(FIELDS)}")
            for n, row in enumerate(reader, 2):
                try:
                    steps.append(Step(row["program"], int(row["step"]), int(row["id"]),
                                      int(row["parent_id"]), row["mutation"],
                                      float(row["fitness"]), int(row["copies"]), row["changed"]))
                except (TypeError, ValueError) as error:
                    raise EvolveError(f"{path} line {n}: {error}; expected {', '.join(FIELDS)} "
                                      "(integers but mutation, fitness and changed)") from None
    except UnreadableFileError as error:
        raise EvolveError(str(error)) from None
    except csv.Error as error:
        raise EvolveError(f"{path}: not a CSV file ({error})") from None
    if not steps:
        raise EvolveError(f"{path}: no steps")
    return steps


# ------------------------------------------------------------------------------ checkpoints

def lineage_to_arrays(groups: dict[str, Sequence[Program]]) -> dict[str, np.ndarray]:
    """The ancestry of the individuals in ``groups`` as checkpoint arrays: distinct nodes, ancestors
    first (``lineage_*`` programs, ``lineage_parent`` index or -1, ``lineage_fitness``) and, per
    group, the node index of each individual (``lineage_of_<group>``)."""
    from evolve.rundir.store import programs_to_arrays

    index: dict[int, int] = {}
    nodes: list[Program] = []
    parents: list[int] = []
    of: dict[str, list[int]] = {}
    for name, individuals in groups.items():
        of[name] = []
        for ind in individuals:
            segment = []  # walk up only to the first ancestor already in the table
            node = ind
            while node is not None and id(node) not in index:
                segment.append(node)
                node = getattr(node, "parent", None)
            for node in reversed(segment):
                index[id(node)] = len(nodes)
                parent = getattr(node, "parent", None)
                parents.append(index[id(parent)] if parent is not None else -1)
                nodes.append(node)
            of[name].append(index[id(ind)])
    arrays = programs_to_arrays(nodes, "lineage")
    arrays["lineage_parent"] = np.array(parents, dtype=np.int64)
    arrays["lineage_fitness"] = np.array([_fitness(n) for n in nodes], dtype=np.float64)
    for name, idx in of.items():
        arrays[f"lineage_of_{name}"] = np.array(idx, dtype=np.int64)
    return arrays


def restore_lineage(arrays: dict[str, np.ndarray], groups: dict[str, Sequence[Program]],
                    memory=None) -> dict[str, list[Program]]:
    """Give the restored individuals of ``groups`` their ancestors back (``.parent``) from
    checkpoint arrays. Each individual takes the place of its node, so that one individual is one
    object as in the uninterrupted run; returns per group the objects that stand for the given
    individuals (an individual that was the same object as an earlier group's one is that one).
    Nothing happens without a lineage table. ValueError when the table is malformed or does not
    match the individuals."""
    if "lineage_parent" not in arrays:
        return {name: list(individuals) for name, individuals in groups.items()}
    from evolve.rundir.store import programs_from_arrays
    from evolve.search.evolution import as_individual

    programs = programs_from_arrays(arrays, "lineage", memory)
    parent = np.asarray(arrays["lineage_parent"])
    fitness = np.asarray(arrays["lineage_fitness"])
    n = len(programs)
    if parent.shape != (n,) or fitness.shape != (n,) or parent.dtype.kind != "i" \
            or fitness.dtype.kind != "f" or np.any(parent >= np.arange(n)) or np.any(parent < -1):
        raise ValueError("lineage arrays are inconsistent (parents must come before children)")
    objects: list[Program | None] = [None] * n
    chosen: dict[str, list[Program]] = {}
    for name, individuals in groups.items():
        key = f"lineage_of_{name}"
        idx = np.asarray(arrays.get(key, np.zeros(0, np.int64)))
        if idx.dtype.kind != "i" or idx.shape != (len(individuals),) or np.any(idx < 0) \
                or np.any(idx >= n):
            raise ValueError(f"{key} does not index the lineage table for {len(individuals)} "
                             "individuals")
        chosen[name] = []
        for ind, i in zip(individuals, idx.tolist(), strict=True):
            if programs[i] != ind:
                raise ValueError(f"{key}: lineage node {i} is not the restored program")
            if objects[i] is None:
                objects[i] = ind
            chosen[name].append(objects[i])
    for i, (program, fit) in enumerate(zip(programs, fitness.tolist(), strict=True)):
        if objects[i] is None:
            objects[i] = as_individual(program, float(fit))
        if parent[i] >= 0:
            objects[i].parent = objects[int(parent[i])]
    return chosen


# ------------------------------------------------------------------------------ views
