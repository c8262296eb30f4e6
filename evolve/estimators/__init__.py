"""Scikit-learn estimators.

- :class:`EvolvedClassifier`, :class:`EvolvedRegressor` (:mod:`evolve.estimators.evolved`):
  ``fit(X, y)`` runs a campaign that discovers an algorithm for ``X, y``, then trains it;
- :class:`DiscoveredClassifier`, :class:`DiscoveredRegressor` and :func:`load_estimator`
  (:mod:`evolve.estimators.discovered`): a discovered program run as data.
"""

from __future__ import annotations

from evolve.estimators.discovered import DiscoveredClassifier, DiscoveredRegressor, load_estimator
from evolve.estimators.evolved import EvolvedClassifier, EvolvedRegressor

__all__ = ["DiscoveredClassifier", "DiscoveredRegressor", "EvolvedClassifier", "EvolvedRegressor",
           "load_estimator"]
