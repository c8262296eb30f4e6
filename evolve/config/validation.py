"""Validation: a TOML mapping to a :class:`~evolve.config.schema.Config`, naming the field, the
value and what is allowed on the first problem; and back to a mapping."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, get_args, get_origin

from evolve.config.schema import SECTIONS, Config, ProblemConfig
from evolve.errors import ConfigError
from primitives.ops import OPS_BY_NAME


def describe_allowed(meta: dict, ftype: Any) -> str:
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
    allowed = describe_allowed(meta, ftype)
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
            kwargs[key] = _convert(path, value, field_type(f), f.metadata)
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


def field_type(f: dataclasses.Field) -> Any:
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
