"""The slow, obvious twin of :mod:`primitives.interpreter` (Real et al. 2020, §3).

One task at a time, one instruction at a time, each op's meaning taken from
``OPS[code].reference``; scalars are Python floats, vectors and matrices NumPy arrays. Random ops
and epoch shuffles draw from the pure-Python :class:`primitives.rng.Stream`. Tests assert that the
Numba kernel gives the same fitness.
"""

from __future__ import annotations

import math

import numpy as np

from primitives import libm
from primitives.memory import (
    FEATURES_VECTOR_ADDRESS,
    LABEL_SCALAR_ADDRESS,
    MATRIX,
    PREDICTION_SCALAR_ADDRESS,
    SCALAR,
    VECTOR,
)
from primitives.ops import OPS, PARTIAL_WRITE_OPS
from primitives.program import LEARN, PREDICT, SETUP, Program
from primitives.rng import SALT_RANDOM_OPS, SALT_SHUFFLE, Stream, stream_start

EVAL_RMS = 0
EVAL_ACCURACY = 1


class NaiveMemory:
    """``scalars`` (list of floats), ``vectors`` (V, F) and ``matrices`` (M, F, F), wiped to zero."""

    def __init__(self, memory: tuple[int, int, int], features_size: int) -> None:
        n_scalars, n_vectors, n_matrices = memory
        self.features_size = features_size
        self.scalars = [0.0] * n_scalars
        self.vectors = np.zeros((n_vectors, features_size))
        self.matrices = np.zeros((n_matrices, features_size, features_size))

    def read(self, kind: int, address: int):
        if kind == SCALAR:
            return self.scalars[address]
        if kind == VECTOR:
            return self.vectors[address].copy()
        return self.matrices[address].copy()

    def write(self, kind: int, address: int, value) -> None:
        if kind == SCALAR:
            self.scalars[address] = float(value)
        elif kind == VECTOR:
            self.vectors[address] = value
        else:
            assert kind == MATRIX
            self.matrices[address] = value


def execute(instructions: np.ndarray, constants: np.ndarray, memory: NaiveMemory,
            rng: Stream) -> None:
    """Run instructions in order: read the inputs, apply the op's NumPy reference, write."""
    features_size = memory.features_size
    for row, consts in zip(instructions, constants, strict=True):
        op = OPS[int(row[0])]
        if op.output is None:
            continue
        inputs = [memory.read(kind, int(row[1 + slot])) for slot, kind in enumerate(op.inputs)]
        if op.code in PARTIAL_WRITE_OPS:
            inputs = [memory.read(op.output, int(row[3]))]
        inputs += [None] * (2 - len(inputs))
        value = op.reference(inputs[0], inputs[1], [float(c) for c in consts], features_size, rng)
        memory.write(op.output, int(row[3]), value)


def sigmoid(x: float) -> float:
    return libm.sigmoid(float(x))


def naive_fitness(
    program: Program,
    train_x: np.ndarray,
    train_y: np.ndarray,
    valid_x: np.ndarray,
    valid_y: np.ndarray,
    eval_type: int,
    num_epochs: int,
    memory: tuple[int, int, int],
    task_seed: int,
    eval_seed: int = 0,
    max_abs_error: float = 100.0,
    info: dict | None = None,
) -> float:
    """Fitness of ``program`` on one task (``train_x`` (n, F), ``train_y`` (n,), likewise valid).

    ``info``, when given, receives ``stop_epoch`` (the epoch training stopped in, or None) and
    ``scores`` (each validated epoch's score), so tests can check which paths they exercised.
    """
    info = {} if info is None else info
    with np.errstate(all="ignore"):
        return _fitness(program, train_x, train_y, valid_x, valid_y, eval_type, num_epochs,
                        memory, task_seed, eval_seed, max_abs_error, info)


def _fitness(program, train_x, train_y, valid_x, valid_y, eval_type, num_epochs, memory,
             task_seed, eval_seed, max_abs_error, info) -> float:
    n_train, features_size = train_x.shape
    mem = NaiveMemory(memory, features_size)
    ops_stream = Stream(stream_start(task_seed, eval_seed, SALT_RANDOM_OPS))
    shuffle_stream = Stream(stream_start(task_seed, eval_seed, SALT_SHUFFLE))
    setup, predict, learn = (program.component(c) for c in (SETUP, PREDICT, LEARN))

    def run(component) -> None:
        execute(component[0], component[1], mem, ops_stream)

    def predict_on(x: np.ndarray) -> float:
        mem.vectors[FEATURES_VECTOR_ADDRESS] = x
        mem.scalars[LABEL_SCALAR_ADDRESS] = 0.0
        run(predict)
        return mem.scalars[PREDICTION_SCALAR_ADDRESS]

    run(setup)
    order = list(range(n_train))
    best = 0.0
    info["stop_epoch"] = None
    info["scores"] = scores = []
    for epoch in range(num_epochs):
        if epoch > 0:
            for i in range(n_train - 1, 0, -1):
                j = int(shuffle_stream.uniform() * (i + 1))
                order[i], order[j] = order[j], order[i]
        for row in order:
            x, y = train_x[row], float(train_y[row])
            prediction = predict_on(x)
            if eval_type == EVAL_ACCURACY:
                prediction = sigmoid(prediction)
                mem.scalars[PREDICTION_SCALAR_ADDRESS] = prediction
            if not abs(y - prediction) <= max_abs_error:
                info["stop_epoch"] = epoch
                return 0.0 if epoch == 0 else max(best, 0.0)
            mem.vectors[FEATURES_VECTOR_ADDRESS] = x
            mem.scalars[LABEL_SCALAR_ADDRESS] = y
            run(learn)
        scores.append(_validate(predict_on, valid_x, valid_y, eval_type, max_abs_error))
        best = max(best, scores[-1])
    return max(best, 0.0)


def _validate(predict_on, valid_x, valid_y, eval_type, max_abs_error) -> float:
    """Score of one epoch: Predict alone on every validation example."""
    squared, correct, bad = 0.0, 0, False
    for x, y in zip(valid_x, valid_y, strict=True):
        prediction = predict_on(x)
        if eval_type == EVAL_ACCURACY:
            label = 1.0 if sigmoid(prediction) > 0.5 else 0.0
            correct += label == float(y)
        else:
            error = float(y) - prediction
            if not abs(error) <= max_abs_error:
                bad = True
            else:
                squared += error * error
    n_valid = len(valid_y)
    if eval_type == EVAL_ACCURACY:
        return correct / n_valid
    if bad:
        return 0.0
    return 1.0 - (2.0 / math.pi) * math.atan(math.sqrt(squared / n_valid))
