"""Hypothesis over every input that reaches the engine (issue 15): program arrays and program
text with huge numbers, configs through write-and-read-back, one-population checkpoints. Each
either works or is one clear error; nothing crashes the process (a kernel reading out of bounds
would be a signal, which kills the test run).

Examples per test: ``EVOLVE_FUZZ_EXAMPLES`` (default 25, fast); the acceptance run is
``EVOLVE_FUZZ_EXAMPLES=2500 python -m pytest -q tests/test_fuzz_inputs.py`` (4 tests: 10,000 cases).
"""

from __future__ import annotations

import datetime
import io
import json
import os
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evolve.config import SECTIONS, Config, config_from_dict, load_config, to_toml
from evolve.engine.campaign import resume_campaign, start_campaign
from evolve.errors import CheckpointError, ConfigError
from evolve.evaluation.scoring import TaskBatch, per_task_fitness
from primitives.memory import MemorySpec, ProgramError
from primitives.ops import OPS
from primitives.program import Program
from primitives.text import parse_program
from primitives.validate import check_arrays
from problems.registry import get_tasks, make_suite

EXAMPLES = int(os.environ.get("EVOLVE_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
MEMORY = MemorySpec(4, 3, 2)

EXTREME_INTS = [0, 1, 2, 3, -1, 64, 65, 999, 1000, 10**6, 10**12, 2**31, 2**40, 2**63 - 1, -(2**63)]
EXTREME_FLOATS = [0.0, 0.5, 1.0, -1.0, 0.999999, 1e308, -1e308, 5e-324, float("nan"), float("inf"), -float("inf")]


@pytest.fixture(scope="module")
def batch() -> TaskBatch:
    suite = make_suite("linear", {"features_size": 4})
    return TaskBatch.from_tasks(get_tasks(suite, "search", 2, 0))


def _int() -> st.SearchStrategy[int]:
    return st.one_of(st.integers(0, 4), st.sampled_from(EXTREME_INTS), st.integers(-(2**63), 2**63 - 1))


def _float() -> st.SearchStrategy[float]:
    return st.one_of(st.floats(-1, 1), st.sampled_from(EXTREME_FLOATS), st.floats(allow_nan=True))


@st.composite
def program_arrays(draw):
    sizes = np.array(draw(st.lists(st.lists(st.integers(0, 4), min_size=3, max_size=3), min_size=1, max_size=3)))
    rows = int(sizes.sum()) + draw(st.sampled_from([0, 0, 0, 1, -1]))
    rows = max(rows, 0)
    ops = draw(st.lists(st.one_of(st.integers(0, len(OPS) - 1), _int()), min_size=rows, max_size=rows))
    addresses = draw(st.lists(st.one_of(st.integers(0, 3), _int()), min_size=3 * rows, max_size=3 * rows))
    instructions = np.array([[op, *addresses[3 * k : 3 * k + 3]] for k, op in enumerate(ops)], np.int64).reshape(-1, 4)
    constants = np.array(draw(st.lists(st.one_of(st.floats(0, 0.99), _float()), min_size=3 * rows, max_size=3 * rows)),
                         np.float64).reshape(-1, 3)
    return sizes, instructions, constants


def _run(programs: list[Program], batch: TaskBatch) -> None:
    fitness, _ = per_task_fitness(programs, batch, MEMORY)
    assert fitness.shape == (len(programs), batch.num_tasks)
    assert np.isfinite(fitness).all() and (fitness >= 0).all() and (fitness <= 1).all()


@FUZZ
@given(arrays=program_arrays())
def test_program_arrays_are_valid_and_run_or_refused(arrays, batch):
    sizes, instructions, constants = arrays
    try:
        sizes, instructions, constants = check_arrays(sizes, instructions, constants, MEMORY)
    except ProgramError as exc:
        assert str(exc)
        return
    programs, offset = [], 0
    for row in sizes:
        n = int(row.sum())
        programs.append(Program(instructions[offset : offset + n], constants[offset : offset + n], row))
        offset += n
    _run(programs, batch)


def _number_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["0", "1", "3", "0.5", "1e999", "-1e999", "nan", "inf", "1e-400", "0.9999999999999999"]),
        st.integers(0, 10**6).map(str),
        st.integers(1, 6000).map(lambda n: "9" * n),
        st.floats(allow_nan=True).map(repr),
    )


@st.composite
def program_text(draw):
    blocks = []
    for title in ("Setup", "Predict", "Learn"):
        lines = [f"def {title}():"]
        for _ in range(draw(st.integers(0, 3))):
            op = draw(st.sampled_from(OPS))
            fields = {f"c{i}": draw(_number_text()) for i in range(len(op.constants))}
            for slot in ("out", "in1", "in2"):
                fields[slot] = draw(st.sampled_from("svm")) + draw(_number_text().filter(str.isdigit))
            try:
                lines.append("  " + op.text.format(**fields))
            except (KeyError, IndexError):
                continue
        blocks.append("\n".join(lines))
    text = "\n".join(blocks) + "\n"
    if draw(st.booleans()):  # and some damage
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.text(max_size=20)) + text[cut:]
    return text


@pytest.mark.slow
@FUZZ
@given(text=program_text())
def test_program_text_parses_and_runs_or_is_one_clear_error(text, batch):
    try:
        program = parse_program(text, MEMORY, source="fuzz")
    except ProgramError as exc:
        message = str(exc)
        assert message and len(message) < 1000 and "\n" not in message
        return
    check_arrays(np.array([program.sizes]), program.instructions, program.constants, MEMORY)
    _run([program], batch)


_SCALAR = st.one_of(
    st.booleans(), st.integers(-(2**70), 2**70), st.sampled_from(EXTREME_INTS), st.floats(allow_nan=True),
    st.text(max_size=12), st.sampled_from(["linear", "random", "evolution", "serial", "mean", "../../X", "a\x00b"]),
    st.just(datetime.date(1979, 5, 27)), st.just(datetime.time(7, 32)),
)
_VALUE = st.recursive(_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=4), inner, max_size=2)),
                      max_leaves=6)


def _field_names() -> dict[str, list[str]]:
    import dataclasses

    out = {"": [f.name for f in dataclasses.fields(Config) if f.name not in SECTIONS]}
    for section in SECTIONS:
        out[section] = [f.name for f in dataclasses.fields(getattr(Config(), section))] + ["x", " ", "é"]
    return out


FIELDS = _field_names()


@st.composite
def config_dicts(draw):
    data: dict = {}
    for _ in range(draw(st.integers(0, 6))):
        section = draw(st.sampled_from(sorted(FIELDS)))
        key = draw(st.sampled_from(FIELDS[section]))
        value = draw(_VALUE)
        if section:
            node = data.setdefault(section, {})
            if isinstance(node, dict):
                node[key] = value
        else:
            data[key] = value
    return data


@FUZZ
@given(data=config_dicts())
def test_configs_are_refused_or_read_back_as_written(data):
    try:
        config = config_from_dict(data)
    except ConfigError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    text = to_toml(config)
    assert config_from_dict(tomllib.loads(text)) == config


SMALL = [
    'problem.name="affine"', "search.population_size=60", "search.batch_size=20", "tasks.search=4",
    "tasks.select=4", "tasks.final=4", "campaign.success_fitness=1.0", "campaign.checkpoint_seconds=0.1",
    "campaign.max_evaluations=2000",
]


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("fuzz") / "run"
    run_dir.mkdir()
    campaign = start_campaign(load_config("linear-demo", SMALL), run_dir, quiet=True)
    campaign._stop_reason = lambda: "interrupted" if campaign.individuals >= 1000 else None
    campaign.run()
    (run_dir / "summary.json").unlink()
    return run_dir


_JUNK = st.one_of(_SCALAR.filter(lambda v: not isinstance(v, (datetime.date, datetime.time))),
                  st.none(), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@FUZZ
@given(data=st.data())
def test_checkpoints_resume_and_run_or_are_one_clear_error(stopped_run, tmp_path_factory, data):
    run_dir = tmp_path_factory.mktemp("case") / "run"
    shutil.copytree(stopped_run, run_dir)
    path = run_dir / "checkpoint.npz"
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays["meta"].tobytes())
    for _ in range(data.draw(st.integers(1, 3))):
        how = data.draw(st.sampled_from(["meta", "value", "dtype", "reshape", "drop"]))
        if how == "meta":
            meta[data.draw(st.sampled_from(sorted(meta)))] = data.draw(_JUNK)
            continue
        key = data.draw(st.sampled_from(sorted(k for k in arrays if k != "meta")))
        values = arrays[key]
        if how == "value" and values.size:
            values = values.copy()
            extreme = data.draw(_int()) if values.dtype.kind in "iu" else data.draw(_float())
            try:
                values.reshape(-1)[data.draw(st.integers(0, values.size - 1))] = extreme
            except (OverflowError, ValueError):
                pass
        elif how == "dtype":
            try:
                values = values.astype(data.draw(st.sampled_from([np.float64, np.int64, np.uint64, np.int8, np.bool_, "U3"])))
            except (ValueError, OverflowError):  # not representable: leave it
                pass
        elif how == "reshape":
            values = values.reshape(-1)[: data.draw(st.integers(0, values.size))]
        elif how == "drop":
            del arrays[key]
            continue
        arrays[key] = values
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())
    try:
        campaign, _ = resume_campaign(run_dir, quiet=True)
    except (CheckpointError, ConfigError) as exc:
        assert str(exc)
        return
    campaign.run()  # accepted (or the previous checkpoint taken): it must run to its end
    assert (run_dir / "summary.json").exists()
    shutil.rmtree(run_dir.parent, ignore_errors=True)
