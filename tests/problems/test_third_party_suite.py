"""A suite from another distribution, found through the ``evolve.problems`` entry-point group.

The fixture writes a distribution onto a temporary path (a module plus a ``*.dist-info`` with
``entry_points.txt``), the way pip would install it; a subprocess with that path on PYTHONPATH sees
it. Reuse ``third_party_path`` / ``write_distribution`` for CLI tests through the entry point.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SUITE_MODULE = """
import numpy as np

from problems.base import ProblemSuite, require_positive, task_seeds
from problems.task import Task


class SineSuite(ProblemSuite):
    name = "sine"
    description = "Noisy sine regression: y = a sin(w·x) + noise"
    eval_type = "rms"

    def __init__(self, features_size: int = 2, num_examples: int = 20, noise: float = 0.1,
                 seed: int = 0):
        require_positive(self.name, features_size=features_size, num_examples=num_examples)
        self.features_size, self.num_examples = features_size, num_examples
        self.noise, self.seed = noise, seed

    def tasks(self, split, n, seed):
        tasks = []
        for task_seed in task_seeds(self.seed, split, n, seed):
            rng = np.random.default_rng(task_seed)
            amplitude, weights = rng.uniform(0.5, 2), rng.standard_normal(self.features_size)
            x = rng.standard_normal((2 * self.num_examples, self.features_size))
            y = amplitude * np.sin(x @ weights) + self.noise * rng.standard_normal(len(x))
            half = self.num_examples
            tasks.append(Task(x[:half], y[:half], x[half:], y[half:], "rms", task_seed))
        return tasks
"""


def write_distribution(path: Path, dist_name: str, entry_points: dict[str, str]) -> Path:
    """Write ``thirdparty_mod.py`` and an installed-distribution record for ``dist_name``."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "thirdparty_mod.py").write_text(SUITE_MODULE)
    info = path / f"{dist_name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: 0.1\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[evolve.problems]\n{lines}")
    return path


@pytest.fixture(scope="session")
def third_party_path(tmp_path_factory) -> Path:
    """A path holding distribution ``thirdparty_suite`` whose entry point ``sine`` is SineSuite."""
    return write_distribution(
        tmp_path_factory.mktemp("thirdparty"),
        "thirdparty_suite",
        {"sine": "thirdparty_mod:SineSuite"},
    )


def run_python(code: str, *paths: Path) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with ``paths`` (and the repository) on PYTHONPATH."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*map(str, paths), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_entry_point_suite_is_found_and_works(third_party_path):
    result = run_python(
        """
        import numpy as np
        from problems.registry import available_suites, describe_suites, get_tasks, make_suite

        assert "sine" in available_suites() and "linear" in available_suites()
        record = {r["name"]: r for r in describe_suites()}["sine"]
        assert record["source"] == "thirdparty_suite", record
        assert record["params"]["noise"] == {"type": "float", "default": 0.1}
        suite = make_suite("sine", {"features_size": "3", "noise": "0"})
        tasks = get_tasks(suite, "select", 2, 0)
        assert tasks[0].train_x.shape == (20, 3) and tasks[0].eval_type == "rms"
        assert {t.seed for t in tasks}.isdisjoint(t.seed for t in suite.tasks("final", 2, 0))
        print("ok")
        """,
        third_party_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_duplicate_name_is_a_clear_error(third_party_path, tmp_path):
    clash = write_distribution(tmp_path, "clashing_suite", {"linear": "thirdparty_mod:SineSuite"})
    result = run_python(
        """
        from problems.registry import available_suites, make_suite
        from problems.base import ProblemError
        for call in (available_suites, lambda: make_suite("sine", {})):
            try:
                call()
            except ProblemError as error:
                print(error)
        """,
        third_party_path,
        clash,
    )
    assert result.returncode == 0, result.stderr
    messages = result.stdout.strip().splitlines()
    assert len(messages) == 2
    for message in messages:
        assert "'linear'" in message and "built-in" in message and "clashing_suite" in message


def test_broken_entry_point_is_a_clear_error(tmp_path):
    broken = write_distribution(tmp_path, "broken_suite", {"broken": "missing_module:Nope"})
    result = run_python(
        """
        from problems.registry import available_suites, make_suite
        from problems.base import ProblemError
        assert "linear" in make_suite("linear", {}).name  # other suites still work
        try:
            available_suites()
        except ProblemError as error:
            print(error)
        """,
        broken,
    )
    assert result.returncode == 0, result.stderr
    assert "broken" in result.stdout and "missing_module:Nope" in result.stdout
    assert "broken_suite" in result.stdout and "failed to load" in result.stdout


@pytest.mark.slow
def test_cli_lists_and_evaluates_entry_point_suite(third_party_path):
    import json

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(third_party_path), str(ROOT)]),
    }

    def evolve(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "evolve.cli", *argv],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )

    listing = evolve("problems")
    assert listing.returncode == 0, listing.stderr
    assert "sine  [thirdparty_suite]" in listing.stdout and "linear  [built-in]" in listing.stdout
    assert "Noisy sine regression" in listing.stdout and "--param noise" in listing.stdout

    records = {r["name"]: r for r in json.loads(evolve("problems", "--json").stdout)}
    assert records["sine"]["source"] == "thirdparty_suite"

    result = evolve("eval", "linear_sgd", "--problem", "sine", "--tasks", "2")
    assert result.returncode == 0, result.stderr
    assert "suite 'sine'" in result.stdout and "mean" in result.stdout
    scored = evolve("eval", "linear_sgd", "--problem", "sine", "--tasks", "2", "--json",
                    "--param", "features_size=3")
    assert scored.returncode == 0, scored.stderr
    assert len(json.loads(scored.stdout)["per_task"]) == 2
    bad = evolve("eval", "linear_sgd", "--problem", "sine", "--param", "noise=loud")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "'noise'" in bad.stderr and "float" in bad.stderr

    # A short campaign on the third-party suite, from a config a user would write.
    from evolve.config import config_from_dict, load_config, to_toml

    base = load_config("linear-demo").__dict__
    config = config_from_dict({
        "name": "sine-demo",
        "problem": {"name": "sine", "features_size": 4},
        "tasks": {"search": 3, "select": 3, "final": 3},
        "algorithm": {k: getattr(base["algorithm"], k) for k in ("setup_ops", "predict_ops", "learn_ops")},
        "search": {"population_size": 50, "batch_size": 25},
        "campaign": {"max_evaluations": 500},
    })
    config_path = third_party_path.parent / "sine.toml"
    config_path.write_text(to_toml(config))
    run_dir = third_party_path.parent / "sine-run"
    run = evolve("run", str(config_path), "--quiet", "--out", str(run_dir))
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["individuals"] >= 500 and summary["final_fitness"] is not None
    assert 'name = "sine"' in (run_dir / "config.toml").read_text()
    compared = evolve("compare", str(run_dir), "--problem", "sine", "--tasks", "2", "--json")
    assert compared.returncode == 0, compared.stderr
