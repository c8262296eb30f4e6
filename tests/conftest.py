"""Shared test configuration: ``tests/naive.py`` (the slow, obvious twins) imports as ``naive``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# every evaluation validates its programs before the kernel (primitives/validate.py)
os.environ.setdefault("EVOLVE_CHECK_PROGRAMS", "1")

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
