"""Inspecting discovered algorithms: dead-code elimination, math, export, reports (DESIGN.md,
"Inspecting what was found")."""

from __future__ import annotations

from evolve.inspect.prune import live_instructions, prune

__all__ = ["live_instructions", "prune"]
