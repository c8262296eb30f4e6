"""Batched mutation in one jitted call: the fast twin of :mod:`evolve.search.mutation`.

Producing a child in Python (copy, draw a mutation, draw an instruction) costs tens of
microseconds, more than evaluating it when FEC hits; this kernel copies and mutates a whole batch of
parents at once. It consumes the SplitMix64 stream (:class:`primitives.rng.Stream`) in exactly the
order :mod:`evolve.search.mutation` does (the jitted stream is :mod:`primitives.splitmix`, shared with
the interpreter), so the two produce identical children for the same state; a test
proves it on thousands of mutations of every type.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numba import njit

from evolve.search.mutation import LOG_SCALE_STD, SIGN_FLIP_PROB, SearchSpace
from primitives.memory import FIRST_OUT_ADDRESS
from primitives.ops import CONST_INDEX, CONST_RANGES, CONST_STD, OPS
from primitives.program import Program, pack
from primitives.splitmix import next_below, next_gaussian, next_uniform

MUTATION_CODES = {
    "alter_param": 0,
    "randomize_instruction": 1,
    "randomize_component": 2,
    "insert": 3,
    "remove": 4,
    "trade": 5,
    "identity": 6,
    "randomize_algorithm": 7,
}
_CONST_KINDS = tuple(CONST_RANGES)
_KIND_INDEX = _CONST_KINDS.index(CONST_INDEX)
_KIND_STD = _CONST_KINDS.index(CONST_STD)

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}


def _op_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    inputs = np.full((len(OPS), 2), -1, np.int64)
    output = np.full(len(OPS), -1, np.int64)
    consts = np.full((len(OPS), 3), -1, np.int64)
    for op in OPS:
        inputs[op.code, : len(op.inputs)] = op.inputs
        if op.output is not None:
            output[op.code] = op.output
        consts[op.code, : len(op.constants)] = [_CONST_KINDS.index(k) for k in op.constants]
    return inputs, output, consts


_OP_INPUTS, _OP_OUTPUT, _OP_CONSTS = _op_tables()
_CONST_LOW = np.array([CONST_RANGES[k][0] for k in _CONST_KINDS])
_CONST_SPAN = np.array([CONST_RANGES[k][1] - CONST_RANGES[k][0] for k in _CONST_KINDS])
_FIRST_OUT = np.array(FIRST_OUT_ADDRESS, np.int64)


@njit(**_JIT)
def _random(state):
    return next_uniform(state, 0)


@njit(**_JIT)
def _below(state, n):
    return next_below(state, 0, n)


@njit(**_JIT)
def _gauss(state, mu, sigma):
    return mu + sigma * next_gaussian(state, 0)


@njit(**_JIT)
def _random_instruction(state, c, allowed, n_allowed, memory, op_inputs, op_output, op_consts,
                        first_out, const_low, const_span, code_out, data_out):
    code = allowed[c, _below(state, n_allowed[c])]
    code_out[0] = code
    code_out[1] = 0
    code_out[2] = 0
    code_out[3] = 0
    for i in range(2):
        kind = op_inputs[code, i]
        if kind >= 0:
            code_out[1 + i] = _below(state, memory[kind])
    kind = op_output[code]
    if kind >= 0:
        low = first_out[kind]
        span = memory[kind] - low
        if span:
            code_out[3] = low + _below(state, span)
    for i in range(3):
        data_out[i] = 0.0
    for i in range(3):
        ck = op_consts[code, i]
        if ck >= 0:
            data_out[i] = const_low[ck] + const_span[ck] * _random(state)


@njit(**_JIT)
def _pick(state, sizes, mode, bound):
    """A component uniformly among those where: mode 0 size > 0, 1 size < bound, 2 size > bound,
    3 size > 1; -1 if none (no draw then)."""
    candidates = np.empty(3, np.int64)
    n = 0
    for c in range(3):
        ok = False
        if mode == 0:
            ok = sizes[c] > 0
        elif mode == 1:
            ok = sizes[c] < bound[c]
        elif mode == 2:
            ok = sizes[c] > max(bound[c], 0)
        else:
            ok = sizes[c] > 1
        if ok:
            candidates[n] = c
            n += 1
    if n == 0:
        return -1
    return candidates[_below(state, n)]


@njit(**_JIT)
def _mutate_constant(state, value, kind, kind_index, kind_std, log_std, flip_prob):
    if kind == kind_index:
        return _random(state)
    if value == 0.0:
        if kind != kind_std:
            return -1.0 + 2.0 * _random(state)
        return _random(state)
    value *= math.exp(_gauss(state, 0.0, log_std))
    if kind != kind_std and _random(state) < flip_prob:
        value = -value
    return value


@njit(**_JIT)
def _mutate_batch(parent_code, parent_data, parent_bounds, do_mutate, mutations, allowed, n_allowed,
                  memory, init_sizes, min_sizes, max_sizes, op_inputs, op_output, op_consts, first_out,
                  const_low, const_span, kind_index, kind_std, log_std, flip_prob, state, capacity,
                  out_code, out_data, out_bounds):
    n_children = parent_bounds.shape[0]
    comp_code = np.zeros((3, capacity, 4), np.int64)
    comp_data = np.zeros((3, capacity, 3))
    sizes = np.zeros(3, np.int64)
    row = np.zeros(4, np.int64)
    consts = np.zeros(3)
    offset = 0
    for p in range(n_children):
        for c in range(3):
            start = parent_bounds[p, c]
            sizes[c] = parent_bounds[p, c + 1] - start
            for k in range(sizes[c]):
                for q in range(4):
                    comp_code[c, k, q] = parent_code[start + k, q]
                for q in range(3):
                    comp_data[c, k, q] = parent_data[start + k, q]
        if do_mutate[p]:
            kind = mutations[_below(state, mutations.shape[0])]
            if kind == 0:  # alter_param
                c = _pick(state, sizes, 0, max_sizes)
                if c >= 0:
                    k = _below(state, sizes[c])
                    code = comp_code[c, k, 0]
                    n_in = 0
                    for i in range(2):
                        if op_inputs[code, i] >= 0:
                            n_in += 1
                    n_out = 1 if op_output[code] >= 0 else 0
                    n_const = 0
                    for i in range(3):
                        if op_consts[code, i] >= 0:
                            n_const += 1
                    total = n_in + n_out + n_const
                    if total > 0:
                        choice = _below(state, total)
                        if choice < n_in:
                            comp_code[c, k, 1 + choice] = _below(state, memory[op_inputs[code, choice]])
                        elif choice < n_in + n_out:
                            out_kind = op_output[code]
                            low = first_out[out_kind]
                            comp_code[c, k, 3] = low + _below(state, memory[out_kind] - low)
                        else:
                            i = choice - n_in - n_out
                            comp_data[c, k, i] = _mutate_constant(
                                state, comp_data[c, k, i], op_consts[code, i], kind_index, kind_std,
                                log_std, flip_prob)
            elif kind == 1:  # randomize_instruction
                c = _pick(state, sizes, 0, max_sizes)
                if c >= 0:
                    k = _below(state, sizes[c])
                    _random_instruction(state, c, allowed, n_allowed, memory, op_inputs, op_output,
                                        op_consts, first_out, const_low, const_span,
                                        comp_code[c, k], comp_data[c, k])
            elif kind == 2:  # randomize_component
                c = _pick(state, sizes, 0, max_sizes)
                if c >= 0:
                    for k in range(sizes[c]):
                        _random_instruction(state, c, allowed, n_allowed, memory, op_inputs, op_output,
                                            op_consts, first_out, const_low, const_span,
                                            comp_code[c, k], comp_data[c, k])
            elif kind == 3:  # insert
                c = _pick(state, sizes, 1, max_sizes)
                if c >= 0:
                    k = _below(state, sizes[c] + 1)
                    _random_instruction(state, c, allowed, n_allowed, memory, op_inputs, op_output,
                                        op_consts, first_out, const_low, const_span, row, consts)
                    for j in range(sizes[c], k, -1):
                        comp_code[c, j] = comp_code[c, j - 1]
                        comp_data[c, j] = comp_data[c, j - 1]
                    comp_code[c, k] = row
                    comp_data[c, k] = consts
                    sizes[c] += 1
            elif kind == 4:  # remove
                c = _pick(state, sizes, 2, min_sizes)
                if c >= 0:
                    k = _below(state, sizes[c])
                    for j in range(k, sizes[c] - 1):
                        comp_code[c, j] = comp_code[c, j + 1]
                        comp_data[c, j] = comp_data[c, j + 1]
                    sizes[c] -= 1
            elif kind == 5:  # trade
                c = _pick(state, sizes, 3, max_sizes)
                if c >= 0:
                    i = _below(state, sizes[c])
                    j = _below(state, sizes[c])
                    for q in range(4):
                        t = comp_code[c, i, q]
                        comp_code[c, i, q] = comp_code[c, j, q]
                        comp_code[c, j, q] = t
                    for q in range(3):
                        t2 = comp_data[c, i, q]
                        comp_data[c, i, q] = comp_data[c, j, q]
                        comp_data[c, j, q] = t2
            elif kind == 7:  # randomize_algorithm
                for c in range(3):
                    sizes[c] = init_sizes[c]
                    for k in range(sizes[c]):
                        _random_instruction(state, c, allowed, n_allowed, memory, op_inputs, op_output,
                                            op_consts, first_out, const_low, const_span,
                                            comp_code[c, k], comp_data[c, k])
        out_bounds[p, 0] = offset
        for c in range(3):
            for k in range(sizes[c]):
                for q in range(4):
                    out_code[offset, q] = comp_code[c, k, q]
                for q in range(3):
                    out_data[offset, q] = comp_data[c, k, q]
                offset += 1
            out_bounds[p, c + 1] = offset
    return offset


class BatchMutator:
    """Copies and mutates parents in batches with the jitted kernel; state is one 64-bit integer."""

    def __init__(self, space: SearchSpace, mutations: Sequence[str]) -> None:
        self.space = space
        self.mutations = np.array([MUTATION_CODES[m] for m in mutations], np.int64)
        width = max(len(ops) for ops in space.ops)
        self.allowed = np.zeros((3, width), np.int64)
        self.n_allowed = np.zeros(3, np.int64)
        for c, ops in enumerate(space.ops):
            self.allowed[c, : len(ops)] = ops
            self.n_allowed[c] = len(ops)
        self.memory = np.array(space.memory.as_tuple(), np.int64)
        self.init_sizes = np.array(space.init_sizes, np.int64)
        self.min_sizes = np.array(space.min_sizes, np.int64)
        self.max_sizes = np.array(space.max_sizes, np.int64)

    def __call__(self, parents: Sequence[Program], do_mutate: np.ndarray, state: np.ndarray) -> list[tuple]:
        """Children of ``parents`` as ``(instructions, constants, sizes)``; ``state`` (uint64[1]) advances.
        Afterwards ``self.packed`` holds the children packed for the interpreter."""
        out_code, out_data, out_bounds = self.mutate_packed(*pack(parents), do_mutate, state)
        children = []
        for b in out_bounds.tolist():
            children.append((out_code[b[0] : b[3]], out_data[b[0] : b[3]],
                             (b[1] - b[0], b[2] - b[1], b[3] - b[2])))
        self.packed = (out_code, out_data, out_bounds)
        return children

    def mutate_packed(self, code: np.ndarray, data: np.ndarray, bounds: np.ndarray, do_mutate: np.ndarray,
                      state: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Children of the packed parents ``(code, data, bounds)``, packed the same way (child ``p``
        from parent ``p``, mutated where ``do_mutate[p]``); ``state`` (uint64[1]) advances."""
        n = len(bounds)
        longest = max(int(np.max(bounds[:, 3] - bounds[:, 0])), 0) if n else 0
        capacity = max(longest + 1, int(self.max_sizes.sum()), int(self.init_sizes.sum())) + 1
        out_code = np.empty((n * capacity, 4), np.int64)
        out_data = np.empty((n * capacity, 3))
        out_bounds = np.empty((n, 4), np.int64)
        _mutate_batch(code, data, bounds, np.asarray(do_mutate, np.bool_), self.mutations, self.allowed,
                      self.n_allowed, self.memory, self.init_sizes, self.min_sizes, self.max_sizes,
                      _OP_INPUTS, _OP_OUTPUT, _OP_CONSTS, _FIRST_OUT, _CONST_LOW, _CONST_SPAN,
                      _KIND_INDEX, _KIND_STD, LOG_SCALE_STD, SIGN_FLIP_PROB, state, capacity,
                      out_code, out_data, out_bounds)
        return out_code, out_data, out_bounds
