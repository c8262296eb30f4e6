"""Intervals that fit the design: per-task differences clustered by class pair."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from evolve.studies.retune import clustered_interval


def test_clustered_interval_is_a_t_interval_over_cluster_means():
    rng = np.random.default_rng(0)
    pairs = [(i % 7, 9) for i in range(70)]
    a, b = rng.normal(0.7, 0.05, 70), rng.normal(0.69, 0.05, 70)
    mean, low, high, k = clustered_interval(a, b, pairs)
    diff = a - b
    means = [diff[[j for j, p in enumerate(pairs) if p == (c, 9)]].mean() for c in range(7)]
    ci = stats.ttest_1samp(means, 0.0).confidence_interval(0.95)
    assert k == 7 and mean == pytest.approx(np.mean(means))
    assert (low, high) == pytest.approx((ci.low, ci.high))


def test_a_lead_from_a_few_pairs_is_not_significant_when_clustered():
    """Per task the interval excludes 0; clustered by pair (the lead is 3 of 9 pairs) it does not."""
    pairs = [p for p in range(9) for _ in range(20)]
    lead = np.array([0.06 if p < 3 else -0.005 for p in pairs])
    rng = np.random.default_rng(1)
    a = 0.7 + lead + rng.normal(0, 0.01, len(pairs))
    b = np.full(len(pairs), 0.7)
    d = a - b
    per_task_low = d.mean() - 1.96 * d.std(ddof=1) / np.sqrt(d.size)
    _, low, _, _ = clustered_interval(a, b, pairs)
    assert per_task_low > 0 > low


def test_a_single_cluster_has_no_interval():
    mean, low, high, k = clustered_interval([1.0, 2.0], [0.0, 0.0], ["x", "x"])
    assert k == 1 and mean == 1.5 and low == -np.inf and high == np.inf
