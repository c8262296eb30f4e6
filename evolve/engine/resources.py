"""Memory a campaign will need, estimated before anything large is allocated.

The big allocations are the task data and the interpreter's memory. Task data: every task of
the search, select and final splits holds ``(n_train + n_valid) * (F + 1)`` float64 values, kept
twice (the tasks and their stacked batch). The interpreter holds, per task evaluated together,
``S + V*F + M*F^2`` float64 values of algorithm memory (AutoML-Zero §3's scalars, vectors and
matrices), plus as much again for temporaries. A config that needs more than
:data:`MEMORY_SHARE` of the machine's available memory is one clear error, instead of an
out-of-memory kill minutes later.
"""

from __future__ import annotations

import os

from evolve.errors import ConfigError

MEMORY_SHARE = 0.8
GB = 2**30


def available_bytes() -> int:
    """Memory available now (``MemAvailable``; physical memory where that is unknown)."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return 2**62


def estimate_bytes(config, features: int, train: int, valid: int) -> dict[str, int]:
    """Bytes of task data and of interpreter memory for ``config`` at ``features`` (F) and
    ``train``/``valid`` examples per task."""
    t, m = config.tasks, config.memory
    tasks = t.search + t.select + t.final + getattr(t, "funnel", 0) + getattr(t, "search_pool", 0)
    data = 2 * tasks * (train + valid) * (features + 1) * 8
    together = max(t.search, t.select, t.final)  # one kernel call scores a program on these
    work = 2 * together * (m.scalars + m.vectors * features + m.matrices * features * features) * 8
    return {"task data": data, "interpreter memory": work}


def check_resources(config, suite) -> None:
    """Refuse a config whose estimate exceeds the memory available (one clear error)."""
    features = int(getattr(suite, "features_size", 0) or 0)
    train = int(getattr(suite, "num_train_examples", 0) or 0)
    valid = int(getattr(suite, "num_valid_examples", 0) or 0)
    if features <= 0:
        return  # a plug-in that does not say: its tasks are checked when they are made
    parts = estimate_bytes(config, features, max(train, 1), max(valid, 1))
    need, have = sum(parts.values()), available_bytes()
    if need > MEMORY_SHARE * have:
        detail = ", ".join(f"{name} {value / GB:.1f} GB" for name, value in parts.items())
        raise ConfigError(
            f"this campaign needs about {need / GB:.1f} GB ({detail}; problem.features_size = {features}, "
            f"tasks {config.tasks.search}/{config.tasks.select}/{config.tasks.final}, memory.matrices = "
            f"{config.memory.matrices}) but {have / GB:.1f} GB are available: lower problem.features_size, "
            f"the task counts or the examples per task"
        )
