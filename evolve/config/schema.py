"""The config schema: frozen dataclasses, one per section; each field's documentation and allowed
values or range in its ``metadata`` (read by validation, ``evolve explain`` and the TOML writer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evolve.search.methods import METHOD_NAMES
from primitives.memory import MATRIX, MAX_MEMORY, MIN_MEMORY, SCALAR, VECTOR

MUTATIONS = (
    "alter_param",
    "randomize_instruction",
    "randomize_component",
    "insert",
    "remove",
    "trade",
    "identity",
    "randomize_algorithm",
)
METHODS = METHOD_NAMES  # the registry in evolve/search/methods.py decides what search.method may name
EXECUTORS = ("serial", "processes", "dask")


def _f(default: Any, doc: str, **meta: Any) -> Any:
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: deep_copy(default), metadata={"doc": doc, **meta})
    return field(default=default, metadata={"doc": doc, **meta})


@dataclass(frozen=True)
class ProblemConfig:
    """``[problem]``: which suite makes the tasks, and its parameters."""

    name: str = _f("linear", "problem suite (`evolve problems` lists them)")
    params: dict = _f({}, "suite parameters: the other keys of [problem]")
    select: dict = _f({}, "parameter overrides for the select and final splits ([problem.select])")


@dataclass(frozen=True)
class TasksConfig:
    """``[tasks]``: how many tasks of each split (search ones drive evolution)."""

    search: int = _f(10, "tasks whose mean fitness drives the search", min=1, max=100000)
    select: int = _f(100, "tasks on which candidates are checked for success", min=1, max=100000)
    final: int = _f(100, "held-out tasks of the reported result", min=1, max=100000)
    resample_individuals: int = _f(0, "draw new search tasks every this many individuals (0: the search tasks stay fixed; evolve/engine/task_protocol.py)", min=0, max=10**15)
    search_pool: int = _f(0, "resampled search tasks come from a pool of this many search tasks (pairs x projections; 0: fresh tasks at each draw)", min=0, max=100000)
    mix_fraction: float = _f(0.0, "share of the draws whose tasks come from the suite with dataset = mix_dataset (dataset mixing)", min=0.0, max=1.0)
    mix_dataset: str = _f("", "the suite's dataset parameter for the mixed draws (needs resample_individuals > 0)")
    funnel: int = _f(0, "a new best search program must also be the best so far on this many more search-pair tasks before it is checked on select (0: off)", min=0, max=100000)


@dataclass(frozen=True)
class MemoryConfig:
    """``[memory]``: addresses per kind (s0 label, s1 prediction, v0 features are reserved)."""

    scalars: int = _f(4, "number of scalar addresses", min=MIN_MEMORY[SCALAR], max=MAX_MEMORY[SCALAR])
    vectors: int = _f(3, "number of vector addresses", min=MIN_MEMORY[VECTOR], max=MAX_MEMORY[VECTOR])
    matrices: int = _f(1, "number of matrix addresses", min=MIN_MEMORY[MATRIX], max=MAX_MEMORY[MATRIX])


@dataclass(frozen=True)
class AlgorithmConfig:
    """``[algorithm]``: the search space (ops and sizes per component) and the initial algorithms."""

    setup_ops: tuple = _f(("scalar_const_set",), "op names allowed in Setup", ops=True)
    predict_ops: tuple = _f(("vector_inner_product",), "op names allowed in Predict", ops=True)
    learn_ops: tuple = _f(("scalar_diff",), "op names allowed in Learn", ops=True)
    init_sizes: tuple = _f((10, 2, 8), "instructions per component (Setup, Predict, Learn) at start", sizes=True)
    min_sizes: tuple = _f((10, 2, 8), "fewest instructions per component", sizes=True)
    max_sizes: tuple = _f((10, 2, 8), "most instructions per component", sizes=True)
    initial: str = _f(
        "random",
        "initial population: random, no_op, a shipped algorithm (linear_sgd, logistic_sgd, "
        "nn_2layer) or a path to a program file",
    )


@dataclass(frozen=True)
class SearchConfig:
    """``[search]``: the method and its parameters (AutoML-Zero §3, regularized evolution)."""

    method: str = _f("evolution", "search method", choices=METHODS)
    population_size: int = _f(1000, "P: population size", min=2, max=10_000_000)
    tournament_size: int = _f(10, "T: tournament size (drawn with replacement)", min=1, max=10_000_000)
    mutate_prob: float = _f(0.9, "probability that a child is mutated (else copied)", min=0.0, max=1.0)
    mutations: tuple = _f(MUTATIONS[:3], "mutation operators drawn uniformly", choices=MUTATIONS)
    batch_size: int = _f(100, "children produced and evaluated per batch (throughput)", min=1, max=100000)


@dataclass(frozen=True)
class EvaluationConfig:
    """``[evaluation]``: fitness, functional equivalence checking (FEC) and hurdles."""

    reduction: str = _f("mean", "combine per-task fitness by mean or (upper) median", choices=("mean", "median"))
    max_abs_error: float = _f(100.0, "stop training when |y - prediction| exceeds this", min=0.0, max=1e300)
    fec: bool = _f(True, "functional equivalence checking: reuse fitness of an already-seen function")
    fec_train_examples: int = _f(10, "train examples per task whose predictions are hashed", min=1, max=100000)
    fec_valid_examples: int = _f(10, "valid examples per task whose predictions are hashed", min=1, max=100000)
    fec_cache_size: int = _f(100000, "FEC cache entries (fitness per hash; least recently used dropped in halves)", min=1, max=100_000_000)
    hurdle: bool = _f(False, "progressive evaluation: score a task subset first, stop if below the hurdle")
    hurdle_tasks: int = _f(2, "tasks in the first (hurdle) subset", min=1, max=100000)
    hurdle_percentile: float = _f(75.0, "hurdle = this percentile of recent hurdle fitnesses", min=0.0, max=100.0)
    max_cost_ratio: float = _f(
        0.0, "score 0 when an algorithm's compute cost exceeds this multiple of the 2-layer NN's (0: off)",
        min=0.0, max=1e9,
    )


@dataclass(frozen=True)
class CampaignConfig:
    """``[campaign]``: budget, success criterion, restarts, checkpoints, parallelism."""

    budget_minutes: float = _f(30.0, "wall-clock budget (0: no limit)", min=0.0, max=1e7)
    max_evaluations: int = _f(0, "individuals budget over all experiments (0: no limit)", min=0, max=10**15)
    success_fitness: float = _f(0.9999, "select fitness at which the campaign succeeds", min=0.0, max=1.0)
    success_baseline: str = _f(
        "", "if set (a shipped algorithm such as linear_sgd, or a program file), success means a select "
        "fitness at least this algorithm's on the select tasks, instead of success_fitness",
    )
    stop_on_success: bool = _f(
        True, "end the campaign at success (false: go on to the budget, the time and individuals to "
        "success still recorded: speed benchmarks, `evolve scaling`)",
    )
    select_min_search_fitness: float = _f(
        0.0, "a new best search fitness at least this high is checked on the select tasks", min=0.0, max=1.0
    )
    stall_individuals: int = _f(
        0, "restart the population after this many individuals without improvement (0: never)",
        min=0, max=10**15,
    )
    restart_from: str = _f("initial", "a stalled experiment restarts from the initial programs or from copies of the best-on-select candidate", choices=("initial", "best"))
    stall_tolerance: float = _f(
        1e-3, "an improvement of the best search fitness smaller than this does not count (stalls)",
        min=0.0, max=1.0,
    )
    stall_gap_fraction: float = _f(
        0.0, "an improvement also counts when it closes at least this fraction of the gap between "
        "the best search fitness and 1, where that is less than stall_tolerance (near the top, where "
        "steps are small; 0: off)", min=0.0, max=1.0,
    )
    checkpoint_seconds: float = _f(5.0, "most seconds between checkpoints (they come every ~2 s, so a kill loses at most that, or less often when one would cost over 5% of the time)", min=0.1, max=1e6)
    progress_seconds: float = _f(1.0, "seconds between progress-log rows", min=0.01, max=1e6)
    hall_of_fame_size: int = _f(10, "best distinct programs kept", min=1, max=10000)
    lineage: bool = _f(False, "record each child's parent for lineage.csv (one-population evolution; it costs CPU per individual: false to search at full speed)")
    islands: int = _f(1, "island populations (migration between them)", min=1, max=10000)
    migration_interval: int = _f(10000, "individuals per island between migrations", min=1, max=10**12)
    executor: str = _f("serial", "who runs the islands", choices=EXECUTORS)
    workers: int = _f(1, "worker processes for processes/dask executors", min=1, max=100000)
    scheduler: str = _f("", "Dask scheduler address tcp://HOST:PORT (empty: start a local cluster)")


@dataclass(frozen=True)
class Config:
    """A campaign: everything needed to reproduce a run."""

    name: str = _f("campaign", "campaign name (used in run directory names)")
    description: str = _f("", "one line about the campaign")
    seed: int = _f(0, "random seed of the whole campaign", min=0, max=2**63 - 1)
    problem: ProblemConfig = field(default_factory=ProblemConfig, metadata={"doc": "problem suite"})
    tasks: TasksConfig = field(default_factory=TasksConfig, metadata={"doc": "task counts"})
    memory: MemoryConfig = field(default_factory=MemoryConfig, metadata={"doc": "memory"})
    algorithm: AlgorithmConfig = field(default_factory=AlgorithmConfig, metadata={"doc": "search space"})
    search: SearchConfig = field(default_factory=SearchConfig, metadata={"doc": "search method"})
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig, metadata={"doc": "evaluation"})
    campaign: CampaignConfig = field(default_factory=CampaignConfig, metadata={"doc": "campaign"})


SECTIONS = ("problem", "tasks", "memory", "algorithm", "search", "evaluation", "campaign")


def deep_copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [deep_copy(v) for v in data]
    return data
