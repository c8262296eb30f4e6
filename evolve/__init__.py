"""evolve: discover learning algorithms from low-level primitives (AutoML-Zero in Python).

The public Python API (imported on first use, so ``import evolve`` stays light):

- :func:`run_campaign` a campaign from a preset, TOML file, Config or your data file ->
  :class:`CampaignResult` (best program, math, summary, run directory); :func:`read_result`
  reads a finished run directory;
- :class:`EvolvedClassifier`, :class:`EvolvedRegressor`: scikit-learn estimators whose ``fit``
  discovers an algorithm for ``X, y``;
- :func:`load_estimator`: a run directory's algorithm as a scikit-learn estimator, built from
  data (:class:`DiscoveredClassifier`, :class:`DiscoveredRegressor`; nothing in the run is executed);
- :func:`load_config`, :class:`Config`, :class:`Progress` (what ``on_progress`` receives).
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "run_campaign": "evolve.api",
    "read_result": "evolve.api",
    "CampaignResult": "evolve.api",
    "EvolvedClassifier": "evolve.estimators",
    "EvolvedRegressor": "evolve.estimators",
    "load_estimator": "evolve.estimators",
    "DiscoveredClassifier": "evolve.estimators",
    "DiscoveredRegressor": "evolve.estimators",
    "load_config": "evolve.config",
    "Config": "evolve.config",
    "Progress": "evolve.engine.progress",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'evolve' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
