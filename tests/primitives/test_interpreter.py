"""The Numba interpreter against its naive twin (tests/naive.py) and AutoML-Zero's executor rules.

Real et al. 2020, §3: memory wiped, Setup once, Predict/Learn per train example
(epoch 0 in order, later epochs shuffled), NaN or ``|error| > max_abs_error`` stops training,
validation after every epoch, best epoch's score.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from naive import EVAL_ACCURACY, EVAL_RMS, naive_fitness
from programs import AUTOML_ZERO_LINEAR

from primitives.generate import random_program, usable_ops
from primitives.interpreter import _hash_predictions, evaluate_batch
from primitives.memory import MemorySpec
from primitives.ops import OPS
from primitives.program import pack, validate
from primitives.text import parse_program

ROOT = Path(__file__).resolve().parents[2]
ALL_OPS = [op.code for op in OPS]
SEEDS = np.array([1, 2**64 - 1, 12345], dtype=np.uint64)



def sgd_program(learning_rate: float) -> str:
    """Linear regression by SGD: ``w <- w + lr (y - w.x) x`` (w in v1, lr in s3)."""
    return f"""\
def Setup():
  s3 = {learning_rate!r}
def Predict():
  s1 = dot(v1, v0)
def Learn():
  s2 = s0 - s1
  s2 = s3 * s2
  v2 = s2 * v0
  v1 = v1 + v2
"""


def linear_tasks(rng: np.random.Generator, T: int, n_train: int, n_valid: int, F: int,
                 eval_type: int = EVAL_RMS, scale: float = 1.0):
    """``y = x @ w`` with ``x, w ~ N(0, 1)``; labels ``y > 0`` for accuracy tasks."""
    train_x = rng.normal(size=(T, n_train, F))
    valid_x = rng.normal(size=(T, n_valid, F))
    w = rng.normal(size=(T, F)) * scale
    train_y = np.einsum("tnf,tf->tn", train_x, w)
    valid_y = np.einsum("tnf,tf->tn", valid_x, w)
    if eval_type == EVAL_ACCURACY:
        train_y = (train_y > 0).astype(np.float64)
        valid_y = (valid_y > 0).astype(np.float64)
    return tuple(np.ascontiguousarray(a) for a in (train_x, train_y, valid_x, valid_y))


def kernel(programs, tasks, *, eval_type=EVAL_RMS, num_epochs=1, memory=(4, 3, 1), seeds=None,
           eval_seed=0, max_abs_error=100.0, record=False, prune=True):
    for program in programs:
        validate(program, MemorySpec(*memory))  # the kernel itself does no bounds checks
    code, data, bounds = pack(programs)
    seeds = np.arange(1, tasks[0].shape[0] + 1, dtype=np.uint64) if seeds is None else seeds
    return evaluate_batch(code, data, bounds, *tasks, eval_type=eval_type, num_epochs=num_epochs,
                          memory=tuple(memory), task_seeds=seeds, eval_seed=eval_seed,
                          max_abs_error=max_abs_error, record=record, prune=prune)


def naive(program, tasks, t, *, seeds=None, **kwargs):
    seed = t + 1 if seeds is None else int(seeds[t])
    return naive_fitness(program, *(a[t] for a in tasks), task_seed=seed, **kwargs)


# ---- (a) interpreter == naive twin on random programs ------------------------------------------

WELL_BEHAVED_OPS = [1, 2, 3, 5, 18, 19, 21, 22, 23, 24, 25, 27, 28, 31, 44, 45, 47, 48, 50, 52,
                    56, 57, 59, 60, 62, 63]
BLOW_UP_OPS = [3, 4, 6, 9, 13, 14, 20, 26, 29, 30, 42, 43, 56, 58, 61, 64, 18, 27, 31, 53, 55]
# (ops, max component size, F, eval type, epochs, max_abs_error, label scale)
CONFIGS = [
    (ALL_OPS, 8, 2, EVAL_RMS, 1, 100.0, 1.0),
    (ALL_OPS, 12, 4, EVAL_RMS, 3, 100.0, 1.0),
    (ALL_OPS, 8, 4, EVAL_ACCURACY, 2, 100.0, 1.0),
    (ALL_OPS, 12, 2, EVAL_ACCURACY, 3, 100.0, 1.0),
    (WELL_BEHAVED_OPS, 6, 4, EVAL_RMS, 3, 5.0, 1.0),
    (WELL_BEHAVED_OPS, 6, 2, EVAL_RMS, 2, 100.0, 30.0),
    (WELL_BEHAVED_OPS, 6, 4, EVAL_ACCURACY, 3, 100.0, 1.0),
    (WELL_BEHAVED_OPS, 8, 4, EVAL_RMS, 3, 2.0, 0.5),
    (BLOW_UP_OPS, 10, 4, EVAL_RMS, 3, 100.0, 1.0),
    (BLOW_UP_OPS, 10, 2, EVAL_ACCURACY, 2, 100.0, 1.0),
    (ALL_OPS, 10, 11, EVAL_RMS, 2, 100.0, 1.0),  # above F = 8 matrices are stored by column
    (ALL_OPS, 8, 9, EVAL_ACCURACY, 2, 100.0, 1.0),
    (ALL_OPS, 10, 16, EVAL_RMS, 2, 100.0, 1.0),  # F = 16: the block kernels (primitives.simd)
    (ALL_OPS, 8, 16, EVAL_ACCURACY, 2, 100.0, 1.0),
]
PROGRAMS_PER_CONFIG = 30


def test_kernel_equals_naive_on_random_programs() -> None:
    memory = MemorySpec(6, 5, 3)
    rng = np.random.default_rng(2024)
    stops = {"never": 0, "first": 0, "later": 0}
    zero = positive = 0
    for index, (ops, max_size, F, eval_type, epochs, max_err, scale) in enumerate(CONFIGS):
        tasks = linear_tasks(rng, 3, 12, 8, F, eval_type, scale)
        ops = usable_ops(ops, memory)
        programs = [
            random_program([int(s) for s in rng.integers(0, max_size + 1, 3)], [ops] * 3,
                           memory, rng)
            for _ in range(PROGRAMS_PER_CONFIG)
        ]
        kwargs = {"eval_type": eval_type, "num_epochs": epochs, "memory": memory.as_tuple(),
                  "seeds": SEEDS, "eval_seed": index, "max_abs_error": max_err, "record": True}
        fitness, hashes = kernel(programs, tasks, **kwargs)
        # Skipping dead code (the default) changes nothing, bit for bit, hashes included.
        unpruned, unpruned_hashes = kernel(programs, tasks, prune=False, **kwargs)
        assert np.array_equal(fitness, unpruned) and np.array_equal(hashes, unpruned_hashes)
        for p, program in enumerate(programs):
            for t in range(3):
                info: dict = {}
                expected = naive(program, tasks, t, seeds=SEEDS, eval_type=eval_type,
                                 num_epochs=epochs, memory=memory.as_tuple(), eval_seed=index,
                                 max_abs_error=max_err, info=info)
                assert abs(fitness[p, t] - expected) <= 1e-9, (
                    f"config {index} program {p} task {t}: kernel {fitness[p, t]!r}, "
                    f"naive {expected!r}\n{program.instructions.tolist()}\n"
                    f"{program.constants.tolist()}"
                )
                stop = info["stop_epoch"]
                stops["never" if stop is None else "first" if stop == 0 else "later"] += 1
                zero += expected == 0.0
                positive += expected > 0.0
    total = len(CONFIGS) * PROGRAMS_PER_CONFIG * 3
    # The mixture exercised every path: no stop, a stop in the first epoch, a later stop.
    assert stops["first"] >= total // 20, stops
    assert stops["later"] >= 5, stops
    assert stops["never"] >= total // 4, stops
    assert zero >= total // 20 and positive >= total // 4, (zero, positive)


# ---- (b) known algorithms learn linear regression ----------------------------------------------


def test_automl_zero_linear_regression_program() -> None:
    program = parse_program(AUTOML_ZERO_LINEAR, MemorySpec(4, 3, 1))
    tasks = linear_tasks(np.random.default_rng(0), 10, 100, 100, 4)
    fitness, _ = kernel([program], tasks, memory=(4, 3, 1))
    assert fitness.shape == (1, 10)
    assert fitness.min() >= 0.99, fitness
    for t in (0, 7):
        assert naive(program, tasks, t, eval_type=EVAL_RMS, num_epochs=1,
                     memory=(4, 3, 1)) == pytest.approx(fitness[0, t], abs=1e-9)


def test_hand_written_sgd_learns_linear_regression() -> None:
    program = parse_program(sgd_program(0.1), MemorySpec(4, 3, 1))
    tasks = linear_tasks(np.random.default_rng(1), 10, 100, 100, 4)
    fitness, _ = kernel([program], tasks, memory=(4, 3, 1))
    assert fitness.min() >= 0.99, fitness
    # A program that never learns scores less: predicting 0 everywhere.
    empty = parse_program("def Setup():\ndef Predict():\ndef Learn():\n")
    baseline, _ = kernel([empty], tasks, memory=(4, 3, 1))
    assert np.all(baseline < 0.8)
    expected = 1 - (2 / np.pi) * np.arctan(np.sqrt(np.mean(tasks[3] ** 2, axis=1)))
    np.testing.assert_allclose(baseline[0], expected, rtol=1e-12)


# ---- (c) NaN scores zero -----------------------------------------------------------------------


@pytest.mark.parametrize("eval_type", [EVAL_RMS, EVAL_ACCURACY])
def test_nan_prediction_scores_zero(eval_type: int) -> None:
    program = parse_program(
        "def Setup():\n  s2 = -1.0\ndef Predict():\n  s1 = log(s2)\ndef Learn():\n"
    )
    tasks = linear_tasks(np.random.default_rng(2), 3, 10, 10, 4, eval_type)
    fitness, _ = kernel([program], tasks, eval_type=eval_type, num_epochs=3)
    np.testing.assert_array_equal(fitness, 0.0)
    info: dict = {}
    assert naive(program, tasks, 0, eval_type=eval_type, num_epochs=3, memory=(4, 3, 1),
                 info=info) == 0.0
    assert info["stop_epoch"] == 0


def test_inf_prediction_scores_zero() -> None:
    program = parse_program("def Setup():\n  s2 = 0.0\ndef Predict():\n  s1 = 1 / s2\ndef Learn():\n")
    tasks = linear_tasks(np.random.default_rng(3), 2, 5, 5, 2)
    fitness, _ = kernel([program], tasks, max_abs_error=np.inf)
    np.testing.assert_array_equal(fitness, 0.0)


# ---- (d) determinism ---------------------------------------------------------------------------

_DETERMINISM_SCRIPT = """
import numpy as np
from primitives.generate import random_program, usable_ops
from primitives.ops import OPS
from primitives.interpreter import _hash_predictions, evaluate_batch
from primitives.memory import MemorySpec
from primitives.program import pack
rng = np.random.default_rng(77)
memory = MemorySpec(6, 5, 3)
ops = usable_ops(range(len(OPS)), memory)
programs = [random_program([4, 6, 6], [ops] * 3, memory, rng) for _ in range(12)]
x = rng.normal(size=(3, 12, 4)); vx = rng.normal(size=(3, 8, 4)); w = rng.normal(size=(3, 4))
y = np.einsum("tnf,tf->tn", x, w); vy = np.einsum("tnf,tf->tn", vx, w)
code, data, bounds = pack(programs)
fitness, hashes = evaluate_batch(code, data, bounds, x, y, vx, vy, eval_type=0, num_epochs=3,
    memory=(6, 5, 3), task_seeds=np.array([5, 6, 2**64 - 1], dtype=np.uint64), eval_seed=9,
    record=True)
print(fitness.tobytes().hex(), hashes.tobytes().hex())
"""


def _run_determinism_script() -> str:
    result = subprocess.run([sys.executable, "-c", _DETERMINISM_SCRIPT], cwd=ROOT,
                            capture_output=True, text=True, timeout=300, check=True)
    return result.stdout.strip()


def test_deterministic_across_calls_and_processes() -> None:
    namespace: dict = {}
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(_DETERMINISM_SCRIPT, namespace)
        exec(_DETERMINISM_SCRIPT, namespace)
    first, second = buffer.getvalue().strip().splitlines()
    assert first == second
    assert _run_determinism_script() == first
    fitness = np.frombuffer(bytes.fromhex(first.split()[0]), dtype=np.float64)
    assert np.any(fitness > 0)


def test_eval_seed_changes_random_ops_only() -> None:
    memory = MemorySpec(4, 3, 1)
    random_op = parse_program(
        "def Setup():\ndef Predict():\n  s1 = uniform(-0.5, 0.5)\ndef Learn():\n", memory)
    deterministic = parse_program(sgd_program(0.05), memory)
    tasks = linear_tasks(np.random.default_rng(4), 3, 20, 10, 4)
    a, _ = kernel([random_op, deterministic], tasks, num_epochs=2, eval_seed=0)
    b, _ = kernel([random_op, deterministic], tasks, num_epochs=2, eval_seed=1)
    assert not np.array_equal(a[0], b[0])
    # One epoch of a program without random ops (no shuffle either) ignores eval_seed.
    c, _ = kernel([random_op, deterministic], tasks, num_epochs=1, eval_seed=0)
    d, _ = kernel([random_op, deterministic], tasks, num_epochs=1, eval_seed=1)
    np.testing.assert_array_equal(c[1], d[1])


# ---- (e) batch invariance ----------------------------------------------------------------------


def test_batch_invariance() -> None:
    memory = MemorySpec(6, 5, 3)
    rng = np.random.default_rng(5)
    ops = usable_ops(ALL_OPS, memory)
    programs = [random_program([3, 6, 6], [ops] * 3, memory, rng) for _ in range(20)]
    programs.append(parse_program(sgd_program(0.1)))
    tasks = linear_tasks(rng, 3, 12, 8, 4)
    together, hashes = kernel(programs, tasks, num_epochs=3, memory=memory.as_tuple(),
                              seeds=SEEDS, record=True)
    reversed_order, _ = kernel(programs[::-1], tasks, num_epochs=3, memory=memory.as_tuple(),
                               seeds=SEEDS)
    np.testing.assert_array_equal(reversed_order[::-1], together)
    for p, program in enumerate(programs):
        alone, hash_alone = kernel([program], tasks, num_epochs=3, memory=memory.as_tuple(),
                                   seeds=SEEDS, record=True)
        np.testing.assert_array_equal(alone[0], together[p])
        assert hash_alone[0] == hashes[p]
    # Each task alone (T = 1) scores as it does in the lockstep batch of three.
    for t in range(3):
        single = tuple(np.ascontiguousarray(a[t:t + 1]) for a in tasks)
        alone, _ = kernel(programs, single, num_epochs=3, memory=memory.as_tuple(),
                          seeds=SEEDS[t:t + 1])
        np.testing.assert_array_equal(alone[:, 0], together[:, t])


def test_reused_work_arrays_left_dirty_change_nothing() -> None:
    """The kernel's work arrays are kept between calls (``_work_arrays``): it must set every
    element before reading it. Poison them all (NaN, -1, True, huge ints) and score again:
    the same fitness and hashes as on fresh arrays."""
    from primitives import interpreter

    memory = MemorySpec(6, 5, 3)
    rng = np.random.default_rng(8)
    ops = usable_ops(ALL_OPS, memory)
    programs = [random_program([4, 6, 6], [ops] * 3, memory, rng) for _ in range(25)]
    programs.append(parse_program(sgd_program(0.1)))
    for eval_type in (EVAL_RMS, EVAL_ACCURACY):
        tasks = linear_tasks(rng, 3, 12, 8, 4, eval_type)
        interpreter._work_sets.clear()
        fresh = kernel(programs, tasks, eval_type=eval_type, num_epochs=2, memory=memory.as_tuple(),
                       seeds=SEEDS, record=True)
        assert interpreter._work_sets  # kept for the next call
        for work in interpreter._work_sets.values():
            for array in work:
                if array.dtype == np.bool_:
                    array[...] = True
                elif array.dtype.kind == "f":
                    array[...] = np.nan
                else:
                    array[...] = np.iinfo(array.dtype).max // 3
        dirty = kernel(programs, tasks, eval_type=eval_type, num_epochs=2, memory=memory.as_tuple(),
                       seeds=SEEDS, record=True)
        np.testing.assert_array_equal(dirty[0], fresh[0])
        np.testing.assert_array_equal(dirty[1], fresh[1])


# ---- (f) epochs ---------------------------------------------------------------------------------


def test_more_epochs_score_at_least_as_well() -> None:
    program = parse_program(sgd_program(0.01))
    tasks = linear_tasks(np.random.default_rng(6), 5, 30, 30, 4)
    one, _ = kernel([program], tasks, num_epochs=1)
    three, _ = kernel([program], tasks, num_epochs=3)
    assert np.all(three >= one)
    assert three.mean() > one.mean() + 0.01
    for t in range(5):
        info: dict = {}
        assert naive(program, tasks, t, eval_type=EVAL_RMS, num_epochs=3, memory=(4, 3, 1),
                     info=info) == pytest.approx(three[0, t], abs=1e-12)
        assert three[0, t] == max(info["scores"])


def test_fitness_is_best_epoch_not_last() -> None:
    # Predicts a constant that grows by 1 after every validation pass through Learn: epoch 0
    # validates at the right value, later epochs drift away.
    program = parse_program(
        "def Setup():\n  s3 = 1.0\ndef Predict():\n  s1 = s2 + s4\n"
        "def Learn():\n  s4 = s4 + s3\n"
    )
    F, n = 2, 4
    tasks = (np.zeros((1, n, F)), np.zeros((1, n)), np.zeros((1, 3, F)), np.full((1, 3), 4.0))
    fitness, _ = kernel([program], tasks, num_epochs=3, memory=(5, 3, 1))
    assert fitness[0, 0] == 1.0
    info: dict = {}
    naive(program, tasks, 0, eval_type=EVAL_RMS, num_epochs=3, memory=(5, 3, 1), info=info)
    assert info["scores"][0] == 1.0 and info["scores"][2] < info["scores"][1] < 1.0


# ---- (g) record mode hashes --------------------------------------------------------------------


def test_record_hashes_identify_functions() -> None:
    memory = MemorySpec(6, 3, 1)
    sgd = parse_program(sgd_program(0.1), memory)
    # The same function with dead code in Setup and Learn.
    padded = parse_program(
        "def Setup():\n  s3 = 0.1\n  s5 = 0.7\ndef Predict():\n  s1 = dot(v1, v0)\n"
        "def Learn():\n  s2 = s0 - s1\n  s4 = sin(s2)\n  s2 = s3 * s2\n  v2 = s2 * v0\n"
        "  v1 = v1 + v2\n",
        memory,
    )
    slower = parse_program(sgd_program(0.05), memory)
    empty = parse_program("def Setup():\ndef Predict():\ndef Learn():\n")
    tasks = linear_tasks(np.random.default_rng(7), 3, 10, 6, 4)
    fitness, hashes = kernel([sgd, padded, slower, empty, sgd], tasks, memory=memory.as_tuple(),
                             record=True)
    assert hashes[0] == hashes[1] == hashes[4]
    assert len({int(hashes[0]), int(hashes[2]), int(hashes[3])}) == 3
    np.testing.assert_array_equal(fitness[0], fitness[1])
    again, hashes_again = kernel([sgd], tasks, memory=memory.as_tuple(), record=True)
    assert hashes_again[0] == hashes[0]
    _, unrecorded = kernel([sgd], tasks, memory=memory.as_tuple())
    assert unrecorded[0] == 0
    np.testing.assert_array_equal(again[0], fitness[0])


def test_record_hashes_separate_predictions_that_differ_in_high_bits() -> None:
    """Constant predictions 0 then 2 (exponent bits only) once collided with all-zero ones."""
    memory = MemorySpec(4, 3, 1)
    zeros = parse_program("def Setup():\ndef Predict():\n  s1 = s2 * s3\ndef Learn():\n")
    steps = [
        parse_program(f"def Setup():\n  s2 = {c!r}\ndef Predict():\ndef Learn():\n  s1 = s2 + s2\n")
        for c in (1.0, 0.5, 2.0, 4.0, -1.0)
    ]
    tasks = linear_tasks(np.random.default_rng(3), 4, 10, 10, 4)
    _, hashes = kernel([zeros, *steps], tasks, memory=memory.as_tuple(), record=True)
    assert len({int(h) for h in hashes}) == len(hashes)
    # Any single prediction changed in any one bit changes the hash.
    preds = np.random.default_rng(0).normal(size=(4, 20))
    base = _hash_predictions(preds)
    for bit in range(64):
        flipped = preds.copy()
        flipped.view(np.uint64)[1, 7] ^= np.uint64(1 << bit)
        if not np.isnan(flipped[1, 7]):
            assert _hash_predictions(flipped) != base, bit


def test_record_mode_does_not_change_fitness() -> None:
    memory = MemorySpec(6, 5, 3)
    rng = np.random.default_rng(8)
    ops = usable_ops(ALL_OPS, memory)
    programs = [random_program([3, 5, 5], [ops] * 3, memory, rng) for _ in range(10)]
    tasks = linear_tasks(rng, 3, 12, 8, 4)
    plain, _ = kernel(programs, tasks, num_epochs=2, memory=memory.as_tuple())
    recorded, _ = kernel(programs, tasks, num_epochs=2, memory=memory.as_tuple(), record=True)
    np.testing.assert_array_equal(plain, recorded)


# ---- (h) stops ----------------------------------------------------------------------------------


def test_stop_in_first_epoch_scores_zero_while_other_tasks_continue() -> None:
    # Predicts |x|^2; task 1's features are large, so its first error exceeds max_abs_error.
    program = parse_program("def Setup():\ndef Predict():\n  s1 = dot(v0, v0)\ndef Learn():\n")
    rng = np.random.default_rng(9)
    train_x = rng.normal(size=(3, 10, 2)) * 0.3
    train_x[1] *= 100.0
    valid_x = rng.normal(size=(3, 5, 2)) * 0.3
    tasks = (train_x, np.zeros((3, 10)), valid_x, np.zeros((3, 5)))
    fitness, _ = kernel([program], tasks, num_epochs=2)
    assert fitness[0, 1] == 0.0
    assert fitness[0, 0] > 0.5 and fitness[0, 2] > 0.5
    for t in range(3):
        assert naive(program, tasks, t, eval_type=EVAL_RMS, num_epochs=2,
                     memory=(4, 3, 1)) == pytest.approx(fitness[0, t], abs=1e-12)


def test_stop_in_later_epoch_keeps_earlier_scores() -> None:
    # The prediction counts the examples seen; epoch 1 drifts beyond max_abs_error and stops.
    program = parse_program(
        "def Setup():\n  s3 = 1.0\ndef Predict():\n  s1 = s2 + s4\n"
        "def Learn():\n  s2 = s2 + s3\n"
    )
    n = 10
    tasks = (np.zeros((1, n, 2)), np.zeros((1, n)), np.zeros((1, 3, 2)), np.full((1, 3), 10.0))
    fitness, _ = kernel([program], tasks, num_epochs=3, memory=(5, 3, 1), max_abs_error=15.0)
    assert fitness[0, 0] == 1.0
    info: dict = {}
    naive(program, tasks, 0, eval_type=EVAL_RMS, num_epochs=3, memory=(5, 3, 1),
          max_abs_error=15.0, info=info)
    assert info["stop_epoch"] == 1 and info["scores"] == [1.0]


@pytest.mark.parametrize(("constant", "expected_positive"), [(0.5, True), (0.5000001, False)])
def test_max_abs_error_is_strict(constant: float, expected_positive: bool) -> None:
    # Train labels 0, prediction c: training stops only when |0 - c| > max_abs_error = 0.5.
    # Validation labels equal c, so a run that was not stopped validates perfectly.
    program = parse_program(f"def Setup():\n  s2 = {constant!r}\ndef Predict():\n  s1 = s2 + s0\n"
                            "def Learn():\n")
    tasks = (np.ones((2, 4, 2)), np.zeros((2, 4)), np.ones((2, 3, 2)), np.full((2, 3), constant))
    fitness, _ = kernel([program], tasks, max_abs_error=0.5)
    if expected_positive:
        np.testing.assert_array_equal(fitness, 1.0)
    else:
        np.testing.assert_array_equal(fitness, 0.0)


def test_validation_error_beyond_max_abs_error_scores_zero() -> None:
    program = parse_program("def Setup():\n  s2 = 50.0\ndef Predict():\n  s1 = s2 + s0\n"
                            "def Learn():\n")
    valid_y = np.array([[50.0, 50.0, -51.0]])
    tasks = (np.ones((1, 4, 2)), np.full((1, 4), 50.0), np.ones((1, 3, 2)), valid_y)
    fitness, _ = kernel([program], tasks)
    assert fitness[0, 0] == 0.0
    valid_y[0, 2] = -50.0  # error exactly 100: not beyond
    fitness, _ = kernel([program], tasks)
    assert fitness[0, 0] == pytest.approx(1 - (2 / np.pi) * np.arctan(np.sqrt(100.0**2 / 3)))


# ---- reserved addresses and accuracy conventions -----------------------------------------------


def test_label_is_zero_during_predict_and_y_during_learn() -> None:
    # Learn copies s0 into s2; Predict outputs s2 + s0: the previous label, never the current one.
    program = parse_program("def Setup():\ndef Predict():\n  s1 = s2 + s0\n"
                            "def Learn():\n  s2 = s0 + s3\n")
    train_y = np.array([[1.0, 2.0, 3.0, 4.0]])
    tasks = (np.zeros((1, 4, 2)), train_y, np.zeros((1, 2, 2)), np.array([[4.0, 4.0]]))
    fitness, _ = kernel([program], tasks)
    assert fitness[0, 0] == 1.0  # validation predicts the last label, 4


def test_accuracy_sigmoid_replaces_prediction_before_learn() -> None:
    # Learn copies s1 into s2; with the sigmoid applied in memory, s2 ends up in (0, 1).
    program = parse_program("def Setup():\n  s3 = 3.0\ndef Predict():\n  s1 = s3 + s2\n"
                            "def Learn():\n  s2 = s1 - s3\n")
    tasks = linear_tasks(np.random.default_rng(10), 2, 6, 6, 2, EVAL_ACCURACY)
    fitness, _ = kernel([program], tasks, eval_type=EVAL_ACCURACY)
    for t in range(2):
        assert naive(program, tasks, t, eval_type=EVAL_ACCURACY, num_epochs=1,
                     memory=(4, 3, 1)) == fitness[0, t]
    # Every validation prediction is sigmoid(...) > 0.5: all examples predicted class 1.
    np.testing.assert_array_equal(fitness[0], tasks[3].mean(axis=1))


def test_accuracy_counts_nan_as_class_zero() -> None:
    # The prediction is NaN only when v0 is all zeros (0 / 0): never in training, always in
    # validation; NaN counts as class 0 there instead of stopping.
    program = parse_program("def Setup():\ndef Predict():\n  s2 = norm(v0)\n  s1 = s2 / s2\n"
                            "def Learn():\n")
    train_x = np.ones((1, 4, 2))
    valid_x = np.zeros((1, 4, 2))
    tasks = (train_x, np.ones((1, 4)), valid_x, np.array([[0.0, 0.0, 1.0, 0.0]]))
    fitness, _ = kernel([program], tasks, eval_type=EVAL_ACCURACY)
    assert fitness[0, 0] == 0.75


def test_std_of_constant_matrix_agrees_with_naive() -> None:
    # Found by a random sweep: uniform(a, b) with a >= b fills m1 with a; matrix_std of it is
    # E[x^2] - mean^2 of equal numbers, which rounds to a tiny negative with left-to-right sums
    # (NaN: training stops, fitness 0). The reference once used NumPy's pairwise np.sum and got a
    # tiny positive (fitness ~1); both now add left to right.
    program = parse_program(
        "def Setup():\n  m1 = uniform(0.5269393721823399, 0.36482892147176904, "
        "(n_features, n_features))\ndef Predict():\n  s1 = std(m1)\ndef Learn():\n"
    )
    F = 7
    tasks = (np.ones((1, 4, F)), np.zeros((1, 4)), np.ones((1, 3, F)), np.zeros((1, 3)))
    fitness, _ = kernel([program], tasks, memory=(4, 3, 2))
    expected = naive(program, tasks, 0, eval_type=EVAL_RMS, num_epochs=1, memory=(4, 3, 2))
    assert fitness[0, 0] == pytest.approx(expected, abs=1e-9)
