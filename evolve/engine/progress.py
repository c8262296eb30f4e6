"""Progress of a running campaign as plain data, for the terminal display and for Python callers.

Every ``campaign.progress_seconds`` a campaign builds one :class:`Progress` and hands it to each of
its listeners (``start_campaign(..., on_progress=callable)`` adds one): the terminal display
(:mod:`evolve.ui.display`), a notebook, an estimator's ``verbose`` hook. The same numbers go to
``progress.csv``; a listener never needs to parse output.

Listeners are called on the campaign's thread, between search steps: one that takes long slows
the search. A listener may define ``warming(cold: bool)`` (called once before the clock starts,
``cold`` when the interpreter has no on-disk compiled cache yet) and ``finished(summary, run_dir)``
(called once after ``summary.json`` is written); plain functions get :class:`Progress` only.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HISTORY = 240  # best-fitness values kept for the sparkline (one per progress row)
ISLAND_COLUMNS = ("individuals", "seconds", "island", "best_fitness", "mean_fitness")


@dataclass(frozen=True)
class IslandProgress:
    """One island's population right now (island campaigns only)."""

    island: int
    best_fitness: float
    mean_fitness: float


@dataclass(frozen=True)
class Progress:
    """A campaign's state at one progress tick.

    ``best_fitness``/``mean_fitness`` are over the current population(s) on the search tasks;
    ``select_fitness`` is the best-select candidate's fitness on the select tasks (``None`` before
    the first check); ``best_math`` is that candidate's update rules on one line (``None`` if none).
    ``eta_seconds`` is the time left to the nearer of the two budgets (minutes, individuals at the
    current rate), ``None`` when neither is set.
    """

    name: str
    run_dir: str
    experiment: int
    individuals: int
    evaluations: int
    seconds: float
    best_fitness: float
    mean_fitness: float
    select_fitness: float | None
    success_threshold: float
    success: bool
    individuals_per_second: float
    fec_hit_rate: float
    budget_seconds: float | None
    max_individuals: int | None
    best_history: tuple[float, ...] = ()
    best_math: str | None = None
    islands: tuple[IslandProgress, ...] = ()

    @property
    def eta_seconds(self) -> float | None:
        left = []
        if self.budget_seconds:
            left.append(max(self.budget_seconds - self.seconds, 0.0))
        if self.max_individuals and self.individuals_per_second > 0:
            left.append(max(self.max_individuals - self.individuals, 0) / self.individuals_per_second)
        return min(left) if left else None


ProgressCallback = Callable[[Progress], Any]


class ProgressTracker:
    """Builds :class:`Progress` from a campaign's progress row; keeps the sparkline history and
    the one-line math of the current candidate (recomputed only when the candidate changes)."""

    def __init__(self, math_seconds: float = 0.5, math_every: float = 5.0,
                 math_of: Callable[[Any, str, float], str | None] | None = None) -> None:
        self.history: list[float] = []
        # the candidate's one-line math comes from whoever watches (the UI passes
        # evolve.analysis.math_view.one_line_math): the engine itself never imports analysis
        self.math_of = math_of
        self.math_seconds = math_seconds
        self.math_every = math_every  # SymPy costs ~0.3 s a program: at most one every few seconds
        self._math_at = -float("inf")
        self._math_key: tuple | None = None
        self._math: str | None = None
        self._islands_log: io.TextIOBase | None = None

    def math_line(self, program: Any, eval_type: str) -> str | None:
        if program is None or self.math_of is None:
            return None
        key = (program.instructions.tobytes(), program.constants.tobytes(), tuple(program.sizes))
        now = time.monotonic()
        if key != self._math_key and (self._math is None or now - self._math_at >= self.math_every):
            self._math_key, self._math_at = key, now
            self._math = self.math_of(program, eval_type, self.math_seconds)
        return self._math

    def build(self, campaign: Any, row: dict, with_math: bool = True) -> Progress:
        self.history.append(float(row["best_fitness"]))
        del self.history[:-HISTORY]
        c = campaign.config.campaign
        candidate = getattr(campaign, "candidate", None)
        select = campaign.candidate_select if candidate is not None else None
        eval_type = "accuracy" if campaign.search_batch.eval_type == "accuracy" else "rms"
        return Progress(
            name=campaign.config.name,
            run_dir=str(campaign.run_dir),
            experiment=int(row["experiment"]),
            individuals=int(row["individuals"]),
            evaluations=int(row["evaluations"]),
            seconds=float(row["seconds"]),
            best_fitness=float(row["best_fitness"]),
            mean_fitness=float(row["mean_fitness"]),
            select_fitness=None if select is None else float(select),
            success_threshold=float(campaign.success_threshold),
            success=bool(campaign.success),
            individuals_per_second=float(row["individuals_per_second"]),
            fec_hit_rate=float(row["fec_hit_rate"]),
            budget_seconds=60.0 * c.budget_minutes if c.budget_minutes else None,
            max_individuals=int(c.max_evaluations) if c.max_evaluations else None,
            best_history=tuple(self.history),
            best_math=self.math_line(candidate, eval_type) if with_math else None,
            islands=island_progress(campaign),
        )

    def log_islands(self, run_dir: Path, progress: Progress) -> None:
        """Append one row per island to ``islands.csv`` (island campaigns only)."""
        if not progress.islands:
            return
        if self._islands_log is None:
            path = Path(run_dir) / "islands.csv"
            fresh = not path.exists()
            self._islands_log = path.open("a", newline="")
            if fresh:
                csv.writer(self._islands_log).writerow(ISLAND_COLUMNS)
        writer = csv.writer(self._islands_log)
        for island in progress.islands:
            writer.writerow([progress.individuals, f"{progress.seconds:.6g}", island.island,
                             f"{island.best_fitness:.6g}", f"{island.mean_fitness:.6g}"])
        self._islands_log.flush()

    def close(self) -> None:
        if self._islands_log is not None:
            self._islands_log.close()
            self._islands_log = None


def _islands(campaign: Any) -> list | None:
    """The island states of an island campaign (its strategy's, :class:`evolve.islands.Islands`)."""
    islands = getattr(getattr(campaign, "strategy", None), "islands", None)
    return islands if isinstance(islands, list) else None


def island_progress(campaign: Any) -> tuple[IslandProgress, ...]:
    islands = _islands(campaign)
    if not isinstance(islands, list):
        return ()
    result = []
    for i, island in enumerate(islands):
        try:
            fitness = np.asarray(island.arrays["population_fitness"], dtype=np.float64)
        except (AttributeError, KeyError, TypeError):
            continue
        if fitness.size:
            result.append(IslandProgress(i, float(fitness.max()), float(fitness.mean())))
    return tuple(result)


def interpreter_is_cold() -> bool:
    """True when the interpreter's compiled code is not in Numba's on-disk cache yet (the first
    command in a fresh environment compiles it, ~20 s)."""
    try:
        from primitives import interpreter

        index = Path(interpreter._evaluate_batch._cache._cache_file._index_path)
    except (ImportError, AttributeError):  # pragma: no cover - Numba internals moved
        return False
    return not index.exists()


def notify(campaign: Any, row: dict) -> Progress | None:
    """Build a :class:`Progress` from a campaign's progress row and call its listeners."""
    listeners = getattr(campaign, "listeners", None) or ()
    if not listeners and _islands(campaign) is None:
        return None
    tracker = getattr(campaign, "_progress_tracker", None)
    if tracker is None:
        tracker = campaign._progress_tracker = ProgressTracker(
            math_of=getattr(campaign, "math_of", None))
    progress = tracker.build(campaign, row, with_math=bool(listeners))
    tracker.log_islands(campaign.run_dir, progress)
    for listener in listeners:
        listener(progress)
    return progress


def notify_warming(campaign: Any) -> None:
    listeners = getattr(campaign, "listeners", None) or ()
    hooks = [getattr(x, "warming", None) for x in listeners]
    if any(hooks):
        cold = interpreter_is_cold()
        for hook in hooks:
            if hook is not None:
                hook(cold)


def notify_finished(campaign: Any, summary: dict) -> None:
    tracker = getattr(campaign, "_progress_tracker", None)
    if tracker is not None:
        tracker.close()
    for listener in getattr(campaign, "listeners", None) or ():
        hook = getattr(listener, "finished", None)
        if hook is not None:
            hook(summary, Path(campaign.run_dir))
