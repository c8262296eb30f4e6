"""Parent-death detection for worker processes (process pools and local Dask workers alike)."""

from __future__ import annotations

import os
import threading
import time

PARENT_POLL_S = 0.5  # how often a worker checks that its campaign is still there


def watch_parent(coordinator: int) -> None:
    """In a worker: exit as soon as the campaign's process is gone. A coordinator killed with
    ``kill -9`` closes nothing; without this its workers (hundreds of MB each) would live on,
    re-parented to init. A daemon thread polls: the parent changed (re-parented) or the
    coordinator's pid no longer exists."""
    if getattr(watch_parent, "started", False):
        return
    watch_parent.started = True
    parent = os.getppid()

    def poll() -> None:
        while True:
            time.sleep(PARENT_POLL_S)
            try:
                os.kill(coordinator, 0)
                alive = os.getppid() == parent
            except ProcessLookupError:
                alive = False
            except PermissionError:  # exists, owned by someone else: pid reused, ours is gone
                alive = False
            if not alive:
                os._exit(1)

    threading.Thread(target=poll, name="evolve-parent-watch", daemon=True).start()
