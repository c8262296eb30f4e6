"""Acceptance campaign for issue 15: ``evolve run`` killed with SIGKILL at random times, resumed,
compared with the uninterrupted run; work lost per kill and processes left behind.

    python tests/kill_campaign.py --runs 20 --early 5 --worker-runs 5 --out /tmp/kills

Each killed run is resumed with ``evolve resume`` (or, killed before it wrote its config, run
again into the same ``--out``); its summary counts, ``best.txt`` and hall of fame must equal the
uninterrupted run of the same seed. Work lost = the last progress row written before the kill
minus the checkpoint the resume started from (progress rows every 0.2 s: a lower bound within
0.2 s). Processes left = children of the killed run still alive 10 s after the kill.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent


def run_args(seed: int, out: Path, evaluations: int, workers: int) -> list[str]:
    args = [sys.executable, "-m", "evolve.cli", "run", "linear-demo", "--quiet", "--seed", str(seed),
            "--out", str(out), "--max-evaluations", str(evaluations), "--set", "campaign.progress_seconds=0.2"]
    return args + (["--workers", str(workers)] if workers > 1 else [])


def result(run_dir: Path) -> dict:
    summary = json.loads((run_dir / "summary.json").read_text())
    keys = ("individuals", "evaluations", "search_fitness", "select_fitness", "final_fitness", "experiments", "success")
    return {"summary": {k: summary[k] for k in keys}, "best": (run_dir / "best.txt").read_text(),
            "hof": (run_dir / "hall_of_fame.txt").read_text()}


def last_progress(run_dir: Path) -> tuple[int, float]:
    path = run_dir / "progress.csv"
    if not path.exists():
        return 0, 0.0
    rows = [line.split(",") for line in path.read_text().splitlines()[1:] if line.count(",") >= 7]
    return (int(rows[-1][1]), float(rows[-1][3])) if rows else (0, 0.0)


def checkpoint_point(run_dir: Path) -> tuple[int, float] | None:
    for name in ("checkpoint.npz", "checkpoint.prev.npz"):
        path = run_dir / name
        if path.exists():
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(data["meta"].tobytes())
            return int(meta["individuals"]), float(meta["seconds"])
    return None


def alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--early", type=int, default=5, help="of --runs, killed in the first 3 s")
    parser.add_argument("--worker-runs", type=int, default=5)
    parser.add_argument("--evaluations", type=int, default=400_000)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("/tmp/kill_campaign"))
    parser.add_argument("--rng", type=int, default=15)
    args = parser.parse_args()
    rng = np.random.default_rng(args.rng)
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    references: dict[tuple[int, int], tuple[dict, float]] = {}
    rows = []
    plan = [(i, 1) for i in range(args.runs)] + [(args.runs + i, 2) for i in range(args.worker_runs)]
    for trial, workers in plan:
        seed = 1 + trial % args.seeds
        if (seed, workers) not in references:
            ref = args.out / f"ref-s{seed}-w{workers}"
            began = time.monotonic()
            subprocess.run(run_args(seed, ref, args.evaluations, workers), cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            references[(seed, workers)] = (result(ref), time.monotonic() - began)
        reference, wall = references[(seed, workers)]
        early = workers == 1 and trial < args.early
        delay = float(rng.uniform(0.0, 3.0)) if early else float(rng.uniform(3.0, max(3.5, 0.9 * wall)))
        part = args.out / f"kill{trial:02d}-s{seed}-w{workers}"
        proc = subprocess.Popen(run_args(seed, part, args.evaluations, workers), cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        parent = psutil.Process(proc.pid)
        children = parent.children(recursive=True)
        finished = proc.poll() is not None
        proc.kill()
        proc.wait()
        killed = time.monotonic()
        killed_at = last_progress(part)
        point = checkpoint_point(part) if part.exists() else None
        if point is None and not (part / "config.toml").exists():
            how = "run again"
            again = subprocess.run(run_args(seed, part, args.evaluations, workers), cwd=ROOT,
                                   capture_output=True, text=True)
        else:
            how = "resume"
            again = subprocess.run([sys.executable, "-m", "evolve.cli", "resume", str(part), "--quiet"], cwd=ROOT,
                                   capture_output=True, text=True)
        ok = again.returncode == 0 and result(part) == reference
        lost_ind = max(0, killed_at[0] - (point or (0, 0.0))[0])
        lost_s = max(0.0, killed_at[1] - (point or (0, 0.0))[1])
        time.sleep(max(0.0, killed + 10.0 - time.monotonic()))
        left = [c.pid for c in children if alive(c)]
        for pid in left:
            psutil.Process(pid).kill()
        rows.append({"trial": trial, "seed": seed, "workers": workers, "kill_s": round(delay, 2),
                     "finished_before_kill": finished, "how": how, "identical": ok,
                     "lost_individuals": lost_ind, "lost_seconds": round(lost_s, 2), "children": len(children),
                     "left": len(left), "error": "" if again.returncode == 0 else again.stderr[-300:]})
        print(json.dumps(rows[-1]), flush=True)
    lost = [r["lost_individuals"] for r in rows]
    lost_s = [r["lost_seconds"] for r in rows]
    print(json.dumps({
        "runs": len(rows), "identical": sum(r["identical"] for r in rows),
        "early_kills": sum(r["kill_s"] < 3 for r in rows),
        "lost_individuals_median": statistics.median(lost), "lost_individuals_max": max(lost),
        "lost_seconds_median": statistics.median(lost_s), "lost_seconds_max": max(lost_s),
        "processes_left": sum(r["left"] for r in rows),
    }))
    return 0 if all(r["identical"] and not r["left"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
