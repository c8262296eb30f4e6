"""The ``evolve`` command line. Each command lives in ``evolve/cli/<name>.py`` and exposes
``register(subparsers)``; bad input ends in one clear line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from evolve.errors import EvolveError
from primitives.memory import ProgramError

# Command modules, in the order ``evolve --help`` lists them.
COMMAND_MODULES = (
    "campaigns",
    "results",
    "eval",
    "problems",
    "ops",
    "bench",
    "experiment",
    "scaling",
    "runs",
    "dashboard",
    "explain",
    "retune",
    "lineage",
    "motifs",
    "ablation",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        self.exit(2, f"evolve: error: {message} (see `{self.prog} --help`)\n")


class _Version(argparse.Action):  # computed only when asked (it runs git)
    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from evolve.engine.metadata import version_text

        print(version_text())
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="evolve",
        description="Evolve machine-learning algorithms from low-level primitives (AutoML-Zero).",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the versions and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMAND_MODULES:  # a module that fails to import is a bug: it raises here
        importlib.import_module(f"evolve.cli.{name}").register(sub)
    return parser


def _user_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [EvolveError, ProgramError]
    try:
        from problems.base import ProblemError

        errors.append(ProblemError)
    except ImportError:  # pragma: no cover - problems is part of the project
        pass
    return tuple(errors)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except _user_errors() as exc:
        print(f"evolve {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"evolve {args.command}: error: no such file: {exc.filename}", file=sys.stderr)
        return 2
    except OSError as exc:  # a read-only or full disk, a permission: files already written stay whole
        where = f"{exc.filename}: " if exc.filename else ""
        hint = " (files are written whole or not at all; a stopped run resumes with `evolve resume`)"
        print(f"evolve {args.command}: error: {where}{exc.strerror or exc}{hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"evolve {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `evolve runs --json | head`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's flush at exit would raise again
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
