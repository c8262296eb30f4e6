"""Memory layout of one algorithm (AutoML-Zero §3, Supplementary S1).

An algorithm owns ``S`` scalars, ``V`` vectors of size ``F`` and ``M`` matrices ``F x F``, all
float64 and wiped to zero before Setup. A few addresses are reserved by the executor and are
stable identifiers (never renumbered): ``s0`` holds the label during Learn (0 during Predict),
``s1`` holds the prediction, ``v0`` holds the features. Instructions never write ``s0`` or ``v0``.
"""

from __future__ import annotations

from dataclasses import dataclass

SCALAR = 0
VECTOR = 1
MATRIX = 2
KIND_LETTERS = ("s", "v", "m")
KIND_NAMES = ("scalar", "vector", "matrix")

LABEL_SCALAR_ADDRESS = 0
PREDICTION_SCALAR_ADDRESS = 1
FEATURES_VECTOR_ADDRESS = 0

# First address an instruction may write, per kind (s0 and v0 are read-only).
FIRST_OUT_ADDRESS = (1, 1, 0)
# Smallest memory that holds the reserved addresses, and the largest any program may address: the
# one set of memory bounds (config, programs, checkpoints and validation all read these).
MIN_MEMORY = (2, 1, 0)
MAX_MEMORY = (1000, 1000, 1000)


class ProgramError(ValueError):
    """A program (text or arrays) is malformed or does not fit its memory."""


@dataclass(frozen=True)
class MemorySpec:
    """Sizes of the three memory banks of one algorithm (``scalars``, ``vectors``, ``matrices``)."""

    scalars: int = 4
    vectors: int = 3
    matrices: int = 1

    def __post_init__(self) -> None:
        for kind, (value, low, high) in enumerate(zip(self.as_tuple(), MIN_MEMORY, MAX_MEMORY, strict=True)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low or value > high:
                raise ProgramError(
                    f"memory.{KIND_NAMES[kind]}s = {value!r}: must be an integer in [{low}, {high}]"
                )

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.scalars, self.vectors, self.matrices)

    def size(self, kind: int) -> int:
        return self.as_tuple()[kind]
