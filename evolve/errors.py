"""User-facing errors: each is one line naming the field, the value and what is allowed."""

from __future__ import annotations


class EvolveError(Exception):
    """A problem with the user's input or files that the CLI reports in one line (exit code 2)."""


class ConfigError(EvolveError, ValueError):
    """A campaign config, preset or ``--set`` override is invalid."""


class DataError(EvolveError, ValueError):
    """A user data file (tasks ``.npz``) is malformed."""


class CheckpointError(EvolveError):
    """A checkpoint or run directory cannot be read."""
