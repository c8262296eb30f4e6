"""Live-code keys (:func:`primitives.liveness.live_keys`) and the FEC passes they let a child skip
(:class:`evolve.evaluation.fec.LiveKeyHashes`, ``SearchEvaluator._fec_hashes``).

Semantics checked against slow, obvious references:
- two programs get the same key exactly when their *canonical live code* is the same: the
  instructions :func:`primitives.prune.prune` keeps (the readable liveness reference), each
  with the fields its op does not read set to 0, and the pruned component sizes;
- skipping passes changes no hash: the evaluator's FEC hashes equal the interpreter's own hashes
  of running every program's pass, however many passes were skipped or forgotten.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from evolve.evaluation.evaluator import SearchEvaluator
from evolve.evaluation.fec import LiveKeyHashes
from evolve.evaluation.scoring import TaskBatch, packed_form, per_task_fitness_packed
from primitives.generate import random_instruction, random_program, usable_ops
from primitives.liveness import OP_TABLE, live_keys
from primitives.memory import MemorySpec
from primitives.ops import OPS
from primitives.program import Program
from primitives.prune import live_instructions, prune
from problems.registry import get_tasks, make_suite

MEMORY = MemorySpec(4, 3, 2)
ALL = usable_ops([op.code for op in OPS], MEMORY)
OPS_BY_CODE = {op.code: op for op in OPS}


def keys_of(programs: list[Program], memory: MemorySpec = MEMORY) -> list[tuple[int, int]]:
    code, data, bounds = packed_form(programs)
    keys = np.zeros((len(programs), 2), dtype=np.uint64)
    live_keys(code, data.view(np.uint64), bounds, memory.scalars, memory.vectors, memory.matrices,
              OP_TABLE, keys)
    return [tuple(k) for k in keys.tolist()]


def canonical(program: Program) -> tuple:
    """The reference: pruned rows with unread fields zeroed (constants compared by bit pattern,
    so 0.0 and -0.0 differ, as they may in what the program computes), and the sizes."""
    pruned = prune(program)
    rows = []
    for row, consts in zip(pruned.instructions.tolist(), pruned.constants, strict=True):
        op = OPS_BY_CODE[row[0]]
        used = len(op.constants)
        rows.append((
            row[0],
            row[1] if len(op.inputs) >= 1 else 0,
            row[2] if len(op.inputs) >= 2 else 0,
            row[3] if op.output is not None else 0,
            tuple(np.asarray(consts[:used], dtype=np.float64).view(np.uint64).tolist()),
        ))
    return tuple(rows), tuple(int(s) for s in pruned.sizes)


def edited(program: Program, index: int, rng: np.random.Generator) -> Program:
    """``program`` with instruction ``index`` replaced by a random one."""
    child = program.copy()
    row, consts = random_instruction(ALL, MEMORY, rng)
    child.instructions[index] = row
    child.constants[index] = consts
    return child


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_the_key_is_the_canonical_live_code(seed):
    rng = np.random.default_rng(seed)
    base = random_program((4, 3, 5), [ALL] * 3, MEMORY, rng)
    variants = [base]
    live = live_instructions(base)
    for index in range(len(base)):
        variants.append(edited(base, index, rng))  # live or dead: the reference decides
        if not live[index]:
            variants.append(edited(base, index, rng))
    # an unread field changed: in2 of a one-input op, constants of an op without any
    for index, row in enumerate(base.instructions.tolist()):
        op = OPS_BY_CODE[row[0]]
        child = base.copy()
        if len(op.inputs) < 2:
            child.instructions[index, 2] = (row[2] + 1) % 2
        if not op.constants:
            child.constants[index] = child.constants[index] + 0.5
        variants.append(child)
    keys = keys_of(variants)
    forms = [canonical(v) for v in variants]
    for i in range(len(variants)):
        for j in range(i + 1, len(variants)):
            assert (keys[i] == keys[j]) == (forms[i] == forms[j]), (i, j)
    assert len(set(keys)) == len(set(forms))


def _batch(n_tasks: int = 3) -> TaskBatch:
    return TaskBatch.from_tasks(get_tasks(make_suite("linear", {}), "search", n_tasks, 0))


def _children(rng: np.random.Generator, n: int) -> list[Program]:
    """Random programs, their dead-code variants and exact copies, shuffled."""
    programs = [random_program((4, 3, 5), [ALL] * 3, MEMORY, rng) for _ in range(n)]
    out = list(programs)
    for p in programs:
        dead = np.flatnonzero(~live_instructions(p))
        if dead.size:
            out.append(edited(p, int(dead[0]), rng))
        out.append(p.copy())
    return [out[i] for i in rng.permutation(len(out))]


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from([1, 3, 1000]))
def test_skipped_passes_give_the_hashes_of_running_every_pass(seed, kept):
    rng = np.random.default_rng(seed)
    batch = _batch()
    evaluator = SearchEvaluator(batch, MEMORY, fec=True)
    evaluator.live_hashes = LiveKeyHashes(kept)  # small: forgotten keys must run again, same hash
    passes = 0
    for _ in range(3):
        children = _children(rng, 6)
        code, data, bounds = packed_form(children)
        _, expected = per_task_fitness_packed(code, data, bounds, evaluator.head, MEMORY, record=True)
        got = evaluator._fec_hashes(code, data, bounds)
        np.testing.assert_array_equal(got, expected)
        passes = evaluator.fec_passes
    assert passes < 3 * 6 * 3  # copies and dead-code variants did not all run


def test_a_full_table_is_emptied_and_lookups_stay_right():
    table = LiveKeyHashes(4)
    keys = np.array([[k, k * 7 + 1] for k in range(1, 7)], dtype=np.uint64)
    table.insert(keys[:4], np.arange(4, dtype=np.uint64) + 100)
    hashes, found = table.lookup(keys)
    assert found.tolist() == [True] * 4 + [False] * 2 and hashes[:4].tolist() == [100, 101, 102, 103]
    table.insert(keys[4:], np.array([104, 105], dtype=np.uint64))  # 6 > 4: emptied first
    hashes, found = table.lookup(keys)
    assert found.tolist() == [False] * 4 + [True] * 2 and hashes[4:].tolist() == [104, 105]
    other = np.array([[1, 999]], dtype=np.uint64)  # same first word, other second: not a hit
    table.insert(keys[:1], np.array([7], dtype=np.uint64))
    assert table.lookup(other)[1].tolist() == [False] and len(table) == 3
