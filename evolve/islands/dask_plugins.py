"""Dask worker plugins of the local cluster (imported only where ``distributed`` is used)."""

from __future__ import annotations

from typing import Any

from distributed import WorkerPlugin

from evolve.islands.parent_watch import watch_parent


class ParentWatch(WorkerPlugin):
    """Every worker of the local cluster, restarted ones too, exits when the campaign's process
    is gone (:func:`evolve.islands.parent_watch.watch_parent`)."""

    name = "evolve-parent-watch"

    def __init__(self, coordinator: int) -> None:
        self.coordinator = coordinator

    def setup(self, worker: Any) -> None:
        watch_parent(self.coordinator)
