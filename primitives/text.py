"""Program text: AutoML-Zero's own printout (``Algorithm::ToReadable``/``Instruction::ToString``).

::

    def Setup():
      s2 = 0.435292
    def Predict():
      v2 = s2 * v0
      s1 = dot(v2, v1)
    def Learn():
      ...

Printer and parser are derived from the ``text`` field of :data:`primitives.ops.OPS`. Constants
print with ``repr`` (shortest text that reads back to the same float64), so text -> program ->
text round-trips exactly. ``#`` starts a comment; blank lines are ignored.
"""

from __future__ import annotations

import re

import numpy as np

from primitives.memory import (
    FIRST_OUT_ADDRESS,
    KIND_LETTERS,
    KIND_NAMES,
    MemorySpec,
    ProgramError,
)
from primitives.ops import CONST_INDEX, OPS, Op
from primitives.program import COMPONENT_TITLES, Program

_FLOAT = r"([-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf|nan))"
_INDENT = "  "
MAX_ADDRESS = 1000  # MemorySpec allows at most 1000 addresses of a kind
_MAX_ADDRESS_DIGITS = 9
_ECHO = 80  # characters of a line quoted in an error


def _address(kind: int, addr: int) -> str:
    return f"{KIND_LETTERS[kind]}{addr}"


def _constant(value: float) -> str:
    return repr(float(value))


def format_instruction(row: np.ndarray, constants: np.ndarray) -> str:
    """One instruction in AutoML-Zero's text form, without indentation."""
    op = OPS[int(row[0])]
    fields = {f"c{i}": _constant(constants[i]) for i in range(len(op.constants))}
    if op.output is not None:
        fields["out"] = _address(op.output, int(row[3]))
    for slot, kind in zip(("in1", "in2"), op.inputs, strict=False):
        fields[slot] = _address(kind, int(row[1 if slot == "in1" else 2]))
    return op.text.format(**fields)


def format_program(program: Program) -> str:
    """The whole program as text (three ``def`` blocks, two-space indentation)."""
    lines = []
    for index, title in enumerate(COMPONENT_TITLES):
        lines.append(f"def {title}():")
        instructions, constants = program.component(index)
        for row, consts in zip(instructions, constants, strict=True):
            lines.append(_INDENT + format_instruction(row, consts))
    return "\n".join(lines) + "\n"


def _compile(op: Op) -> re.Pattern[str]:
    """A full-match regex for the op's text form; groups: out, in1, in2 addresses, constants."""
    pattern = re.escape(op.text)
    names = []
    for match in re.finditer(r"\\\{(\w+)\\\}|\{(\w+)\}", pattern):
        names.append(match.group(1) or match.group(2))

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name == "out":
            return rf"(?P<out>{KIND_LETTERS[op.output]}\d+)"
        if name in ("in1", "in2"):
            kind = op.inputs[0 if name == "in1" else 1]
            return rf"(?P<{name}>{KIND_LETTERS[kind]}\d+)"
        return rf"(?P<{name}>{_FLOAT[1:-1]})"

    pattern = re.sub(r"\\\{(\w+)\\\}|\{(\w+)\}", replace, pattern)
    pattern = pattern.replace(r"\ ", r"\s*")
    return re.compile(r"\s*" + pattern + r"\s*", re.ASCII)


_PATTERNS: tuple[tuple[Op, re.Pattern[str]], ...] = tuple((op, _compile(op)) for op in OPS)
_HEADER = re.compile(r"def\s+(\w+)\s*\(\s*\)\s*:\s*")


def parse_instruction(text: str) -> tuple[list[int], list[float]] | None:
    """``([op, in1, in2, out], [c0, c1, c2])`` for one instruction's text, or None if none matches."""
    for op, pattern in _PATTERNS:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        groups = match.groupdict()
        row = [op.code, 0, 0, 0]
        for slot, position in (("in1", 1), ("in2", 2), ("out", 3)):
            if groups.get(slot):
                digits = groups[slot][1:]
                if len(digits) > _MAX_ADDRESS_DIGITS:  # int() of thousands of digits is refused
                    raise ProgramError(
                        f"address {groups[slot][:8]}... ({len(digits)} digits) is too large "
                        f"(at most {MAX_ADDRESS - 1})"
                    )
                row[position] = int(digits)
        consts = [float(groups[f"c{i}"]) for i in range(len(op.constants))]
        return row, consts + [0.0] * (3 - len(consts))
    return None


def parse_program(text: str, memory: MemorySpec | None = None, source: str = "<text>") -> Program:
    """Read a program from text. Errors name the line number, the line and what was expected.

    Writes to ``s0``/``v0`` and non-finite constants are refused always; addresses beyond
    ``memory`` are refused when ``memory`` is given.
    """
    if not isinstance(text, str):
        raise ProgramError(f"{source}: program text must be a string, got {type(text).__name__}")
    components: list[list[tuple]] = [[], [], []]
    current = -1
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        header = _HEADER.fullmatch(line.strip())
        if current < 0 and header is None:
            # not program text (yet): say so without quoting the file (it may be any file)
            raise ProgramError(f"{source}, line {number}: expected 'def Setup():' before any "
                               f"instruction (not a program file?)")
        quoted = raw.strip() if len(raw.strip()) <= _ECHO else raw.strip()[:_ECHO] + "..."
        where = f"{source}, line {number}: {quoted!r}"
        if header is not None:
            title = header.group(1)
            expected = current + 1
            if expected > 2 or title != COMPONENT_TITLES[expected]:
                wanted = f"'def {COMPONENT_TITLES[expected]}():'" if expected <= 2 else "no more blocks"
                raise ProgramError(f"{where}: expected {wanted} (blocks are Setup, Predict, Learn in order)")
            current = expected
            continue
        if not raw.startswith((" ", "\t")):
            raise ProgramError(f"{where}: expected an indented instruction or a 'def ...():' header")
        try:
            parsed = parse_instruction(line.strip())
        except ProgramError as exc:
            raise ProgramError(f"{where}: {exc}") from None
        if parsed is None:
            raise ProgramError(
                f"{where}: expected an instruction in AutoML-Zero's text form, e.g. "
                f"'s2 = s3 + s1' or 'v1 = dot(m0, v2)' (`evolve ops` lists all 65)"
            )
        row, consts = parsed
        _check(where, row, consts, memory)
        components[current].append((*row, *consts))
    if current != 2:
        missing = ", ".join(f"def {t}():" for t in COMPONENT_TITLES[current + 1 :])
        raise ProgramError(f"{source}: missing block(s) {missing}; a program has Setup, Predict, Learn")
    return Program.from_components(components)


def _check(where: str, row: list[int], consts: list[float], memory: MemorySpec | None) -> None:
    op = OPS[row[0]]
    for i, kind in enumerate(op.constants):
        value = consts[i]
        if not np.isfinite(value):
            raise ProgramError(f"{where}: constant {value!r} must be finite")
        if kind == CONST_INDEX and not 0.0 <= value < 1.0:
            raise ProgramError(f"{where}: index fraction {value!r} must be in [0, 1)")
    addresses = [(kind, row[1 + i]) for i, kind in enumerate(op.inputs)]
    for kind, addr in [*addresses, (op.output, row[3])]:
        if kind is not None and addr >= MAX_ADDRESS:
            raise ProgramError(f"{where}: address {_address(kind, addr)} is too large (at most {MAX_ADDRESS - 1})")
    if op.output is not None:
        out = row[3]
        if out < FIRST_OUT_ADDRESS[op.output]:
            raise ProgramError(
                f"{where}: writes {_address(op.output, out)}, which is read-only "
                f"(s0 is the label, v0 the features)"
            )
        addresses.append((op.output, out))
    if memory is None:
        return
    for kind, addr in addresses:
        if addr >= memory.size(kind):
            size = memory.size(kind)
            raise ProgramError(
                f"{where}: address {_address(kind, addr)} is beyond memory "
                f"({size} {KIND_NAMES[kind]}s)"
            )
