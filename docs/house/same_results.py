"""Seeded results of one checkout, as digests: run ``PYTHONPATH=CHECKOUT python same_results.py OUT``
on two checkouts and compare the printed lines (linear-demo seeds 1-3, four islands, NSGA-II).

Each run's ``best.txt``, ``hall_of_fame.txt`` and ``summary.json`` (all but its clock and
machine fields) are hashed; equal digests mean the same search, bit for bit."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

RUNS = {
    "linear-demo-s1": ["linear-demo", "--seed", "1", "--max-evaluations", "300000"],
    "linear-demo-s2": ["linear-demo", "--seed", "2", "--max-evaluations", "300000"],
    "linear-demo-s3": ["linear-demo", "--seed", "3", "--max-evaluations", "300000"],
    "islands-4": ["linear-demo", "--seed", "1", "--max-evaluations", "200000", "--set",
                  "campaign.islands=4", "--set", 'campaign.executor="serial"'],
    "nsga2": ["linear-demo", "--seed", "1", "--max-evaluations", "40000", "--set",
              'search.method="nsga2"'],
}
CLOCK = ("seconds", "individuals_per_second", "seconds_to_success", "started", "finished",
         "machine", "versions", "git", "python", "select_seconds", "wall_seconds", "time",
         "compile_seconds", "evaluator_seconds", "timings", "run_dir", "command", "metadata",
         "unchanged_start")  # metadata: versions, commit, command line; unchanged_start: newer field


def digest(run_dir: Path) -> str:
    summary = json.loads((run_dir / "summary.json").read_text())
    kept = {k: v for k, v in summary.items() if not any(c in k for c in CLOCK)}
    h = hashlib.sha256(json.dumps(kept, sort_keys=True).encode())
    for name in ("best.txt", "hall_of_fame.txt"):
        h.update((run_dir / name).read_bytes())
    return f"{h.hexdigest()[:16]} individuals={summary.get('individuals')} final={summary.get('final_fitness')}"


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, args in RUNS.items():
        run_dir = out / name
        if not (run_dir / "summary.json").exists():
            subprocess.run([sys.executable, "-m", "evolve.cli", "run", *args, "--quiet", "--out",
                            str(run_dir)], check=True, stdout=subprocess.DEVNULL)
        print(name, digest(run_dir), flush=True)


if __name__ == "__main__":
    main()
