"""The real-data protocol with nothing shared: final class pairs are never searched or selected,
and a final task's examples are in no search or select task, under any pair or projection."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from problems.projected_binary import ProjectedBinarySuite, load_dataset


def _rows(suite, split, n=40, seed=3):
    return set(np.concatenate(suite.task_rows(split, n, seed)).tolist())


@pytest.mark.parametrize("dataset", ["digits", "wine", "iris", "mnist1d"])
def test_nothing_is_shared_between_search_select_and_final(dataset):
    suite = ProjectedBinarySuite(dataset=dataset, protocol="disjoint", features_size=8)
    pairs = {split: set(suite.pairs_of[split]) for split in ("search", "select", "final")}
    for a, b in itertools.combinations(pairs, 2):
        assert not pairs[a] & pairs[b], (a, b)
    rows = {split: _rows(suite, split) for split in pairs}
    for a, b in itertools.combinations(rows, 2):
        assert not rows[a] & rows[b], (a, b)
    labels = load_dataset(dataset)[1]
    for split in rows:  # each task's examples come from its own split's pairs
        assert set(labels[sorted(rows[split])].tolist()) <= {c for p in pairs[split] for c in p}


def test_a_single_pair_shares_the_pair_but_not_the_examples():
    suite = ProjectedBinarySuite(dataset="breast_cancer", protocol="disjoint", features_size=8)
    rows = {split: _rows(suite, split) for split in ("search", "select", "final")}
    assert not rows["search"] & rows["final"] and not rows["select"] & rows["final"]


def test_the_shared_protocol_is_the_earlier_one_bit_for_bit():
    """The slow, obvious reference: the earlier task construction written out."""
    suite = ProjectedBinarySuite(dataset="wine", features_size=4)
    features, labels = load_dataset("wine")
    for split in ("search", "final"):
        tasks = suite.tasks(split, 5, 7)
        for task, pair in zip(tasks, suite.task_pairs(split, 5, 7), strict=True):
            rng = np.random.default_rng(task.seed)
            chosen = rng.permutation(np.flatnonzero((labels == pair[0]) | (labels == pair[1])))
            chosen = chosen[: suite.num_train_examples + suite.num_valid_examples]
            projected = features[chosen] @ rng.standard_normal((13, 4)) / np.sqrt(13)
            n = suite.num_train_examples
            mean, std = projected[:n].mean(axis=0), projected[:n].std(axis=0)
            np.testing.assert_array_equal(task.train_x, (projected[:n] - mean) / std)
            np.testing.assert_array_equal(task.valid_y, (labels[chosen[n:]] == pair[1]).astype(float))


def test_bad_protocol_parameters_are_one_clear_error():
    from problems.base import ProblemError

    with pytest.raises(ProblemError, match="'protocol' is 'mixed'"):
        ProjectedBinarySuite(dataset="wine", protocol="mixed")
    with pytest.raises(ProblemError, match="disjoint class pairs"):
        ProjectedBinarySuite(dataset="wine", protocol="disjoint", final_pairs="0-1", select_pairs="0-1")
    with pytest.raises(ProblemError, match="mnist1d_samples"):
        ProjectedBinarySuite(dataset="mnist1d", mnist1d_samples=10)
