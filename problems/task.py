"""The task type: one learning problem an algorithm is trained and validated on.

A task is what AutoML-Zero's executor consumes (Real et al. 2020, §3 and Supplementary S1): train
examples fed one at a time to Predict then Learn, then validation examples fed to Predict alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EVAL_TYPES = ("rms", "accuracy")
SPLITS = ("search", "select", "final")


@dataclass(frozen=True, eq=False)
class Task:
    """Arrays of one task. ``x`` arrays are (n, F) float64 C-contiguous, ``y`` arrays (n,) float64.

    ``eval_type`` is ``"rms"`` (fitness ``1 - (2/pi) arctan(RMSE)``) or ``"accuracy"`` (labels in
    {0, 1}); ``seed`` identifies the task (it seeds the epoch shuffles and the random ops);
    ``num_train_epochs`` is how many passes over the train examples the executor makes.
    """

    train_x: np.ndarray
    train_y: np.ndarray
    valid_x: np.ndarray
    valid_y: np.ndarray
    eval_type: str
    seed: int
    num_train_epochs: int = 1

    @property
    def features_size(self) -> int:
        return int(self.train_x.shape[1])
