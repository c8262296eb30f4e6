"""Campaign configuration: typed, frozen, documented per field, saved with every run (TOML).

A config is a tree of frozen dataclasses; every field carries its documentation, and allowed
values or ranges, in ``metadata``. :func:`config_from_dict` validates a TOML mapping and names
the field, the value and what is allowed on the first problem; ``--set section.key=value``
overrides go through the same path. :func:`to_toml` writes the resolved, commented config.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, get_args, get_origin

from evolve.errors import ConfigError
from evolve.methods import METHOD_NAMES
from primitives.memory import MATRIX, MAX_MEMORY, MIN_MEMORY, SCALAR, VECTOR
from primitives.ops import OPS_BY_NAME

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
METHODS = METHOD_NAMES  # the registry in evolve/methods.py decides what search.method may name
EXECUTORS = ("serial", "processes", "dask")


def _f(default: Any, doc: str, **meta: Any) -> Any:
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: _deep_copy(default), metadata={"doc": doc, **meta})
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
    resample_individuals: int = _f(0, "draw new search tasks every this many individuals (0: the search tasks stay fixed; evolve/protocol.py)", min=0, max=10**15)
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
    lineage: bool = _f(False, "record each child's parent for lineage.csv (one-population evolution; measured 9-16% more CPU per individual on linear-demo: false to search at full speed)")
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


# ---------------------------------------------------------------------------- validation


def _describe(meta: dict, ftype: Any) -> str:
    if "choices" in meta:
        return "one of " + ", ".join(meta["choices"])
    if meta.get("ops"):
        return "a list of op names (`evolve ops`)"
    if meta.get("sizes"):
        return "a list of 3 integers >= 0 (Setup, Predict, Learn)"
    kind = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(ftype, str(ftype))
    if "min" in meta:
        kind += f" in [{meta['min']}, {meta['max']}]"
    return kind


def _convert(path: str, value: Any, ftype: Any, meta: dict) -> Any:
    allowed = _describe(meta, ftype)
    bad = ConfigError(f"{path} = {value!r}: expected {allowed}")
    if ftype is bool:
        if not isinstance(value, bool):
            raise bad
        return value
    if ftype is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise bad
    elif ftype is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise bad
        value = float(value)
    elif ftype is str:
        if not isinstance(value, str) or not _encodable(value):
            raise bad
    elif ftype is tuple:  # a TOML array; kept as a tuple, so a frozen config is really frozen
        if not isinstance(value, list | tuple):
            raise bad
        if meta.get("sizes"):
            if len(value) != 3 or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 10000 for v in value):
                raise bad
        elif meta.get("ops"):
            for v in value:
                if not isinstance(v, str) or v not in OPS_BY_NAME:
                    raise ConfigError(f"{path}: unknown op {v!r}; allowed: see `evolve ops`")
            if not value:
                raise bad
        elif "choices" in meta:
            for v in value:
                if not isinstance(v, str) or v not in meta["choices"]:
                    raise ConfigError(f"{path}: {v!r} is not allowed; choose from {', '.join(meta['choices'])}")
            if not value:
                raise bad
        return tuple(value)
    elif ftype is dict:
        if not isinstance(value, dict):
            raise bad
        return dict(value)
    if "choices" in meta and value not in meta["choices"]:
        raise bad
    if "min" in meta and not meta["min"] <= value <= meta["max"]:
        raise bad
    return value


def _build(cls: type, data: Any, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix or 'config'} must be a table, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if cls is ProblemConfig:
        data = dict(data)
        kwargs: dict[str, Any] = {}
        if "name" in data:
            kwargs["name"] = _convert(f"{prefix}.name", data.pop("name"), str, fields["name"].metadata)
        select = data.pop("select", {})
        kwargs["select"] = _convert(f"{prefix}.select", select, dict, fields["select"].metadata)
        params = data.pop("params", {})
        kwargs["params"] = {**_convert(f"{prefix}.params", params, dict, {}), **data}
        for key, value in {**kwargs["params"], **kwargs["select"]}.items():
            if isinstance(value, dict):
                raise ConfigError(f"{prefix}.{key}: nested tables are not suite parameters")
            _check_param(f"{prefix}.{key}", value)
        return cls(**kwargs)
    kwargs = {}
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else key
        if key not in fields:
            raise ConfigError(f"unknown field {path!r}; allowed: {', '.join(fields)}")
        f = fields[key]
        if cls is Config and key in SECTIONS:
            kwargs[key] = _build(_section_class(key), value, path)
        else:
            kwargs[key] = _convert(path, value, _field_type(f), f.metadata)
    return cls(**kwargs)


MAX_PARAM_DEPTH = 4  # lists of lists of ... in a suite parameter


def _check_param(path: str, value: Any, depth: int = 0) -> None:
    """A suite parameter is a number, string, boolean or a (shallow) list of them: what TOML
    writes back and a suite can take (no dates, no deep nesting, no control characters)."""
    if isinstance(value, list):
        if depth >= MAX_PARAM_DEPTH:
            raise ConfigError(f"{path}: lists nested deeper than {MAX_PARAM_DEPTH} are not suite parameters")
        for item in value:
            _check_param(path, item, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{path} = {value!r}: expected a finite number")
    elif isinstance(value, str) and not _encodable(value):
        raise ConfigError(f"{path} = {_short(value)}: not valid Unicode text")
    elif not isinstance(value, (bool, int, float, str)):
        raise ConfigError(f"{path} = {_short(value)}: suite parameters are numbers, strings, booleans "
                          f"or lists of them (not {type(value).__name__})")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (from undecodable command-line bytes)
        return False
    return True


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
MAX_NAME = 100


def _check_name(name: str) -> None:
    """``name`` names the run directory under ``results/``: no path separators, no control
    characters, not ``..``, at most :data:`MAX_NAME` characters."""
    if not 1 <= len(name) <= MAX_NAME or not set(name) <= NAME_CHARS or name[0] in ".-":
        raise ConfigError(
            f"name = {_short(name)}: expected 1-{MAX_NAME} letters, digits, '.', '_', '+' or '-', "
            f"not starting with '.' or '-' (it names the run directory under results/)"
        )


def _section_class(name: str) -> type:
    return {f.name: f.default_factory for f in dataclasses.fields(Config) if f.name in SECTIONS}[name]


def _field_type(f: dataclasses.Field) -> Any:
    t = f.type
    if isinstance(t, str):
        t = {"int": int, "float": float, "bool": bool, "str": str, "list": list, "tuple": tuple, "dict": dict}[t]
    origin = get_origin(t)
    return origin or (get_args(t)[0] if get_args(t) else t)


def _cross_check(config: Config) -> Config:
    _check_name(config.name)
    a = config.algorithm
    for component, names in (("setup_ops", a.setup_ops), ("predict_ops", a.predict_ops), ("learn_ops", a.learn_ops)):
        for name in names:
            op = OPS_BY_NAME[name]
            if op.output == 1 and config.memory.vectors < 2:
                raise ConfigError(f"algorithm.{component}: {name} writes a vector, but memory.vectors = "
                                  f"{config.memory.vectors} holds only v0 (the features, read-only); need >= 2")
            if 2 in (op.output, *op.inputs) and config.memory.matrices < 1:
                raise ConfigError(f"algorithm.{component}: {name} uses a matrix, but memory.matrices = 0; "
                                  f"need >= 1 or remove the op")
    for i, component in enumerate(("Setup", "Predict", "Learn")):
        if not a.min_sizes[i] <= a.init_sizes[i] <= a.max_sizes[i]:
            raise ConfigError(
                f"algorithm sizes for {component}: need min_sizes <= init_sizes <= max_sizes, got "
                f"{a.min_sizes[i]} <= {a.init_sizes[i]} <= {a.max_sizes[i]}"
            )
    if config.search.tournament_size > config.search.population_size:
        raise ConfigError(
            f"search.tournament_size = {config.search.tournament_size}: must be <= "
            f"search.population_size ({config.search.population_size})"
        )
    t = config.tasks
    if t.mix_fraction > 0 and not (t.mix_dataset and t.resample_individuals):
        raise ConfigError(f"tasks.mix_fraction = {t.mix_fraction}: needs tasks.mix_dataset and tasks.resample_individuals > 0")
    if t.search_pool and t.search_pool < t.search:
        raise ConfigError(f"tasks.search_pool = {t.search_pool}: must be 0 or >= tasks.search ({t.search})")
    protocol = t.resample_individuals or t.funnel or config.campaign.restart_from != "initial"
    if protocol and config.campaign.islands > 1:
        raise ConfigError("tasks.resample_individuals, tasks.funnel and campaign.restart_from run with one population: set campaign.islands = 1")
    if config.evaluation.hurdle and config.evaluation.hurdle_tasks >= config.tasks.search:
        raise ConfigError(
            f"evaluation.hurdle_tasks = {config.evaluation.hurdle_tasks}: must be < tasks.search "
            f"({config.tasks.search}) when hurdles are on"
        )
    return config


def config_from_dict(data: dict) -> Config:
    """Validate a TOML mapping into a :class:`Config` (defaults fill what is missing)."""
    return _cross_check(_build(Config, data, ""))


def config_to_dict(config: Config) -> dict:
    data = dataclasses.asdict(config)
    problem = data["problem"]
    data["problem"] = {"name": problem["name"], **problem["params"]}
    if problem["select"]:
        data["problem"]["select"] = problem["select"]
    return data


# ---------------------------------------------------------------------------- overrides, files


def parse_override(text: str) -> tuple[list[str], Any]:
    """``section.key=value`` -> (path, value); the value is read as TOML, else as a string."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected section.key=value")
    key, raw = text.split("=", 1)
    path = key.strip().split(".")
    if not all(path) or len(path) > 3:
        raise ConfigError(f"--set {text!r}: expected section.key=value")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    except RecursionError:
        raise ConfigError(f"--set {key.strip()}: the value is nested too deeply") from None
    return path, value


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    data = _deep_copy(data)
    for text in overrides:
        path, value = parse_override(text)
        node = data
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {text!r}: {part!r} is not a section")
            node = child
        node[path[-1]] = value
    return data


def _deep_copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v) for v in data]
    return data


def preset_names() -> list[str]:
    folder = resources.files("evolve") / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def read_toml(text: str, source: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{source}: not usable TOML: values nested too deeply") from None


def load_source(source: str) -> dict:
    """The raw mapping of a preset name or a TOML file path."""
    if source in preset_names():
        text = (resources.files("evolve") / "presets" / f"{source}.toml").read_text()
        return read_toml(text, f"preset {source}")
    path = Path(source)
    if not path.is_file():
        raise ConfigError(
            f"{source!r} is neither a preset ({', '.join(preset_names())}) nor a TOML file"
        )
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read: {exc}") from None
    return read_toml(text, source)


def load_config(source: str, overrides: list[str] | None = None) -> Config:
    """A preset name or TOML path, with ``--set`` overrides, validated."""
    return config_from_dict(apply_overrides(load_source(source), overrides or []))


# ---------------------------------------------------------------------------- TOML output


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to TOML")


def _toml_string(text: str) -> str:
    """A TOML basic string that reads back as ``text`` (control characters escaped)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    """A bare key when TOML allows one (A-Za-z0-9_-), else a quoted one."""
    bare = key and all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in key)
    return key if bare else _toml_string(key)


def to_toml(config: Config, comments: bool = True) -> str:
    """The full config as TOML, each field preceded by its documentation when ``comments``."""
    lines: list[str] = []

    def doc(f: dataclasses.Field) -> None:
        if comments:
            allowed = _describe(dict(f.metadata), _field_type(f))
            lines.append(f"# {f.metadata['doc']} ({allowed})")

    for f in dataclasses.fields(Config):
        if f.name in SECTIONS:
            continue
        doc(f)
        lines.append(f"{f.name} = {_toml_value(getattr(config, f.name))}")
    for section in SECTIONS:
        obj = getattr(config, section)
        lines.append("")
        if comments:
            lines.append(f"# {type(obj).__doc__.strip()}")
        lines.append(f"[{section}]")
        if section == "problem":
            lines.append(f"name = {_toml_value(obj.name)}")
            for key, value in obj.params.items():
                lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
            if obj.select:
                lines.append("")
                if comments:
                    lines.append("# parameter overrides for the select and final splits")
                lines.append("[problem.select]")
                for key, value in obj.select.items():
                    lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
            continue
        for f in dataclasses.fields(obj):
            doc(f)
            lines.append(f"{f.name} = {_toml_value(getattr(obj, f.name))}")
    return "\n".join(lines) + "\n"
