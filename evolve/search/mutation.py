"""Mutations (AutoML-Zero §3, "Mutations"; Supplementary S1 lists the types).

Each mutation takes a program copy, a :class:`SearchSpace` and a random stream (anything with
``random()`` and ``gauss(mu, sigma)``: a :class:`primitives.rng.Stream` in campaigns, so that the
jitted twin in :mod:`evolve.search.mutation_kernel` draws the same numbers) and edits the copy in place (returning it): ``alter_param`` changes one address or constant of one instruction;
``randomize_instruction`` replaces one instruction; ``randomize_component`` replaces a whole
component (same size); ``insert``/``remove`` add or delete one instruction within the size
bounds; ``trade`` swaps two instructions of one component; ``identity`` changes nothing;
``randomize_algorithm`` draws a whole new program. Constants mutate multiplicatively in log
space, ``c <- c * exp(N(0, 0.5))``, with a 10% chance of a sign flip; const-set index fractions
are redrawn. A mutation that cannot apply (e.g. insert at the maximum size) leaves the program as is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from primitives.memory import FIRST_OUT_ADDRESS, MemorySpec
from primitives.ops import CONST_INDEX, CONST_RANGES, CONST_STD, OPS
from primitives.program import Program

Rng = Any  # ``random.Random`` or ``primitives.rng.Stream``: ``random()`` and ``gauss(mu, sigma)``

SIGN_FLIP_PROB = 0.1
LOG_SCALE_STD = 0.5


@dataclass(frozen=True)
class SearchSpace:
    """Allowed ops and size bounds per component (Setup, Predict, Learn), and the memory."""

    ops: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]
    init_sizes: tuple[int, int, int]
    min_sizes: tuple[int, int, int]
    max_sizes: tuple[int, int, int]
    memory: MemorySpec

    def __post_init__(self) -> None:
        # Per component, per allowed op: (code, input bank sizes, first out address, out span,
        # constant (low, span) ranges); drawing from these costs a few ``rng.random()`` calls.
        templates = []
        for allowed in self.ops:
            rows = []
            for code in allowed:
                op = OPS[code]
                inputs = tuple(self.memory.size(k) for k in op.inputs)
                out_low = FIRST_OUT_ADDRESS[op.output] if op.output is not None else 0
                out_span = self.memory.size(op.output) - out_low if op.output is not None else 0
                consts = tuple(
                    (CONST_RANGES[k][0], CONST_RANGES[k][1] - CONST_RANGES[k][0]) for k in op.constants
                )
                rows.append((code, inputs, out_low, out_span, consts))
            templates.append(tuple(rows))
        object.__setattr__(self, "_templates", tuple(templates))

    def random_instruction(self, component: int, rng: Rng) -> tuple[list[int], list[float]]:
        """A random instruction of the component's allowed ops: uniform op, addresses, constants."""
        r = rng.random
        templates = self._templates[component]
        code, inputs, out_low, out_span, consts = templates[int(r() * len(templates))]
        row = [code, 0, 0, 0]
        for i, size in enumerate(inputs):
            row[1 + i] = int(r() * size)
        if out_span:
            row[3] = out_low + int(r() * out_span)
        values = [0.0, 0.0, 0.0]
        for i, (low, span) in enumerate(consts):
            values[i] = low + span * r()
        return row, values

    def random_component(self, component: int, size: int, rng: Rng) -> tuple[np.ndarray, np.ndarray]:
        rows, values = [], []
        for _ in range(size):
            row, consts = self.random_instruction(component, rng)
            rows.append(row)
            values.append(consts)
        return (np.array(rows, dtype=np.int64).reshape(size, 4),
                np.array(values, dtype=np.float64).reshape(size, 3))

    def random_program(self, rng: Rng) -> Program:
        parts = [self.random_component(c, self.init_sizes[c], rng) for c in range(3)]
        return Program(
            np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), self.init_sizes
        )

    def no_op_program(self) -> Program:
        n = sum(self.init_sizes)
        return Program(np.zeros((n, 4), np.int64), np.zeros((n, 3)), self.init_sizes)


def _below(rng: Rng, n: int) -> int:
    """An integer in [0, n): one ``random()`` call (much cheaper than ``randrange``)."""
    return int(rng.random() * n)


def _pick_component(program: Program, rng: Rng, predicate: Callable[[int], bool]) -> int:
    candidates = [c for c in range(3) if predicate(c)]
    return candidates[_below(rng, len(candidates))] if candidates else -1


def mutate_constant(value: float, kind: str, rng: Rng) -> float:
    """Log-space multiplicative step with a 10% sign flip; index fractions are redrawn."""
    if kind == CONST_INDEX:
        return rng.random()
    if value == 0.0:
        return -1.0 + 2.0 * rng.random() if kind != CONST_STD else rng.random()
    value *= math.exp(rng.gauss(0.0, LOG_SCALE_STD))
    if kind != CONST_STD and rng.random() < SIGN_FLIP_PROB:
        value = -value
    return value


def alter_param(program: Program, space: SearchSpace, rng: Rng) -> Program:
    """Change one address or one constant of a random instruction (AutoML-Zero ALTER_PARAM)."""
    c = _pick_component(program, rng, lambda i: program.sizes[i] > 0)
    if c < 0:
        return program
    k = program.component_slice(c).start + _below(rng, program.sizes[c])
    row = program.instructions[k]
    op = OPS[int(row[0])]
    choices = [("in", i) for i in range(len(op.inputs))]
    if op.output is not None:
        choices.append(("out", 0))
    choices += [("const", i) for i in range(len(op.constants))]
    if not choices:  # no_op: nothing to alter
        return program
    what, i = choices[_below(rng, len(choices))]
    memory = space.memory
    if what == "in":
        row[1 + i] = _below(rng, memory.size(op.inputs[i]))
    elif what == "out":
        low = FIRST_OUT_ADDRESS[op.output]
        row[3] = low + _below(rng, memory.size(op.output) - low)
    else:
        program.constants[k, i] = mutate_constant(float(program.constants[k, i]), op.constants[i], rng)
    return program


def randomize_instruction(program: Program, space: SearchSpace, rng: Rng) -> Program:
    """Replace one instruction by a random one of the component's allowed ops."""
    c = _pick_component(program, rng, lambda i: program.sizes[i] > 0)
    if c < 0:
        return program
    k = program.component_slice(c).start + _below(rng, program.sizes[c])
    row, consts = space.random_instruction(c, rng)
    program.instructions[k] = row
    program.constants[k] = consts
    return program


def randomize_component(program: Program, space: SearchSpace, rng: Rng) -> Program:
    """Replace every instruction of one component by random ones (its size is kept)."""
    c = _pick_component(program, rng, lambda i: program.sizes[i] > 0)
    if c < 0:
        return program
    sl = program.component_slice(c)
    program.instructions[sl], program.constants[sl] = space.random_component(c, program.sizes[c], rng)
    return program


def insert(program: Program, space: SearchSpace, rng: Rng) -> Program:
    """Insert a random instruction at a random position, if below the component's maximum size."""
    c = _pick_component(program, rng, lambda i: program.sizes[i] < space.max_sizes[i])
    if c < 0:
        return program
    sl = program.component_slice(c)
    k = sl.start + _below(rng, program.sizes[c] + 1)
    row, consts = space.random_instruction(c, rng)
    program.instructions = np.insert(program.instructions, k, row, axis=0)
    program.constants = np.insert(program.constants, k, consts, axis=0)
    program.sizes = _resized(program.sizes, c, +1)
    return program


def remove(program: Program, space: SearchSpace, rng: Rng) -> Program:
    """Remove a random instruction, if above the component's minimum size."""
    c = _pick_component(program, rng, lambda i: program.sizes[i] > max(space.min_sizes[i], 0))
    if c < 0:
        return program
    k = program.component_slice(c).start + _below(rng, program.sizes[c])
    program.instructions = np.delete(program.instructions, k, axis=0)
    program.constants = np.delete(program.constants, k, axis=0)
    program.sizes = _resized(program.sizes, c, -1)
    return program


def trade(program: Program, space: SearchSpace, rng: Rng) -> Program:
    """Swap two random instructions of one component."""
    c = _pick_component(program, rng, lambda i: program.sizes[i] > 1)
    if c < 0:
        return program
    start = program.component_slice(c).start
    i = start + _below(rng, program.sizes[c])
    j = start + _below(rng, program.sizes[c])
    program.instructions[[i, j]] = program.instructions[[j, i]]
    program.constants[[i, j]] = program.constants[[j, i]]
    return program


def identity(program: Program, space: SearchSpace, rng: Rng) -> Program:
    """No change (keeps a copy of the parent in the population, as AutoML-Zero's IDENTITY)."""
    return program


def randomize_algorithm(program: Program, space: SearchSpace, rng: Rng) -> Program:
    """A whole new random program of the initial sizes."""
    fresh = space.random_program(rng)
    program.instructions, program.constants, program.sizes = (
        fresh.instructions, fresh.constants, fresh.sizes,
    )
    return program


def _resized(sizes: tuple[int, ...], component: int, delta: int) -> tuple[int, int, int]:
    new = list(sizes)
    new[component] += delta
    return (new[0], new[1], new[2])


MUTATORS: dict[str, Callable[[Program, SearchSpace, Rng], Program]] = {
    "alter_param": alter_param,
    "randomize_instruction": randomize_instruction,
    "randomize_component": randomize_component,
    "insert": insert,
    "remove": remove,
    "trade": trade,
    "identity": identity,
    "randomize_algorithm": randomize_algorithm,
}


def mutate(
    program: Program, space: SearchSpace, mutations: Sequence[str], rng: Rng
) -> Program:
    """Apply one mutation drawn uniformly from ``mutations`` to ``program`` (in place)."""
    return MUTATORS[mutations[_below(rng, len(mutations))]](program, space, rng)
