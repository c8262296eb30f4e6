"""Task suites: the ProblemSuite interface, the registry (built-ins + entry points), built-in suites."""

from problems.base import ProblemError, ProblemSuite, SuiteParameter, task_seeds
from problems.registry import (
    ENTRY_POINT_GROUP,
    SUITES,
    available_suites,
    describe_suites,
    get_tasks,
    make_suite,
    validate_tasks,
)
from problems.task import EVAL_TYPES, SPLITS, Task

__all__ = [
    "ENTRY_POINT_GROUP",
    "EVAL_TYPES",
    "SPLITS",
    "SUITES",
    "ProblemError",
    "ProblemSuite",
    "SuiteParameter",
    "Task",
    "available_suites",
    "describe_suites",
    "get_tasks",
    "make_suite",
    "task_seeds",
    "validate_tasks",
]
