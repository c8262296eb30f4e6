"""Campaigns: experiments of evolution (or random search) until success or the budget ends.

A campaign runs one experiment at a time on the *search* tasks. Whenever an experiment finds a
new best search fitness of at least ``select_min_search_fitness``, that program is checked on the
*select* tasks; the campaign succeeds when a select fitness reaches ``success_fitness`` (or, with
``success_baseline``, the select fitness of a reference algorithm such as linear SGD). An
experiment that has not improved for ``stall_individuals`` individuals is restarted from a fresh
population. The reported number is the best-select program's fitness on *final* tasks that no
search step has seen (AutoML-Zero §4, "experiment details").

The campaign owns this loop and what is common to one population and islands; its *strategy*
(:mod:`evolve.engine.strategy`) owns the population state: :class:`evolve.engine.one_population.OnePopulation`
or :class:`evolve.islands.Islands`. The search itself (tasks, evaluator, streams, toolbox) is a
:class:`evolve.engine.search_context.SearchContext`. State lives in plain data (programs as arrays, RNG
states as integers) and is checkpointed atomically every few seconds
(:mod:`evolve.engine.checkpoint`); ``resume`` continues the same random streams, so an
interrupted and resumed seeded run ends exactly as the uninterrupted one.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import numpy as np
from deap import tools

from evolve.config import Config, to_toml
from evolve.engine import task_protocol as protocol
from evolve.engine.checkpoint import restore_checkpoint, write_checkpoint
from evolve.engine.one_population import OnePopulation
from evolve.engine.progress import (
    ProgressCallback,
    notify,
    notify_finished,
    notify_warming,
)
from evolve.engine.resources import check_resources
from evolve.engine.search_context import SearchContext, load_program
from evolve.engine.strategy import Strategy
from evolve.errors import CheckpointError, ConfigError
from evolve.evaluation.evaluator import BudgetExhausted
from evolve.evaluation.scoring import TaskBatch
from evolve.islands import Islands
from evolve.rundir.results import write_results
from evolve.rundir.resume_config import confine_scheduler, run_config, saved_config
from evolve.rundir.store import ProgressLog, atomic_write_text, has_checkpoint, load_checkpoint
from evolve.search.evolution import (
    make_hall_of_fame,
    make_statistics,
)
from evolve.search.methods import method
from primitives.memory import MemorySpec
from primitives.program import Program
from problems.registry import get_tasks, make_suite

LOSS_TARGET_S = 2.0  # a kill loses at most about this much search (the checkpoint interval)
CHECKPOINT_SHARE = 0.05  # ... unless checkpoints would then take more than this share of the time


def checkpoint_interval(most_seconds: float, cost_seconds: float) -> float:
    """Seconds until the next checkpoint: :data:`LOSS_TARGET_S` (at most ``most_seconds``,
    ``campaign.checkpoint_seconds``), longer only when a checkpoint costs more than
    :data:`CHECKPOINT_SHARE` of that, so that a kill loses ~2 s and checkpoints cost <= 5%."""
    return min(most_seconds, max(LOSS_TARGET_S, cost_seconds / CHECKPOINT_SHARE))


class Campaign:
    """One campaign in one run directory (create with :func:`start_campaign` or
    :func:`resume_campaign`). ``campaign.islands > 1`` gives it the :class:`~evolve.islands.Islands`
    strategy whatever the executor, so that a seeded result depends on the number of islands,
    never on the backend."""

    def __init__(self, config: Config, run_dir: Path, quiet: bool = False) -> None:
        if config.campaign.islands > 1:
            Islands.check(config)  # before any tasks are built
        self.config = config
        self.run_dir = Path(run_dir)
        self.quiet = quiet
        c = config
        suite = make_suite(c.problem.name, c.problem.params)
        holdout = make_suite(c.problem.name, {**c.problem.params, **c.problem.select})
        check_resources(c, suite)  # a clear error, not an out-of-memory kill later
        check_resources(c, holdout)
        del suite  # the search tasks come from protocol.SearchTasks (fixed unless resampled)
        self.context = SearchContext(c)
        self.funnel_batch = protocol.funnel_batch(c)
        self.funnel_best = -1.0
        self.select_curve: list[tuple] = []  # one row per select check (protocol.CURVE_COLUMNS)
        self.select_batch = TaskBatch.from_tasks(get_tasks(holdout, "select", c.tasks.select, c.seed))
        self.final_batch = TaskBatch.from_tasks(get_tasks(holdout, "final", c.tasks.final, c.seed))
        self.success_threshold = c.campaign.success_fitness
        if c.campaign.success_baseline:
            baseline = load_program(c.campaign.success_baseline, "campaign.success_baseline")
            self.success_threshold = self.score(baseline, self.select_batch, baseline.required_memory())
        self.halloffame = make_hall_of_fame(c.campaign.hall_of_fame_size)
        self.context.halloffame = self.halloffame
        self.stats = make_statistics()
        self.logbook = tools.Logbook()  # this session's progress rows; progress.csv keeps them all
        self.logbook.header = ["experiment", "individuals", "seconds", "best_fitness", "mean_fitness"]
        # campaign state
        self.population = None  # a one-population strategy's Population / ParetoPopulation
        self.experiment = 0
        self.individuals = 0
        self.experiment_start = 0
        self.experiment_best = -1.0
        self.last_improvement = 0
        self.candidate: Program | None = None
        self.candidate_ancestor: Program | None = None  # the candidate as bred: its lineage
        self.candidate_search = 0.0
        self.candidate_select = -1.0
        self.success = False
        self.seconds_to_success: float | None = None
        self.individuals_to_success: int | None = None
        self.prior_seconds = 0.0
        self.progress: ProgressLog | None = None
        self.progress_rows = 0
        self._stop_signal = 0  # the number of the SIGINT/SIGTERM that stopped the search
        # A library re-raises the signal once the run is checkpointed and written (Ctrl-C in a
        # notebook raises KeyboardInterrupt; SIGTERM ends a script); the CLI reports it instead.
        self.reraise_signals = True
        # the candidate's one-line math for Progress.best_math, supplied by the watcher
        # (evolve.ui.display.watch); None: no math, the engine never imports the analysis layer
        self.math_of = None
        self._session_start: float | None = None  # run() starts the clock after warm-up
        self.listeners: list[ProgressCallback] = []  # called with a Progress every progress tick
        self.strategy: Strategy = Islands(self) if c.campaign.islands > 1 else OnePopulation(self)

    # ------------------------------------------------------------------ the search context

    @property
    def memory(self) -> MemorySpec:
        return self.context.memory

    @property
    def evaluator(self):
        return self.context.evaluator

    @property
    def toolbox(self):
        return self.context.toolbox

    @property
    def selection_rng(self) -> np.random.Generator:
        return self.context.selection_rng

    @property
    def search_batch(self) -> TaskBatch:
        return self.context.search_batch

    def make_member(self) -> Program:
        """A new member of an initial population (the ``algorithm.initial`` / ``restart_from`` rule)."""
        restart = (self.config.campaign.restart_from == "best" and self.experiment > 1
                   and self.candidate is not None)
        return self.context.make_member(self.candidate if restart else None)

    def score(self, program: Program, batch: TaskBatch, memory: MemorySpec | None = None) -> float:
        return self.context.score(program, batch, memory)

    @property
    def seconds(self) -> float:
        if self._session_start is None:  # not running (the start record)
            return self.prior_seconds
        return self.prior_seconds + (time.monotonic() - self._session_start)

    # ------------------------------------------------------------------ main loop

    def _new_experiment(self) -> None:
        self.experiment += 1
        self.experiment_start = self.individuals
        self.experiment_best = -1.0
        self.last_improvement = self.individuals
        self.strategy.new_experiment()

    def consider(self, individuals: list[Program], fitness: np.ndarray) -> None:
        """Check a new best search fitness on the select tasks."""
        best = int(np.argmax(fitness))
        if fitness[best] <= self.experiment_best:
            return
        if fitness[best] > self.experiment_best + self.stall_step():
            self.last_improvement = self.individuals
        self.experiment_best = float(fitness[best])
        if fitness[best] < self.config.campaign.select_min_search_fitness and self.candidate is not None:
            return
        program = individuals[best]
        funnel = -1.0
        if self.funnel_batch is not None:
            funnel = self.score(program, self.funnel_batch)
            if funnel < self.funnel_best:
                self.select_curve.append((self.individuals, self.seconds, float(fitness[best]), funnel, -1.0, 0))
                return
            self.funnel_best = funnel
        select = self.score(program, self.select_batch)
        self.select_curve.append((self.individuals, self.seconds, float(fitness[best]), funnel, select,
                                  int(select > self.candidate_select)))
        if select > self.candidate_select:
            self.candidate = Program(program.instructions.copy(), program.constants.copy(), program.sizes)
            self.candidate_select = select
            self.candidate_ancestor = program
            self.candidate_search = float(fitness[best])
        if select >= self.success_threshold and not self.success:
            self.success = True
            self.seconds_to_success = self.seconds
            self.individuals_to_success = self.individuals

    def stall_step(self) -> float:
        """The least improvement of the best search fitness ``b`` that resets the stall count:
        ``min(stall_tolerance, stall_gap_fraction * (1 - b))`` (the second term only when
        ``stall_gap_fraction > 0``: near the top, where the steps left are smaller than the
        tolerance, an experiment closing its gap to a perfect fitness is not a stalled one)."""
        c = self.config.campaign
        if c.stall_gap_fraction > 0:
            return min(c.stall_tolerance, c.stall_gap_fraction * (1.0 - self.experiment_best))
        return c.stall_tolerance

    def set_draw(self, draw: int) -> None:
        """Make draw ``draw`` of the search tasks current (:meth:`SearchContext.set_draw`)."""
        self.context.set_draw(draw)

    def _resample(self) -> None:
        """New search tasks when a draw boundary is crossed: the population re-scored on them."""
        draw = self.context.search_tasks.draw_of(self.individuals)
        if draw == self.context.draw:
            return
        self.set_draw(draw)
        fitness = None
        if self.population is not None:
            fitness = method(self.config.search.method).rescore(self.toolbox, self.population)
        if fitness is not None:
            self.experiment_best = -1.0
            last = self.last_improvement
            self.consider(self.population.members, fitness)
            self.last_improvement = last  # new tasks are no improvement (stall counting)

    def _step(self) -> None:
        self.strategy.step()

    def _stop_reason(self) -> str | None:
        c = self.config.campaign
        if self.success and c.stop_on_success:
            return "success"
        if self._stop_signal:
            return "interrupted"
        if c.max_evaluations and self.individuals >= c.max_evaluations:
            return "max_evaluations"
        if c.budget_minutes and self.seconds >= 60.0 * c.budget_minutes:
            return "budget_minutes"
        return None

    def warm_up(self) -> None:
        """Load the compiled kernels before the campaign's clock starts, so that ``seconds`` and
        individuals/s measure the search (:meth:`SearchContext.warm_up`; changes no state)."""
        self.context.warm_up()

    def open(self) -> None:
        """Start what the strategy runs on (the islands' executor); an unreachable scheduler
        fails here, before any work."""
        self.strategy.open()

    def run(self) -> dict:
        """Run until success, budget or interruption; write results; return the summary.

        Stopped by SIGINT or SIGTERM, the run is checkpointed and its results written first;
        then, unless ``reraise_signals`` is off (the CLI), SIGINT raises ``KeyboardInterrupt``
        and SIGTERM ``SystemExit(143)``, so a library caller is stopped as the signal meant."""
        self.strategy.open()
        self.strategy.warm()
        try:
            summary = self._run()
        finally:
            self.strategy.close()
        if self._stop_signal and self.reraise_signals:
            if self._stop_signal == signal.SIGINT:
                raise KeyboardInterrupt(f"campaign interrupted; resume with `evolve resume {self.run_dir}`")
            raise SystemExit(128 + int(self._stop_signal))
        return summary

    def _run(self) -> dict:
        c = self.config.campaign
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

        def _handler(signum, frame):
            self._stop_signal = signum

        for sig in previous:
            try:
                signal.signal(sig, _handler)
            except ValueError:  # not the main thread
                previous = {}
                break
        try:
            # handlers first: a Ctrl-C while the kernels load stops as cleanly as one later
            notify_warming(self)
            self.warm_up()
            self._session_start = time.monotonic()
            self.context.select_seconds = 0.0  # timed from here, as the clock (not __init__'s kernel load)
            if c.budget_minutes:  # the evaluator stops a long batch when the budget ends
                self.evaluator.deadline = self._session_start + 60.0 * c.budget_minutes - self.prior_seconds
            if self.experiment == 0:
                within_budget(self._new_experiment)
            last_tick = last_checkpoint = time.monotonic()
            interval = min(c.checkpoint_seconds, LOSS_TARGET_S)
            reason = self._stop_reason()
            while reason is None:
                if c.stall_individuals and self.individuals - self.last_improvement >= c.stall_individuals:
                    within_budget(self._new_experiment)
                else:
                    within_budget(self._step)
                if self.context.search_tasks.active:
                    self._resample()
                now = time.monotonic()
                if now - last_tick >= c.progress_seconds:
                    self._tick()
                    last_tick = now
                reason = self._stop_reason()
                if reason is None and now - last_checkpoint >= interval:
                    self.checkpoint()
                    last_checkpoint = time.monotonic()
                    interval = checkpoint_interval(c.checkpoint_seconds, last_checkpoint - now)
            self._tick()
            if self.strategy.resumable():  # else the last checkpoint stays the one to resume from
                self.checkpoint()
            summary = self.finish(reason)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if self.progress is not None:
                self.progress.close()
        return summary

    # ------------------------------------------------------------------ reporting

    def population_fitness(self) -> np.ndarray:
        """The current population's fitness, or the hall of fame's when there is none."""
        fitness = self.strategy.population_fitness()
        if fitness is not None:
            return fitness
        return np.array([ind.fitness.values[0] for ind in self.halloffame] or [0.0])

    def _tick(self) -> None:
        record = self.stats.compile(self.population_fitness())
        seconds = self.seconds
        row = {
            "experiment": self.experiment,
            "individuals": self.individuals,
            "evaluations": self.evaluator.evaluations,
            "seconds": seconds,
            "best_fitness": float(record["best"]),
            "mean_fitness": float(record["mean"]),
            "fec_hit_rate": self.evaluator.cache.hit_rate,
            "individuals_per_second": self.individuals / max(seconds, 1e-9),
        }
        self.logbook.record(**row)
        self.progress.append(row)
        notify(self, row)  # the terminal display and on_progress callbacks (evolve.engine.progress)

    def best_program(self) -> tuple[Program | None, float]:
        """The best-select program and its search fitness (the hall of fame's best before any
        select check)."""
        if self.candidate is not None:
            return self.candidate, self.candidate_search
        if len(self.halloffame):
            top = self.halloffame[0]
            return top, float(top.fitness.values[0])
        return None, 0.0

    def finish(self, reason: str) -> dict:
        """Write the result files (:func:`evolve.rundir.results.write_results`), tell the
        listeners, return the summary."""
        summary = write_results(self, reason)
        notify_finished(self, summary)
        return summary

    # ------------------------------------------------------------------ checkpoints

    def checkpoint(self) -> None:
        """Save the campaign atomically (:func:`evolve.engine.checkpoint.write_checkpoint`)."""
        write_checkpoint(self)

    def restore(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Continue from a checkpoint (:func:`evolve.engine.checkpoint.restore_checkpoint`):
        a bad one is one :class:`CheckpointError` (resume then tries the previous one)."""
        restore_checkpoint(self, meta, arrays)


def default_listeners(quiet: bool, on_progress: ProgressCallback | None = None) -> list:
    """``on_progress`` if given. The terminal display is the caller's to attach
    (:func:`evolve.ui.display.watch`): the engine never imports the user interface."""
    listeners: list = []
    if on_progress is not None:
        if not callable(on_progress):
            raise ConfigError(f"on_progress = {on_progress!r}: expected a callable taking a Progress")
        listeners.append(on_progress)
    return listeners


def within_budget(step) -> None:
    """Run one step; a budget that ends inside it (:class:`BudgetExhausted`) ends the step
    there, and the loop's stop check then reports ``budget_minutes``."""
    try:
        step()
    except BudgetExhausted:
        pass


def start_campaign(config: Config, run_dir: Path, quiet: bool = False,
                   on_progress: ProgressCallback | None = None) -> Campaign:
    """A new campaign in ``run_dir``: writes the resolved ``config.toml`` before any work (an
    island campaign first starts its executor, so an unreachable scheduler fails before that).
    Unless ``quiet``, a live display follows it on stderr (:mod:`evolve.ui.display`);
    ``on_progress`` is called with an :class:`evolve.engine.progress.Progress` every progress tick.

    ``campaign.islands > 1`` gives the campaign the islands strategy whatever the executor, so
    that a seeded result depends on the number of islands, never on the backend."""
    campaign = Campaign(config, run_dir, quiet)
    campaign.open()
    if config.campaign.islands == 1 and config.campaign.executor != "serial" and not quiet:
        print(f"note: campaign.islands = 1: one population runs in this process "
              f"(campaign.executor = {config.campaign.executor!r} runs islands)", file=sys.stderr)
    if config.campaign.workers > 1 and config.campaign.executor == "serial" and not quiet:
        print(f"note: campaign.workers = {config.campaign.workers} with campaign.executor = "
              "'serial': the islands run one after the other in this process (set "
              "campaign.executor = 'processes' or 'dask' to use the workers)", file=sys.stderr)
    atomic_write_text(run_dir / "config.toml", to_toml(config))
    campaign.progress = ProgressLog(run_dir / "progress.csv")
    campaign.checkpoint()  # the start record: a run killed in its first seconds resumes from here
    campaign.listeners = default_listeners(quiet, on_progress)
    return campaign


def resume_campaign(run_dir: Path, quiet: bool = False,
                    on_progress: ProgressCallback | None = None,
                    scheduler: str | None = None) -> tuple[Campaign, list[str]]:
    """The campaign of ``run_dir`` restored from its newest good checkpoint.

    The config is the one saved in the checkpoint; a ``config.toml`` that differs from it (edited,
    emptied) is refused, naming the fields. A checkpoint that reads back but is invalid falls back
    to ``checkpoint.prev.npz`` with a warning. A run killed before its first checkpoint starts
    again from ``config.toml``. A run directory is data: its ``campaign.scheduler`` is not
    connected to unless ``scheduler`` (``evolve resume --scheduler``) names it."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise CheckpointError(f"{run_dir}: not a run directory (no such folder)")
    current = run_config(run_dir / "config.toml")
    warnings: list[str] = []
    built: dict[str, Campaign] = {}

    def accept(meta: dict, arrays: dict[str, np.ndarray]) -> None:
        config = saved_config(meta, current, run_dir)
        campaign = _new_campaign(confine_scheduler(config, scheduler, warnings), run_dir, quiet)
        campaign.restore(meta, arrays)
        built["campaign"] = campaign

    if has_checkpoint(run_dir):
        _, _, read_warnings = load_checkpoint(run_dir, accept)
        warnings = read_warnings + warnings
        campaign = built["campaign"]
        campaign.progress = ProgressLog(run_dir / "progress.csv", keep_rows=campaign.progress_rows)
    else:  # killed between writing config.toml and its start checkpoint
        warnings.append(f"{run_dir}: no checkpoint yet (the run was stopped as it started): "
                        "starting it again from config.toml")
        campaign = _new_campaign(confine_scheduler(current, scheduler, warnings), run_dir, quiet)
        campaign.progress = ProgressLog(run_dir / "progress.csv")
    campaign.listeners = default_listeners(quiet, on_progress)
    return campaign, warnings


def _new_campaign(config: Config, run_dir: Path, quiet: bool) -> Campaign:
    return Campaign(config, run_dir, quiet)
