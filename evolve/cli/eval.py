"""``evolve eval``: the fitness of one algorithm on a problem suite's tasks or on tasks from a file.

Fitness per task is AutoML-Zero's (Real et al. 2020, §3): regression ``1 - (2/pi) arctan(RMSE)``,
classification accuracy; the combined fitness is the mean over tasks, or with ``--median`` the upper
median ``sorted(f)[n // 2]`` as AutoML-Zero's C++ computes it.

A tasks file is an ``.npz`` archive (read with ``allow_pickle=False``) holding ``train_x`` (T, n, F),
``train_y`` (T, n), ``valid_x`` (T, m, F), ``valid_y`` (T, m), ``eval_type`` ("rms" or
"accuracy") and optionally ``num_train_epochs`` (an integer >= 1, default 1). Task ``t`` gets the
seed ``t`` (it seeds the epoch shuffles and the random ops).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evolve.errors import DataError, EvolveError
from evolve.evaluation.scoring import TaskBatch, per_task_fitness, reduce_fitness
from evolve.reference_programs import BUILTIN_ALGORITHMS, load_algorithm
from primitives.interpreter import DEFAULT_MAX_ABS_ERROR
from primitives.memory import MIN_MEMORY, MemorySpec, ProgramError
from primitives.program import Program, validate
from primitives.text import parse_program
from problems.files import DATA_LIMIT, UnreadableFileError, read_npz, read_text
from problems.registry import get_tasks, make_suite
from problems.task import EVAL_TYPES, SPLITS, Task

#: Keys of a tasks ``.npz``: required, then optional.
DATA_KEYS = ("train_x", "train_y", "valid_x", "valid_y", "eval_type")
OPTIONAL_DATA_KEYS = ("num_train_epochs",)
MAX_EPOCHS = 10_000

_PROBLEM_ONLY = {"param": "--param", "split": "--split", "tasks": "--tasks", "seed": "--seed"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="fitness of one algorithm on a problem suite or a tasks .npz",
        description="Evaluate PROGRAM (a program text file or a shipped algorithm: "
        f"{', '.join(BUILTIN_ALGORITHMS)}) on tasks of a problem suite (--problem) or on tasks "
        "from an .npz file (--data: train_x (T,n,F), train_y (T,n), valid_x (T,m,F), "
        "valid_y (T,m), eval_type 'rms'|'accuracy', optional num_train_epochs).",
    )
    p.add_argument("program", metavar="PROGRAM", help="program text file or shipped algorithm name")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--problem", metavar="NAME", help="problem suite (see `evolve problems`)")
    source.add_argument("--data", metavar="TASKS.npz", help="tasks file (.npz)")
    p.add_argument("--param", action="append", metavar="KEY=VALUE",
                   help="suite parameter, repeatable (with --problem)")
    p.add_argument("--split", choices=SPLITS, help="task split (with --problem; default final)")
    p.add_argument("--tasks", type=int, metavar="N", help="number of tasks (with --problem; default 10)")
    p.add_argument("--seed", type=int, metavar="S", help="task seed (with --problem; default 0)")
    p.add_argument("--memory", metavar="S,V,M",
                   help="memory sizes (default: the smallest the program needs)")
    p.add_argument("--max-abs-error", type=float, default=DEFAULT_MAX_ABS_ERROR, metavar="X",
                   help=f"stop training when |error| > X (default {DEFAULT_MAX_ABS_ERROR:g})")
    p.add_argument("--median", action="store_true", help="combine tasks by upper median, not mean")
    p.add_argument("--json", action="store_true",
                   help='print one JSON object {"fitness": f, "per_task": [...]}')
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.data is not None:
        given = [flag for name, flag in _PROBLEM_ONLY.items() if getattr(args, name) is not None]
        if given:
            raise EvolveError(f"{', '.join(given)}: only with --problem, not with --data")
    if not (args.max_abs_error > 0):  # also refuses NaN
        raise EvolveError(f"--max-abs-error {args.max_abs_error!r}: must be > 0")
    program, label = load_program(args.program)
    memory = resolve_memory(program, args.memory)

    if args.data is not None:
        batches = [load_tasks_npz(args.data)]
        order = [np.arange(batches[0].num_tasks)]
        where = f"{args.data}"
    else:
        params = parse_params(args.param or [])
        split = args.split or "final"
        n = 10 if args.tasks is None else args.tasks
        seed = 0 if args.seed is None else args.seed
        tasks = get_tasks(make_suite(args.problem, params), split, n, seed)
        batches, order = group_tasks(tasks)
        where = f"suite {args.problem!r}, split {split}, seed {seed}"

    total = sum(b.num_tasks for b in batches)
    per_task = np.zeros(total)
    for batch, indices in zip(batches, order, strict=True):
        fitness, _ = per_task_fitness([program], batch, memory, max_abs_error=args.max_abs_error)
        per_task[indices] = fitness[0]
    reduction = "median" if args.median else "mean"
    combined = float(reduce_fitness(per_task[None, :], reduction)[0])

    if args.json:
        print(json.dumps({"fitness": combined, "per_task": [float(f) for f in per_task]}))
        return 0
    print(f"program  {label}  (memory {memory.scalars},{memory.vectors},{memory.matrices})")
    print(f"tasks    {total} from {where}")
    print(f"{'task':>6}  fitness")
    for index, value in enumerate(per_task):
        print(f"{index:>6}  {value:.6f}")
    print(f"{reduction:>6}  {combined:.6f}")
    return 0


def load_program(name: str) -> tuple[Program, str]:
    """A program from a text file, or a shipped algorithm by name; and how to call it."""
    path = Path(name)
    if not path.exists() and name in BUILTIN_ALGORITHMS:
        return load_algorithm(name), name
    if not path.exists():
        raise EvolveError(
            f"program {name!r}: no such file, and not a shipped algorithm "
            f"({', '.join(BUILTIN_ALGORITHMS)})"
        )
    if not path.is_file():
        raise EvolveError(f"program {name!r}: not a file")
    try:
        text = read_text(path, what="program")
    except UnreadableFileError as error:
        raise EvolveError(str(error)) from None
    return parse_program(text, source=name), name


def parse_memory(text: str) -> MemorySpec:
    """``"S,V,M"`` as a MemorySpec; EvolveError/ProgramError naming the value otherwise."""
    parts = text.split(",")
    try:
        values = [int(part.strip()) for part in parts]
    except ValueError:
        values = []
    if len(values) != 3 or len(parts) != 3:
        raise EvolveError(
            f"--memory {text!r}: expected three integers S,V,M (scalars, vectors, matrices), "
            f"e.g. 4,3,1; at least {','.join(map(str, MIN_MEMORY))}"
        )
    return MemorySpec(*values)


def resolve_memory(program: Program, text: str | None) -> MemorySpec:
    """The memory given (the program is checked against it), else the smallest that fits."""
    if text is None:
        need = program.required_memory().as_tuple()
        return MemorySpec(*(max(a, b) for a, b in zip(need, MIN_MEMORY, strict=True)))
    memory = parse_memory(text)
    try:
        validate(program, memory)
    except ProgramError as error:
        raise ProgramError(f"the program does not fit --memory {text}: {error}") from error
    return memory


def parse_params(items: Sequence[str]) -> dict[str, str]:
    """``--param key=value`` strings as a dict (make_suite converts the values)."""
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise EvolveError(f"--param {item!r}: expected KEY=VALUE, e.g. features_size=8")
        if key in params:
            raise EvolveError(f"--param {key!r} is given twice")
        params[key] = value
    return params


def group_tasks(tasks: Sequence[Task]) -> tuple[list[TaskBatch], list[np.ndarray]]:
    """Stack tasks into batches of equal shape; with the task indices of each batch."""
    groups: dict[tuple, list[int]] = {}
    for index, task in enumerate(tasks):
        key = (task.train_x.shape, task.valid_x.shape, task.eval_type, task.num_train_epochs)
        groups.setdefault(key, []).append(index)
    batches = [TaskBatch.from_tasks([tasks[i] for i in idx]) for idx in groups.values()]
    return batches, [np.array(idx, dtype=np.int64) for idx in groups.values()]


# --- tasks files -------------------------------------------------------------------------------

def load_tasks_npz(path: str | Path) -> TaskBatch:
    """Read and validate a tasks ``.npz``; every problem is a DataError naming key, value, rule."""
    path = Path(path)
    try:
        arrays = read_npz(path, limit=DATA_LIMIT, what="tasks file")
    except UnreadableFileError as error:
        raise DataError(f"{error}; write it with numpy.savez (numeric arrays, no pickles)") from None
    keys = list(arrays)
    unknown = sorted(set(keys) - set(DATA_KEYS) - set(OPTIONAL_DATA_KEYS))
    if unknown:
        raise DataError(
            f"tasks file {str(path)!r}: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(DATA_KEYS + OPTIONAL_DATA_KEYS)}"
        )
    missing = [key for key in DATA_KEYS if key not in keys]
    if missing:
        raise DataError(
            f"tasks file {str(path)!r}: missing key(s) {', '.join(map(repr, missing))}; "
            f"required: {', '.join(DATA_KEYS)}"
        )
    return tasks_from_arrays(arrays, str(path))


def tasks_from_arrays(arrays: dict[str, np.ndarray], source: str = "<arrays>") -> TaskBatch:
    """Validate the arrays of a tasks file and stack them as a TaskBatch."""

    def fail(key: str, problem: str) -> DataError:
        return DataError(f"tasks file {source!r}: key {key!r} {problem}")

    eval_type = _scalar_string(arrays["eval_type"], fail)
    epochs = 1
    if "num_train_epochs" in arrays:
        epochs = _scalar_int(arrays["num_train_epochs"], fail)

    checked = {}
    for key, ndim, meaning in (
        ("train_x", 3, "(T, n, F)"),
        ("train_y", 2, "(T, n)"),
        ("valid_x", 3, "(T, m, F)"),
        ("valid_y", 2, "(T, m)"),
    ):
        array = arrays[key]
        if array.dtype.kind not in "biuf":
            raise fail(key, f"has dtype {array.dtype}; allowed: a real number type (bool, int, float)")
        if array.ndim != ndim:
            raise fail(key, f"has shape {array.shape}; expected {ndim}-D {meaning}")
        if 0 in array.shape:
            raise fail(key, f"has shape {array.shape}; every dimension of {meaning} must be >= 1")
        with np.errstate(over="ignore", invalid="ignore"):
            array = np.ascontiguousarray(array, dtype=np.float64)
        if not np.isfinite(array).all():
            bad = np.argwhere(~np.isfinite(array))[0]
            raise fail(key, f"contains NaN or inf (first at index {tuple(int(i) for i in bad)}); "
                            "allowed: finite numbers")
        checked[key] = array

    train_x, train_y = checked["train_x"], checked["train_y"]
    valid_x, valid_y = checked["valid_x"], checked["valid_y"]
    T, n, F = train_x.shape
    if train_y.shape != (T, n):
        raise fail("train_y", f"has shape {train_y.shape}; expected (T, n) = {(T, n)} to match "
                              f"train_x {train_x.shape}")
    if valid_x.shape[0] != T or valid_x.shape[2] != F:
        raise fail("valid_x", f"has shape {valid_x.shape}; expected (T, m, F) with T = {T} and "
                              f"F = {F} as in train_x {train_x.shape}")
    if valid_y.shape != valid_x.shape[:2]:
        raise fail("valid_y", f"has shape {valid_y.shape}; expected (T, m) = {valid_x.shape[:2]} "
                              f"to match valid_x {valid_x.shape}")
    if eval_type == "accuracy":
        for key in ("train_y", "valid_y"):
            labels = checked[key]
            outside = labels[(labels != 0.0) & (labels != 1.0)]
            if outside.size:
                raise fail(key, f"has label {outside[0]!r}; accuracy labels must be 0 or 1")
    return TaskBatch(train_x, train_y, valid_x, valid_y, eval_type, epochs,
                     np.arange(T, dtype=np.uint64))


def _scalar_string(array: np.ndarray, fail) -> str:
    allowed = " or ".join(map(repr, EVAL_TYPES))
    if array.dtype.kind not in "US" or array.size != 1 or array.ndim > 1:
        raise fail("eval_type", f"is {_describe(array)}; expected a string {allowed}")
    value = array.reshape(-1)[0]
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    value = str(value)
    if value not in EVAL_TYPES:
        raise fail("eval_type", f"is {value!r}; allowed: {allowed}")
    return value


def _scalar_int(array: np.ndarray, fail) -> int:
    rule = f"expected one integer in [1, {MAX_EPOCHS}]"
    if array.size != 1 or array.ndim > 1 or array.dtype.kind not in "iuf":
        raise fail("num_train_epochs", f"is {_describe(array)}; {rule}")
    value = array.reshape(-1)[0].item()
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise fail("num_train_epochs", f"is {value!r}; {rule}")
    if not 1 <= value <= MAX_EPOCHS:
        raise fail("num_train_epochs", f"is {value!r}; {rule}")
    return int(value)


def _describe(array: np.ndarray) -> str:
    if array.size == 1 and array.ndim <= 1:
        return f"{array.reshape(-1)[0].item()!r} (dtype {array.dtype})"
    return f"an array of shape {array.shape} and dtype {array.dtype}"
