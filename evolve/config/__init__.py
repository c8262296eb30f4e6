"""Campaign configuration: typed, frozen, documented per field, saved with every run (TOML).

A config is a tree of frozen dataclasses; every field carries its documentation, and allowed
values or ranges, in ``metadata``. :func:`config_from_dict` validates a TOML mapping and names
the field, the value and what is allowed on the first problem; ``--set section.key=value``
overrides go through the same path. :func:`to_toml` writes the resolved, commented config.

The package's modules: :mod:`~evolve.config.schema` (the dataclasses), :mod:`~evolve.config.validation`
(mapping -> config and back), :mod:`~evolve.config.files` (presets, files, ``--set``) and
:mod:`~evolve.config.toml_out` (the commented TOML); this module is their public face.
"""

from evolve.config.files import (
    apply_overrides,
    load_config,
    load_source,
    parse_override,
    preset_names,
    read_toml,
)
from evolve.config.schema import (
    EXECUTORS,
    METHODS,
    MUTATIONS,
    SECTIONS,
    AlgorithmConfig,
    CampaignConfig,
    Config,
    EvaluationConfig,
    MemoryConfig,
    ProblemConfig,
    SearchConfig,
    TasksConfig,
)
from evolve.config.toml_out import to_toml
from evolve.config.validation import config_from_dict, config_to_dict

__all__ = [
    "EXECUTORS", "METHODS", "MUTATIONS", "SECTIONS", "AlgorithmConfig", "CampaignConfig", "Config",
    "EvaluationConfig", "MemoryConfig", "ProblemConfig", "SearchConfig", "TasksConfig",
    "apply_overrides", "config_from_dict", "config_to_dict", "load_config", "load_source",
    "parse_override", "preset_names", "read_toml", "to_toml",
]
