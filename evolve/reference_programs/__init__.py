"""Hand-written algorithms in the instruction language (initial populations and baselines)."""

from __future__ import annotations

from importlib import resources

from evolve.errors import EvolveError
from primitives.program import Program
from primitives.text import parse_program

BUILTIN_ALGORITHMS = ("linear_sgd", "affine_sgd", "logistic_sgd", "nn_2layer", "nn_2layer_bias",
                      "nn_2layer_momentum", "automl_zero_linear")


def algorithm_text(name: str) -> str:
    """The text of a shipped algorithm."""
    if name not in BUILTIN_ALGORITHMS:
        raise EvolveError(f"unknown algorithm {name!r}; shipped: {', '.join(BUILTIN_ALGORITHMS)}")
    return (resources.files("evolve.reference_programs") / f"{name}.txt").read_text()


def load_algorithm(name: str) -> Program:
    """A shipped algorithm parsed into a program."""
    return parse_program(algorithm_text(name), source=f"{name}.txt")
