"""What produced a run: the project's version, the versions of the packages that decide its
numbers, the CPU, the command line and the project's git commit when it runs from a checkout.

Recorded in ``summary.json`` (``"metadata"``) and the report, so a result can be traced back.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from functools import lru_cache
from importlib import metadata as importlib_metadata
from pathlib import Path

DISTRIBUTION = "automl-evolve"
PACKAGES = ("numpy", "numba", "deap", "sympy", "scikit-learn")


def project_version() -> str:
    """The installed distribution's version (``pyproject.toml``), or ``unknown``."""
    try:
        return importlib_metadata.version(DISTRIBUTION)
    except importlib_metadata.PackageNotFoundError:
        return "unknown"


def package_version(name: str) -> str | None:
    try:
        return importlib_metadata.version(name)
    except importlib_metadata.PackageNotFoundError:
        return None


@lru_cache(maxsize=1)
def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else what ``platform`` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@lru_cache(maxsize=1)
def git_commit(where: str | None = None) -> dict | None:
    """``{"commit": sha, "dirty": bool}`` of the checkout this package runs from, or ``None``
    when it is installed from a wheel/sdist (no ``.git`` above the source) or git is missing."""
    source = Path(where) if where else Path(__file__).resolve().parents[2]
    # an installed wheel lives in site-packages (no pyproject.toml beside the packages), perhaps
    # inside some other checkout: only a source tree of this project reports a commit
    if not (source / "pyproject.toml").is_file() or not any((p / ".git").exists() for p in (source, *source.parents)):
        return built_commit()
    try:
        sha = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=5, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": sha, "dirty": bool(status.strip())} if sha else None


def built_commit() -> dict | None:
    """The commit an installed package was built from, as setuptools-scm recorded it in
    ``evolve/_version.py`` (``g<sha>``; a version with a ``.d<date>`` part was built from a
    checkout with changes), or ``None`` without one (a source tree without git history)."""
    try:
        from evolve import _version
    except ImportError:
        return None
    node = getattr(_version, "commit_id", None) or getattr(_version, "__commit_id__", None)
    if not isinstance(node, str) or not node:
        return None
    version = str(getattr(_version, "version", ""))
    return {"commit": node[1:] if node.startswith("g") else node, "dirty": ".d" in version,
            "recorded": "at build"}


def run_metadata(argv: list[str] | None = None) -> dict:
    """The metadata block of ``summary.json``."""
    return {
        "evolve_version": project_version(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "packages": {name: package_version(name) for name in PACKAGES},
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cores": usable_cores(),
        "command_line": list(sys.argv if argv is None else argv),
        "git": git_commit(),
    }


def version_text() -> str:
    """``evolve --version``: the project and the versions that decide its numbers."""
    git = git_commit()
    where = f", git {git['commit'][:12]}{' (modified)' if git['dirty'] else ''}" if git else ""
    packages = ", ".join(f"{n} {v}" for n, v in ((n, package_version(n)) for n in PACKAGES[:3]) if v)
    return f"evolve {project_version()}{where} (Python {platform.python_version()}, {packages})"


def metadata_brief(meta: object) -> list[tuple[str, str]]:
    """``(label, text)`` pairs of a summary's metadata block for the report (none if absent)."""
    if not isinstance(meta, dict):
        return []
    packages = meta.get("packages") if isinstance(meta.get("packages"), dict) else {}
    git = meta.get("git") if isinstance(meta.get("git"), dict) else None
    version = str(meta.get("evolve_version", "?"))
    if git:
        version += f" (git {str(git.get('commit', '?'))[:12]}{', modified' if git.get('dirty') else ''})"
    command = meta.get("command_line")
    return [
        ("evolve version", version),
        ("Python and packages", f"Python {meta.get('python', '?')}, "
                                + ", ".join(f"{k} {v}" for k, v in packages.items() if v)),
        ("CPU", f"{meta.get('cpu_model', '?')} ({meta.get('usable_cores', '?')} of {meta.get('cpu_count', '?')} cores)"),
        ("command line", " ".join(map(str, command)) if isinstance(command, list) else "?"),
    ]
