"""Dead-code elimination by liveness over AutoML-Zero's execution loop.

The executor runs ``Setup -> (Predict -> Learn)* -> Predict`` where the validation examples add
``Predict -> Predict`` edges (Real et al. 2020, §3). The only
observation is ``s1`` after every Predict. Liveness is computed per register ``(kind, address)``
backwards to a fixed point over the loop::

    out(Setup)   = entry(Predict)
    out(Predict) = {s1} ∪ entry(Learn) ∪ entry(Predict)
    out(Learn)   = entry(Predict)
    entry(C)     = in(C) minus {s0, v0}        (the executor writes them before each component)

An instruction is kept if it writes a register live after it. Const-set ops (OP57, OP58) write one
element, so they also read their output and never kill it. Random ops (OP59-OP64) advance the
task's random stream, modelled as a pseudo-register read and written by each: a random op whose
result is dead stays when a later kept random op would otherwise draw different numbers.
"""

from __future__ import annotations

import numpy as np

from primitives.memory import (
    FEATURES_VECTOR_ADDRESS,
    LABEL_SCALAR_ADDRESS,
    PREDICTION_SCALAR_ADDRESS,
    SCALAR,
    VECTOR,
)
from primitives.ops import OPS
from primitives.program import LEARN, PREDICT, SETUP, Program

Register = tuple  # (kind, address), or RNG
RNG: Register = ("rng",)
LABEL: Register = (SCALAR, LABEL_SCALAR_ADDRESS)
PREDICTION: Register = (SCALAR, PREDICTION_SCALAR_ADDRESS)
FEATURES: Register = (VECTOR, FEATURES_VECTOR_ADDRESS)
EXECUTOR_WRITTEN = frozenset({LABEL, FEATURES})


def reads_writes(row: np.ndarray) -> tuple[set, set, set]:
    """``(uses, defs, kills)`` of one instruction row ``(op, in1, in2, out)``."""
    op = OPS[int(row[0])]
    uses = {(kind, int(row[1 + slot])) for slot, kind in enumerate(op.inputs)}
    defs: set = set()
    kills: set = set()
    if op.output is not None:
        out = (op.output, int(row[3]))
        defs.add(out)
        if op.partial_write:
            uses.add(out)
        else:
            kills.add(out)
    if op.random:
        uses.add(RNG)
        defs.add(RNG)
    return uses, defs, kills


def _backward(instructions: np.ndarray, live_out: set) -> tuple[set, list[bool]]:
    """Live set at component entry and which instructions are kept, given the live set at exit."""
    live = set(live_out)
    keep = [False] * len(instructions)
    for k in range(len(instructions) - 1, -1, -1):
        uses, defs, kills = reads_writes(instructions[k])
        if defs & live:
            keep[k] = True
            live -= kills
            live |= uses
    return live, keep


def liveness(program: Program) -> dict[str, set]:
    """Registers live at the exit of each component at the fixed point (keys setup/predict/learn)."""
    parts = [program.component(c)[0] for c in (SETUP, PREDICT, LEARN)]
    out = {SETUP: set(), PREDICT: {PREDICTION}, LEARN: set()}
    while True:
        entry_predict = _backward(parts[PREDICT], out[PREDICT])[0] - EXECUTOR_WRITTEN
        entry_learn = _backward(parts[LEARN], out[LEARN])[0] - EXECUTOR_WRITTEN
        new = {
            SETUP: set(entry_predict),
            PREDICT: {PREDICTION} | entry_learn | entry_predict,
            LEARN: set(entry_predict),
        }
        if new == out:
            return {"setup": out[SETUP], "predict": out[PREDICT], "learn": out[LEARN]}
        out = new


def live_instructions(program: Program) -> np.ndarray:
    """Boolean mask over ``program.instructions``: True for instructions that affect predictions."""
    live_out = liveness(program)
    mask = []
    for c, name in zip((SETUP, PREDICT, LEARN), ("setup", "predict", "learn"), strict=True):
        mask.extend(_backward(program.component(c)[0], live_out[name])[1])
    return np.array(mask, dtype=bool)


def prune(program: Program) -> Program:
    """The program without dead code; it evaluates exactly as ``program`` on every task."""
    mask = live_instructions(program)
    sizes = []
    start = 0
    for size in program.sizes:
        sizes.append(int(mask[start:start + size].sum()))
        start += size
    return Program(
        np.ascontiguousarray(program.instructions[mask]),
        np.ascontiguousarray(program.constants[mask]),
        sizes,
    )
