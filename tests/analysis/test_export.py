"""The exported NumPy module reproduces the interpreter."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest
from programs import ALL_OPS

from evolve.analysis.export import export_python
from evolve.evaluation.scoring import TaskBatch, per_task_fitness
from evolve.reference_programs import load_algorithm
from primitives.generate import random_program, usable_ops
from primitives.memory import MemorySpec
from primitives.prune import prune
from problems.registry import get_tasks, make_suite


def _load(source: str, tmp_path, name: str):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fitness(model, task, eval_type: str, max_abs_error: float) -> float:
    """The executor's fitness formula on the exported model's validation predictions."""
    model.fit(task.train_x, task.train_y, epochs=1)
    if model.stopped_:
        return 0.0
    raw = model.decision_function(task.valid_x)
    if eval_type == "accuracy":
        with np.errstate(all="ignore"):
            labels = np.where(1.0 / (1.0 + np.exp(-raw)) > 0.5, 1.0, 0.0)
        return float(np.mean(labels == task.valid_y))
    sq = 0.0
    for y, p in zip(task.valid_y, raw, strict=True):
        err = y - p
        if not abs(err) <= max_abs_error:
            return 0.0
        sq += err * err
    return max(0.0, 1.0 - 2.0 / np.pi * np.arctan(np.sqrt(sq / len(raw))))


@pytest.mark.parametrize("problem", ["linear", "projected_binary"])
def test_exported_random_programs_match_the_interpreter(problem, tmp_path):
    memory = MemorySpec(5, 4, 2)
    ops = usable_ops(ALL_OPS, memory)
    rng = np.random.default_rng(11)
    features = 3 if problem == "linear" else 4
    suite = make_suite(problem, {"features_size": features, "num_train_examples": 15,
                                 "num_valid_examples": 9})
    tasks = get_tasks(suite, "search", 2, seed=4)
    batch = TaskBatch.from_tasks(tasks)
    eval_type = tasks[0].eval_type
    programs = [random_program([int(s) for s in rng.integers(0, 8, 3)], [ops] * 3, memory, rng)
                for _ in range(60)]
    programs.append(load_algorithm("nn_2layer"))
    expected, _ = per_task_fitness(programs, batch, MemorySpec(5, 8, 2), max_abs_error=1e3)
    nonzero = 0
    for p, program in enumerate(programs):
        module = _load(export_python(program, eval_type=eval_type, max_abs_error=1e3),
                       tmp_path, f"exported_{problem}_{p}")
        for t, task in enumerate(tasks):
            model = module.DiscoveredAlgorithm(task_seed=int(batch.seeds[t]))
            got = _fitness(model, task, eval_type, 1e3)
            assert abs(got - expected[p, t]) <= 1e-12, (p, t, got, expected[p, t])
            nonzero += got > 0
    assert nonzero > 10


def test_exported_module_needs_only_numpy(tmp_path):
    source = export_python(prune(load_algorithm("logistic_sgd")), eval_type="accuracy")
    (tmp_path / "model.py").write_text(source)
    script = (
        "import sys, json\n"
        "class Block:\n"  # make the project unimportable even though it is installed
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('evolve', 'primitives', 'problems'):\n"
        "            raise ImportError('project blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import numpy as np\n"
        "import model\n"
        "r = np.random.default_rng(0); X = r.normal(size=(50, 3)); y = (X[:, 0] > 0) * 1.0\n"
        "m = model.DiscoveredAlgorithm().fit(X, y, epochs=3)\n"
        "p = m.predict_proba(X)\n"
        "m.set_params(task_seed=3)\n"
        "mods = [k for k in sys.modules if k.split('.')[0] in ('evolve', 'primitives', 'problems')]\n"
        "print(json.dumps({'acc': float((m.predict(X) == y).mean()), 'mods': mods,\n"
        "                  'proba': bool(np.allclose(p.sum(axis=1), 1)),\n"
        "                  'params': m.get_params()}))\n"
    )
    out = subprocess.run([sys.executable, "-I", "-c", script], cwd=tmp_path, capture_output=True,
                         text=True, check=False, env={"PYTHONPATH": ""})
    # -I ignores PYTHONPATH and the user site; the script's directory is not on sys.path with -c
    # under -I, so add the cwd explicitly through the script if needed.
    if out.returncode != 0 and "No module named 'model'" in out.stderr:
        script = "import sys; sys.path.insert(0, '.')\n" + script
        out = subprocess.run([sys.executable, "-I", "-c", script], cwd=tmp_path,
                             capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["mods"] == []
    assert result["proba"]
    assert result["acc"] > 0.8
    assert result["params"]["task_seed"] == 3


def test_export_docstring_holds_the_math():
    from evolve.analysis.math_view import program_math

    program = load_algorithm("linear_sgd")
    source = export_python(program, math_text=program_math(program).to_text())
    assert "ŷ = w·x" in source
    compile(source, "<export>", "exec")
