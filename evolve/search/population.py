"""The aging population of regularized evolution, kept packed (AutoML-Zero §3, Real et al. 2019).

A population is a ring of ``P`` members, oldest at ``head``, with their fitness. The members'
code lives in three arrays — ``code`` (P, capacity, 4) op/in1/in2/out, ``data`` (P, capacity, 3)
constants, ``sizes`` (P, 3) setup/predict/learn lengths — so a batch of parents goes to the
mutation kernel by slot number (:func:`gather`) and a batch of children comes back into the
ring (:func:`scatter`) without a Python object per child: on the AutoML-Zero demo those objects
cost about as much as the search kernels themselves. The DEAP individuals of :attr:`members`
are made from the arrays when first read and kept until their slot is replaced, so code that
reads members (hall of fame, checkpoints, migration) sees the same programs and fitness as
before, and an individual handed in (a migrant, a lineage child) stays the same object.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from deap import base, creator
from numba import njit

from primitives.program import Program

# DEAP's creator puts classes in its module namespace; doing it at import time lets spawned
# worker processes unpickle individuals.
if not hasattr(creator, "FitnessMax"):
    creator.create("FitnessMax", base.Fitness, weights=(1.0,))
if not hasattr(creator, "Individual"):
    creator.create("Individual", Program, fitness=creator.FitnessMax)

Individual = creator.Individual
_FitnessMax = creator.FitnessMax
_JIT = {"cache": True, "nogil": True}


def new_individual(instructions: np.ndarray, constants: np.ndarray, sizes: tuple) -> Program:
    """A DEAP individual (``creator.Individual``) over these arrays, fitness not yet set.

    Equivalent to ``creator.Individual(...)`` without the generic (slow) creator __init__; the
    arrays are shared, not copied."""
    ind = Individual.__new__(Individual)
    ind.instructions = instructions
    ind.constants = constants
    ind.sizes = sizes
    fitness = object.__new__(_FitnessMax)  # what Fitness() builds, minus its abc type checks
    fitness.wvalues = ()
    ind.fitness = fitness
    return ind


@njit(**_JIT)
def gather(ring_code, ring_data, ring_sizes, slots, out_code, out_data, out_bounds):
    """Pack the members at ``slots`` (in order) for the interpreter and the mutation kernel:
    ``out_bounds[p] = (setup, predict, learn, end)`` offsets into ``out_code``/``out_data``."""
    offset = 0
    for p in range(slots.shape[0]):
        s = slots[p]
        out_bounds[p, 0] = offset
        k = 0
        for c in range(3):
            for _ in range(ring_sizes[s, c]):
                for q in range(4):
                    out_code[offset, q] = ring_code[s, k, q]
                for q in range(3):
                    out_data[offset, q] = ring_data[s, k, q]
                offset += 1
                k += 1
            out_bounds[p, c + 1] = offset
    return offset


@njit(**_JIT)
def scatter(ring_code, ring_data, ring_sizes, slots, code, data, bounds):
    """Write packed program ``p`` into slot ``slots[p]``, in order (a later write to the same slot
    wins, as replacing the oldest member one child at a time does)."""
    for p in range(slots.shape[0]):
        s = slots[p]
        k = 0
        for c in range(3):
            ring_sizes[s, c] = bounds[p, c + 1] - bounds[p, c]
        for row in range(bounds[p, 0], bounds[p, 3]):
            for q in range(4):
                ring_code[s, k, q] = code[row, q]
            for q in range(3):
                ring_data[s, k, q] = data[row, q]
            k += 1


def _longest(bounds: np.ndarray) -> int:
    return int(np.max(bounds[:, 3] - bounds[:, 0])) if len(bounds) else 0


class PackedBrood(Sequence):
    """A batch of children held packed (``packed = (code, data, bounds)``, as the mutation kernel
    wrote them) with their fitness once scored; child ``i`` becomes a DEAP individual (a copy of
    its rows, fitness set) only when read. Evaluation takes ``packed`` directly
    (:func:`evolve.evaluation.scoring.packed_form`)."""

    def __init__(self, code: np.ndarray, data: np.ndarray, bounds: np.ndarray) -> None:
        self.packed = (code, data, bounds)
        self.fitness: np.ndarray | None = None
        self._made: dict[int, Program] = {}

    def __len__(self) -> int:
        return self.packed[2].shape[0]

    def set_fitness(self, fitness: np.ndarray) -> None:
        """The children's scores (also set on any individual already made)."""
        self.fitness = fitness
        for i, ind in self._made.items():
            ind.fitness.wvalues = (float(fitness[i]),)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"child {i} of a brood of {n}")
        i %= n
        ind = self._made.get(i)
        if ind is None:
            code, data, bounds = self.packed
            b = bounds[i]
            ind = new_individual(code[b[0] : b[3]].copy(), data[b[0] : b[3]].copy(),
                                 (int(b[1] - b[0]), int(b[2] - b[1]), int(b[3] - b[2])))
            if self.fitness is not None:
                ind.fitness.wvalues = (float(self.fitness[i]),)
            self._made[i] = ind
        return ind

    def __iter__(self) -> Iterator[Program]:
        return (self[i] for i in range(len(self)))


class Population:
    """An aging population: a ring of members, oldest at ``head``, with their fitness.

    ``Population(members, fitness, head)`` as before; the members are copied into the packed
    ring (``code``, ``data``, ``sizes``; see the module docstring). :attr:`members` is the list
    of DEAP individuals, made on first read: change the population only through
    :meth:`replace_oldest`, :meth:`replace_oldest_many` and :meth:`replace_oldest_packed`.
    """

    def __init__(self, members: Sequence[Program], fitness: np.ndarray, head: int = 0) -> None:
        self.fitness = fitness
        self.head = head
        self.since_compaction = 0  # lineage bookkeeping
        members = list(members)
        n = len(members)
        capacity = max([len(m.instructions) for m in members] + [1])
        self.code = np.zeros((n, capacity, 4), np.int64)
        self.data = np.zeros((n, capacity, 3))
        self.sizes = np.zeros((n, 3), np.int64)
        self._objects: list[Program | None] = members
        self._unmade = False  # some slot holds None: its individual is not made yet
        if n:
            self._write(np.arange(n, dtype=np.int64), members)

    def __len__(self) -> int:
        return len(self._objects)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Population):
            return NotImplemented
        return (self.head == other.head and np.array_equal(self.fitness, other.fitness)
                and np.array_equal(self.sizes, other.sizes)
                and all(np.array_equal(self.code[s, :n], other.code[s, :n])
                        and np.array_equal(self.data[s, :n], other.data[s, :n])
                        for s, n in enumerate(self.sizes.sum(axis=1).tolist())))

    __hash__ = None  # mutable

    def __repr__(self) -> str:
        return f"Population(size={len(self)}, head={self.head})"

    @property
    def members(self) -> list[Program]:
        """The members as DEAP individuals (slot order, fitness set), made from the ring where a
        slot was filled by :meth:`replace_oldest_packed`. Read-only: do not assign into it."""
        objects = self._objects
        if not self._unmade:
            return objects
        self._unmade = False
        for s, ind in enumerate(objects):
            if ind is None:
                n = int(self.sizes[s].sum())
                ind = new_individual(self.code[s, :n].copy(), self.data[s, :n].copy(),
                                     tuple(int(v) for v in self.sizes[s]))
                ind.fitness.wvalues = (float(self.fitness[s]),)
                objects[s] = ind
        return objects

    def _fit(self, longest: int) -> None:
        """Grow the ring's rows to hold a program of ``longest`` instructions."""
        if longest <= self.code.shape[1]:
            return
        n = len(self)
        code = np.zeros((n, longest, 4), np.int64)
        data = np.zeros((n, longest, 3))
        code[:, : self.code.shape[1]] = self.code
        data[:, : self.data.shape[1]] = self.data
        self.code, self.data = code, data

    def _write(self, slots: np.ndarray, programs: Sequence[Program]) -> None:
        from evolve.evaluation.scoring import packed_form

        code, data, bounds = packed_form(programs)
        self._fit(_longest(bounds))
        scatter(self.code, self.data, self.sizes, slots, code, data, bounds)

    def _set_fitness(self, slots: np.ndarray, fitness: np.ndarray) -> None:
        n = len(self)  # with k > P children the last P win, as replacing one at a time does
        self.fitness[slots[-n:]] = np.asarray(fitness, dtype=np.float64)[-n:]

    def _slots(self, k: int) -> np.ndarray:
        return (self.head + np.arange(k, dtype=np.int64)) % len(self)

    def replace_oldest(self, child: Program, fitness: float) -> None:
        self.replace_oldest_many([child], np.array([fitness]))

    def replace_oldest_many(self, children: Sequence[Program], fitness: np.ndarray) -> None:
        """``replace_oldest`` for each child in order (one call for a whole batch); the children
        become members as they are (the same objects)."""
        k = len(children)
        if not k:
            return
        slots = self._slots(k)
        children = list(children)
        self._write(slots, children)
        self._set_fitness(slots, fitness)
        objects = self._objects
        for slot, child in zip(slots.tolist(), children, strict=True):
            objects[slot] = child
        self.head = (self.head + k) % len(self)

    def replace_oldest_packed(self, brood: PackedBrood, fitness: np.ndarray) -> None:
        """``replace_oldest_many`` for a packed brood: its rows go into the ring, and the
        individuals are made only if :attr:`members` is read."""
        k = len(brood)
        if not k:
            return
        slots = self._slots(k)
        code, data, bounds = brood.packed
        self._fit(_longest(bounds))
        scatter(self.code, self.data, self.sizes, slots, code, data, bounds)
        self._set_fitness(slots, fitness)
        objects = self._objects
        made = brood._made
        for j, slot in enumerate(slots.tolist()):
            objects[slot] = made.get(j)
        self._unmade = True
        self.head = (self.head + k) % len(self)

    def packed_members(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The members at ``slots`` packed, ``(code, data, bounds)``, as
        :func:`primitives.program.pack` of those members gives."""
        slots = np.ascontiguousarray(slots, dtype=np.int64)
        rows = int(self.sizes[slots].sum())
        code = np.empty((rows, 4), np.int64)
        data = np.empty((rows, 3))
        bounds = np.empty((len(slots), 4), np.int64)
        gather(self.code, self.data, self.sizes, slots, code, data, bounds)
        return code, data, bounds

    def in_age_order(self) -> list[int]:
        n = len(self)
        return [(self.head + i) % n for i in range(n)]
