"""Programs: Setup, Predict and Learn as compact arrays (AutoML-Zero §3, Figure 1).

A program is stored flat: ``instructions`` (N, 4) int64 rows ``(op, in1, in2, out)``, ``constants``
(N, 3) float64 rows (the op's constants in the order of :attr:`primitives.ops.Op.constants`, unused
slots 0), and ``sizes`` = (n_setup, n_predict, n_learn). Unused address slots are 0. This is the
form the interpreter consumes (after :func:`pack`) and the mutator edits.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np

from primitives.memory import (
    FIRST_OUT_ADDRESS,
    KIND_LETTERS,
    KIND_NAMES,
    MemorySpec,
    ProgramError,
)
from primitives.ops import CONST_INDEX, OPS

COMPONENTS = ("setup", "predict", "learn")
COMPONENT_TITLES = ("Setup", "Predict", "Learn")
SETUP, PREDICT, LEARN = 0, 1, 2


class Program:
    """One algorithm: three component functions over the shared memory."""

    __slots__ = ("constants", "instructions", "sizes")

    def __init__(self, instructions: np.ndarray, constants: np.ndarray, sizes: Sequence[int]):
        self.instructions = instructions
        self.constants = constants
        self.sizes = tuple(int(s) for s in sizes)

    @classmethod
    def from_components(cls, components: Sequence[Sequence[tuple]]) -> Program:
        """Build from three lists of ``(op, in1, in2, out, c0, c1, c2)`` tuples (constants optional)."""
        if len(components) != 3:
            raise ProgramError(f"a program has 3 components, got {len(components)}")
        rows, consts, sizes = [], [], []
        for component in components:
            sizes.append(len(component))
            for instr in component:
                rows.append([int(v) for v in instr[:4]])
                c = [float(v) for v in instr[4:7]]
                consts.append(c + [0.0] * (3 - len(c)))
        instructions = np.array(rows, dtype=np.int64).reshape(-1, 4)
        constants = np.array(consts, dtype=np.float64).reshape(-1, 3)
        return cls(instructions, constants, sizes)

    @classmethod
    def empty(cls) -> Program:
        return cls(np.zeros((0, 4), np.int64), np.zeros((0, 3)), (0, 0, 0))

    def component_slice(self, index: int) -> slice:
        start = sum(self.sizes[:index])
        return slice(start, start + self.sizes[index])

    def component(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Views ``(instructions, constants)`` of component ``index`` (0 Setup, 1 Predict, 2 Learn)."""
        sl = self.component_slice(index)
        return self.instructions[sl], self.constants[sl]

    def copy(self) -> Program:
        return type(self)(self.instructions.copy(), self.constants.copy(), self.sizes)

    def __len__(self) -> int:
        return int(self.instructions.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Program):
            return NotImplemented
        return (
            self.sizes == other.sizes
            and np.array_equal(self.instructions, other.instructions)
            and np.array_equal(self.constants, other.constants)
        )

    __hash__ = None  # mutable

    def key(self) -> bytes:
        """Exact identity of the program (for caches and deduplication)."""
        return (
            np.asarray(self.sizes, np.int64).tobytes()
            + self.instructions.tobytes()
            + self.constants.tobytes()
        )

    def required_memory(self) -> MemorySpec:
        """The smallest memory in which every address of this program exists."""
        need = [2, 1, 0]
        for row in self.instructions:
            op = OPS[int(row[0])]
            for kind, addr in zip(op.inputs, row[1:3], strict=False):
                need[kind] = max(need[kind], int(addr) + 1)
            if op.output is not None:
                need[op.output] = max(need[op.output], int(row[3]) + 1)
        return MemorySpec(*need)

    def __repr__(self) -> str:
        return f"Program(sizes={self.sizes})"


def validate(program: Program, memory: MemorySpec) -> None:
    """Refuse unknown ops, addresses beyond ``memory`` and writes to ``s0``/``v0``."""
    instr = program.instructions
    if instr.ndim != 2 or instr.shape[1] != 4 or program.constants.shape != (instr.shape[0], 3):
        raise ProgramError("program arrays must be instructions (N, 4) and constants (N, 3)")
    if sum(program.sizes) != instr.shape[0] or min(program.sizes) < 0:
        raise ProgramError(f"component sizes {program.sizes} do not add up to {instr.shape[0]}")
    for k, row in enumerate(instr):
        component, position = _locate(program.sizes, k)
        where = f"{COMPONENT_TITLES[component]} instruction {position + 1}"
        code = int(row[0])
        if not 0 <= code < len(OPS):
            raise ProgramError(f"{where}: unknown op code {code}; allowed 0..{len(OPS) - 1}")
        op = OPS[code]
        for slot, kind in zip(("in1", "in2"), op.inputs, strict=False):
            addr = int(row[1 if slot == "in1" else 2])
            _check_address(where, slot, kind, addr, memory)
        if op.output is not None:
            addr = int(row[3])
            _check_address(where, "out", op.output, addr, memory)
            if addr < FIRST_OUT_ADDRESS[op.output]:
                raise ProgramError(
                    f"{where}: {op.name} writes {KIND_LETTERS[op.output]}{addr}, which is "
                    f"read-only (s0 is the label, v0 the features)"
                )
        for slot, const in enumerate(op.constants):
            value = float(program.constants[k, slot])
            if not np.isfinite(value):
                raise ProgramError(f"{where}: constant {slot} of {op.name} is {value}; must be finite")
            if const == CONST_INDEX and not 0.0 <= value < 1.0:
                raise ProgramError(
                    f"{where}: index fraction {value} of {op.name} must be in [0, 1)"
                )


def _check_address(where: str, slot: str, kind: int, addr: int, memory: MemorySpec) -> None:
    size = memory.size(kind)
    if not 0 <= addr < size:
        raise ProgramError(
            f"{where}: {slot} address {KIND_LETTERS[kind]}{addr} is beyond memory "
            f"({size} {KIND_NAMES[kind]}s: {KIND_LETTERS[kind]}0..{KIND_LETTERS[kind]}{size - 1})"
        )


def _locate(sizes: tuple[int, ...], k: int) -> tuple[int, int]:
    for component, size in enumerate(sizes):
        if k < size:
            return component, k
        k -= size
    return 2, k


def pack(programs: Sequence[Program]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate programs for :func:`primitives.interpreter.evaluate_batch`.

    Returns ``(code, data, bounds)`` with ``bounds[p] = (setup, predict, learn, end)`` offsets.
    """
    n = len(programs)
    sizes = np.fromiter(chain.from_iterable(p.sizes for p in programs), np.int64, 3 * n).reshape(n, 3)
    ends = np.cumsum(sizes, axis=None).reshape(n, 3) if n else sizes
    bounds = np.empty((n, 4), dtype=np.int64)
    bounds[:, 0] = ends[:, 2] - sizes.sum(axis=1) if n else 0
    bounds[:, 1:] = ends
    if n:
        code = np.ascontiguousarray(np.concatenate([p.instructions for p in programs]), np.int64)
        data = np.ascontiguousarray(np.concatenate([p.constants for p in programs]), np.float64)
    else:
        code, data = np.zeros((0, 4), np.int64), np.zeros((0, 3))
    return code, data, bounds
