"""Random instructions and programs, derived from the op table (AutoML-Zero §3, "random" init).

Addresses are uniform over the memory of their kind (outputs from the first writable address);
constants are drawn as the op table says: values, uniform bounds and Gaussian means ~ U(-1, 1),
Gaussian std ~ U(0, 1), const-set index fractions ~ U(0, 1). Randomness is an argument: a
``numpy.random.Generator`` or a ``random.Random`` (faster per call, used by the mutator).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

from primitives.memory import FIRST_OUT_ADDRESS, MemorySpec, ProgramError
from primitives.ops import CONST_RANGES, OPS
from primitives.program import Program

Rng = np.random.Generator | random.Random


def _below(rng: Rng, low: int, high: int) -> int:
    """An integer in [low, high) from either a ``numpy.random.Generator`` or a ``random.Random``."""
    if isinstance(rng, random.Random):
        return rng.randrange(low, high)
    return int(rng.integers(low, high))


def random_constants(code: int, rng: Rng) -> np.ndarray:
    """Fresh constants for op ``code`` (unused slots 0)."""
    consts = np.zeros(3)
    for i, kind in enumerate(OPS[code].constants):
        low, high = CONST_RANGES[kind]
        consts[i] = low + (high - low) * rng.random()
    return consts


def random_address(kind: int, memory: MemorySpec, rng: Rng, output: bool) -> int:
    low = FIRST_OUT_ADDRESS[kind] if output else 0
    size = memory.size(kind)
    if size <= low:
        raise ProgramError(f"memory has no writable {('s', 'v', 'm')[kind]} address")
    return _below(rng, low, size)


def random_instruction(
    ops: Sequence[int], memory: MemorySpec, rng: Rng
) -> tuple[np.ndarray, np.ndarray]:
    """A random instruction ``(row (4,), constants (3,))`` with an op drawn from ``ops``."""
    code = int(ops[_below(rng, 0, len(ops))])
    return random_instruction_for(code, memory, rng)


def random_instruction_for(
    code: int, memory: MemorySpec, rng: Rng
) -> tuple[np.ndarray, np.ndarray]:
    """A random instruction with op ``code``: random addresses and constants."""
    op = OPS[code]
    row = np.zeros(4, dtype=np.int64)
    row[0] = code
    for slot, kind in enumerate(op.inputs):
        row[1 + slot] = random_address(kind, memory, rng, output=False)
    if op.output is not None:
        row[3] = random_address(op.output, memory, rng, output=True)
    return row, random_constants(code, rng)


def random_program(
    sizes: Sequence[int],
    ops: Sequence[Sequence[int]],
    memory: MemorySpec,
    rng: Rng,
) -> Program:
    """A program with ``sizes[c]`` random instructions drawn from ``ops[c]`` in component ``c``."""
    rows, consts = [], []
    for size, allowed in zip(sizes, ops, strict=True):
        for _ in range(size):
            row, c = random_instruction(allowed, memory, rng)
            rows.append(row)
            consts.append(c)
    instructions = np.array(rows, dtype=np.int64).reshape(-1, 4)
    constants = np.array(consts, dtype=np.float64).reshape(-1, 3)
    return Program(instructions, constants, sizes)


def usable_ops(ops: Sequence[int], memory: MemorySpec) -> list[int]:
    """The ops of ``ops`` whose operands and output fit in ``memory`` (e.g. no matrix ops with M=0)."""
    usable = []
    for code in ops:
        op = OPS[code]
        kinds = [*op.inputs] + ([op.output] if op.output is not None else [])
        out_ok = op.output is None or memory.size(op.output) > FIRST_OUT_ADDRESS[op.output]
        if out_ok and all(memory.size(k) > 0 for k in kinds):
            usable.append(int(code))
    return usable
