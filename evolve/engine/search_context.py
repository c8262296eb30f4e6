"""The search context: what one population needs to search, and all an island epoch needs.

A :class:`SearchContext` holds, for one config, the search tasks (and the current draw of them),
the memory and search space, the evaluator (FEC cache, hurdle, cost cap), the two random streams
(mutation: SplitMix64 :class:`primitives.rng.Stream`; selection: PCG64) and the DEAP toolbox that
ties them together, and makes the members of an initial population (``algorithm.initial``). A
one-population campaign holds one (:class:`evolve.engine.campaign.Campaign`); an island worker builds one
per config and lends it to each epoch in turn (:mod:`evolve.islands.epoch`). Select and final
tasks, the success threshold, counters and the hall of fame belong to the campaign, not here.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from evolve.config import Config
from evolve.engine import task_protocol as protocol
from evolve.errors import ConfigError
from evolve.evaluation.evaluator import BudgetExhausted, SearchEvaluator, op_costs, program_cost
from evolve.evaluation.fec import FECCache
from evolve.evaluation.scoring import TaskBatch, per_task_fitness, reduce_fitness
from evolve.reference_programs import BUILTIN_ALGORITHMS, load_algorithm
from evolve.search.evolution import as_individual, make_toolbox
from evolve.search.mutation import SearchSpace
from primitives.memory import MemorySpec
from primitives.ops import OPS_BY_NAME
from primitives.program import Program, validate
from primitives.prune import prune
from primitives.rng import Stream
from primitives.text import parse_program
from problems.files import UnreadableFileError, read_text

COST_REFERENCE = "nn_2layer"
"""The algorithm ``evaluation.max_cost_ratio`` is a ratio of (its cost on the search tasks)."""


def run_seeds(seed: int) -> tuple[int, int]:
    """Independent seeds for the mutation and selection streams, derived from the campaign seed
    with NumPy's ``SeedSequence`` (its first two 64-bit words)."""
    ss = np.random.SeedSequence(seed)
    a, b = ss.generate_state(2, dtype=np.uint64)
    return int(a), int(b)


def effective_size(program: Program) -> int:
    """Instructions left after dead-code elimination (the size objective of NSGA-II)."""
    return len(prune(program))


def load_program(name: str, field: str) -> Program:
    """A built-in algorithm (``evolve/reference_programs``) or a program file named by config ``field``;
    one :class:`ConfigError` naming the field and what is allowed otherwise."""
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
        text = read_text(path, what=f"{field} =")
    except UnreadableFileError as exc:
        raise ConfigError(str(exc)) from None
    return parse_program(text, source=f"{field} = {name}")


class SearchContext:
    """Search tasks, search space, evaluator, random streams, toolbox and member creation of one
    config (see the module docstring). ``halloffame`` is the one the search methods update
    (:mod:`evolve.search.methods`); its owner (a campaign, an epoch) sets it."""

    def __init__(self, config: Config) -> None:
        c = self.config = config
        self.search_tasks = protocol.SearchTasks(c)
        self.draw = 0  # which draw of search tasks is current (0 when resampling is off)
        self.select_seconds = 0.0  # wall seconds in score() (select and funnel checks)
        self.search_batch = self.search_tasks.batch(0)
        self.memory = MemorySpec(c.memory.scalars, c.memory.vectors, c.memory.matrices)
        a = c.algorithm
        ops = tuple(tuple(OPS_BY_NAME[n].code for n in names) for names in (a.setup_ops, a.predict_ops, a.learn_ops))
        self.space = SearchSpace(ops, tuple(a.init_sizes), tuple(a.min_sizes), tuple(a.max_sizes), self.memory)
        self.initial_program = self._initial_program()
        e = c.evaluation
        max_cost = 0.0
        if e.max_cost_ratio > 0:
            b = self.search_batch
            max_cost = e.max_cost_ratio * program_cost(
                load_algorithm(COST_REFERENCE), op_costs(b.features_size), b.train_x.shape[1],
                b.valid_x.shape[1], b.num_epochs)
        self.evaluator = SearchEvaluator(
            self.search_batch, self.memory, reduction=e.reduction, max_abs_error=e.max_abs_error,
            fec=e.fec, fec_train_examples=e.fec_train_examples, fec_valid_examples=e.fec_valid_examples,
            fec_cache_size=e.fec_cache_size, hurdle_tasks=e.hurdle_tasks if e.hurdle else 0,
            hurdle_percentile=e.hurdle_percentile, max_cost=max_cost,
        )
        mutation_seed, selection_seed = run_seeds(c.seed)
        self.mutation_rng = Stream(mutation_seed)
        self.selection_rng = np.random.Generator(np.random.PCG64(selection_seed))
        self.toolbox = make_toolbox(
            self.space, c.search.mutations, self.evaluator, c.search.tournament_size,
            self.mutation_rng, self.selection_rng,
        )
        self.toolbox.register("effective_size", effective_size)
        self.halloffame = None

    def _initial_program(self) -> Program | None:
        initial = self.config.algorithm.initial
        if initial in ("random", "no_op"):
            return None
        program = load_program(initial, "algorithm.initial")
        validate(program, self.memory)
        return program

    def make_member(self, restart_from: Program | None = None) -> Program:
        """A new member of an initial population: a copy of ``restart_from`` when given
        (``campaign.restart_from = "best"``), else by the ``algorithm.initial`` rule (a random
        program, the no-op program, or a copy of the named one). Raises
        :class:`BudgetExhausted` once the evaluator's deadline has passed."""
        deadline = self.evaluator.deadline
        if deadline is not None and time.monotonic() >= deadline:  # a huge population or programs
            raise BudgetExhausted
        if restart_from is not None:
            return as_individual(restart_from.copy())
        if self.config.algorithm.initial == "random":
            return self.toolbox.random_individual()
        if self.config.algorithm.initial == "no_op":
            return self.toolbox.no_op_individual()
        return as_individual(self.initial_program.copy())

    def set_draw(self, draw: int) -> None:
        """Make draw ``draw`` of the search tasks current (``tasks.resample_individuals``): the
        evaluator scores on it from now on (its FEC table is emptied; :func:`protocol.swap_batch`)."""
        self.draw = draw
        self.search_batch = self.search_tasks.batch(draw)
        protocol.swap_batch(self.evaluator, self.search_batch, self.config.evaluation.max_cost_ratio,
                            load_algorithm(COST_REFERENCE))

    def score(self, program: Program, batch: TaskBatch, memory: MemorySpec | None = None) -> float:
        """The fitness of one program on ``batch``, reduced over tasks by ``evaluation.reduction``
        (no FEC, no hurdle, no budget: the select and final checks)."""
        e = self.config.evaluation
        began = time.perf_counter()
        per_task, _ = per_task_fitness([program], batch, memory or self.memory, max_abs_error=e.max_abs_error)
        self.select_seconds += time.perf_counter() - began  # for `evolve bench`
        return float(reduce_fitness(per_task, e.reduction)[0])

    def warm_up(self) -> None:
        """Load the compiled kernels (from Numba's on-disk cache; a first run compiles them):
        one no-op program is scored on the search tasks and a scratch FEC table is used once.
        Changes no state (no random draws, no counters, not the evaluator's FEC cache)."""
        per_task_fitness([self.space.no_op_program()], self.search_batch, self.memory, record=True)
        scratch = FECCache(16)
        scratch.insert(np.ones(1, np.uint64), np.zeros(1))
        scratch.lookup(np.ones(1, np.uint64))
