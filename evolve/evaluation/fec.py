"""The functional-equivalence cache: fitness by prediction hash (AutoML-Zero §4, "FEC").

A child's predictions on the first train and valid examples of every task are hashed
(:func:`primitives.interpreter.evaluate_batch` with ``record``); a hash seen before costs a lookup
instead of an evaluation. The cache is an open-addressing hash table (linear probing) in three
NumPy arrays, probed by jitted kernels a whole batch at a time, so a lookup costs nanoseconds and
the state of an island travels between processes as arrays, with no Python objects to rebuild.

Replacement is least-recently-used in halves: every lookup hit and every insertion stamps the
entry with a clock; when an insertion finds the cache at ``capacity`` entries, the least recently
used are dropped until ``capacity // 2`` remain. (Strict one-at-a-time LRU needs a linked list
through the table; halves give the same behaviour to within a factor of two of memory and are
deterministic, which is what runs on several backends need.)
"""

from __future__ import annotations

import numpy as np
from numba import njit

_JIT = {"cache": True, "nogil": True}
_MIN_TABLE = 1024


@njit(**_JIT)
def _slot(keys, stamps, key):
    """Slot holding ``key``, or the empty slot where it would go (tables are never full)."""
    mask = keys.shape[0] - 1
    i = np.int64((key ^ (key >> np.uint64(29))) & np.uint64(mask))
    while stamps[i] != 0 and keys[i] != key:
        i = (i + 1) & mask
    return i


@njit(**_JIT)
def _lookup(keys, values, stamps, clock, hashes, out, found):
    """Fill ``out``/``found`` for each hash; hits are stamped in order. Returns the new clock."""
    for j in range(hashes.shape[0]):
        i = _slot(keys, stamps, hashes[j])
        if stamps[i] != 0:
            found[j] = True
            out[j] = values[i]
            stamps[i] = clock
            clock += 1
        else:
            found[j] = False
    return clock


@njit(**_JIT)
def _place(keys, values, stamps, key, value, stamp):
    i = _slot(keys, stamps, key)
    keys[i] = key
    values[i] = value
    stamps[i] = stamp


@njit(**_JIT)
def _evict(keys, values, stamps, keep):
    """Keep the ``keep`` most recently stamped entries (stamps are distinct); rehash in place."""
    used = np.nonzero(stamps)[0]
    if used.shape[0] <= keep:
        return used.shape[0]
    order = np.argsort(stamps[used])
    survivors = used[order[used.shape[0] - keep:]]
    k = keys[survivors].copy()
    v = values[survivors].copy()
    s = stamps[survivors].copy()
    stamps[:] = 0
    for j in range(keep):
        _place(keys, values, stamps, k[j], v[j], s[j])
    return keep


@njit(**_JIT)
def _rehash(keys, values, stamps, new_keys, new_values, new_stamps):
    for i in range(keys.shape[0]):
        if stamps[i] != 0:
            _place(new_keys, new_values, new_stamps, keys[i], values[i], stamps[i])


@njit(**_JIT)
def _insert(keys, values, stamps, size, clock, capacity, hashes, fitness):
    """Insert absent keys in order, evicting by halves at ``capacity``. Returns (size, clock)."""
    for j in range(hashes.shape[0]):
        if size >= capacity:
            size = _evict(keys, values, stamps, capacity // 2)
        i = _slot(keys, stamps, hashes[j])
        if stamps[i] == 0:
            size += 1
        keys[i] = hashes[j]
        values[i] = fitness[j]
        stamps[i] = clock
        clock += 1
    return size, clock


class FECCache:
    """Fitness keyed by the hash of a function's predictions; LRU replacement in halves."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"FEC cache capacity {capacity}: must be >= 1")
        self.capacity = int(capacity)
        self.hits = 0
        self.misses = 0
        self.clear()

    def clear(self) -> None:
        self._keys = np.zeros(_MIN_TABLE, np.uint64)
        self._values = np.zeros(_MIN_TABLE)
        self._stamps = np.zeros(_MIN_TABLE, np.int64)  # 0 = empty slot
        self.size = 0
        self.clock = 1

    def __len__(self) -> int:
        return self.size

    def _reserve(self, extra: int) -> None:
        """Grow the table so it stays at most half full after ``extra`` more entries."""
        need = 2 * min(self.size + extra, self.capacity)
        if need <= self._keys.shape[0]:
            return
        table = max(_MIN_TABLE, 1 << (need - 1).bit_length())
        old = (self._keys, self._values, self._stamps)
        self._keys = np.zeros(table, np.uint64)
        self._values = np.zeros(table)
        self._stamps = np.zeros(table, np.int64)
        _rehash(*old, self._keys, self._values, self._stamps)

    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(fitness, found)`` for each hash, hits marked most recently used. Counts nothing:
        the caller decides what is a hit (see :class:`evolve.evaluation.evaluator.SearchEvaluator`)."""
        hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
        out = np.zeros(hashes.shape[0])
        found = np.zeros(hashes.shape[0], dtype=np.bool_)
        self.clock = int(_lookup(self._keys, self._values, self._stamps, np.int64(self.clock),
                                 hashes, out, found))
        return out, found

    def insert(self, hashes: np.ndarray, fitness: np.ndarray) -> None:
        """Store absent hashes (in order: the last is the most recently used)."""
        hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
        fitness = np.ascontiguousarray(fitness, dtype=np.float64)
        self._reserve(hashes.shape[0])
        size, clock = _insert(self._keys, self._values, self._stamps, np.int64(self.size),
                              np.int64(self.clock), np.int64(self.capacity), hashes, fitness)
        self.size, self.clock = int(size), int(clock)

    def get(self, key: int) -> float | None:
        """One lookup, counted as a hit or a miss."""
        value, found = self.lookup(np.array([key], dtype=np.uint64))
        if found[0]:
            self.hits += 1
            return float(value[0])
        self.misses += 1
        return None

    def put(self, key: int, fitness: float) -> None:
        self.insert(np.array([key], dtype=np.uint64), np.array([fitness]))

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def keys_by_age(self) -> np.ndarray:
        """The stored hashes, least recently used first."""
        used = np.nonzero(self._stamps)[0]
        return self._keys[used[np.argsort(self._stamps[used])]]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Entries least recently used first, and the hit/miss counts (checkpoints, islands)."""
        used = np.nonzero(self._stamps)[0]
        used = used[np.argsort(self._stamps[used])]
        return {"fec_keys": self._keys[used].copy(), "fec_values": self._values[used].copy(),
                "fec_counts": np.array([self.hits, self.misses], dtype=np.int64)}

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore :meth:`to_arrays` output (the most recent ``capacity`` entries are kept; a
        repeated key keeps its later value)."""
        raw_keys, raw_values = np.asarray(arrays["fec_keys"]), np.asarray(arrays["fec_values"])
        counts = np.asarray(arrays["fec_counts"])
        # read from a checkpoint: checked by type and range before anything is kept
        if raw_keys.dtype != np.uint64 or raw_values.dtype.kind != "f" or raw_keys.shape != raw_values.shape or raw_keys.ndim != 1:
            raise ValueError(f"fec_keys {raw_keys.dtype} {raw_keys.shape} and fec_values "
                             f"{raw_values.dtype} {raw_values.shape}: expected uint64 and float of one length")
        if not (np.isfinite(raw_values) & (raw_values >= 0.0) & (raw_values <= 1.0)).all():
            raise ValueError("fec_values: fitness must be finite numbers in [0, 1]")
        if counts.dtype.kind not in "iu" or counts.shape != (2,) or (counts < 0).any() or (counts > 2**62).any():
            raise ValueError(f"fec_counts {counts!r}: expected 2 integers in [0, 2**62]")
        keys = raw_keys[-self.capacity:]
        values = raw_values.astype(np.float64)[-self.capacity:]
        self.clear()
        self._reserve(keys.shape[0])
        self.size, self.clock = (int(v) for v in _insert(
            self._keys, self._values, self._stamps, np.int64(0), np.int64(1),
            np.int64(self.capacity + 1), keys, values))
        self.hits, self.misses = (int(v) for v in arrays["fec_counts"])


@njit(**_JIT)
def _live_slot(k1, k2, used, a, b):
    """Slot holding the key pair ``(a, b)``, or the empty slot where it would go (linear probing
    from ``a``'s low bits; the table is never full)."""
    mask = k1.shape[0] - 1
    i = np.int64(a & np.uint64(mask))
    while used[i] and not (k1[i] == a and k2[i] == b):
        i = (i + 1) & mask
    return i


@njit(**_JIT)
def _live_probe(k1, k2, vals, used, keys, out, found):
    """Look up each key pair; ``found[j]`` and ``out[j]`` (the stored FEC hash) where present."""
    for j in range(keys.shape[0]):
        i = _live_slot(k1, k2, used, keys[j, 0], keys[j, 1])
        found[j] = used[i]
        if used[i]:
            out[j] = vals[i]


@njit(**_JIT)
def _live_store(k1, k2, vals, used, keys, hashes, size):
    """Store absent key pairs with their hashes; returns the new entry count."""
    for j in range(keys.shape[0]):
        a, b = keys[j, 0], keys[j, 1]
        i = _live_slot(k1, k2, used, a, b)
        if not used[i]:
            used[i] = True
            k1[i] = a
            k2[i] = b
            vals[i] = hashes[j]
            size += 1
    return size


class LiveKeyHashes:
    """Canonical live code -> FEC hash (:func:`primitives.liveness.live_keys`), so that a child
    whose live code was seen before skips its FEC pass: the hash is a function of that code, so
    the remembered one is the one the pass would compute, and every result stays the same.

    An open-addressing table of at most ``capacity`` entries (kept at most half full), emptied
    when full: forgetting only means a pass runs again. Never checkpointed, for the same reason."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"live-key capacity {capacity}: must be >= 1")
        self.capacity = int(capacity)
        table = max(_MIN_TABLE, 1 << (2 * self.capacity - 1).bit_length())
        self._k1 = np.zeros(table, np.uint64)
        self._k2 = np.zeros(table, np.uint64)
        self._vals = np.zeros(table, np.uint64)
        self._used = np.zeros(table, np.bool_)
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(hashes, found)`` for key pairs ``keys`` (P, 2) uint64."""
        out = np.zeros(keys.shape[0], np.uint64)
        found = np.zeros(keys.shape[0], np.bool_)
        _live_probe(self._k1, self._k2, self._vals, self._used, keys, out, found)
        return out, found

    def insert(self, keys: np.ndarray, hashes: np.ndarray) -> None:
        if self.size + keys.shape[0] > self.capacity:
            self._used[:] = False
            self.size = 0
        keys = np.ascontiguousarray(keys[: self.capacity], dtype=np.uint64)
        hashes = np.ascontiguousarray(hashes[: self.capacity], dtype=np.uint64)
        self.size = int(_live_store(self._k1, self._k2, self._vals, self._used, keys, hashes,
                                    np.int64(self.size)))
