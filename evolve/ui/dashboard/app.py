"""``evolve dashboard``: a read-only local web page over run directories, on Starlette + uvicorn.

Routes (all GET; anything else is 405):
- ``/``: the page (``static/index.html`` + ``app.js``: tables, SVG plots, MathML; no CDN).
- ``/api/runs``: every run below the given directories (status, seed, fitness, individuals/s),
  and every experiment (``experiment.json``: success fractions with 95% intervals).
- ``/api/run?id=ID``: one run: best program (pruned) and its math, hall of fame, Pareto front,
  summary and metadata.
- ``/api/progress?id=ID[&id=ID...]``: progress rows (and per-island rows) of up to 16 runs.

A run's ``ID`` is ``<root index>/<path below that root>`` as ``/api/runs`` lists it. The server
resolves it and answers 403 for anything that lands outside the directories it was given (``..``,
absolute paths, symbolic links out), 404 for what is not a run directory there. It opens files
only to read them.
"""

from __future__ import annotations

import threading
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from evolve.rundir.read import find_experiments, find_runs, run_info
from evolve.ui.dashboard.data import dumps, experiment_detail, run_detail, run_progress

STATIC = Path(__file__).parent / "static"
MAX_IDS = 16
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # the page loads only its own script and style; nothing from anywhere else
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
}


DETAIL_FILES = ("best.txt", "hall_of_fame.txt", "pareto_front.txt", "summary.json", "checkpoint.npz",
                "config.toml")


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def json_response(data: object, status: int = 200) -> Response:
    return Response(dumps(data), status_code=status, media_type="application/json", headers=HEADERS)


class Roots:
    """The directories the dashboard was given, and the refusal rule for everything else."""

    def __init__(self, roots: list[Path]) -> None:
        self.roots = [Path(r).resolve() for r in roots]

    def run_id(self, path: Path) -> str:
        resolved = Path(path).resolve()
        for i, root in enumerate(self.roots):
            if resolved == root or resolved.is_relative_to(root):
                rel = resolved.relative_to(root).as_posix()
                return f"{i}/{'' if rel == '.' else rel}"
        raise ValueError(path)

    def display_path(self, path: Path) -> str:
        """What the page shows: the path below its given directory (below the directory's own
        name when several were given), never the id's index prefix."""
        index, _, rel = self.run_id(path).partition("/")
        root = self.roots[int(index)]
        if len(self.roots) > 1:
            return f"{root.name}/{rel}" if rel else root.name
        return rel or root.name

    def resolve(self, run_id: str) -> Path:
        """The directory of ``run_id``; HTTP 403 outside the roots, 404 if it is no run there."""
        index, _, rel = run_id.partition("/")
        if not index.isdigit() or int(index) >= len(self.roots) or len(run_id) > 4096 or "\x00" in run_id:
            raise HTTPException(404, f"no run {run_id!r}")
        root = self.roots[int(index)]
        if rel.startswith("/") or "\\" in rel:
            raise HTTPException(403, "outside the dashboard's directories")
        try:
            path = (root / rel).resolve()
        except (OSError, RuntimeError, ValueError):
            raise HTTPException(404, f"no run {run_id!r}") from None
        if not (path == root or path.is_relative_to(root)):
            raise HTTPException(403, "outside the dashboard's directories")
        if not (path / "config.toml").is_file() and not (path / "experiment.json").is_file():
            raise HTTPException(404, f"no run {run_id!r}")
        return path


def create_app(roots: list[Path]) -> Starlette:
    """The dashboard's ASGI app over ``roots`` (each an existing directory)."""
    roots_ = Roots(roots)
    details: dict[tuple, str] = {}
    lock = threading.Lock()

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=HEADERS)

    def runs(request: Request) -> Response:
        infos = []
        for path in find_runs(roots_.roots):
            info = run_info(path).as_dict()
            info["id"] = roots_.run_id(path)
            info["path"] = roots_.display_path(path)  # relative to the given directories
            infos.append(info)
        experiments = []
        for folder in find_experiments(roots_.roots):
            detail = experiment_detail(folder)
            detail["id"], detail["path"] = roots_.run_id(folder), roots_.display_path(folder)
            experiments.append(detail)
        return json_response({"roots": [str(r) for r in roots_.roots], "runs": infos,
                              "experiments": experiments})

    def run(request: Request) -> Response:
        ids = request.query_params.getlist("id")
        if len(ids) != 1:
            raise HTTPException(400, "expected one id")
        path = roots_.resolve(ids[0])
        if not (path / "config.toml").is_file():
            raise HTTPException(404, f"no run {ids[0]!r}")
        key = (path, *(_mtime(path / name) for name in DETAIL_FILES))
        with lock:
            cached = details.get(key)
        if cached is None:  # a run's page changes only when one of these files does
            detail = run_detail(path)
            detail["info"]["id"] = detail["info"]["path"] = roots_.run_id(path)
            cached = dumps(detail)
            with lock:
                details[key] = cached
                while len(details) > 32:
                    details.pop(next(iter(details)))
        return Response(cached, media_type="application/json", headers=HEADERS)

    def progress(request: Request) -> Response:
        ids = request.query_params.getlist("id")
        if not ids or len(ids) > MAX_IDS:
            raise HTTPException(400, f"expected 1 to {MAX_IDS} ids")
        return json_response({run_id: run_progress(roots_.resolve(run_id)) for run_id in ids})

    async def http_error(request: Request, exc: HTTPException) -> Response:
        return json_response({"error": exc.detail}, exc.status_code)

    routes = [
        Route("/", index),
        Route("/api/runs", runs),
        Route("/api/run", run),
        Route("/api/progress", progress),
        Mount("/static", StaticFiles(directory=STATIC, follow_symlink=False), name="static"),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error})


def serve(roots: list[Path], host: str = "127.0.0.1", port: int = 8050, log_level: str = "warning") -> None:
    """Run the dashboard until Ctrl-C."""
    import uvicorn

    uvicorn.run(create_app(roots), host=host, port=port, log_level=log_level, access_log=False)
