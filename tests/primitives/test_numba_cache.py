"""Numba's cache is keyed by the sources (primitives/__init__.py): a cached interpreter holds the
machine code of the kernels it calls from other files, and Numba invalidates it only when its
own file changes, so a changed kernel must move the cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import primitives
from primitives import source_digest

ROOT = Path(__file__).resolve().parents[2]


def test_digest_follows_every_source_file(tmp_path: Path) -> None:
    (tmp_path / "kernels.py").write_text("x = 1\n")
    (tmp_path / "dispatch.py").write_text("y = 2\n")
    (tmp_path / "notes.txt").write_text("not code")
    first = source_digest(tmp_path, "0.68.1")
    assert source_digest(tmp_path, "0.68.1") == first  # stable
    (tmp_path / "notes.txt").write_text("still not code")
    assert source_digest(tmp_path, "0.68.1") == first  # only *.py counts
    (tmp_path / "kernels.py").write_text("x = 3\n")  # a callee changes
    second = source_digest(tmp_path, "0.68.1")
    assert second != first
    assert source_digest(tmp_path, "0.69.0") != second  # another Numba compiles anew


def _cache_dir_in_fresh_process(env: dict) -> str:
    code = "import numba.core.config as c, primitives; print(c.CACHE_DIR)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120, check=True)
    return result.stdout.strip()


def test_cache_lives_under_the_digest_unless_the_user_chose(tmp_path: Path) -> None:
    from importlib.metadata import version

    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    expected = tmp_path / "evolve-numba" / source_digest(Path(primitives.__file__).parent, version("numba"))
    assert _cache_dir_in_fresh_process(env) == str(expected)
    assert expected.is_dir()
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "mine")
    assert _cache_dir_in_fresh_process(env) == str(tmp_path / "mine")
