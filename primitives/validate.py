"""One validation of programs as arrays, before any kernel sees them (AutoML-Zero §3: memory).

Programs enter the engine as arrays from many places (a checkpoint, a config's initial program, a
hall of fame, an island, migrants). The Numba kernels index memory with the addresses they are
given and do no bounds checks, so an op code outside the table, an address beyond the memory
(``memory.scalars`` 2 while the program reads ``s3``), a write to the label ``s0`` or the features
``v0``, a non-finite constant or an index fraction outside ``[0, 1)`` must be refused here, as one
:class:`~primitives.memory.ProgramError` that names the program, the instruction and the limit.

:func:`check_arrays` checks the flat checkpoint form (``sizes`` (P, 3), ``instructions`` (N, 4),
``constants`` (N, 3)) and :func:`check_packed` the interpreter's form (``code``, ``data``,
``bounds``), both vectorised over all programs at once. :func:`debug_checks` says whether the
debug mode (environment variable ``EVOLVE_CHECK_PROGRAMS=1``, set by the test suite) asks every
evaluation to check its programs before calling the kernel.
"""

from __future__ import annotations

import os

import numpy as np

from primitives.memory import FIRST_OUT_ADDRESS, KIND_LETTERS, KIND_NAMES, MemorySpec, ProgramError
from primitives.ops import CONST_INDEX, OPS

MAX_COMPONENT_SIZE = 10_000  # the largest algorithm.max_sizes entry a config accepts
DEBUG_ENV = "EVOLVE_CHECK_PROGRAMS"
_COMPONENTS = ("Setup", "Predict", "Learn")

# Per-op tables derived from primitives.ops.OPS: input kinds (-1: no operand), output kind
# (-1: none), which constant slots are used and which hold an index fraction.
_IN_KIND = np.full((len(OPS), 2), -1, np.int64)
_OUT_KIND = np.full(len(OPS), -1, np.int64)
_CONST_USED = np.zeros((len(OPS), 3), bool)
_CONST_IS_INDEX = np.zeros((len(OPS), 3), bool)
for _op in OPS:
    _IN_KIND[_op.code, : len(_op.inputs)] = _op.inputs
    _OUT_KIND[_op.code] = -1 if _op.output is None else _op.output
    for _slot, _kind in enumerate(_op.constants):
        _CONST_USED[_op.code, _slot] = True
        _CONST_IS_INDEX[_op.code, _slot] = _kind == CONST_INDEX


def debug_checks() -> bool:
    """Whether ``EVOLVE_CHECK_PROGRAMS`` asks every evaluation to validate its programs first."""
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def _as_int_array(value: object, name: str, ndim: int, width: int) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "iu" or array.ndim != ndim or (ndim == 2 and array.shape[1] != width):
        raise ProgramError(
            f"{name}: expected integer array of shape (N, {width}), got {array.dtype} {array.shape}"
        )
    if array.dtype.kind == "u" and array.size and int(array.max()) > np.iinfo(np.int64).max:
        raise ProgramError(f"{name}: values beyond int64")
    return array.astype(np.int64, copy=False)


def _as_float_array(value: object, name: str, width: int) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "fiu" or array.ndim != 2 or array.shape[1] != width:
        raise ProgramError(f"{name}: expected float array of shape (N, {width}), got {array.dtype} {array.shape}")
    return array.astype(np.float64, copy=False)


def check_arrays(
    sizes: object,
    instructions: object,
    constants: object,
    memory: MemorySpec,
    *,
    what: str = "program",
    max_component: int = MAX_COMPONENT_SIZE,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate programs stored flat, ``sizes`` (P, 3) rows (Setup, Predict, Learn lengths) over
    consecutive rows of ``instructions`` (N, 4) ``(op, in1, in2, out)`` and ``constants`` (N, 3).

    Returns the three arrays as int64/int64/float64; raises :class:`ProgramError` naming the
    first bad program (``what`` ``k``), component, instruction and the allowed range."""
    sizes = _as_int_array(sizes, f"{what} sizes", 2, 3)
    instructions = _as_int_array(instructions, f"{what} instructions", 2, 4)
    constants = _as_float_array(constants, f"{what} constants", 3)
    if (sizes < 0).any() or (sizes > max_component).any():
        bad = int(np.argmax(((sizes < 0) | (sizes > max_component)).any(axis=1)))
        raise ProgramError(
            f"{what} {bad}: component sizes {sizes[bad].tolist()} must be in [0, {max_component}]"
        )
    total = int(sizes.sum())
    if total != len(instructions) or total != len(constants):
        raise ProgramError(
            f"{what}s: component sizes add up to {total} instructions, but there are "
            f"{len(instructions)} instruction rows and {len(constants)} constant rows"
        )
    flat = sizes.reshape(-1)
    starts = np.cumsum(flat) - flat  # first row of each (program, component)
    owner = np.repeat(np.arange(len(flat)), flat)

    def where(row: int) -> str:
        cell = int(owner[row])
        program, component = divmod(cell, 3)
        position = row - int(starts[cell]) + 1
        return f"{what} {program}, {_COMPONENTS[component]} instruction {position}"

    _check_rows(instructions, constants, memory, where)
    return sizes, instructions, constants


def check_packed(code: np.ndarray, data: np.ndarray, bounds: np.ndarray, memory: MemorySpec) -> None:
    """Validate the interpreter's form: every ``bounds`` row ``(setup, predict, learn, end)``
    increasing within ``code`` (N, 4) / ``data`` (N, 3), and every row it selects."""
    code = _as_int_array(code, "code", 2, 4)
    data = _as_float_array(data, "data", 3)
    bounds = _as_int_array(bounds, "bounds", 2, 4)
    if len(code) != len(data):
        raise ProgramError(f"code has {len(code)} rows and data {len(data)}")
    if len(bounds) and ((bounds[:, 0] < 0).any() or (np.diff(bounds, axis=1) < 0).any() or (bounds[:, 3] > len(code)).any()):
        raise ProgramError(f"bounds must be increasing offsets within the {len(code)} code rows")
    if not len(bounds):
        return
    lengths = bounds[:, 3] - bounds[:, 0]
    rows = np.repeat(bounds[:, 0], lengths) + (np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths))
    owner = np.repeat(np.arange(len(bounds)), lengths)

    def where(k: int) -> str:
        p, row = int(owner[k]), int(rows[k])
        component = int(np.searchsorted(bounds[p, 1:], row, side="right"))
        start = int(bounds[p, component])
        return f"program {p}, {_COMPONENTS[min(component, 2)]} instruction {row - start + 1}"

    _check_rows(code[rows], data[rows], memory, where)


def _check_rows(instructions: np.ndarray, constants: np.ndarray, memory: MemorySpec, where) -> None:
    """Op codes, addresses, read-only outputs and constants of every row (vectorised)."""
    if not len(instructions):
        return
    ops = instructions[:, 0]
    bad = (ops < 0) | (ops >= len(OPS))
    if bad.any():
        k = int(np.argmax(bad))
        raise ProgramError(f"{where(k)}: unknown op code {int(ops[k])}; allowed 0..{len(OPS) - 1}")
    size = np.array(memory.as_tuple(), np.int64)
    first_out = np.array(FIRST_OUT_ADDRESS, np.int64)
    for slot, column in ((0, 1), (1, 2)):
        kind = _IN_KIND[ops, slot]
        used = kind >= 0
        addr = instructions[:, column]
        limit = size[np.maximum(kind, 0)]
        bad = used & ((addr < 0) | (addr >= limit))
        if bad.any():
            k = int(np.argmax(bad))
            raise ProgramError(_address_message(where(k), f"in{slot + 1}", int(kind[k]), int(addr[k]), memory))
    kind = _OUT_KIND[ops]
    used = kind >= 0
    addr = instructions[:, 3]
    limit = size[np.maximum(kind, 0)]
    bad = used & ((addr < 0) | (addr >= limit))
    if bad.any():
        k = int(np.argmax(bad))
        raise ProgramError(_address_message(where(k), "out", int(kind[k]), int(addr[k]), memory))
    bad = used & (addr < first_out[np.maximum(kind, 0)])
    if bad.any():
        k = int(np.argmax(bad))
        letter = KIND_LETTERS[int(kind[k])]
        raise ProgramError(
            f"{where(k)}: {OPS[int(ops[k])].name} writes {letter}{int(addr[k])}, which is read-only "
            f"(s0 is the label, v0 the features)"
        )
    used = _CONST_USED[ops]
    with np.errstate(invalid="ignore"):
        bad = used & ~np.isfinite(constants)
        index = _CONST_IS_INDEX[ops]
        bad_index = index & ~((constants >= 0.0) & (constants < 1.0))
    if bad.any():
        k, slot = (int(v) for v in np.argwhere(bad)[0])
        raise ProgramError(
            f"{where(k)}: constant {slot} of {OPS[int(ops[k])].name} is {float(constants[k, slot])}; must be finite"
        )
    if bad_index.any():
        k, slot = (int(v) for v in np.argwhere(bad_index)[0])
        raise ProgramError(
            f"{where(k)}: index fraction {float(constants[k, slot])} of {OPS[int(ops[k])].name} must be in [0, 1)"
        )


def _address_message(where: str, slot: str, kind: int, addr: int, memory: MemorySpec) -> str:
    size = memory.size(kind)
    letter = KIND_LETTERS[kind]
    allowed = f"{letter}0..{letter}{size - 1}" if size else "none"
    return f"{where}: {slot} address {letter}{addr} is beyond memory ({size} {KIND_NAMES[kind]}s: {allowed})"
