"""Problem suites by name: built-ins in a plain dict, third-party suites from entry points.

A distribution adds suites in its ``pyproject.toml``::

    [project.entry-points."evolve.problems"]
    sine = "my_package.sine:SineSuite"

Entry points are read when asked for (``available_suites``, ``make_suite``), never at import. This
module is the boundary: parameters are converted and checked here, and every task a suite returns
passes ``validate_tasks`` before the engine sees it. Every error is a ``ProblemError``.
"""

from __future__ import annotations

import dataclasses
import math
from importlib import metadata

import numpy as np

from problems.base import ProblemError, ProblemSuite, split_index
from problems.dataset import DatasetSuite
from problems.projected_binary import ProjectedBinarySuite
from problems.synthetic import (
    AffineSuite,
    IncrementSuite,
    LinearSuite,
    NNTeacherSuite,
    OnesSuite,
    ZerosSuite,
)
from problems.task import EVAL_TYPES, Task

ENTRY_POINT_GROUP = "evolve.problems"

#: Built-in suites, name -> class.
SUITES: dict[str, type[ProblemSuite]] = {
    suite.name: suite
    for suite in (
        LinearSuite,
        AffineSuite,
        NNTeacherSuite,
        ZerosSuite,
        OnesSuite,
        IncrementSuite,
        ProjectedBinarySuite,
        DatasetSuite,
    )
}

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def _entry_points() -> dict[str, metadata.EntryPoint]:
    """Entry points of the group by name, unloaded; a name defined twice is an error."""
    found: dict[str, metadata.EntryPoint] = {}
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in SUITES:
            raise ProblemError(
                f"problem suite {entry.name!r} is defined twice: built-in "
                f"({SUITES[entry.name].__module__}.{SUITES[entry.name].__qualname__}) and entry "
                f"point {entry.value!r} of distribution {_source(entry)!r}"
            )
        if entry.name in found:
            raise ProblemError(
                f"problem suite {entry.name!r} is defined twice: entry point "
                f"{found[entry.name].value!r} of distribution {_source(found[entry.name])!r} and "
                f"entry point {entry.value!r} of distribution {_source(entry)!r}"
            )
        found[entry.name] = entry
    return found


def _source(entry: metadata.EntryPoint) -> str:
    return entry.dist.name if entry.dist is not None else "<unknown distribution>"


def _load(entry: metadata.EntryPoint) -> type[ProblemSuite]:
    where = f"entry point {entry.name} = {entry.value!r} of distribution {_source(entry)!r}"
    try:
        suite = entry.load()
    except Exception as error:
        raise ProblemError(
            f"problem suite {where} failed to load: {type(error).__name__}: {error}"
        ) from error
    if not (isinstance(suite, type) and issubclass(suite, ProblemSuite)):
        raise ProblemError(f"problem suite {where} is {suite!r}, not a ProblemSuite subclass")
    return suite


def available_suites() -> dict[str, type[ProblemSuite]]:
    """Built-in suites plus every suite registered under the ``evolve.problems`` entry points."""
    suites = dict(SUITES)
    for name, entry in _entry_points().items():
        suites[name] = _load(entry)
    return suites


def suite_class(name: str) -> type[ProblemSuite]:
    """The class of suite ``name``, loading only that entry point."""
    entries = _entry_points()
    if name in SUITES:
        return SUITES[name]
    if name in entries:
        return _load(entries[name])
    known = sorted([*SUITES, *entries])
    raise ProblemError(f"unknown problem suite {name!r}; known suites: {', '.join(known)}")


def _convert(suite: str, name: str, value: object, expected: type) -> object:
    """``value`` as ``expected`` (int, float, bool or str); strings from a command line are parsed."""
    converted: object = None
    if expected is bool:
        if isinstance(value, bool):
            converted = value
        elif isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            converted = value.strip().lower() in _TRUE
    elif expected is int:
        if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
            converted = int(value)
        elif isinstance(value, str):
            try:
                converted = int(value.strip())
            except ValueError:
                pass
    elif expected is float:
        if isinstance(value, int | float | np.integer | np.floating) and not isinstance(
            value, bool | np.bool_
        ):
            converted = float(value)
        elif isinstance(value, str):
            try:
                converted = float(value.strip())
            except ValueError:
                pass
        if isinstance(converted, float) and not math.isfinite(converted):
            converted = None
    elif expected is str:
        if isinstance(value, str):
            converted = value
        elif isinstance(value, list | tuple) and all(_is_int_pair(item) for item in value):
            # A TOML list of class pairs, [[0, 1], [2, 3]], is written in the string form "0-1,2-3".
            converted = ",".join(f"{int(a)}-{int(b)}" for a, b in value)
    if converted is None:
        raise ProblemError(
            f"problem suite {suite!r}: parameter {name!r} has value {value!r} "
            f"({type(value).__name__}); expected {expected.__name__}"
            + (" (finite)" if expected is float else "")
        )
    return converted


def _is_int_pair(item: object) -> bool:
    return (
        isinstance(item, list | tuple)
        and len(item) == 2
        and all(isinstance(i, int) and not isinstance(i, bool) for i in item)
    )


def make_suite(name: str, params: dict[str, object] | None = None) -> ProblemSuite:
    """Construct suite ``name`` from ``params`` (config values or command-line strings)."""
    if not isinstance(name, str):
        raise ProblemError(f"a problem suite name must be a string, got {name!r}")
    if params is not None and not isinstance(params, dict):
        raise ProblemError(
            f"parameters of problem suite {name!r} must be a mapping, got {params!r}"
        )
    suite = suite_class(name)
    allowed = suite.parameters()
    kwargs = {}
    for key, value in (params or {}).items():
        if key not in allowed:
            raise ProblemError(
                f"problem suite {name!r} has no parameter {key!r}; allowed: "
                f"{', '.join(allowed) or '(none)'}"
            )
        kwargs[key] = _convert(name, key, value, allowed[key].type)
    try:
        return suite(**kwargs)
    except ProblemError:
        raise
    except (TypeError, ValueError, ArithmeticError) as error:
        raise ProblemError(
            f"problem suite {name!r} rejected parameters {kwargs}: {error}"
        ) from error


def describe_suites() -> list[dict]:
    """One record per available suite: name, description, params (type, default) and source."""
    entries = _entry_points()
    records = []
    for name, suite in available_suites().items():
        records.append(
            {
                "name": name,
                "description": suite.description,
                "params": {
                    param.name: {"type": param.type.__name__, "default": param.default}
                    for param in suite.parameters().values()
                },
                "source": "built-in" if name in SUITES else _source(entries[name]),
            }
        )
    return records


def get_tasks(suite: ProblemSuite, split: str, n: int, seed: int) -> list[Task]:
    """``suite.tasks(split, n, seed)``, with the arguments and every returned task validated."""
    split_index(split)
    if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1:
        raise ProblemError(f"number of tasks must be an integer >= 1, got {n!r}")
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
        raise ProblemError(f"task seed must be an integer, got {seed!r}")
    name = getattr(suite, "name", type(suite).__name__)
    tasks = suite.tasks(split, int(n), int(seed))
    tasks = validate_tasks(name, tasks, suite.features_size, suite.eval_type)
    if len(tasks) != n:
        raise ProblemError(f"problem suite {name!r} returned {len(tasks)} tasks for n={n}")
    return tasks


def validate_tasks(
    suite_name: str, tasks: object, features_size: int, eval_type: str
) -> list[Task]:
    """Check tasks at the boundary; return them with arrays as C-contiguous float64.

    Raises ProblemError naming the suite, the task index and the field.
    """
    if eval_type not in EVAL_TYPES:
        raise ProblemError(
            f"problem suite {suite_name!r}: eval_type {eval_type!r} is not one of "
            f"{', '.join(EVAL_TYPES)}"
        )
    if not isinstance(tasks, list | tuple) or not tasks:
        raise ProblemError(
            f"problem suite {suite_name!r} must return a non-empty list of tasks, "
            f"got {type(tasks).__name__}"
        )
    return [
        _validate_task(suite_name, index, task, features_size, eval_type)
        for index, task in enumerate(tasks)
    ]


def _validate_task(suite_name, index, task, features_size, eval_type) -> Task:
    def fail(field: str, problem: str) -> ProblemError:
        return ProblemError(
            f"problem suite {suite_name!r}, task {index}, field {field!r}: {problem}"
        )

    if not isinstance(task, Task):
        raise fail("task", f"expected a Task, got {type(task).__name__}")
    if task.eval_type != eval_type:
        raise fail("eval_type", f"{task.eval_type!r}; the suite declares {eval_type!r}")
    if not isinstance(task.seed, int | np.integer) or isinstance(task.seed, bool):
        raise fail("seed", f"expected an integer, got {task.seed!r}")
    epochs = task.num_train_epochs
    if not isinstance(epochs, int | np.integer) or isinstance(epochs, bool) or epochs < 1:
        raise fail("num_train_epochs", f"expected an integer >= 1, got {epochs!r}")
    arrays = {}
    for field in ("train_x", "train_y", "valid_x", "valid_y"):
        array = getattr(task, field)
        if not isinstance(array, np.ndarray):
            raise fail(field, f"expected a numpy array, got {type(array).__name__}")
        if array.dtype.kind not in "biuf":
            raise fail(field, f"dtype {array.dtype} is not a real number type")
        wanted = 2 if field.endswith("_x") else 1
        if array.ndim != wanted:
            raise fail(field, f"expected {wanted}-D, got shape {array.shape}")
        if array.shape[0] == 0:
            raise fail(field, "has no examples")
        if field.endswith("_x") and array.shape[1] != features_size:
            raise fail(field, f"has {array.shape[1]} features; the suite declares {features_size}")
        array = np.ascontiguousarray(array, dtype=np.float64)
        if not np.isfinite(array).all():
            raise fail(field, "contains NaN or inf")
        if (
            eval_type == "accuracy"
            and field.endswith("_y")
            and not np.isin(array, (0.0, 1.0)).all()
        ):
            raise fail(field, "accuracy labels must be 0 or 1")
        arrays[field] = array
    for part in ("train", "valid"):
        if arrays[f"{part}_x"].shape[0] != arrays[f"{part}_y"].shape[0]:
            raise fail(
                f"{part}_y",
                f"has {arrays[f'{part}_y'].shape[0]} labels for "
                f"{arrays[f'{part}_x'].shape[0]} examples",
            )
    return dataclasses.replace(task, **arrays, seed=int(task.seed), num_train_epochs=int(epochs))
