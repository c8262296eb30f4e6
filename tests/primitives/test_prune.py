"""Dead-code elimination: the pruned program evaluates exactly as the original."""

from __future__ import annotations

import numpy as np
import pytest
from programs import ALL_OPS
from programs import AUTOML_ZERO_LINEAR as AZL

from evolve.evaluation.scoring import TaskBatch, per_task_fitness
from evolve.reference_programs import BUILTIN_ALGORITHMS, load_algorithm
from primitives.generate import random_program, usable_ops
from primitives.liveness import OP_TABLE, live_mask
from primitives.memory import MemorySpec
from primitives.program import pack
from primitives.prune import live_instructions, prune
from primitives.text import parse_program
from problems.registry import get_tasks, make_suite


def _batch(name: str, **params) -> TaskBatch:
    suite = make_suite(name, {"num_train_examples": 12, "num_valid_examples": 7,
                              "num_train_epochs": 3, **params})
    return TaskBatch.from_tasks(get_tasks(suite, "search", 3, seed=1))


def test_automl_zero_linear_regression_prunes_to_seven_instructions():
    program = parse_program(AZL)
    pruned = prune(program)
    assert pruned.sizes == (1, 2, 4)
    batch = _batch("linear")
    memory = MemorySpec(4, 3, 1)
    before, _ = per_task_fitness([program], batch, memory, prune=False)
    after, _ = per_task_fitness([pruned], batch, memory)
    assert np.array_equal(before, after)


@pytest.mark.parametrize("name", [n for n in BUILTIN_ALGORITHMS if n != "automl_zero_linear"])
def test_hand_written_algorithms_have_no_dead_code(name):
    program = load_algorithm(name)
    assert live_instructions(program).all()


def test_shipped_automl_zero_printout_is_the_quoted_program():
    # Shipped as AutoML-Zero printed it, dead code included: it prunes to 7 instructions.
    assert load_algorithm("automl_zero_linear") == parse_program(AZL)
    assert prune(load_algorithm("automl_zero_linear")).sizes == (1, 2, 4)


def test_const_set_reads_its_output():
    program = parse_program(
        "def Setup():\n  v1[0.0] = 0.5\n  v1[0.5] = 0.25\ndef Predict():\n  s1 = dot(v1, v0)\n"
        "def Learn():\n"
    )
    assert prune(program).sizes == (2, 1, 0)


def test_dead_random_op_kept_when_a_later_draw_is_live():
    program = parse_program(
        "def Setup():\n  s2 = uniform(-1.0, 1.0)\n  s3 = uniform(-1.0, 1.0)\n"
        "def Predict():\n  s1 = s3 * s3\ndef Learn():\n"
    )
    assert prune(program).sizes == (2, 1, 0)
    program = parse_program(
        "def Setup():\n  s3 = uniform(-1.0, 1.0)\n  s2 = uniform(-1.0, 1.0)\n"
        "def Predict():\n  s1 = s3 * s3\ndef Learn():\n"
    )
    assert prune(program).sizes == (1, 1, 0)


def test_learn_to_learn_state_is_live():
    # s2 carries the previous example's label from Learn to the next Learn.
    program = parse_program(
        "def Setup():\ndef Predict():\n  s1 = s3 + s3\n"
        "def Learn():\n  s3 = s2 + s0\n  s2 = s0 + s0\n"
    )
    assert prune(program).sizes == (0, 1, 2)


@pytest.mark.parametrize("problem", ["linear", "projected_binary"])
def test_pruned_random_programs_score_exactly_the_same(problem):
    memory = MemorySpec(5, 4, 2)
    ops = usable_ops(ALL_OPS, memory)
    rng = np.random.default_rng(7)
    params = {"features_size": 3} if problem == "linear" else {"features_size": 4}
    batch = _batch(problem, **params)
    programs, pruned = [], []
    for _ in range(400):
        sizes = [int(s) for s in rng.integers(0, 9, size=3)]
        program = random_program(sizes, [ops, ops, ops], memory, rng)
        programs.append(program)
        pruned.append(prune(program))
    before, _ = per_task_fitness(programs, batch, memory, max_abs_error=1e6, prune=False)
    after, _ = per_task_fitness(pruned, batch, memory, max_abs_error=1e6)
    np.testing.assert_array_equal(before, after)
    assert sum(len(p) for p in pruned) < sum(len(p) for p in programs)
    assert (before > 0).mean() > 0.1  # the comparison is not vacuous


def test_pruned_programs_with_few_ops_score_the_same():
    """Dense data flow (few addresses, arithmetic only) stresses liveness through the loop."""
    memory = MemorySpec(4, 3, 1)
    ops = [1, 2, 3, 4, 18, 21, 23, 24, 25, 27, 56, 57, 59, 62, 63]
    rng = np.random.default_rng(3)
    batch = _batch("linear", features_size=4)
    programs = [random_program([int(s) for s in rng.integers(0, 8, 3)], [ops] * 3, memory, rng)
                for _ in range(400)]
    pruned = [prune(p) for p in programs]
    before, _ = per_task_fitness(programs, batch, memory, prune=False)
    after, _ = per_task_fitness(pruned, batch, memory)
    np.testing.assert_array_equal(before, after)


def test_prune_is_idempotent():
    program = parse_program(AZL)
    once = prune(program)
    assert prune(once) == once



@pytest.mark.parametrize("bits", [True, False])
@pytest.mark.parametrize("memory", [MemorySpec(2, 1, 0), MemorySpec(4, 3, 1), MemorySpec(6, 5, 3),
                                    MemorySpec(30, 20, 14), MemorySpec(40, 20, 10)])
def test_jitted_liveness_equals_reference(memory, bits):
    """The interpreter's own dead-code pass (primitives.liveness) keeps exactly what prune keeps."""
    rng = np.random.default_rng(11)
    ops = usable_ops(ALL_OPS, memory)
    few = usable_ops([1, 2, 3, 18, 23, 27, 56, 57, 59, 63], memory)
    programs = [
        random_program([int(s) for s in rng.integers(0, 12, size=3)], [choice] * 3, memory, rng)
        for choice in (ops, few) for _ in range(300)
    ]
    code, _, bounds = pack(programs)
    keep = np.zeros(len(code), dtype=bool)
    for p, program in enumerate(programs):
        live_mask(code, *(int(b) for b in bounds[p]), *memory.as_tuple(), OP_TABLE, keep, bits)
        expected = live_instructions(program)
        assert keep[bounds[p, 0]:bounds[p, 3]].tolist() == expected.tolist(), program.instructions
