"""Habits that keep the structure: the import contract, the layout and the docs' examples.

- ``primitives`` and ``problems`` import nothing from the rest of the project: ``primitives`` only
  itself, ``problems`` only itself (read from every module's syntax tree, lazy imports inside
  functions included).
- The search side of ``evolve`` (engine, search, evaluation, islands, run directory, config) never
  imports the layers above it: analysis, studies, benchmarks, estimators, user interface, CLI.
- ``evolve/`` holds no module outside a sub-package but ``__init__``, ``api`` and ``errors``.
- ``evolve``'s modules import each other without a circle, neither at import time (module-level
  imports) nor through the lazy imports inside functions.
- The TOML and Python examples in ``docs/`` run as written: each ``[problem]`` table loads through
  the config loader and builds its suite; the plug-in suite in ``docs/problems.md`` defines a class
  that produces valid tasks for every split.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("primitives", "problems", "evolve")


def _modules(package: str) -> dict[str, Path]:
    out = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(path: Path, module: str, top_level_only: bool) -> set[str]:
    """Project modules that ``module`` imports (``from x import y`` counts ``x`` and ``x.y``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    if top_level_only:  # also imports guarded by ``if TYPE_CHECKING`` are not executed: skip them
        nodes = [n for n in nodes if isinstance(n, ast.Import | ast.ImportFrom)]
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in PACKAGES}


@pytest.mark.parametrize("package", ["primitives", "problems"])
def test_lower_layers_import_nothing_from_the_project(package: str) -> None:
    offenders = []
    for module, path in _modules(package).items():
        for target in _imports(path, module, top_level_only=False):
            if target.split(".")[0] != package:
                offenders.append(f"{module} imports {target}")
    assert not offenders, "\n".join(offenders)


def _evolve_cycles(top_level_only: bool) -> list[str]:
    modules = _modules("evolve")
    graph = {}
    for module, path in modules.items():
        graph[module] = {t for t in _imports(path, module, top_level_only=top_level_only)
                         if t in modules and t != module}
    # A package's __init__ importing its own submodules is how packages expose names, not a cycle.
    for module in graph:
        graph[module] = {t for t in graph[module] if not (module.startswith(t + ".")
                                                          and modules[t].name == "__init__.py")}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_evolve_has_no_import_cycle() -> None:
    cycles = _evolve_cycles(top_level_only=True)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_evolve_has_no_lazy_import_cycle() -> None:
    cycles = _evolve_cycles(top_level_only=False)
    assert not cycles, "import cycles through imports inside functions:\n" + "\n".join(cycles)


ENGINE_SIDE = ("evolve.engine", "evolve.search", "evolve.evaluation", "evolve.islands",
               "evolve.rundir", "evolve.config")
ABOVE = ("evolve.analysis", "evolve.studies", "evolve.bench", "evolve.estimators", "evolve.ui",
         "evolve.cli", "evolve.api")


def test_the_engine_never_imports_the_layers_above_it() -> None:
    offenders = []
    for module, path in _modules("evolve").items():
        if not module.startswith(ENGINE_SIDE):
            continue
        for target in _imports(path, module, top_level_only=False):
            if target.startswith(ABOVE):
                offenders.append(f"{module} imports {target}")
    assert not offenders, "\n".join(sorted(offenders))


def test_evolve_has_no_loose_modules() -> None:
    loose = sorted(p.name for p in (ROOT / "evolve").glob("*.py") if p.name != "_version.py")
    assert loose == ["__init__.py", "api.py", "errors.py"], loose  # _version.py: written at build


def test_the_contract_checker_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy\n\ndef f():\n    from evolve.config import load_config\n")
    assert _imports(bad, "primitives.bad", top_level_only=False) == {
        "evolve.config", "evolve.config.load_config"}
    assert _imports(bad, "primitives.bad", top_level_only=True) == set()


# ------------------------------------------------------------------------------ docs examples


def _blocks(path: Path, language: str) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_docs_problem_tables_load_and_build_their_suite() -> None:
    from evolve.config import config_from_dict, read_toml
    from problems.registry import get_tasks, make_suite

    tables = [b for b in _blocks(ROOT / "docs" / "problems.md", "toml") if "[problem]" in b]
    assert tables, "docs/problems.md shows a [problem] table"
    for block in tables:
        config = config_from_dict(read_toml(block, "docs/problems.md"))
        problem = config.problem
        suite = make_suite(problem.name, dict(problem.params))
        tasks = get_tasks(suite, "search", 2, 0)
        assert len(tasks) == 2 and tasks[0].train_x.shape[1] == suite.features_size


def test_docs_plugin_suite_runs_as_written() -> None:
    from problems.registry import get_tasks

    blocks = [b for b in _blocks(ROOT / "docs" / "problems.md", "python") if "class " in b]
    assert len(blocks) == 1
    namespace: dict = {}
    exec(compile(blocks[0], "docs/problems.md", "exec"), namespace)
    suite = namespace["SineSuite"]()
    seeds = set()
    for split in ("search", "select", "final"):
        tasks = get_tasks(suite, split, 3, 0)
        assert len(tasks) == 3
        seeds |= {t.seed for t in tasks}
    assert len(seeds) == 9, "the three splits never share a task"


def test_numba_never_swaps_libm_for_svml() -> None:
    import subprocess
    import sys

    env = {k: v for k, v in __import__("os").environ.items() if k != "NUMBA_DISABLE_INTEL_SVML"}
    code = "import primitives.interpreter, numba.core.config as c; print(int(c.DISABLE_INTEL_SVML), c.USING_SVML)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "False"]
