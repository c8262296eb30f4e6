"""A program run as data: AutoML-Zero's executor over the op table's NumPy references.

The estimators of a discovered algorithm (:mod:`evolve.estimators.discovered`) train and predict
with this class. It reads a :class:`~primitives.program.Program`'s arrays (op codes, addresses,
constants) and applies ``OPS[code].reference`` instruction by instruction: no source is generated
and nothing is executed but the op table's own functions, so a program read from someone's run
directory can never run code of theirs.

Semantics (Real et al. 2020, §3 and Supplementary S1), as the Numba interpreter
(:mod:`primitives.interpreter`) has them:

- memory ``S`` scalars, ``V`` vectors of size ``F``, ``M`` matrices ``F x F``, wiped to zero,
  then Setup once;
- per epoch (the first in order, later ones Fisher-Yates shuffled by the SplitMix64 shuffle
  stream), for each training row: ``v0 = x``, ``s0 = 0``, Predict; on accuracy tasks
  ``s1 = sigmoid(s1)``; training stops when ``|y - s1|`` is NaN or above ``max_abs_error``;
  otherwise ``s0 = y`` and Learn;
- random ops draw from the SplitMix64 stream of (task seed, evaluation seed, random-ops salt).
"""

from __future__ import annotations

import numpy as np

from primitives import libm
from primitives.memory import (
    FEATURES_VECTOR_ADDRESS,
    LABEL_SCALAR_ADDRESS,
    MATRIX,
    PREDICTION_SCALAR_ADDRESS,
    SCALAR,
    VECTOR,
    MemorySpec,
)
from primitives.ops import OPS, PARTIAL_WRITE_OPS
from primitives.program import LEARN, PREDICT, SETUP, Program
from primitives.rng import SALT_RANDOM_OPS, SALT_SHUFFLE, Stream, stream_start

DEFAULT_MAX_ABS_ERROR = 100.0


def _compiled(program: Program, component: int) -> list[tuple]:
    """``(op, input (kind, address) pairs, output kind, output address, constants)`` per live
    instruction of one component (no_op rows dropped)."""
    instructions, constants = program.component(component)
    steps = []
    for row, consts in zip(instructions, constants, strict=True):
        op = OPS[int(row[0])]
        if op.output is None:
            continue
        out = int(row[3])
        if op.code in PARTIAL_WRITE_OPS:
            inputs = ((op.output, out),)
        else:
            inputs = tuple((kind, int(row[1 + slot])) for slot, kind in enumerate(op.inputs))
        steps.append((op.reference, inputs, op.output, out, [float(c) for c in consts]))
    return steps


class ProgramState:
    """The memory of one algorithm (scalars as Python floats, vectors (V, F), matrices (M, F, F))
    and its random-ops stream."""

    def __init__(self, memory: MemorySpec, features_size: int, stream: Stream) -> None:
        n_s, n_v, n_m = memory.as_tuple()
        self.features_size = features_size
        self.scalars = [0.0] * n_s
        self.vectors = np.zeros((n_v, features_size))
        self.matrices = np.zeros((max(n_m, 1), features_size, features_size))
        self.stream = stream

    def copy(self) -> ProgramState:
        state = object.__new__(ProgramState)
        state.features_size = self.features_size
        state.scalars = list(self.scalars)
        state.vectors = self.vectors.copy()
        state.matrices = self.matrices.copy()
        state.stream = Stream(self.stream.state)
        return state


class ProgramExecutor:
    """Setup/Predict/Learn of ``program`` run over a :class:`ProgramState`."""

    def __init__(self, program: Program, memory: MemorySpec | None = None,
                 eval_type: str = "rms", max_abs_error: float = DEFAULT_MAX_ABS_ERROR) -> None:
        need = program.required_memory()
        if memory is not None:
            need = MemorySpec(*(max(a, b) for a, b in zip(need.as_tuple(), memory.as_tuple(),
                                                          strict=True)))
        if eval_type not in ("rms", "accuracy"):
            raise ValueError(f"eval_type={eval_type!r}: expected 'rms' or 'accuracy'")
        self.program = program
        self.memory = need
        self.eval_type = eval_type
        self.max_abs_error = float(max_abs_error)
        self._steps = [_compiled(program, c) for c in (SETUP, PREDICT, LEARN)]

    def __getstate__(self) -> dict:  # the steps hold the op table's functions: rebuilt, not pickled
        return {k: v for k, v in self.__dict__.items() if k != "_steps"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._steps = [_compiled(self.program, c) for c in (SETUP, PREDICT, LEARN)]

    @staticmethod
    def _run(steps: list[tuple], state: ProgramState) -> None:
        F = state.features_size
        for reference, inputs, kind, out, consts in steps:
            args = []
            for in_kind, address in inputs:
                if in_kind == SCALAR:
                    args.append(state.scalars[address])
                elif in_kind == VECTOR:
                    args.append(state.vectors[address].copy())
                else:
                    args.append(state.matrices[address].copy())
            args += [None] * (2 - len(args))
            value = reference(args[0], args[1], consts, F, state.stream)
            if kind == SCALAR:
                state.scalars[out] = float(value)
            elif kind == VECTOR:
                state.vectors[out] = value
            else:
                assert kind == MATRIX
                state.matrices[out] = value

    def predict_raw(self, state: ProgramState, x: np.ndarray) -> float:
        """Predict on one row: ``v0 = x``, ``s0 = 0``, then ``s1`` (before any sigmoid)."""
        state.vectors[FEATURES_VECTOR_ADDRESS] = x
        state.scalars[LABEL_SCALAR_ADDRESS] = 0.0
        self._run(self._steps[PREDICT], state)
        return state.scalars[PREDICTION_SCALAR_ADDRESS]

    def train(self, X: np.ndarray, y: np.ndarray, epochs: int = 1, task_seed: int = 0,
              eval_seed: int = 0) -> tuple[ProgramState, bool]:
        """The memory after Setup and ``epochs`` passes of Predict/Learn over ``(X, y)``, and
        whether training stopped early on a NaN or too large error."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        state = ProgramState(self.memory, X.shape[1],
                             Stream(stream_start(task_seed, eval_seed, SALT_RANDOM_OPS)))
        shuffle = Stream(stream_start(task_seed, eval_seed, SALT_SHUFFLE))
        order = list(range(X.shape[0]))
        with np.errstate(all="ignore"):
            self._run(self._steps[SETUP], state)
            for epoch in range(epochs):
                if epoch > 0:
                    for i in range(len(order) - 1, 0, -1):
                        j = int(shuffle.uniform() * (i + 1))
                        order[i], order[j] = order[j], order[i]
                for row in order:
                    prediction = self.predict_raw(state, X[row])
                    if self.eval_type == "accuracy":
                        prediction = libm.sigmoid(prediction)
                        state.scalars[PREDICTION_SCALAR_ADDRESS] = prediction
                    if not abs(y[row] - prediction) <= self.max_abs_error:
                        return state, True
                    state.vectors[FEATURES_VECTOR_ADDRESS] = X[row]
                    state.scalars[LABEL_SCALAR_ADDRESS] = float(y[row])
                    self._run(self._steps[LEARN], state)
        return state, False

    def predict_rows(self, state: ProgramState, X: np.ndarray) -> np.ndarray:
        """``s1`` after Predict on each row, each from ``state`` as training left it (Predict's
        writes are discarded after every row, so a row's prediction never depends on others)."""
        out = np.empty(X.shape[0])
        with np.errstate(all="ignore"):
            for i in range(X.shape[0]):
                out[i] = self.predict_raw(state.copy(), X[i])
        return out
