"""Campaigns: experiments of evolution (or random search) until success or the budget ends.

A campaign runs one experiment at a time on the *search* tasks. Whenever an experiment finds a
new best search fitness of at least ``select_min_search_fitness``, that program is checked on the
*select* tasks; the campaign succeeds when a select fitness reaches ``success_fitness`` (or, with
``success_baseline``, the select fitness of a reference algorithm such as linear SGD). An
experiment that has not improved for ``stall_individuals`` individuals is restarted from a fresh
population. The reported number is the best-select program's fitness on *final* tasks that no
search step has seen (AutoML-Zero §4, "experiment details").

State lives in plain data (programs as arrays, RNG states as integers) and is checkpointed
atomically every few seconds; ``resume`` continues the same random streams, so an interrupted and
resumed seeded run ends exactly as the uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import signal
import sys
import time
from pathlib import Path

import numpy as np
from deap import tools

from evolve import checkpoint_fields as fields
from evolve import protocol
from evolve.algorithms import BUILTIN_ALGORITHMS, load_algorithm
from evolve.config import Config, config_from_dict, read_toml, to_toml
from evolve.errors import CheckpointError, ConfigError
from evolve.evaluation import TaskBatch, per_task_fitness, reduce_fitness
from evolve.evaluator import BudgetExhausted, SearchEvaluator, op_costs, program_cost
from evolve.evolution import (
    ParetoPopulation,
    Population,
    as_individual,
    as_sized,
    evaluate_and_assign,
    make_hall_of_fame,
    make_statistics,
    make_toolbox,
)
from evolve.fec import FECCache
from evolve.inspect.lineage import lineage_to_arrays, record_lineage, restore_lineage
from evolve.inspect.prune import prune
from evolve.metadata import run_metadata
from evolve.methods import method
from evolve.mutation import SearchSpace
from evolve.progress import (
    ProgressCallback,
    default_listeners,
    notify,
    notify_finished,
    notify_warming,
)
from evolve.resources import check_resources
from evolve.store import (
    ProgressLog,
    atomic_write_text,
    has_checkpoint,
    load_checkpoint,
    programs_from_arrays,
    programs_to_arrays,
    programs_to_text,
    save_checkpoint,
    write_json,
)
from primitives.memory import MemorySpec, ProgramError
from primitives.ops import OPS_BY_NAME
from primitives.program import Program, validate
from primitives.rng import Stream
from primitives.text import format_program, parse_program
from problems.registry import get_tasks, make_suite

COST_REFERENCE = "nn_2layer"
LOSS_TARGET_S = 2.0  # a kill loses at most about this much search (the checkpoint interval)
CHECKPOINT_SHARE = 0.05  # ... unless checkpoints would then take more than this share of the time


def checkpoint_interval(most_seconds: float, cost_seconds: float) -> float:
    """Seconds until the next checkpoint: :data:`LOSS_TARGET_S` (at most ``most_seconds``,
    ``campaign.checkpoint_seconds``), longer only when a checkpoint costs more than
    :data:`CHECKPOINT_SHARE` of that, so that a kill loses ~2 s and checkpoints cost <= 5%."""
    return min(most_seconds, max(LOSS_TARGET_S, cost_seconds / CHECKPOINT_SHARE))


def _seeds(seed: int) -> tuple[int, int]:
    """Independent seeds for mutation and selection streams derived from the campaign seed."""
    ss = np.random.SeedSequence(seed)
    a, b = ss.generate_state(2, dtype=np.uint64)
    return int(a), int(b)


class Campaign:
    """One campaign in one run directory (create with :meth:`start` or :meth:`resume`)."""

    def __init__(self, config: Config, run_dir: Path, quiet: bool = False) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.quiet = quiet
        c = config
        suite = make_suite(c.problem.name, c.problem.params)
        holdout = make_suite(c.problem.name, {**c.problem.params, **c.problem.select})
        check_resources(c, suite)  # a clear error, not an out-of-memory kill later
        check_resources(c, holdout)
        del suite  # the search tasks come from protocol.SearchTasks (fixed unless resampled)
        self.search_tasks = protocol.SearchTasks(c)
        self.draw = 0  # which draw of search tasks is current (0 when resampling is off)
        self.search_batch = self.search_tasks.batch(0)
        self.funnel_batch = protocol.funnel_batch(c)
        self.funnel_best = -1.0
        self.select_curve: list[tuple] = []  # one row per select check (protocol.CURVE_COLUMNS)
        self.select_batch = TaskBatch.from_tasks(get_tasks(holdout, "select", c.tasks.select, c.seed))
        self.final_batch = TaskBatch.from_tasks(get_tasks(holdout, "final", c.tasks.final, c.seed))
        self.memory = MemorySpec(c.memory.scalars, c.memory.vectors, c.memory.matrices)
        a = c.algorithm
        ops = tuple(tuple(OPS_BY_NAME[n].code for n in names) for names in (a.setup_ops, a.predict_ops, a.learn_ops))
        self.space = SearchSpace(ops, tuple(a.init_sizes), tuple(a.min_sizes), tuple(a.max_sizes), self.memory)
        self.initial_program = self._initial_program()
        self.success_threshold = c.campaign.success_fitness
        if c.campaign.success_baseline:
            baseline = self._load_program(c.campaign.success_baseline, "campaign.success_baseline")
            self.success_threshold = self.score(baseline, self.select_batch, baseline.required_memory())
        e = c.evaluation
        max_cost = 0.0
        if e.max_cost_ratio > 0:
            b = self.search_batch
            reference = load_algorithm(COST_REFERENCE)
            max_cost = e.max_cost_ratio * program_cost(
                reference, op_costs(b.features_size), b.train_x.shape[1], b.valid_x.shape[1], b.num_epochs
            )
        self.evaluator = SearchEvaluator(
            self.search_batch, self.memory, reduction=e.reduction, max_abs_error=e.max_abs_error,
            fec=e.fec, fec_train_examples=e.fec_train_examples, fec_valid_examples=e.fec_valid_examples,
            fec_cache_size=e.fec_cache_size, hurdle_tasks=e.hurdle_tasks if e.hurdle else 0,
            hurdle_percentile=e.hurdle_percentile, max_cost=max_cost,
        )
        mutation_seed, selection_seed = _seeds(c.seed)
        self.mutation_rng = Stream(mutation_seed)
        self.selection_rng = np.random.Generator(np.random.PCG64(selection_seed))
        self.toolbox = make_toolbox(
            self.space, c.search.mutations, self.evaluator, c.search.tournament_size,
            self.mutation_rng, self.selection_rng,
        )
        self.toolbox.register("effective_size", effective_size)
        self.halloffame = make_hall_of_fame(c.campaign.hall_of_fame_size)
        self.stats = make_statistics()
        self.logbook = tools.Logbook()  # this session's progress rows; progress.csv keeps them all
        self.logbook.header = ["experiment", "individuals", "seconds", "best_fitness", "mean_fitness"]
        # campaign state
        self.population: Population | ParetoPopulation | None = None
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
        self._stop_signal = False
        self._session_start: float | None = None  # run() starts the clock after warm-up
        self.listeners: list[ProgressCallback] = []  # called with a Progress every progress tick

    # ------------------------------------------------------------------ setup

    @staticmethod
    def _load_program(name: str, field: str) -> Program:
        if name in BUILTIN_ALGORITHMS:
            return load_algorithm(name)
        path = Path(name)
        try:
            is_file = path.is_file()
        except (OSError, ValueError):  # a NUL in the name, a path too long
            is_file = False
        if not is_file:
            raise ConfigError(
                f"{field} = {name[:200]!r}: expected {', '.join(BUILTIN_ALGORITHMS)} or a program file"
                + (" (or random, no_op)" if field == "algorithm.initial" else "")
            )
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{field} = {name!r}: cannot read it as program text ({type(exc).__name__})") from None
        return parse_program(text, source=f"{field} = {name}")

    def _initial_program(self) -> Program | None:
        initial = self.config.algorithm.initial
        if initial in ("random", "no_op"):
            return None
        program = self._load_program(initial, "algorithm.initial")
        validate(program, self.memory)
        return program

    def make_member(self) -> Program:
        """A new member of an initial population (the ``algorithm.initial`` / ``restart_from`` rule)."""
        deadline = self.evaluator.deadline
        if deadline is not None and time.monotonic() >= deadline:  # a huge population or programs
            raise BudgetExhausted
        if self.config.campaign.restart_from == "best" and self.experiment > 1 and self.candidate is not None:
            return as_individual(self.candidate.copy())
        if self.config.algorithm.initial == "random":
            return self.toolbox.random_individual()
        if self.config.algorithm.initial == "no_op":
            return self.toolbox.no_op_individual()
        return as_individual(self.initial_program.copy())

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
        search = method(self.config.search.method)
        self.population = search.init(self)
        if not search.keeps_population:
            return
        s = self.config.search
        self.individuals += s.population_size
        self.halloffame.update(self.population.members)
        self._consider(self.population.members, self.population.fitness)

    def _consider(self, individuals: list[Program], fitness: np.ndarray) -> None:
        """Check a new best search fitness on the select tasks."""
        best = int(np.argmax(fitness))
        if fitness[best] <= self.experiment_best:
            return
        if fitness[best] > self.experiment_best + self.config.campaign.stall_tolerance:
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

    def _set_draw(self, draw: int) -> None:
        self.draw = draw
        self.search_batch = self.search_tasks.batch(draw)
        protocol.swap_batch(self.evaluator, self.search_batch, self.config.evaluation.max_cost_ratio,
                            load_algorithm(COST_REFERENCE))

    def _resample(self) -> None:
        """New search tasks when a draw boundary is crossed: the population re-scored on them."""
        draw = self.search_tasks.draw_of(self.individuals)
        if draw == self.draw:
            return
        self._set_draw(draw)
        if isinstance(self.population, Population):
            fitness = evaluate_and_assign(self.toolbox, self.population.members)
            self.population.fitness[:] = fitness
            self.experiment_best = -1.0
            last = self.last_improvement
            self._consider(self.population.members, fitness)
            self.last_improvement = last  # new tasks are no improvement (stall counting)

    def score(self, program: Program, batch: TaskBatch, memory: MemorySpec | None = None) -> float:
        e = self.config.evaluation
        per_task, _ = per_task_fitness([program], batch, memory or self.memory, max_abs_error=e.max_abs_error)
        return float(reduce_fitness(per_task, e.reduction)[0])

    def _step(self) -> None:
        s = self.config.search
        self.population, children = method(s.method).step(self, self.population)
        self.individuals += len(children)
        fitness = getattr(children, "fitness", None)
        if fitness is None:  # NSGA-II children carry (fitness, size) tuples
            fitness = np.array([c.fitness.values[0] for c in children])
        self._consider(children, fitness)

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
        """Load the compiled kernels (from Numba's on-disk cache; a first run compiles them) before
        the campaign's clock starts, so that ``seconds`` and individuals/s measure the search: one
        no-op program is scored on the search tasks and a scratch FEC table is used once. Changes
        no state of the campaign (no random draws, no counters, not its FEC cache)."""
        per_task_fitness([self.space.no_op_program()], self.search_batch, self.memory, record=True)
        scratch = FECCache(16)
        scratch.insert(np.ones(1, np.uint64), np.zeros(1))
        scratch.lookup(np.ones(1, np.uint64))

    def run(self) -> dict:
        """Run until success, budget or interruption; write results; return the summary."""
        c = self.config.campaign
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

        def _handler(signum, frame):
            self._stop_signal = True

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
            if c.budget_minutes:  # the evaluator stops a long batch when the budget ends
                self.evaluator.deadline = self._session_start + 60.0 * c.budget_minutes - self.prior_seconds
            if self.experiment == 0:
                _within_budget(self._new_experiment)
            last_tick = last_checkpoint = time.monotonic()
            interval = min(c.checkpoint_seconds, LOSS_TARGET_S)
            reason = self._stop_reason()
            while reason is None:
                if c.stall_individuals and self.individuals - self.last_improvement >= c.stall_individuals:
                    _within_budget(self._new_experiment)
                else:
                    _within_budget(self._step)
                if self.search_tasks.active:
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
            if self._resumable():  # else the last checkpoint stays the one to resume from
                self.checkpoint()
            summary = self.finish(reason)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if self.progress is not None:
                self.progress.close()
        return summary

    # ------------------------------------------------------------------ reporting

    def _population_fitness(self) -> np.ndarray:
        if self.population is not None:
            return self.population.fitness
        return np.array([ind.fitness.values[0] for ind in self.halloffame] or [0.0])

    def _tick(self) -> None:
        record = self.stats.compile(self._population_fitness())
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
        notify(self, row)  # the terminal display and on_progress callbacks (evolve.progress)

    def best_program(self) -> tuple[Program | None, float]:
        if self.candidate is not None:
            return self.candidate, self.candidate_search
        if len(self.halloffame):
            top = self.halloffame[0]
            return top, float(top.fitness.values[0])
        return None, 0.0

    def finish(self, reason: str) -> dict:
        program, search_fitness = self.best_program()
        select_fitness = self.candidate_select if self.candidate is not None else None
        final_fitness = self.score(program, self.final_batch) if program is not None else None
        hof = list(self.halloffame)
        atomic_write_text(
            self.run_dir / "hall_of_fame.txt",
            programs_to_text(hof, [ind.fitness.values[0] for ind in hof]),
        )
        record_lineage(self.run_dir, self.candidate_ancestor, hof)
        if isinstance(self.population, ParetoPopulation):
            unique = {m.fitness.values: m for m in self.population.front()}  # one per point
            front = [unique[key] for key in sorted(unique, key=lambda v: (v[1], v[0]))]
            atomic_write_text(self.run_dir / "pareto_front.txt", "\n".join(
                f"# point {i} fitness {m.fitness.values[0]!r} size {int(m.fitness.values[1])}\n"
                + format_program(prune(m))
                for i, m in enumerate(front)
            ))
        if program is not None:
            header = (
                f"# discovered by `evolve run {self.config.name}` (seed {self.config.seed})\n"
                f"# search fitness {search_fitness!r}\n# select fitness {select_fitness!r}\n"
                f"# final fitness {final_fitness!r}\n"
            )
            atomic_write_text(self.run_dir / "best.txt", header + format_program(program))
        seconds = self.seconds
        summary = {
            "success": bool(self.success),
            "success_threshold": self.success_threshold,
            "seconds_to_success": self.seconds_to_success,
            "individuals_to_success": self.individuals_to_success,
            "stopped_by": reason,
            "evaluations": int(self.evaluator.evaluations),
            "individuals": int(self.individuals),
            "individuals_per_second": self.individuals / max(seconds, 1e-9),
            "fec_hit_rate": self.evaluator.cache.hit_rate,
            "seconds": seconds,
            "experiments": self.experiment,
            "search_fitness": search_fitness,
            "select_fitness": select_fitness,
            "final_fitness": final_fitness,
            "seed": self.config.seed,
            "run_dir": str(self.run_dir),
            "metadata": run_metadata(),  # versions, CPU, command line, git commit (evolve.metadata)
        }
        write_json(self.run_dir / "summary.json", summary)
        notify_finished(self, summary)
        return summary

    # ------------------------------------------------------------------ checkpoints

    def _resumable(self) -> bool:
        """False while a budget that ended inside a new experiment left it without a population."""
        return self.population is not None or self.experiment == 0 or not _needs_population(self.config)

    def checkpoint(self) -> None:
        meta = {
            "config": to_toml(self.config, comments=False),  # what resume runs (config.toml is checked against it)
            "experiment": self.experiment,
            "individuals": self.individuals,
            "experiment_start": self.experiment_start,
            "experiment_best": self.experiment_best,
            "last_improvement": self.last_improvement,
            "candidate_search": self.candidate_search,
            "candidate_select": self.candidate_select,
            "success": self.success,
            "seconds_to_success": self.seconds_to_success,
            "individuals_to_success": self.individuals_to_success,
            "seconds": self.seconds,
            "progress_rows": self.progress.rows,
            "mutation_rng": self.mutation_rng.state,
            "selection_rng": self.selection_rng.bit_generator.state,
            "evaluations": self.evaluator.evaluations,
            "evaluator_individuals": self.evaluator.individuals,
            "hurdle_scores": self.evaluator.hurdle_scores,
            "population_head": getattr(self.population, "head", 0),
            "has_population": self.population is not None,
            "has_candidate": self.candidate is not None,
            "funnel_best": self.funnel_best,
        }
        arrays: dict[str, np.ndarray] = {}
        arrays.update(self.evaluator.cache.to_arrays())
        if self.population is not None:
            arrays.update(programs_to_arrays(self.population.members, "population"))
            arrays["population_fitness"] = self.population.fitness
        if isinstance(self.population, ParetoPopulation):
            arrays["population_effective_size"] = self.population.effective_sizes
            arrays["population_rank"] = self.population.rank
            arrays["population_crowding"] = self.population.crowding
        hof = list(self.halloffame)
        arrays.update(programs_to_arrays(hof, "hof"))
        arrays["hof_fitness"] = np.array([ind.fitness.values[0] for ind in hof], dtype=np.float64)
        if self.candidate is not None:
            arrays.update(programs_to_arrays([self.candidate], "candidate"))
        arrays["select_curve"] = protocol.curve_array(self.select_curve)
        atomic_write_text(self.run_dir / "select_curve.csv", protocol.curve_text(self.select_curve))
        if isinstance(self.population, Population):
            ancestor = [self.candidate_ancestor] if self.candidate_ancestor is not None else []
            arrays.update(lineage_to_arrays({"population": self.population.members, "hof": hof,
                                             "candidate": ancestor}))
        save_checkpoint(self.run_dir, meta, arrays)

    def restore(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Continue from a checkpoint: every field is checked by type and range and every program
        validated against the memory (:func:`primitives.validate.check_arrays`) before use, so a
        bad checkpoint is one :class:`CheckpointError` (resume then tries the previous one)."""
        try:
            self._restore(meta, arrays)
        except (KeyError, TypeError, ValueError, OverflowError, ProgramError, CheckpointError) as exc:
            detail = exc if isinstance(exc, (ValueError, CheckpointError)) else repr(exc)
            raise CheckpointError(f"{self.run_dir}: checkpoint content is invalid ({detail})") from None

    def _restore(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        if not isinstance(meta, dict):
            raise ValueError("checkpoint meta must be an object")
        individuals = fields.count(meta, "individuals")
        if self.search_tasks.active:  # before the FEC table is loaded: a new draw empties it
            self._set_draw(self.search_tasks.draw_of(individuals))
        if "funnel_best" in meta:
            self.funnel_best = fields.number(meta, "funnel_best", -1.0, 1.0)
        if "select_curve" in arrays:
            self.select_curve = protocol.curve_rows(arrays["select_curve"])
        self.experiment = fields.count(meta, "experiment")
        self.individuals = individuals
        self.experiment_start = fields.count(meta, "experiment_start", 0, individuals)
        self.last_improvement = fields.count(meta, "last_improvement", 0, individuals)
        for key in ("experiment_best", "candidate_search", "candidate_select"):
            setattr(self, key, fields.number(meta, key, -1.0, 1.0))
        self.success = fields.flag(meta, "success")
        self.seconds_to_success = fields.optional_number(meta, "seconds_to_success", 0.0, fields.MAX_SECONDS)
        self.individuals_to_success = fields.optional_count(meta, "individuals_to_success")
        self.prior_seconds = fields.number(meta, "seconds", 0.0, fields.MAX_SECONDS)
        self.mutation_rng.state = fields.stream_state(meta, "mutation_rng")
        self.selection_rng.bit_generator.state = fields.pcg64_state(meta, "selection_rng")
        self.evaluator.evaluations = fields.count(meta, "evaluations")
        self.evaluator.individuals = fields.count(meta, "evaluator_individuals")
        self.evaluator.hurdle_scores = fields.scores(meta, "hurdle_scores")
        self.evaluator.cache.load_arrays(arrays)
        has_population, has_candidate = fields.flag(meta, "has_population"), fields.flag(meta, "has_candidate")
        if has_population != (self.experiment > 0 and _needs_population(self.config)):
            raise ValueError(f"has_population = {has_population} in experiment {self.experiment} of "
                             f"search.method = {self.config.search.method!r}")
        nsga2 = method(self.config.search.method).pareto
        if has_population:
            programs = programs_from_arrays(arrays, "population", self.memory)
            n = len(programs)
            if n != self.config.search.population_size:
                raise ValueError(f"{n} population members, search.population_size is {self.config.search.population_size}")
            fitness = fields.fitness_array(arrays, "population_fitness", n)
        if has_population and nsga2:
            sizes = fields.int_array(arrays, "population_effective_size", n, 0, 3 * 10**4)
            members = [as_sized(p, f, s) for p, f, s in zip(programs, fitness.tolist(), sizes.tolist(), strict=True)]
            crowding = fields.float_array(arrays, "population_crowding", n, allow_inf=True)
            for ind, distance in zip(members, crowding.tolist(), strict=True):
                ind.fitness.crowding_dist = distance
            rank = fields.int_array(arrays, "population_rank", n, 0, n)
            self.population = ParetoPopulation(members, rank, crowding)
        elif has_population:
            members = [as_individual(p) for p in programs]
            for ind, fit in zip(members, fitness.tolist(), strict=True):
                ind.fitness.values = (fit,)
            head = fields.count(meta, "population_head", 0, n - 1)
            self.population = Population(members, fitness.copy(), head)
        hof = programs_from_arrays(arrays, "hof", self.memory)
        if len(hof) > self.config.campaign.hall_of_fame_size:
            raise ValueError(f"{len(hof)} hall-of-fame programs, campaign.hall_of_fame_size is "
                             f"{self.config.campaign.hall_of_fame_size}")
        hof_fitness = fields.fitness_array(arrays, "hof_fitness", len(hof))
        # Insert lowest-ranked first: DEAP puts a newcomer before its equals, so this
        # rebuilds the same order among ties as the uninterrupted run had.
        for program, fit in reversed(list(zip(hof, hof_fitness.tolist(), strict=True))):
            if nsga2:
                self.halloffame.insert(as_sized(program, fit, effective_size(program)))
            else:
                self.halloffame.insert(as_individual(program, fit))
        if has_candidate:
            candidate = programs_from_arrays(arrays, "candidate", self.memory)
            if len(candidate) != 1:
                raise ValueError(f"{len(candidate)} candidate programs, expected 1")
            self.candidate = candidate[0]
        if has_population and not nsga2:
            ancestor = [as_individual(self.candidate, self.candidate_search)] if has_candidate else []
            ancestor = restore_lineage(arrays, {"population": members, "hof": list(self.halloffame),
                                                "candidate": ancestor}, self.memory)["candidate"]
            self.candidate_ancestor = ancestor[0] if ancestor else None
        self.progress_rows = fields.count(meta, "progress_rows")


def _needs_population(config: Config) -> bool:
    return method(config.search.method).keeps_population


def _within_budget(step) -> None:
    """Run one step; a budget that ends inside it (:class:`BudgetExhausted`) ends the step
    there, and the loop's stop check then reports ``budget_minutes``."""
    try:
        step()
    except BudgetExhausted:
        pass


def effective_size(program: Program) -> int:
    """Instructions left after dead-code elimination (the size objective of NSGA-II)."""
    return len(prune(program))


def _si(value: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.1f}{unit}"
    return f"{value:.0f}"


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600:d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def start_campaign(config: Config, run_dir: Path, quiet: bool = False,
                   on_progress: ProgressCallback | None = None) -> Campaign:
    """A new campaign in ``run_dir``: writes the resolved ``config.toml`` before any work (an
    island campaign first starts its executor, so an unreachable scheduler fails before that).
    Unless ``quiet``, a live display follows it on stderr (:mod:`evolve.display`);
    ``on_progress`` is called with an :class:`evolve.progress.Progress` every progress tick.

    ``campaign.islands > 1`` runs :class:`evolve.islands.IslandCampaign` whatever the executor, so
    that a seeded result depends on the number of islands, never on the backend."""
    if config.campaign.islands > 1:
        from evolve.islands import IslandCampaign

        campaign = IslandCampaign(config, run_dir, quiet)
        campaign.open_executor()
    else:
        campaign = Campaign(config, run_dir, quiet)
    if config.campaign.islands == 1 and config.campaign.executor != "serial" and not quiet:
        print(f"note: campaign.islands = 1: one population runs in this process "
              f"(campaign.executor = {config.campaign.executor!r} runs islands)", file=sys.stderr)
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
    current = _run_config(run_dir / "config.toml")
    warnings: list[str] = []
    built: dict[str, Campaign] = {}

    def accept(meta: dict, arrays: dict[str, np.ndarray]) -> None:
        config = current
        saved = meta.get("config") if isinstance(meta, dict) else None
        if saved is not None:
            try:
                config = config_from_dict(read_toml(saved, "checkpoint config")) if isinstance(saved, str) else None
            except (ConfigError, RecursionError) as exc:
                raise CheckpointError(f"the config saved in the checkpoint is invalid ({exc})") from None
            if config is None:
                raise CheckpointError("the config saved in the checkpoint is not TOML text")
            differ = fields.config_differences(
                dataclasses.replace(config, campaign=dataclasses.replace(config.campaign, scheduler="")),
                dataclasses.replace(current, campaign=dataclasses.replace(current.campaign, scheduler="")))
            if differ:
                raise ConfigError(
                    f"{run_dir / 'config.toml'} differs from the config the run was started with "
                    f"(saved in its checkpoint): {'; '.join(differ[:8])}"
                    + (f"; and {len(differ) - 8} more" if len(differ) > 8 else "")
                    + ". Resume continues the run exactly as it began: restore config.toml, or start "
                    "a new run with `evolve run`")
        campaign = _new_campaign(_confine_scheduler(config, scheduler, warnings), run_dir, quiet)
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
        campaign = _new_campaign(_confine_scheduler(current, scheduler, warnings), run_dir, quiet)
        campaign.progress = ProgressLog(run_dir / "progress.csv")
    campaign.listeners = default_listeners(quiet, on_progress)
    return campaign, warnings


def _run_config(path: Path) -> Config:
    """A run directory's ``config.toml``, read as data (one clear error if it is not one)."""
    if not path.is_file():
        raise CheckpointError(f"{path.parent}: not a run directory (no config.toml)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: unreadable ({type(exc).__name__})") from None
    return config_from_dict(read_toml(text, str(path)))


def _new_campaign(config: Config, run_dir: Path, quiet: bool) -> Campaign:
    if config.campaign.islands > 1:
        from evolve.islands import IslandCampaign

        return IslandCampaign(config, run_dir, quiet)
    return Campaign(config, run_dir, quiet)


def _confine_scheduler(config: Config, scheduler: str | None, warnings: list[str]) -> Config:
    """The scheduler of a resumed run: the one given on the command line, never one read from
    the run directory (a received run directory could point at someone's Dask scheduler)."""
    saved = config.campaign.scheduler
    if scheduler is None and saved and config.campaign.executor == "dask":
        warnings.append(f"the run directory names campaign.scheduler = {saved!r}; resume does not "
                        f"connect to a scheduler read from a run directory: a local cluster runs it "
                        f"(pass --scheduler {saved} to use that one)")
    if (scheduler or "") == saved:
        return config
    return dataclasses.replace(config, campaign=dataclasses.replace(config.campaign, scheduler=scheduler or ""))
