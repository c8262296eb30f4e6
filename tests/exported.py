"""Import an exported estimator module's source in the test process (what a user does with
``evolve export --to python``'s file): parsed back with ``ast`` first, then executed. The package
itself never executes generated source."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import sys


def load_module(source: str, name: str | None = None):
    """``source`` as a module registered in ``sys.modules`` (so its estimators pickle here)."""
    ast.parse(source)
    name = name or "exported_estimator_" + hashlib.sha256(source.encode()).hexdigest()[:16]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, f"<exported {name}>", "exec"), module.__dict__)
    sys.modules[name] = module
    return module
