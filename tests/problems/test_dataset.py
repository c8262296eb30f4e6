"""The dataset suite (problems/dataset.py, problems/table.py): your own table as tasks."""

from __future__ import annotations

import csv
import string

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evolve.errors import EvolveError
from evolve.tables.data_runs import data_overrides
from problems.base import ProblemError
from problems.registry import get_tasks, make_suite
from problems.table import file_sha256


def write_csv(path, header, rows, delimiter=","):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def table(n=150, classes=2, seed=0):
    """Rows of (a, b, colour, constant, label): label depends on a and b."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        a, b = rng.normal(size=2)
        label = int(a + b > 0) if classes == 2 else i % classes
        colour = ["red", "green", "blue"][i % 3]
        rows.append([f"{a:.6f}", f"{b:.6f}", colour, "7", label])
    return ["a", "b", "colour", "constant", "label"], rows


def suite(path, **params):
    return make_suite("dataset", {"path": path, **params})


def test_csv_with_header_categorical_and_constant_columns(tmp_path):
    header, rows = table()
    s = suite(write_csv(tmp_path / "t.csv", header, rows), target="label", features_size=4)
    report = s.report()
    assert report["task"] == "classification" and report["task_inferred"]
    assert report["dropped_constant"] == ["constant"]
    assert report["one_hot"] == {"colour": ["blue", "green", "red"]}
    assert s.table.feature_names == ("a", "b", "colour=blue", "colour=green", "colour=red")
    for split in ("search", "select", "final"):
        for task in get_tasks(s, split, 3, 0):
            assert task.train_x.shape[1] == 4 and task.eval_type == "accuracy"
            # standardized with the train examples' statistics only
            np.testing.assert_allclose(task.train_x.mean(axis=0), 0, atol=1e-9)
            np.testing.assert_allclose(task.train_x.std(axis=0), 1, atol=1e-9)


def test_final_rows_are_held_out_from_search_and_select(tmp_path):
    header, rows = table(n=200, classes=4)
    s = suite(write_csv(tmp_path / "t.csv", header, rows), target="label")
    final = set(np.flatnonzero(s.final_rows))
    assert 0.25 < len(final) / 200 < 0.35
    for split in ("search", "select"):
        for chosen in s.task_rows(split, 6, 1):
            assert not final & set(chosen.tolist())
    for chosen in s.task_rows("final", 6, 1):
        assert set(chosen.tolist()) <= final
    # multiclass: class pairs, held-out pairs for select and final only
    assert len(s.search_pairs) + len(s.held_out) == 6 and not set(s.search_pairs) & set(s.held_out)
    assert set(s.task_pairs("search", 20, 0)) <= set(s.search_pairs)
    assert set(s.task_pairs("final", 20, 0)) <= set(s.held_out)
    # the labels of a task are its pair's: 1 for the second class
    task = s.tasks("final", 1, 3)[0]
    chosen = s.task_rows("final", 1, 3)[0]
    pair = s.task_pairs("final", 1, 3)[0]
    labels = s.labels[chosen]
    assert set(labels) <= set(pair)
    np.testing.assert_array_equal(np.concatenate([task.train_y, task.valid_y]),
                                  (labels == pair[1]).astype(float))


def test_regression_target_inferred_and_standardized(tmp_path):
    rng = np.random.default_rng(1)
    rows = [[f"{x:.5f}", f"{3 * x + 0.1 * rng.normal():.5f}"] for x in rng.normal(size=120)]
    s = suite(write_csv(tmp_path / "r.csv", ["x", "price"], rows), target="price")
    assert s.eval_type == "rms" and s.report()["task"] == "regression"
    task = s.tasks("search", 1, 0)[0]
    assert abs(task.train_y.mean()) < 1e-9 and abs(task.train_y.std() - 1) < 1e-9
    # a numeric target can be declared classification; integer labels are inferred as classes
    rows = [[r[0], str(i % 3)] for i, r in enumerate(rows)]
    path = write_csv(tmp_path / "c.csv", ["x", "y"], rows)
    assert suite(path, target="y").eval_type == "accuracy"
    assert suite(path, target="y", task="regression").eval_type == "rms"


def test_missing_values_imputed_or_rejected(tmp_path):
    header, rows = table()
    rows[3][0] = ""
    rows[10][1] = "NA"
    path = write_csv(tmp_path / "m.csv", header, rows)
    s = suite(path, target="label")
    assert s.report()["missing"] == {"a": 1, "b": 1}
    for task in s.tasks("search", 4, 0) + s.tasks("final", 4, 0):
        assert np.isfinite(task.train_x).all() and np.isfinite(task.valid_x).all()
    with pytest.raises(ProblemError, match=r"m\.csv.*column 'a'.*1 missing.*data row 4"):
        suite(path, target="label", missing="reject")


def test_tsv_semicolons_npy_npz(tmp_path):
    header, rows = table()
    for name, delimiter in (("t.tsv", "\t"), ("t.txt", ";")):
        s = suite(write_csv(tmp_path / name, header, rows, delimiter), target="label")
        assert s.table.features.shape == (150, 5)
    X = np.random.default_rng(0).normal(size=(80, 3))
    y = (X[:, 0] > 0).astype(int)
    np.save(tmp_path / "t.npy", np.column_stack([X, y]))
    assert suite(str(tmp_path / "t.npy"), target="3").eval_type == "accuracy"
    np.savez(tmp_path / "t.npz", X=X, y=y)
    s = suite(str(tmp_path / "t.npz"), target="y")
    assert s.table.feature_names == ("X0", "X1", "X2")


@pytest.mark.parametrize(
    ("header", "rows", "params", "words"),
    [
        (["a", "y"], [["1", "0"], ["2", "1"]] * 20, {"target": "z"}, ["no column 'z'", "'a'"]),
        (["a", "y"], [[str(i), "5"] for i in range(40)], {"target": "y", "task": "regression"},
         ["'y'", "constant"]),
        (["a", "y"], [[str(i), "cat"] for i in range(40)], {"target": "y"}, ["single class"]),
        (["a", "y"], [[str(i), "x" if i % 2 else ""] for i in range(40)], {"target": "y"},
         ["'y'", "20 rows have no value", "data row 1"]),
        (["a", "y"], [[str(i), "cat"] for i in range(40)], {"target": "y", "task": "regression"},
         ["regression needs numbers", "'cat'"]),
        (["a", "y"], [["1", "0"], ["2", "1"], ["3", "0"], ["4", "1"]], {"target": "y",
         "num_train_examples": 50}, ["too few rows", "50"]),
        (["a", "y"], [["1", "0"], ["2", "1"], ["3", "0"], ["4", "0"]], {"target": "y"},
         ["class 1.0 has 1 row"]),
        (["a", "b", "y"], [[str(i), f"id{i}", i % 2] for i in range(80)], {"target": "y"},
         ["column 'b'", "80 distinct values"]),
        (["a", "b", "y"], [[str(i), "u" if i % 2 else "v", i % 2] for i in range(40)],
         {"target": "y", "categorical": "reject"}, ["column 'b'", "not numeric", "'v'"]),
        (["a", "a", "y"], [["1", "2", "0"]] * 10, {"target": "y"}, ["'a' appears twice"]),
        (["c", "y"], [["4", str(i % 2)] for i in range(20)], {"target": "y"},
         ["no feature column is left", "c"]),
    ],
)
def test_bad_tables_are_one_clear_error(tmp_path, header, rows, params, words):
    path = write_csv(tmp_path / "bad.csv", header, rows)
    with pytest.raises(ProblemError) as info:
        suite(path, **params)
    message = str(info.value)
    assert "bad.csv" in message
    for word in words:
        assert word in message, message


def test_bad_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "ragged.csv").write_text("a,b,y\n1,2,0\n1,2\n")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00a")
    (tmp_path / "t.xlsx").write_text("a")
    (tmp_path / "pickled.npy").write_bytes(b"\x93NUMPY garbage")
    for name, word in (("empty.csv", "empty"), ("ragged.csv", "data row 2 has 2 fields"),
                       ("binary.csv", "UTF-8"), ("t.xlsx", "unknown suffix"),
                       ("pickled.npy", r"\.npy array without pickles"), ("none.csv", "no such file")):
        with pytest.raises(ProblemError, match=word):
            suite(str(tmp_path / name), target="y")
    with pytest.raises(ProblemError, match="is a directory, not a table file"):
        suite(str(tmp_path), target="y")


def test_parquet_when_pyarrow_is_installed(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    header, rows = table()
    columns = {name: [row[i] for row in rows] for i, name in enumerate(header)}
    columns["a"] = [float(v) for v in columns["a"]]
    columns["a"][4] = None  # a Parquet null is a missing cell
    pq.write_table(pa.table(columns), tmp_path / "t.parquet")
    s = suite(str(tmp_path / "t.parquet"), target="label")
    assert s.eval_type == "accuracy" and s.report()["missing"] == {"a": 1}
    assert s.report()["one_hot"] == {"colour": ["blue", "green", "red"]}
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ProblemError, match="not a readable Parquet file"):
        suite(str(tmp_path / "bad.parquet"), target="label")


def test_changed_file_is_detected(tmp_path):
    header, rows = table()
    path = write_csv(tmp_path / "t.csv", header, rows)
    digest = file_sha256(path)
    assert suite(path, target="label", sha256=digest).table.path == path
    with open(path, "a") as handle:
        handle.write("0.1,0.2,red,7,1\n")
    with pytest.raises(ProblemError, match="has changed since the run was configured"):
        suite(path, target="label", sha256=digest)


_CELLS = st.one_of(
    st.sampled_from(["", "NA", "?", "nan", "inf", "-1", "0", "1", "2.5", "1e400", "red", "x,y",
                     '"q"', "  3 ", "\t", "True"]),
    st.text(alphabet=string.printable, max_size=6),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    header=st.lists(st.text(alphabet=string.ascii_letters + " ,;", max_size=4), min_size=1,
                    max_size=4),
    cells=st.lists(st.lists(_CELLS, min_size=0, max_size=5), max_size=40),
    target=st.sampled_from(["", "a", "y", " "]),
    task=st.sampled_from(["auto", "classification", "regression"]),
    raw=st.booleans(),
)
def test_fuzzed_csv_never_gives_a_traceback(tmp_path, header, cells, target, task, raw):
    path = tmp_path / "fuzz.csv"
    if raw:  # arbitrary text, not necessarily a table
        path.write_text(",".join(header) + "\n" + "\n".join(",".join(r) for r in cells))
    else:
        write_csv(path, header, cells)
    try:
        data_overrides(path, target or "y", task if task != "auto" else None)  # the CLI's path
    except (EvolveError, ProblemError):  # the two errors the CLI reports in one line
        pass
    try:
        s = suite(str(path), target=target, task=task, features_size=3)
        for split in ("search", "select", "final"):
            for t in get_tasks(s, split, 2, 0):
                assert np.isfinite(t.train_x).all() and np.isfinite(t.valid_y).all()
    except ProblemError as error:
        assert "\n" not in str(error) or "fuzz.csv" in str(error)
