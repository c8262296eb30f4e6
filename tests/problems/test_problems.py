"""Conformance tests for every registered problem suite, generation math, and every error path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from problems.base import ProblemError, ProblemSuite, task_seeds
from problems.registry import (
    SUITES,
    available_suites,
    describe_suites,
    get_tasks,
    make_suite,
    validate_tasks,
)
from problems.task import EVAL_TYPES, SPLITS, Task

ROOT = Path(__file__).resolve().parents[2]

# Small sizes keep the conformance tests fast; every suite accepts these parameters.
SMALL = {"features_size": 3, "num_train_examples": 12, "num_valid_examples": 7}
SMALL_FOR = {"projected_binary": {**SMALL, "dataset": "wine"}}


def small_suite(name: str, **extra) -> ProblemSuite:
    return make_suite(name, {**SMALL_FOR.get(name, SMALL), **extra})


# ---- conformance, over every registered suite ----


@pytest.mark.parametrize("name", sorted(SUITES))
def test_suite_declares_the_contract(name):
    suite_class = SUITES[name]
    assert suite_class.name == name
    assert suite_class.description and "\n" not in suite_class.description
    params = suite_class.parameters()
    assert {"features_size", "num_train_epochs", "seed"} <= set(params)
    suite = make_suite(name, {})  # defaults alone make a working suite
    assert suite.eval_type in EVAL_TYPES
    assert isinstance(suite.features_size, int) and suite.features_size >= 1
    assert get_tasks(suite, "search", 1, 0)


@pytest.mark.parametrize("name", sorted(SUITES))
@pytest.mark.parametrize("split", SPLITS)
def test_tasks_are_well_formed(name, split):
    suite = small_suite(name, num_train_epochs=2)
    tasks = suite.tasks(split, 4, 5)
    assert len(tasks) == 4
    for task in tasks:
        assert isinstance(task, Task)
        assert task.eval_type == suite.eval_type
        assert task.num_train_epochs == 2
        assert task.features_size == 3
        assert task.train_x.shape == (12, 3) and task.train_y.shape == (12,)
        assert task.valid_x.shape == (7, 3) and task.valid_y.shape == (7,)
        for array in (task.train_x, task.train_y, task.valid_x, task.valid_y):
            assert array.dtype == np.float64
            assert array.flags.c_contiguous
            assert np.isfinite(array).all()
        if task.eval_type == "accuracy":
            labels = np.concatenate([task.train_y, task.valid_y])
            assert set(np.unique(labels)) <= {0.0, 1.0}
    assert validate_tasks(name, tasks, 3, suite.eval_type)


@pytest.mark.parametrize("name", sorted(SUITES))
def test_tasks_are_deterministic_and_prefix_stable(name):
    first = small_suite(name).tasks("search", 3, 7)
    again = small_suite(name).tasks("search", 5, 7)
    for a, b in zip(first, again, strict=False):
        assert a.seed == b.seed
        for field in ("train_x", "train_y", "valid_x", "valid_y"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


@pytest.mark.parametrize("name", sorted(SUITES))
def test_splits_are_disjoint(name):
    suite = small_suite(name)
    seeds = {split: {task.seed for task in suite.tasks(split, 6, 0)} for split in SPLITS}
    assert all(len(seeds[split]) == 6 for split in SPLITS)  # no repeated task in a split
    assert not seeds["search"] & seeds["select"]
    assert not seeds["search"] & seeds["final"]
    assert not seeds["select"] & seeds["final"]


@pytest.mark.parametrize("name", sorted(SUITES))
def test_seeds_change_the_tasks(name):
    base = {task.seed for task in small_suite(name).tasks("search", 3, 0)}
    other_argument = {task.seed for task in small_suite(name).tasks("search", 3, 1)}
    other_param = {task.seed for task in small_suite(name, seed=1).tasks("search", 3, 0)}
    assert base != other_argument and base != other_param


def test_task_seeds_fit_int32_and_never_cross_splits():
    for suite_seed, seed in [(0, 0), (-3, 2**40), (123, -1)]:
        per_split = [task_seeds(suite_seed, split, 200, seed) for split in SPLITS]
        for index, seeds in enumerate(per_split):
            assert len(set(seeds)) == 200
            assert all(0 <= s < 2**31 and s % 3 == index for s in seeds)


# ---- generation math ----


def test_linear_targets_are_an_exact_linear_map():
    task = make_suite("linear", {"features_size": 5}).tasks("search", 1, 0)[0]
    weights, *_ = np.linalg.lstsq(task.train_x, task.train_y, rcond=None)
    np.testing.assert_allclose(task.train_x @ weights, task.train_y, atol=1e-10)
    np.testing.assert_allclose(task.valid_x @ weights, task.valid_y, atol=1e-10)
    rng = np.random.default_rng(task.seed)  # documented draw order: w, train x, valid x
    np.testing.assert_allclose(weights, rng.standard_normal(5), atol=1e-10)


def test_affine_targets_have_one_bias():
    task = make_suite("affine", {"features_size": 4}).tasks("select", 1, 0)[0]
    design = np.hstack([task.train_x, np.ones((len(task.train_x), 1))])
    coefficients, *_ = np.linalg.lstsq(design, task.train_y, rcond=None)
    np.testing.assert_allclose(design @ coefficients, task.train_y, atol=1e-10)
    assert abs(coefficients[-1]) > 1e-6


def test_nn_teacher_matches_its_formula():
    task = make_suite("nn_teacher", {"features_size": 3}).tasks("final", 1, 0)[0]
    rng = np.random.default_rng(task.seed)
    hidden, output = rng.standard_normal((3, 3)), rng.standard_normal(3)
    np.testing.assert_allclose(task.train_y, np.maximum(task.train_x @ hidden.T, 0) @ output)
    np.testing.assert_array_equal(task.train_x, rng.standard_normal((100, 3)))


def test_unit_test_tasks():
    zeros = make_suite("zeros", {}).tasks("search", 1, 0)[0]
    ones = make_suite("ones", {}).tasks("search", 1, 0)[0]
    increment = make_suite("increment", {"num_train_examples": 4}).tasks("search", 1, 0)[0]
    assert not zeros.train_x.any() and not zeros.valid_y.any()
    assert (ones.train_x == 1).all() and (ones.valid_y == 1).all()
    np.testing.assert_allclose(increment.train_y, [0.0, 0.1, 0.2, 0.3])
    np.testing.assert_allclose(increment.train_x, np.outer([0.0, 0.1, 0.2, 0.3], np.ones(4)))


def test_projected_binary_pairs_and_standardization():
    suite = make_suite("projected_binary", {})  # digits: 45 pairs, 9 held out
    assert len(suite.held_out) == 9 and len(suite.search_pairs) == 36
    search = set(suite.task_pairs("search", 100, 0))
    held_out = set(suite.task_pairs("select", 30, 0)) | set(suite.task_pairs("final", 30, 0))
    assert search == set(suite.search_pairs) and held_out == set(suite.held_out)
    assert not search & held_out
    task = suite.tasks("search", 1, 0)[0]
    assert task.train_x.shape == (200, 16) and task.valid_x.shape == (150, 16)
    np.testing.assert_allclose(task.train_x.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(task.train_x.std(axis=0), 1, atol=1e-12)
    assert 0 < task.train_y.mean() < 1  # both classes present


@pytest.mark.parametrize("dataset", ["digits", "breast_cancer", "wine", "iris"])
def test_projected_binary_defaults_fit_every_dataset(dataset):
    suite = make_suite("projected_binary", {"dataset": dataset})
    for split in SPLITS:
        assert get_tasks(suite, split, 2, 0)
    if dataset == "breast_cancer":  # one pair only: all splits share it, seeds stay disjoint
        assert suite.search_pairs == suite.held_out == [(0, 1)]
    else:
        assert not set(suite.search_pairs) & set(suite.held_out)


def test_projected_binary_held_out_pairs_parameter():
    text = make_suite("projected_binary", {"dataset": "iris", "held_out_pairs": "2-1"})
    listed = make_suite("projected_binary", {"dataset": "iris", "held_out_pairs": [[1, 2]]})
    assert text.held_out == listed.held_out == [(1, 2)]
    assert set(text.task_pairs("final", 5, 0)) == {(1, 2)}
    labels_a = text.tasks("search", 1, 0)[0]
    assert np.isin(labels_a.train_y, (0.0, 1.0)).all()


# ---- registry and errors ----


def test_registry_lists_built_ins():
    assert set(SUITES) <= set(available_suites())
    records = {record["name"]: record for record in describe_suites()}
    assert records["linear"]["source"] == "built-in"
    assert records["linear"]["params"]["features_size"] == {"type": "int", "default": 4}


def test_command_line_strings_are_converted():
    suite = make_suite(
        "projected_binary",
        {"dataset": "iris", "features_size": "8", "seed": " -2", "num_train_epochs": "3"},
    )
    assert (suite.features_size, suite.seed, suite.num_train_epochs) == (8, -2, 3)


@pytest.mark.parametrize(
    ("name", "params", "words"),
    [
        ("nope", {}, ["'nope'", "linear", "projected_binary"]),
        ("linear", {"size": 3}, ["'linear'", "'size'", "features_size"]),
        ("linear", {"features_size": "four"}, ["'linear'", "'features_size'", "'four'", "int"]),
        ("linear", {"features_size": 2.5}, ["'features_size'", "2.5", "int"]),
        ("linear", {"features_size": True}, ["'features_size'", "True", "int"]),
        ("linear", {"features_size": 0}, ["'features_size'", ">= 1"]),
        ("linear", {"num_train_epochs": "-1"}, ["'num_train_epochs'", ">= 1"]),
        ("projected_binary", {"dataset": "mnist"}, ["'dataset'", "'mnist'", "digits"]),
        ("projected_binary", {"dataset": 3}, ["'dataset'", "3", "str"]),
        ("projected_binary", {"held_out_pairs": "0-0"}, ["'held_out_pairs'", "'0-0'"]),
        ("projected_binary", {"held_out_pairs": "0-10"}, ["held_out_pairs", "'0-10'"]),
        ("projected_binary", {"dataset": "iris", "held_out_pairs": "0-1,0-2,1-2"}, ["search"]),
        ("projected_binary", {"num_train_examples": 400}, ["400", "351"]),
        ("projected_binary", {"num_valid_examples": -1}, [">= 0"]),
        ("linear", ["features_size=3"], ["mapping"]),
    ],
)
def test_make_suite_errors_name_what_is_wrong(name, params, words):
    with pytest.raises(ProblemError) as info:
        make_suite(name, params)
    for word in words:
        assert word in str(info.value)


def test_bool_and_float_parameters_convert():
    from problems.registry import _convert

    assert _convert("s", "p", "true", bool) is True and _convert("s", "p", "No", bool) is False
    assert _convert("s", "p", "1e-3", float) == 1e-3 and _convert("s", "p", 2, float) == 2.0
    for value, expected in [("maybe", bool), ("nan", float), ("x", float), (None, str)]:
        with pytest.raises(ProblemError, match="'p'"):
            _convert("s", "p", value, expected)


_NAMES = st.sampled_from([*SUITES, "unknown"])
_KEYS = st.sampled_from(
    sorted({p for suite in SUITES.values() for p in suite.parameters()} | {"bogus"})
)
_VALUES = st.one_of(
    st.text(max_size=8),
    st.integers(-5, 400).map(str),
    st.sampled_from(["true", "digits", "iris", "0-1,2-3", "1.5", "1e9", "nan", "-0", "0-1,"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=_NAMES, params=st.dictionaries(_KEYS, _VALUES, max_size=4))
def test_make_suite_fuzz_raises_only_problem_error(name, params):
    try:
        suite = make_suite(name, params)
    except ProblemError:
        return
    assert isinstance(suite, SUITES[name])


def _task(**changes):
    fields = {
        "train_x": np.zeros((3, 2)),
        "train_y": np.zeros(3),
        "valid_x": np.zeros((2, 2)),
        "valid_y": np.ones(2),
        "eval_type": "accuracy",
        "seed": 1,
    }
    return Task(**{**fields, **changes})


@pytest.mark.parametrize(
    ("tasks", "words"),
    [
        ([], ["non-empty"]),
        (None, ["non-empty"]),
        (["not a task"], ["task 0", "'task'"]),
        ([_task(), _task(eval_type="rms")], ["task 1", "'eval_type'"]),
        ([_task(seed=1.5)], ["'seed'"]),
        ([_task(num_train_epochs=0)], ["'num_train_epochs'"]),
        ([_task(train_x=[[0.0, 0.0]])], ["'train_x'", "numpy array"]),
        ([_task(train_x=np.zeros((3, 2), dtype=object))], ["'train_x'", "dtype"]),
        ([_task(train_x=np.zeros(3))], ["'train_x'", "2-D"]),
        ([_task(train_y=np.zeros((3, 1)))], ["'train_y'", "1-D"]),
        ([_task(valid_x=np.zeros((2, 5)))], ["'valid_x'", "5 features"]),
        ([_task(train_x=np.zeros((0, 2)), train_y=np.zeros(0))], ["'train_x'", "no examples"]),
        ([_task(train_y=np.zeros(4))], ["'train_y'", "4 labels for 3"]),
        ([_task(valid_x=np.full((2, 2), np.nan))], ["'valid_x'", "NaN"]),
        ([_task(train_y=np.array([0.0, np.inf, 1.0]))], ["'train_y'", "inf"]),
        ([_task(valid_y=np.array([0.0, 2.0]))], ["'valid_y'", "0 or 1"]),
    ],
)
def test_validate_tasks_errors(tasks, words):
    with pytest.raises(ProblemError) as info:
        validate_tasks("demo", tasks, 2, "accuracy")
    assert "'demo'" in str(info.value)
    for word in words:
        assert word in str(info.value)


def test_validate_tasks_converts_arrays():
    task = _task(train_x=np.asfortranarray(np.ones((3, 2), dtype=np.int32)), seed=np.int64(4))
    (checked,) = validate_tasks("demo", [task], 2, "accuracy")
    assert checked.train_x.dtype == np.float64 and checked.train_x.flags.c_contiguous
    assert type(checked.seed) is int
    with pytest.raises(ProblemError, match="eval_type 'mse'"):
        validate_tasks("demo", [task], 2, "mse")


def test_get_tasks_checks_its_arguments_and_the_suite():
    suite = make_suite("zeros", {})
    for split, n, seed, word in [
        ("train", 1, 0, "split"),
        ("search", 0, 0, "number of tasks"),
        ("search", True, 0, "number of tasks"),
        ("search", 1, "0", "seed"),
    ]:
        with pytest.raises(ProblemError, match=word):
            get_tasks(suite, split, n, seed)

    class Short(ProblemSuite):
        name, features_size, eval_type = "short", 4, "rms"

        def tasks(self, split, n, seed):
            return suite.tasks(split, 1, seed)

    with pytest.raises(ProblemError, match="returned 1 tasks for n=2"):
        get_tasks(Short(), "search", 2, 0)


def test_parameter_introspection_rejects_untyped_parameters():
    class Untyped(ProblemSuite):
        name = "untyped"

        def __init__(self, size=3):
            self.size = size

    with pytest.raises(ProblemError, match="'size'"):
        Untyped.parameters()


def test_problems_imports_nothing_from_the_project_and_sklearn_lazily():
    code = (
        "import sys, problems, problems.registry, problems.synthetic, problems.projected_binary\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('primitives', 'evolve', 'sklearn')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
