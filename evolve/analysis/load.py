"""Reading what to inspect: a run directory (``best.txt`` + ``config.toml``) or a program file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from evolve.errors import EvolveError
from primitives.memory import MemorySpec
from primitives.program import Program
from primitives.text import parse_program
from problems.files import UnreadableFileError
from problems.files import read_text as bounded_read_text


@dataclass
class Source:
    """A program to inspect and, when it comes from a run directory, the run's config."""

    program: Program
    path: Path
    run_dir: Path | None = None
    config: object | None = None

    @property
    def memory(self) -> MemorySpec:
        need = self.program.required_memory()
        if self.config is None:
            return need
        m = self.config.memory
        return MemorySpec(max(need.scalars, m.scalars), max(need.vectors, m.vectors),
                          max(need.matrices, m.matrices))


def load_source(path: str | Path) -> Source:
    """A program from ``path``: a run directory (its ``best.txt``), a program ``.txt`` file or the
    name of a shipped algorithm (``linear_sgd``, ``logistic_sgd``, ``nn_2layer``)."""
    path = Path(path)
    if path.is_dir():
        best = path / "best.txt"
        if not best.exists():
            raise EvolveError(f"{path}: a run directory must hold best.txt (none found)")
        return Source(read_program(best), best, path, load_run_config(path))
    if not path.exists():
        from evolve.reference_programs import BUILTIN_ALGORITHMS, load_algorithm

        if str(path) in BUILTIN_ALGORITHMS:
            return Source(load_algorithm(str(path)), path)
        raise EvolveError(
            f"{path}: no such run directory or program file (shipped algorithms: "
            f"{', '.join(BUILTIN_ALGORITHMS)})"
        )
    return Source(read_program(path), path)


def read_program(path: Path) -> Program:
    return parse_program(read_text(path), source=str(path))


def read_text(path: Path) -> str:
    """A run file as UTF-8 text; a binary or unreadable one is one clear error."""
    try:
        return bounded_read_text(path, what="run file")
    except UnreadableFileError as exc:
        raise EvolveError(str(exc)) from None


def load_run_config(run_dir: Path):
    from evolve.config import load_config

    config = run_dir / "config.toml"
    if not config.exists():
        return None
    return load_config(str(config))


def final_tasks(config, split: str = "final", n: int | None = None):
    """The run's held-out tasks: the suite with the select/final overrides, split ``final``."""
    from evolve.engine.resources import check_resources
    from problems.registry import get_tasks, make_suite

    params = {**config.problem.params}
    if split != "search":
        params.update(config.problem.select)
    suite = make_suite(config.problem.name, params)
    check_resources(config, suite)  # a config asking for terabytes is one clear error
    return get_tasks(suite, split, n if n is not None else config.tasks.final, config.seed)


def eval_type_of(source: Source, default: str = "rms") -> str:
    """The task type the run's suite declares (no task is made: a huge F costs nothing here)."""
    if source.config is None:
        return default
    if source.run_dir is not None and (found := data_eval_type(source.run_dir)):
        return found
    suite = suite_of(source.config)
    return getattr(suite, "eval_type", None) or default


_HEADER = re.compile(r"^#\s*rank\s+(\d+)\s+fitness\s+(\S+)")


def read_hall_of_fame(path: Path) -> list[tuple[int, float, Program]]:
    """``(rank, fitness, program)`` blocks of a ``hall_of_fame.txt``."""
    blocks: list[tuple[int, float, list[str]]] = []
    for line in read_text(path).splitlines():
        match = _HEADER.match(line.strip())
        if match:
            blocks.append((int(match.group(1)), float(match.group(2)), []))
        elif blocks:
            blocks[-1][2].append(line)
    return [(rank, fit, parse_program("\n".join(lines), source=f"{path} rank {rank}"))
            for rank, fit, lines in blocks]


def suite_of(config):
    """The run's problem suite with its select/final overrides, or None if it cannot be made
    here (a data file that is not on this machine)."""
    from problems.base import ProblemError
    from problems.registry import make_suite

    try:
        return make_suite(config.problem.name, {**config.problem.params, **config.problem.select})
    except (ProblemError, OSError):
        return None


def data_eval_type(run_dir: Path) -> str | None:
    """A data run's task type from its ``data.json`` (no need for the data file itself)."""
    import json

    from problems.files import read_text

    try:
        task = json.loads(read_text(run_dir / "data.json", what="run file")).get("task")
    except (ValueError, AttributeError, RecursionError):
        return None
    return {"classification": "accuracy", "regression": "rms"}.get(task)
