"""The jitted batch mutator equals the Python mutator draw for draw (fast kernel vs slow twin)."""

from __future__ import annotations

import numpy as np
import pytest
from programs import ALL_OPS, NON_RANDOM_OPS

from evolve.search.mutation import MUTATORS, SearchSpace, mutate
from evolve.search.mutation_kernel import BatchMutator
from primitives.memory import MemorySpec
from primitives.program import Program, validate
from primitives.rng import Stream

SPACES = {
    "all_ops": SearchSpace(
        ops=(ALL_OPS, NON_RANDOM_OPS, (1, 2, 3, 18, 23, 27, 56, 57, 58, 28, 39, 62)),
        init_sizes=(3, 2, 4), min_sizes=(1, 0, 2), max_sizes=(6, 4, 7), memory=MemorySpec(5, 4, 2),
    ),
    "linear_demo": SearchSpace(
        ops=((56, 27, 2, 3, 18, 23),) * 3, init_sizes=(10, 2, 8), min_sizes=(10, 2, 8),
        max_sizes=(10, 2, 8), memory=MemorySpec(4, 3, 1),
    ),
    "no_matrices": SearchSpace(
        ops=((56, 1, 19), (27, 50), (2, 18, 23)), init_sizes=(0, 1, 1), min_sizes=(0, 1, 0),
        max_sizes=(3, 2, 3), memory=MemorySpec(3, 2, 0),
    ),
}


def python_children(parents, do_mutate, space, mutations, stream):
    out = []
    for parent, flag in zip(parents, do_mutate, strict=True):
        child = parent.copy()
        if flag:
            child = mutate(child, space, mutations, stream)
        out.append(child)
    return out


@pytest.mark.parametrize("space_name", sorted(SPACES))
@pytest.mark.parametrize("mutations", [(name,) for name in sorted(MUTATORS)] + [tuple(sorted(MUTATORS))])
def test_kernel_equals_python_twin(space_name, mutations):
    space = SPACES[space_name]
    seed_stream = Stream(12345)
    parents = [space.random_program(seed_stream) for _ in range(40)]
    rng = np.random.default_rng(0)
    python_stream = Stream(987654321)
    state = np.array([987654321], dtype=np.uint64)
    mutator = BatchMutator(space, mutations)
    for _ in range(5):
        do_mutate = rng.random(len(parents)) < 0.9
        expected = python_children(parents, do_mutate, space, mutations, python_stream)
        got = mutator(parents, do_mutate, state)
        assert int(state[0]) == python_stream.state
        for want, (instructions, constants, sizes) in zip(expected, got, strict=True):
            assert sizes == want.sizes
            np.testing.assert_array_equal(instructions, want.instructions)
            np.testing.assert_array_equal(constants, want.constants)
            validate(Program(instructions, constants, sizes), space.memory)
        parents = [Program(i.copy(), c.copy(), s) for i, c, s in got]
