"""The dashboard's JSON API and `evolve runs` on fixture run directories (issue 20)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from evolve.config import load_config
from evolve.engine.campaign import start_campaign
from evolve.rundir.read import read_csv_rows, run_info

warnings.filterwarnings("ignore", message=".*httpx.*")
from starlette.testclient import TestClient  # noqa: E402

from evolve.ui.dashboard.app import create_app  # noqa: E402

SMALL = ["search.population_size=50", "search.batch_size=25", "tasks.search=4", "tasks.select=4",
         "tasks.final=4", "campaign.success_fitness=1.0", "campaign.progress_seconds=0.01",
         "campaign.max_evaluations=3000"]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A results folder: a finished run, an island run, a run 'still running' with a half-written
    progress row, one with a corrupt summary, a stale one (killed), an NSGA-II run, an experiment."""
    base = tmp_path_factory.mktemp("results")
    finished = base / "finished"
    finished.mkdir()
    start_campaign(load_config("linear-demo", SMALL), finished, quiet=True).run()
    islands = base / "islands"
    islands.mkdir()
    start_campaign(load_config("linear-demo", [*SMALL, "campaign.islands=2", 'campaign.executor="serial"',
                                               "campaign.migration_interval=200"]), islands, quiet=True).run()
    nsga = base / "nsga2"
    nsga.mkdir()
    start_campaign(load_config("linear-demo", [*SMALL, 'search.method="nsga2"']), nsga, quiet=True).run()
    running = base / "group" / "running"
    shutil.copytree(finished, running)
    (running / "summary.json").unlink()
    (running / "best.txt").unlink()
    (running / "hall_of_fame.txt").unlink()
    with (running / "progress.csv").open("a") as handle:
        handle.write("1,4000,12")  # a row cut off mid-write
    corrupt = base / "corrupt"
    shutil.copytree(finished, corrupt)
    (corrupt / "summary.json").write_text('{"success": tru')
    stale = base / "stale"
    shutil.copytree(running, stale)
    old = time.time() - 3600
    for path in stale.iterdir():
        os.utime(path, (old, old))
    experiment = base / "exp"
    experiment.mkdir()
    (experiment / "experiment.json").write_text(json.dumps({
        "name": "rs-vs-evo", "complete": True, "comparison": None,
        "stats": {"evolution": {"runs": 8, "successes": 3, "success_rate": 0.375,
                                "success_rate_ci95": [0.137, 0.694], "median_seconds_to_success": 113.3,
                                "median_individuals_to_success": 1474500,
                                "successes_per_million_individuals": 0.174}}}))
    (base / "outside_target").mkdir()
    return base


@pytest.fixture(scope="module")
def client(root) -> TestClient:
    return TestClient(create_app([root]))


def tree_state(folder: Path) -> dict:
    return {str(p): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_runs_table_statuses(client):
    data = client.get("/api/runs").json()
    status = {run["id"]: run["status"] for run in data["runs"]}
    assert status == {"0/finished": "finished", "0/islands": "finished", "0/nsga2": "finished",
                      "0/group/running": "running", "0/corrupt": "failed", "0/stale": "failed"}
    # the page shows each run's path below the given directory, without the id's "0/" prefix
    assert {run["id"]: run["path"] for run in data["runs"]}["0/group/running"] == "group/running"
    corrupt = next(r for r in data["runs"] if r["id"] == "0/corrupt")
    assert "not valid JSON" in corrupt["reason"]
    finished = next(r for r in data["runs"] if r["id"] == "0/finished")
    summary = json.loads((Path(data["roots"][0]) / "finished" / "summary.json").read_text())
    assert finished["individuals"] == summary["individuals"]
    assert finished["final_fitness"] == pytest.approx(summary["final_fitness"])
    running = next(r for r in data["runs"] if r["id"] == "0/group/running")
    assert running["select_fitness"] == pytest.approx(summary["select_fitness"])  # from the checkpoint
    (experiment,) = data["experiments"]
    assert experiment["methods"][0]["ci95"] == [0.137, 0.694]


def test_half_written_progress_row_is_skipped(client, root):
    rows = read_csv_rows(root / "group" / "running" / "progress.csv")
    full = read_csv_rows(root / "finished" / "progress.csv")
    assert rows == full
    data = client.get("/api/progress", params={"id": "0/group/running"}).json()
    assert len(data["0/group/running"]["rows"]) == len(full)


def test_run_detail_has_math_code_and_hall_of_fame(client):
    detail = client.get("/api/run", params={"id": "0/finished"}).json()
    best = detail["best"]
    assert best["source"] == "best.txt" and "def Predict():" in best["pruned"]
    assert any(line["mathml"] and line["mathml"].startswith("<math") for line in best["math"]["lines"])
    assert detail["hall_of_fame"] and detail["hall_of_fame"][0]["rank"] == 1
    assert detail["metadata"]["packages"]["numba"]
    running = client.get("/api/run", params={"id": "0/group/running"}).json()
    assert running["best"]["source"].startswith("checkpoint") and running["hall_of_fame"]
    corrupt = client.get("/api/run", params={"id": "0/corrupt"})
    assert corrupt.status_code == 200 and corrupt.json()["info"]["status"] == "failed"


def test_pareto_front_and_islands(client):
    nsga = client.get("/api/run", params={"id": "0/nsga2"}).json()
    assert nsga["pareto_front"] and all(p["size"] >= 0 for p in nsga["pareto_front"])
    progress = client.get("/api/progress", params={"id": "0/islands"}).json()["0/islands"]
    assert set(progress["islands"]) == {"0", "1"}
    assert all(row["best_fitness"] <= 1.0 for rows in progress["islands"].values() for row in rows)


@pytest.mark.parametrize("run_id", ["0/..", "0/../outside_target", "0//etc", "0/group/../../..",
                                    "0/finished/../../..", "0/" + "/".join([".."] * 8) + "/etc"])
def test_paths_outside_the_directories_are_refused(client, run_id):
    response = client.get("/api/run", params={"id": run_id})
    assert response.status_code == 403, response.text


def test_symlink_out_is_refused(client, root, tmp_path):
    target = tmp_path / "elsewhere"
    shutil.copytree(root / "finished", target)
    (root / "link").symlink_to(target)
    try:
        assert client.get("/api/run", params={"id": "0/link"}).status_code == 403
        assert "0/link" not in {r["id"] for r in client.get("/api/runs").json()["runs"]}
    finally:
        (root / "link").unlink()


def test_unknown_ids_and_methods(client):
    assert client.get("/api/run", params={"id": "0/nope"}).status_code == 404
    assert client.get("/api/run", params={"id": "7/finished"}).status_code == 404
    assert client.get("/api/run").status_code == 400
    assert client.get("/api/progress", params=[("id", "0/finished")] * 17).status_code == 400
    assert client.post("/api/runs").status_code == 405
    assert client.get("/static/../app.py").status_code == 404


def test_dashboard_never_writes(client, root):
    before = tree_state(root)
    client.get("/")
    client.get("/api/runs")
    for run in client.get("/api/runs").json()["runs"]:
        client.get("/api/run", params={"id": run["id"]})
        client.get("/api/progress", params={"id": run["id"]})
    assert tree_state(root) == before


ALPHABET = st.sampled_from([*"0123456789abcdefz./\\%?&=#~ \x00é", "..", "%2e%2e", "%2f", "finished",
                            "group", "running", "api", "static"])


@given(path=st.lists(ALPHABET, max_size=12).map("".join),
       params=st.lists(st.tuples(st.sampled_from(["id", "since", "x", "id[]"]),
                                 st.lists(ALPHABET, max_size=10).map("".join)), max_size=4))
@example(path="///", params=[])  # found by CI: a path the client had refused to send
@example(path="//static/..%2f..%2fapp.py", params=[("id", "../../..")])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_fuzzed_requests_never_fail_on_the_server(client, path, params):
    for prefix in ("/", "/api/", "/api/run?", "/api/progress?", "/static/"):
        query = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in params)
        # An absolute URL: a relative one whose path starts with "//" is a network-path reference that
        # the client refuses to send (RFC 3986 section 4.2); the server must still see such paths.
        url = "http://testserver" + prefix + (quote(path, safe="/%?&=") if not prefix.endswith("?") else query)
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code, response.text[:300])
        if prefix.startswith("/api/") and response.headers.get("content-type", "").startswith("application/json"):
            json.loads(response.text)


def test_run_info_of_empty_and_garbage_folders(tmp_path):
    (tmp_path / "config.toml").write_text("not [toml")
    (tmp_path / "progress.csv").write_bytes(b"\xff\xfe garbage\n1,2\n")
    info = run_info(tmp_path)
    assert info.status == "running" and info.individuals is None


def test_evolve_runs_cli(root):
    out = subprocess.run([sys.executable, "-m", "evolve.cli", "runs", str(root), "--json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert {r["status"] for r in rows} == {"finished", "running", "failed"}
    table = subprocess.run([sys.executable, "-m", "evolve.cli", "runs", str(root)], capture_output=True,
                           text=True, timeout=120)
    assert "running" in table.stdout and "corrupt" in table.stdout
    bad = subprocess.run([sys.executable, "-m", "evolve.cli", "runs", str(root / "nope")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "not a directory" in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "evolve.cli", "dashboard", str(root), "--port", "70000"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--port 70000" in bad.stderr


FILE_TEXT = st.one_of(st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
                      st.sampled_from(['{"success": true, "stopped_by": "success", "seed": "x"}', "[1, 2]",
                                       '{"individuals": 1e400, "metadata": {"git": 5, "packages": []}}',
                                       "experiment,individuals\n1,2\n1,nan\n", "# rank 1 fitness nan\ndef Setup():\n",
                                       "# point 0 fitness 1.0 size 3\ndef Setup():\ndef Predict():\ndef Learn():\n",
                                       'name = 5\n[campaign]\nprogress_seconds = "fast"\n']))


@given(files=st.dictionaries(st.sampled_from(["config.toml", "summary.json", "progress.csv", "islands.csv",
                                               "best.txt", "hall_of_fame.txt", "pareto_front.txt",
                                               "checkpoint.npz", "experiment.json"]), FILE_TEXT, max_size=9))
@settings(max_examples=60, deadline=None)
def test_garbage_run_directories_never_break_the_readers(tmp_path_factory, files):
    from evolve.ui.dashboard.data import dumps, experiment_detail, run_detail, run_progress

    folder = tmp_path_factory.mktemp("garbage")
    (folder / "config.toml").write_text("")
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8", errors="replace")
    info = run_info(folder)
    assert info.status in ("running", "finished", "interrupted", "failed")
    json.loads(dumps(run_detail(folder)))
    json.loads(dumps(run_progress(folder)))
    json.loads(dumps(experiment_detail(folder)))


def test_a_runaway_simplification_never_holds_a_request(monkeypatch) -> None:
    """The math is computed off the request's thread: a request waits at most ``wait`` seconds,
    gets a placeholder, and a later request finds the math once it is done."""
    import threading
    import time

    from evolve.ui.dashboard import data as dashboard_data
    from primitives.text import parse_program

    release = threading.Event()

    def slow_typeset(program, eval_type):
        release.wait(10)
        return {"text": "done", "lines": []}

    monkeypatch.setattr(dashboard_data, "typeset", slow_typeset)
    cache = dashboard_data.MathCache(wait=0.2)
    program = parse_program("def Setup():\ndef Predict():\n  s1 = dot(v0, v0)\ndef Learn():\n")
    start = time.monotonic()
    first = cache.get(program, "rms")
    assert time.monotonic() - start < 2.0 and first.get("pending") is True
    release.set()
    for _ in range(100):
        if cache.get(program, "rms")["text"] == "done":
            break
        time.sleep(0.05)
    assert cache.get(program, "rms") == {"text": "done", "lines": []}
