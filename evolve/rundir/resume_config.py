"""Which config a resumed run runs: the one saved in its checkpoint, never an edited one, and never
a Dask scheduler read from the run directory (issue 15: a run directory is data, not instructions)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from evolve.config import Config, config_from_dict, read_toml
from evolve.errors import CheckpointError, ConfigError
from evolve.rundir import checkpoint_fields as fields
from problems.files import UnreadableFileError, read_text


def run_config(path: Path) -> Config:
    """A run directory's ``config.toml``, read as data (one clear error if it is not one)."""
    if not path.is_file():
        raise CheckpointError(f"{path.parent}: not a run directory (no config.toml)")
    try:
        text = read_text(path, what="run config")
    except UnreadableFileError as exc:
        raise CheckpointError(str(exc)) from None
    return config_from_dict(read_toml(text, str(path)))


def saved_config(meta: object, current: Config, run_dir: Path) -> Config:
    """The config saved in a checkpoint's ``meta`` (``current``, the run's ``config.toml``, when
    an old checkpoint has none). A saved config that is not valid TOML of a config is a
    :class:`CheckpointError` (resume then tries the previous checkpoint); a ``config.toml`` that
    differs from it, the scheduler aside, is one :class:`ConfigError` naming the fields."""
    saved = meta.get("config") if isinstance(meta, dict) else None
    if saved is None:
        return current
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
    return config


def confine_scheduler(config: Config, scheduler: str | None, warnings: list[str]) -> Config:
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
