"""What the dashboard shows about one run directory, read as it is written (never written to).

The best program is ``best.txt`` once a run has finished; while it runs, the best-select candidate
and the hall of fame come from the newest checkpoint (written atomically, so a reader sees a whole
one). The math is the program's update rules (:func:`evolve.analysis.math_view.program_math`) as LaTeX,
typeset to MathML by ``latex2mathml`` (browsers render MathML natively: nothing to download).
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

import numpy as np

from evolve.rundir.read import MAX_BYTES, read_config, read_csv_rows, read_json, read_text, run_info
from problems.files import read_npz

_HOF_HEADER = re.compile(r"^#\s*rank\s+(\d+)\s+fitness\s+(\S+)")
_PARETO_HEADER = re.compile(r"^#\s*point\s+(\d+)\s+fitness\s+(\S+)\s+size\s+(\d+)")
MAX_PROGRESS_ROWS = 2000  # rows sent per run (evenly thinned, the last one kept)


def thin(rows: list[dict], limit: int = MAX_PROGRESS_ROWS) -> list[dict]:
    if len(rows) <= limit:
        return rows
    step = len(rows) / (limit - 1)
    picked = [rows[int(i * step)] for i in range(limit - 1)]
    return [*picked, rows[-1]]


def _programs_from_checkpoint(run_dir: Path) -> tuple[Any, list[tuple[float, Any]]]:
    """(candidate program or None, [(fitness, program)] of the hall of fame) from checkpoint.npz."""
    from evolve.rundir.store import programs_from_arrays

    path = run_dir / "checkpoint.npz"
    try:
        arrays = read_npz(path, limit=MAX_BYTES, what="checkpoint")
        arrays = {k: v for k, v in arrays.items() if k.startswith(("candidate_", "hof_"))}
        candidate = programs_from_arrays(arrays, "candidate")[0] if "candidate_sizes" in arrays else None
        hof = programs_from_arrays(arrays, "hof") if "hof_sizes" in arrays else []
        fitness = arrays.get("hof_fitness", np.zeros(len(hof))).tolist()
        return candidate, list(zip(fitness, hof, strict=False))
    except Exception:  # a checkpoint being replaced or corrupt: show nothing rather than fail
        return None, []


def _parse_blocks(text: str, header: re.Pattern) -> list[tuple[tuple, Any]]:
    from primitives.text import parse_program

    blocks: list[tuple[tuple, list[str]]] = []
    for line in text.splitlines():
        match = header.match(line.strip())
        if match:
            blocks.append((match.groups(), []))
        elif blocks:
            blocks[-1][1].append(line)
    out = []
    for groups, lines in blocks:
        try:
            out.append((groups, parse_program("\n".join(lines))))
        except Exception:  # a half-written or edited block is skipped
            continue
    return out


def _format(program: Any) -> str:
    from primitives.text import format_program

    return format_program(program)


def _pruned(program: Any) -> Any:
    from primitives.prune import prune

    return prune(program)


MATH_WAIT_S = 5.0  # a request waits at most this long for a program's math


class MathCache:
    """Typeset math per program (SymPy takes ~0.3 s a program): a small LRU, thread-safe.

    The math is worked out on a small pool of its own threads and a request waits for it at most
    ``wait`` seconds: SymPy's time limit (a SIGALRM) works only on the main thread, and requests
    are served on worker threads, so a program whose simplification runs away would otherwise
    hold its request forever. A request that gives up gets a placeholder; the math lands in the
    cache when it is done and shows on a later poll."""

    def __init__(self, size: int = 64, wait: float = MATH_WAIT_S, threads: int = 2) -> None:
        self.size = size
        self.wait = wait
        self.items: OrderedDict[bytes, dict] = OrderedDict()
        self.pending: dict[bytes, Future] = {}
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="evolve-math")

    def get(self, program: Any, eval_type: str) -> dict:
        key = program.instructions.tobytes() + program.constants.tobytes() + bytes(str(tuple(program.sizes)), "ascii") + eval_type.encode()
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
            future = self.pending.get(key)
            if future is None:
                future = self.pool.submit(typeset, program, eval_type)
                future.add_done_callback(lambda done, key=key: self._store(key, done))
                self.pending[key] = future
        try:
            return future.result(timeout=self.wait)
        except FutureTimeout:
            return {"text": "(the math is still being simplified: it shows on a later refresh)",
                    "lines": [], "pending": True}

    def _store(self, key: bytes, future: Future) -> None:
        value = future.result() if future.exception() is None else {
            "text": f"(no math: {type(future.exception()).__name__})", "lines": []}
        with self.lock:
            self.pending.pop(key, None)
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)


def typeset(program: Any, eval_type: str) -> dict:
    """``{"text": ..., "mathml": [{"section", "mathml"}...]}`` for the program's update rules."""
    from latex2mathml.converter import convert

    from evolve.analysis.math_view import program_math, to_latex

    try:
        m = program_math(program, eval_type, seconds=1.0)
    except Exception as exc:
        return {"text": f"(no math: {type(exc).__name__})", "lines": []}
    p = lambda e: to_latex(e, 4, m.kinds)  # noqa: E731
    lines: list[tuple[str, str]] = [("Setup", f"{p(s)} = {p(v)}") for s, v in m.setup]
    lines += [("Setup", f"{p(number)} \\text{{ (is }} {p(initial)} \\text{{ before the first Learn)}}")
              for _, number, initial in m.constants]
    lines += [("Predict", f"{p(s)} = {p(v)}") for s, v in m.temporaries]
    pred = p(m.prediction)
    lines.append(("Predict", f"\\hat{{y}} = \\sigma\\left({pred}\\right)" if m.accuracy else f"\\hat{{y}} = {pred}"))
    lines += [("Predict", f"{p(s)} \\leftarrow {p(v)}") for s, v in m.predict_updates]
    lines += [("Learn", f"{p(s)} \\leftarrow {p(v)}") for s, v in m.learn_updates]
    out = []
    for section, latex in lines:
        try:
            out.append({"section": section, "latex": latex, "mathml": convert(latex, display="block")})
        except Exception:
            out.append({"section": section, "latex": latex, "mathml": None})
    return {"text": m.to_text(), "lines": out}


MATH = MathCache()


_EVAL_TYPES: dict[tuple[str, float], str] = {}


def _eval_type(run_dir: Path) -> str:
    """The run's task type ("rms" or "accuracy"), from one final task of its config (cached)."""
    try:
        key = (str(run_dir), (run_dir / "config.toml").stat().st_mtime)
    except OSError:
        return "rms"
    if key not in _EVAL_TYPES:
        from evolve.analysis.load import final_tasks, load_run_config

        try:
            _EVAL_TYPES[key] = final_tasks(load_run_config(run_dir), n=1)[0].eval_type
        except Exception:  # an unreadable or foreign config: regression is the default view
            _EVAL_TYPES[key] = "rms"
    return _EVAL_TYPES[key]


def program_view(program: Any, eval_type: str, fitness: dict | None = None) -> dict:
    pruned = _pruned(program)
    return {"text": _format(program), "pruned": _format(pruned), "size": len(program),
            "pruned_size": len(pruned), "math": MATH.get(pruned, eval_type), **(fitness or {})}


def run_detail(run_dir: Path) -> dict:
    """Everything the run's page shows (progress rows are separate: :func:`run_progress`)."""
    info = run_info(run_dir)
    config = read_config(run_dir)
    eval_type = _eval_type(run_dir)
    summary, summary_error = read_json(run_dir / "summary.json")
    best = None
    text = read_text(run_dir / "best.txt")
    candidate, hof = None, []
    if text is None or not (run_dir / "hall_of_fame.txt").exists():
        candidate, hof = _programs_from_checkpoint(run_dir)
    if text is not None:
        from primitives.text import parse_program

        try:
            best = program_view(parse_program(text), eval_type, {"source": "best.txt"})
        except Exception as exc:
            best = {"error": f"best.txt does not parse ({type(exc).__name__})"}
    elif candidate is not None:
        best = program_view(candidate, eval_type, {"source": "checkpoint (best-select candidate so far)"})
    hall = []
    hof_text = read_text(run_dir / "hall_of_fame.txt")
    if hof_text is not None:
        for (rank, fitness), program in _parse_blocks(hof_text, _HOF_HEADER)[:20]:
            hall.append({"rank": int(rank), "fitness": _safe_float(fitness), "size": len(program),
                         "pruned_size": len(_pruned(program)), "pruned": _format(_pruned(program))})
    else:
        for rank, (fitness, program) in enumerate(hof[:20], start=1):
            hall.append({"rank": rank, "fitness": _safe_float(fitness), "size": len(program),
                         "pruned_size": len(_pruned(program)), "pruned": _format(_pruned(program))})
    pareto = []
    pareto_text = read_text(run_dir / "pareto_front.txt")
    if pareto_text is not None:
        for (_point, fitness, size), program in _parse_blocks(pareto_text, _PARETO_HEADER):
            pareto.append({"fitness": _safe_float(fitness), "size": int(size), "pruned": _format(program)})
    return {
        "info": info.as_dict(), "eval_type": eval_type, "best": best, "hall_of_fame": hall,
        "pareto_front": pareto, "summary": summary, "summary_error": summary_error,
        "metadata": (summary or {}).get("metadata"), "config": config,
    }


def run_progress(run_dir: Path) -> dict:
    """Progress rows (thinned) and per-island rows of one run."""
    islands: dict[int, list[dict]] = {}
    for row in read_csv_rows(run_dir / "islands.csv"):
        island = str(row.get("island", ""))
        if island.isdecimal() and len(island) < 7:  # a half-written or foreign row is skipped
            islands.setdefault(int(island), []).append(row)
    return {"rows": thin(read_csv_rows(run_dir / "progress.csv")),
            "islands": {str(k): thin(v, 500) for k, v in sorted(islands.items())}}


def experiment_detail(folder: Path) -> dict | None:
    data, error = read_json(folder / "experiment.json")
    if data is None:
        return {"path": str(folder), "error": error or "no experiment.json"}
    stats = data.get("stats") if isinstance(data.get("stats"), dict) else {}
    methods = []
    for method, s in stats.items():
        if not isinstance(s, dict):
            continue
        ci = s.get("success_rate_ci95")
        methods.append({
            "method": str(method), "runs": s.get("runs"), "successes": s.get("successes"),
            "success_rate": s.get("success_rate"),
            "ci95": ci if isinstance(ci, list) and len(ci) == 2 else None,
            "median_seconds_to_success": s.get("median_seconds_to_success"),
            "median_individuals_to_success": s.get("median_individuals_to_success"),
            "successes_per_million_individuals": s.get("successes_per_million_individuals"),
        })
    return {"path": str(folder), "name": str(data.get("name", folder.name)), "complete": data.get("complete"),
            "methods": methods, "comparison": data.get("comparison"), "error": None}


def _safe_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def clean(data: Any) -> Any:
    """``data`` with NaN/Infinity replaced by ``None`` (they are not JSON; browsers reject them)."""
    if isinstance(data, float):
        return data if np.isfinite(data) else None
    if isinstance(data, dict):
        return {str(k): clean(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [clean(v) for v in data]
    if data is None or isinstance(data, bool | int | str):
        return data
    return str(data)


def dumps(data: Any) -> str:
    return json.dumps(clean(data), allow_nan=False)
