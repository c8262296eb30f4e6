"""``evolve eval``: suites, tasks files, shipped algorithms, and one clear line for every bad input."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from evolve.cli import main
from evolve.cli.eval import DATA_KEYS, OPTIONAL_DATA_KEYS, load_tasks_npz
from evolve.errors import DataError
from evolve.reference_programs import algorithm_text

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*argv: str) -> tuple[int, str, str]:
    """``evolve.cli.main`` in-process; returns (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def assert_clear_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 2, (out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("evolve eval: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def linear_arrays(T=3, n=30, m=20, F=4, seed=0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((T, F))
    train_x, valid_x = rng.standard_normal((T, n, F)), rng.standard_normal((T, m, F))
    return {
        "train_x": train_x,
        "train_y": np.einsum("tnf,tf->tn", train_x, w),
        "valid_x": valid_x,
        "valid_y": np.einsum("tmf,tf->tm", valid_x, w),
        "eval_type": np.array("rms"),
    }


def write_npz(path: Path, arrays: dict) -> str:
    np.savez(path, **arrays)
    return str(path)


# --- problem suites ----------------------------------------------------------------------------

def test_linear_sgd_on_linear_suite_prints_table(capsys):
    assert main(["eval", "linear_sgd", "--problem", "linear"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines()]
    per_task = [float(r[1]) for r in rows if len(r) == 2 and r[0].isdigit()]
    assert len(per_task) == 10
    (combined,) = [float(r[1]) for r in rows if r[0] == "mean"]
    assert combined > 0.9
    assert combined == pytest.approx(np.mean(per_task), abs=1e-6)


def test_json_is_exactly_one_object(capsys):
    argv = ["eval", "linear_sgd", "--problem", "linear", "--tasks", "5", "--json"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    result = json.loads(out)
    assert set(result) == {"fitness", "per_task"}
    assert len(result["per_task"]) == 5 and result["fitness"] > 0.9
    assert result["fitness"] == pytest.approx(np.mean(result["per_task"]))


def test_program_file_params_split_median_and_memory(tmp_path, capsys):
    program = tmp_path / "linear.txt"
    program.write_text(algorithm_text("linear_sgd"))
    argv = ["eval", str(program), "--problem", "linear", "--param", "features_size=8",
            "--param", "num_train_examples=50", "--split", "select", "--tasks", "4", "--seed",
            "3", "--memory", "5,4,1", "--max-abs-error", "50", "--median", "--json"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["fitness"] == sorted(result["per_task"])[2]
    assert result["fitness"] > 0.5


def test_logistic_sgd_on_projected_binary(capsys):
    assert main(["eval", "logistic_sgd", "--problem", "projected_binary", "--tasks", "2",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fitness"] > 0.6


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["no_such_program", "--problem", "linear"], ["no_such_program", "linear_sgd"]),
        (["linear_sgd", "--problem", "nope"], ["'nope'", "linear"]),
        (["linear_sgd", "--problem", "linear", "--param", "foo=1"], ["'foo'", "features_size"]),
        (["linear_sgd", "--problem", "linear", "--param", "features_size"], ["KEY=VALUE"]),
        (["linear_sgd", "--problem", "linear", "--param", "features_size=x"], ["'x'", "int"]),
        (["linear_sgd", "--problem", "linear", "--param", "seed=1", "--param", "seed=2"],
         ["twice"]),
        (["linear_sgd", "--problem", "linear", "--tasks", "0"], [">= 1"]),
        (["linear_sgd", "--problem", "linear", "--memory", "3,3,1"], ["--memory", "s3"]),
        (["linear_sgd", "--problem", "linear", "--memory", "4,3"], ["--memory", "S,V,M"]),
        (["linear_sgd", "--problem", "linear", "--memory", "1,3,1"], ["scalars", "[2, 1000]"]),
        (["linear_sgd", "--problem", "linear", "--max-abs-error", "-1"], ["--max-abs-error"]),
        (["linear_sgd", "--data", "x.npz", "--tasks", "3"], ["--tasks", "--problem"]),
    ],
)
def test_bad_arguments_are_one_line(argv, fragments):
    assert_clear_error(*run_cli("eval", *argv), *fragments)


def test_bad_program_text_is_one_line(tmp_path):
    program = tmp_path / "bad.txt"
    program.write_text("def Setup():\n  s0 = 1.0\ndef Predict():\ndef Learn():\n")
    assert_clear_error(*run_cli("eval", str(program), "--problem", "linear"), "line 2", "s0")
    program.write_bytes(b"\xff\xfe\x00")
    assert_clear_error(*run_cli("eval", str(program), "--problem", "linear"), "UTF-8")


@pytest.mark.parametrize("argv", [["eval"], ["eval", "linear_sgd"], ["eval", "linear_sgd",
                                  "--problem", "linear", "--split", "train"],
                                  ["eval", "linear_sgd", "--problem", "linear", "--data", "x"]])
def test_argparse_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_console_script_subprocess():
    script = Path(sys.executable).with_name("evolve")
    command = [str(script)] if script.exists() else [shutil.which("evolve") or "evolve"]
    result = subprocess.run(
        [*command, "eval", "linear_sgd", "--problem", "linear", "--tasks", "3", "--json"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["fitness"] > 0.9
    bad = subprocess.run([*command, "eval", "linear_sgd", "--problem", "nope"],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert bad.returncode == 2 and bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr


# --- tasks files -------------------------------------------------------------------------------

def test_data_npz_regression(tmp_path, capsys):
    path = write_npz(tmp_path / "tasks.npz", linear_arrays())
    assert main(["eval", "linear_sgd", "--data", path, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["per_task"]) == 3 and result["fitness"] > 0.9
    assert main(["eval", "linear_sgd", "--data", path, "--memory", "4,3,1"]) == 0
    assert "mean" in capsys.readouterr().out


def test_data_npz_accuracy_bytes_eval_type_and_epochs(tmp_path, capsys):
    arrays = linear_arrays(T=2, n=60, m=40)
    arrays["train_y"] = (arrays["train_y"] > 0).astype(np.int8)
    arrays["valid_y"] = arrays["valid_y"] > 0  # bool labels are fine
    arrays["eval_type"] = np.array([b"accuracy"])
    arrays["num_train_epochs"] = np.array(2)
    path = write_npz(tmp_path / "tasks.npz", arrays)
    batch = load_tasks_npz(path)
    assert batch.eval_type == "accuracy" and batch.num_epochs == 2
    assert main(["eval", "logistic_sgd", "--data", path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fitness"] > 0.7


def _drop(key):
    return lambda a: a.pop(key)


def _set(key, value):
    return lambda a: a.__setitem__(key, value)


def _edit(key, func):
    return lambda a: a.__setitem__(key, func(a[key]))


def _nan_at(array):
    array = array.copy()
    array[0, 1] = np.nan
    return array


DATA_ERRORS = {
    "missing train_x": (_drop("train_x"), ["'train_x'", "missing", "required"]),
    "missing eval_type": (_drop("eval_type"), ["'eval_type'", "missing"]),
    "unknown key": (_set("num_epochs", np.array(2)), ["'num_epochs'", "num_train_epochs"]),
    "train_x 2-D": (_edit("train_x", lambda x: x[0]), ["'train_x'", "(30, 4)", "3-D"]),
    "train_y 3-D": (_edit("train_y", lambda y: y[..., None]), ["'train_y'", "2-D"]),
    "train_y length": (_edit("train_y", lambda y: y[:, :-1]), ["'train_y'", "(3, 29)", "(3, 30)"]),
    "valid_x features": (_edit("valid_x", lambda x: x[..., :3]), ["'valid_x'", "F = 4"]),
    "valid_x tasks": (_edit("valid_x", lambda x: x[:2]), ["'valid_x'", "T = 3"]),
    "valid_y shape": (_edit("valid_y", lambda y: y[:, :5]), ["'valid_y'", "(3, 5)", "(3, 20)"]),
    "string dtype": (_edit("train_x", lambda x: x.astype(str)), ["'train_x'", "dtype", "real"]),
    "complex dtype": (_edit("valid_y", lambda y: y.astype(complex)), ["'valid_y'", "complex"]),
    "nan": (_edit("train_x", _nan_at), ["'train_x'", "NaN", "(0, 1, 0)"]),
    "inf": (_edit("valid_y", lambda y: np.full_like(y, np.inf)), ["'valid_y'", "inf"]),
    "bad eval_type": (_set("eval_type", np.array("mse")), ["'eval_type'", "'mse'", "'rms'"]),
    "numeric eval_type": (_set("eval_type", np.array(1.0)), ["'eval_type'", "string"]),
    "eval_type list": (_set("eval_type", np.array(["rms", "rms"])), ["'eval_type'", "(2,)"]),
    "accuracy labels": (_set("eval_type", np.array("accuracy")), ["'train_y'", "0 or 1"]),
    "no tasks": (lambda a: a.update({k: a[k][:0] for k in DATA_KEYS[:4]}),
                 ["'train_x'", "(0, 30, 4)", ">= 1"]),
    "no examples": (lambda a: a.update(train_x=a["train_x"][:, :0], train_y=a["train_y"][:, :0]),
                    ["'train_x'", "(3, 0, 4)"]),
    "no features": (lambda a: a.update(train_x=a["train_x"][..., :0], valid_x=a["valid_x"][..., :0]),
                    ["'train_x'", "(3, 30, 0)"]),
    "epochs zero": (_set("num_train_epochs", np.array(0)), ["'num_train_epochs'", "0", "[1,"]),
    "epochs fraction": (_set("num_train_epochs", np.array(1.5)), ["'num_train_epochs'", "1.5"]),
    "epochs string": (_set("num_train_epochs", np.array("2")), ["'num_train_epochs'", "'2'"]),
    "object array": (_set("train_x", np.array([None, 1], dtype=object)),
                     ["'train_x'", "without pickles", "no pickles"]),
}


@pytest.mark.parametrize("case", list(DATA_ERRORS))
def test_data_errors_name_key_value_and_rule(case, tmp_path):
    change, fragments = DATA_ERRORS[case]
    arrays = linear_arrays()
    change(arrays)
    path = write_npz(tmp_path / "tasks.npz", arrays)
    with pytest.raises(DataError):
        load_tasks_npz(path)
    assert_clear_error(*run_cli("eval", "linear_sgd", "--data", path, "--json"), *fragments)


@pytest.mark.parametrize("kind", ["text", "npy", "truncated", "missing", "directory"])
def test_data_file_not_an_npz(kind, tmp_path):
    path = tmp_path / "tasks.npz"
    if kind == "text":
        path.write_text("train_x,train_y\n1,2\n")
    elif kind == "npy":
        with path.open("wb") as handle:
            np.save(handle, np.zeros(3))
    elif kind == "truncated":
        write_npz(path, linear_arrays())
        path.write_bytes(path.read_bytes()[:200])
    elif kind == "directory":
        path.mkdir()
    code, out, err = run_cli("eval", "linear_sgd", "--data", str(path))
    assert_clear_error(code, out, err, str(path))


_DTYPES = st.sampled_from(
    ["f8", "f4", "f2", "i1", "i8", "u8", "?", "c16", "U3", "S2", "M8[s]", "m8[s]"]
)
_KEYS = st.sampled_from([*DATA_KEYS, *OPTIONAL_DATA_KEYS, "junk"])
_KNOWN_KEYS = st.sampled_from([*DATA_KEYS, *OPTIONAL_DATA_KEYS])


@st.composite
def _random_array(draw):
    dtype = np.dtype(draw(_DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    if dtype.kind in "mM":
        return np.zeros(shape, dtype)
    return draw(hnp.arrays(dtype, shape))


@st.composite
def _npz_contents(draw):
    if draw(st.booleans()):  # entirely random keys and arrays
        return draw(st.dictionaries(_KEYS, _random_array(), max_size=7))
    arrays = linear_arrays(T=2, n=4, m=3, F=2)  # a valid file with a few keys broken or removed
    for key in draw(st.lists(_KNOWN_KEYS, min_size=1, max_size=2)):
        if draw(st.booleans()):
            arrays.pop(key, None)
        else:
            arrays[key] = draw(_random_array())
    return arrays


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_npz_contents())
def test_fuzzed_npz_is_evaluated_or_a_clear_error(contents):
    with tempfile.TemporaryDirectory() as tmp:
        path = write_npz(Path(tmp) / "fuzz.npz", contents)
        code, out, err = run_cli("eval", "linear_sgd", "--data", path, "--json")
    if code == 0:
        result = json.loads(out)
        assert 0.0 <= result["fitness"] <= 1.0 and err == ""
    else:
        assert_clear_error(code, out, err)
