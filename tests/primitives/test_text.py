"""Program text (AutoML-Zero's printout): exact round trips, clear errors, and no crash on junk."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from programs import AUTOML_ZERO_LINEAR

from primitives.generate import random_instruction_for, random_program, usable_ops
from primitives.memory import MemorySpec, ProgramError
from primitives.ops import OPS
from primitives.program import Program, validate
from primitives.text import format_instruction, format_program, parse_instruction, parse_program

ALL_OPS = [op.code for op in OPS]
MEMORY = MemorySpec(6, 5, 3)



def _assert_same(a: Program, b: Program) -> None:
    assert a.sizes == b.sizes
    np.testing.assert_array_equal(a.instructions, b.instructions)
    np.testing.assert_array_equal(a.constants, b.constants)


@pytest.mark.parametrize("code", ALL_OPS, ids=[op.name for op in OPS])
def test_every_op_round_trips(code: int) -> None:
    rng = np.random.default_rng(code)
    for _ in range(20):
        row, consts = random_instruction_for(code, MEMORY, rng)
        text = format_instruction(row, consts)
        parsed = parse_instruction(text)
        assert parsed is not None, text
        parsed_row, parsed_consts = parsed
        assert parsed_row == [int(v) for v in row], text
        n_consts = len(OPS[code].constants)
        assert parsed_consts[:n_consts] == [float(c) for c in consts[:n_consts]], text
        assert format_instruction(np.array(parsed_row), np.array(parsed_consts)) == text
        # Extra spaces are accepted; the printout is canonical.
        spaced = parse_instruction("  " + text.replace(" = ", "  =  ") + " ")
        assert spaced == parsed, text


def test_ops_are_told_apart_by_operand_kinds() -> None:
    assert parse_instruction("s2 = s3 * s1")[0][0] == 3
    assert parse_instruction("v2 = s3 * v1")[0][0] == 18
    assert parse_instruction("v2 = v3 * v1")[0][0] == 25
    assert parse_instruction("m2 = s3 * m1")[0][0] == 29
    assert parse_instruction("m2 = m3 * m1")[0][0] == 41
    assert parse_instruction("s2 = dot(v1, v0)")[0][0] == 27
    assert parse_instruction("v2 = dot(m1, v0)")[0][0] == 31
    assert parse_instruction("v2 = bcast(s1)")[0][0] == 19
    assert parse_instruction("m2 = bcast(v1, axis=0)")[0][0] == 32
    assert parse_instruction("m2 = bcast(v1, axis=1)")[0][0] == 33
    assert parse_instruction("s2 = 0.5")[0][0] == 56
    assert parse_instruction("NoOp()")[0][0] == 0
    assert parse_instruction("s2 = s3 ** s1") is None


@pytest.mark.parametrize("seed", range(30))
def test_random_programs_round_trip(seed: int) -> None:
    rng = np.random.default_rng(seed)
    memory = MemorySpec(int(rng.integers(2, 12)), int(rng.integers(1, 8)), int(rng.integers(0, 5)))
    ops = usable_ops(ALL_OPS, memory)
    sizes = [int(n) for n in rng.integers(0, 12, size=3)]
    program = random_program(sizes, [ops] * 3, memory, rng)
    text = format_program(program)
    parsed = parse_program(text, memory)
    _assert_same(parsed, program)
    validate(parsed, memory)
    assert format_program(parsed) == text


def test_empty_program_round_trips() -> None:
    text = "def Setup():\ndef Predict():\ndef Learn():\n"
    program = parse_program(text)
    assert program.sizes == (0, 0, 0)
    assert format_program(program) == text


def test_automl_zero_program_parses_and_reprints() -> None:
    program = parse_program(AUTOML_ZERO_LINEAR, MemorySpec(4, 3, 1))
    assert program.sizes == (10, 2, 8)
    assert format_program(program) == AUTOML_ZERO_LINEAR


def test_comments_and_blank_lines_are_ignored() -> None:
    text = "# header\n\ndef Setup():  # setup\n  s2 = 0.5  # a constant\n\ndef Predict():\ndef Learn():\n"
    program = parse_program(text)
    assert program.sizes == (1, 0, 0)
    assert program.constants[0, 0] == 0.5


def _valid(setup: str = "", predict: str = "", learn: str = "") -> str:
    block = lambda lines: "".join(f"  {line}\n" for line in lines.split(";") if line)  # noqa: E731
    return f"def Setup():\n{block(setup)}def Predict():\n{block(predict)}def Learn():\n{block(learn)}"


@pytest.mark.parametrize(
    ("text", "line_number", "line"),
    [
        (_valid(predict="s1 = s2 +"), 3, "s1 = s2 +"),  # malformed
        (_valid(predict="s1 = frobnicate(s2)"), 3, "s1 = frobnicate(s2)"),  # unknown op
        (_valid(learn="s1 = s2 + s9"), 4, "s1 = s2 + s9"),  # beyond memory
        (_valid(learn="v1 = dot(m4, v0)"), 4, "v1 = dot(m4, v0)"),  # beyond memory
        (_valid(setup="s0 = s2 + s3"), 2, "s0 = s2 + s3"),  # writes the label
        (_valid(setup="v0 = v1 + v2"), 2, "v0 = v1 + v2"),  # writes the features
        (_valid(setup="s0 = 0.5"), 2, "s0 = 0.5"),  # writes the label
        (_valid(setup="s2 = 1e999"), 2, "s2 = 1e999"),  # non-finite constant
        (_valid(setup="s2 = nan"), 2, "s2 = nan"),  # non-finite constant
        (_valid(setup="v1[0.5] = inf"), 2, "v1[0.5] = inf"),  # non-finite constant
        (_valid(setup="v1[1.5] = 0.5"), 2, "v1[1.5] = 0.5"),  # index fraction outside [0, 1)
        ("def Predict():\ndef Setup():\ndef Learn():\n", 1, "def Predict():"),  # order
        ("def Setup():\ndef Learn():\ndef Predict():\n", 2, "def Learn():"),  # order
        (_valid() + "def Learn():\n", 4, "def Learn():"),  # a fourth block
        ("def Setup():\ns1 = s2 + s3\ndef Predict():\ndef Learn():\n", 2, "s1 = s2 + s3"),  # indent
    ],
)
def test_errors_name_the_line(text: str, line_number: int, line: str) -> None:
    with pytest.raises(ProgramError) as info:
        parse_program(text, MemorySpec(4, 3, 1))
    message = str(info.value)
    assert f"line {line_number}" in message, message
    assert line in message, message


@pytest.mark.parametrize("text", [
    "  s1 = s2 + s3\ndef Setup():\ndef Predict():\ndef Learn():\n",
    "password = hunter2\n",
    "s" + "9" * 5000 + " = s2 + s3\n",
])
def test_text_before_any_block_is_not_quoted(text: str) -> None:
    """Any file may be named as a program (algorithm.initial): its content is not echoed."""
    with pytest.raises(ProgramError) as info:
        parse_program(text, source="some.file")
    message = str(info.value)
    assert "line 1" in message and "def Setup():" in message, message
    assert text.splitlines()[0].strip()[:8] not in message, message


@pytest.mark.parametrize("digits", [10, 5000, 100_000])
def test_a_huge_address_is_a_clear_error(digits: int) -> None:
    text = "def Setup():\n  s" + "7" * digits + " = s2 + s3\ndef Predict():\ndef Learn():\n"
    with pytest.raises(ProgramError, match="too large") as info:
        parse_program(text)
    assert len(str(info.value)) < 300


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("def Setup():\n  s2 = 0.5\ndef Predict():\n", "def Learn():"),
        ("def Setup():\n", "def Predict():"),
        ("", "def Setup():"),
        ("# only a comment\n", "def Setup():"),
    ],
)
def test_missing_blocks_are_named(text: str, missing: str) -> None:
    with pytest.raises(ProgramError, match=missing.replace("(", r"\(").replace(")", r"\)")):
        parse_program(text)


def test_addresses_beyond_memory_are_only_checked_with_memory() -> None:
    text = _valid(predict="s1 = s2 + s9")
    assert parse_program(text).sizes == (0, 1, 0)
    with pytest.raises(ProgramError, match="beyond memory"):
        parse_program(text, MemorySpec(4, 3, 1))


def test_non_string_is_refused() -> None:
    with pytest.raises(ProgramError):
        parse_program(b"def Setup():")  # type: ignore[arg-type]


FRAGMENTS = [
    "def Setup():", "def Predict():", "def Learn():", "def Foo():", "def Setup()", "  ", "\t",
    "  s1 = s2 + s3", "  s1 = s2 * v1", "  v1 = s2 * v0", "  m0 = matmul(m1, m2)", "  NoOp()",
    "  s2 = 0.5", "  s2 = -1e308", "  s2 = 1e999", "  s2 = nan", "  v1[0.25] = 0.3",
    "  m1[0.5, 0.99] = -2", "  v1[1.0] = 2", "  s1 = uniform(-0.3, 0.8)", "  s0 = s1 + s2",
    "  v2 = gaussian(0.1, 0.5, n_features)", "  s99999999999999999999 = s1 + s2",
    "  s1 = s99999999999999999999 + s2", "  s1 = dot(v1, v0)", "  s1 = s1 + ", "# comment",
    "  s1 = s2 + s3  # trailing", "=", "(", "s1", "v", "m-1", "s1 = s2 + s3", "\x00", "é",
    "  v1[0.5]= 1e-320", "  s1=s2+s3", "  s١ = s٢ + s٣",
]


def test_huge_address_without_memory_is_a_program_error() -> None:
    """An address that does not fit int64 must be refused, not crash in NumPy (see report)."""
    with pytest.raises(ProgramError, match="line 2"):
        parse_program(_valid(setup="s1 = s99999999999999999999 + s2"))


INSTRUCTION_FRAGMENTS = [f.strip() for f in FRAGMENTS if f.startswith("  ")]
_block = st.lists(
    st.one_of(st.sampled_from(INSTRUCTION_FRAGMENTS), st.text(max_size=10)), max_size=4
).map(lambda lines: "".join(f"  {line}\n" for line in lines))
STRUCTURED = st.tuples(_block, _block, _block).map(
    lambda b: f"def Setup():\n{b[0]}def Predict():\n{b[1]}def Learn():\n{b[2]}"
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.text(),
    STRUCTURED,
    st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("\n".join),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=12).map("\n".join),
))
def test_parser_only_raises_program_error(text: str) -> None:
    for memory in (None, MemorySpec(4, 3, 1)):
        try:
            program = parse_program(text, memory)
        except ProgramError:
            continue
        assert format_program(parse_program(format_program(program))) == format_program(program)
