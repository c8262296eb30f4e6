"""Where the interpreter's time goes, op by op: each program timed alone, then a least-squares fit
of its time on the counts of its live ops per component (README, "Speed").

    python docs/bench/op_costs.py            # bench D's fully evaluated programs (10,000 individuals)
    python docs/bench/op_costs.py --scenario B

D: the programs that bench D's search evaluates in full (captured from a seeded ``digits-demo``
search through the campaign API); B: 1,500 random programs of bench B. Programs that stop early on
some task (NaN, ``|error| > max_abs_error``) are left out, since their time is not their ops'.
Costs are printed per execution of the op for all tasks of one example ("ns/task-example"
divides by tasks x examples); shares are of the summed time of the programs kept.
"""

from __future__ import annotations

import argparse
import collections
import time

import numpy as np
from replay_d import capture  # this folder's other script (on sys.path when run as a script)

import evolve.evaluation.scoring as scoring
from evolve.bench.throughput import SCENARIOS, random_programs, scenario_tasks
from primitives.interpreter import EVAL_TYPE_CODES, evaluate_batch
from primitives.liveness import OP_TABLE, live_mask
from primitives.ops import OPS

NAMES = {op.code: op.name for op in OPS}


def captured_full_evaluations(individuals: int) -> list[tuple]:
    """(code, data, bounds, arrays, kwargs) of every full evaluation on the search tasks in bench
    D's search (select and final checks run on other task counts, far less often)."""
    calls = [c for c in capture(individuals) if not c[4].get("record")]
    search_tasks = collections.Counter(c[3][0].shape[0] for c in calls).most_common(1)[0][0]
    return [c for c in calls if c[3][0].shape[0] == search_tasks]


def random_calls(name: str, count: int) -> list[tuple]:
    scenario = SCENARIOS[name]
    batch = scenario_tasks(scenario)
    code, data, bounds = scoring.packed_form(random_programs(scenario, count, np.random.default_rng(1)))
    kwargs = {"eval_type": EVAL_TYPE_CODES[batch.eval_type], "num_epochs": batch.num_epochs,
              "memory": scenario.memory.as_tuple(), "task_seeds": batch.seeds}
    arrays = (batch.train_x, batch.train_y, batch.valid_x, batch.valid_y)
    return [(code, data, bounds, arrays, kwargs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=("D", "B"), default="D")
    parser.add_argument("--individuals", type=int, default=10_000, help="D's search length")
    parser.add_argument("--repeats", type=int, default=3, help="timings per program (best kept)")
    args = parser.parse_args()
    calls = captured_full_evaluations(args.individuals) if args.scenario == "D" else random_calls(args.scenario, 1500)
    rows, features = [], []
    for code, data, bounds, arrays, kwargs in calls:
        memory = kwargs["memory"]
        for p in range(len(bounds)):
            one = bounds[p : p + 1]
            fitness, _ = evaluate_batch(code, data, one, *arrays, **kwargs)
            if not (fitness > 0).all():
                continue
            setup, predict, learn, end = bounds[p]
            live = np.zeros(code.shape[0], np.bool_)
            live_mask(code, setup, predict, learn, end, *memory, OP_TABLE, live)
            counts = collections.Counter(
                ("S:" if k < predict else "P:" if k < learn else "L:") + NAMES[int(code[k, 0])]
                for k in range(setup, end) if live[k])
            rows.append((code, data, one, arrays, kwargs))
            features.append(counts)
    seconds = np.full(len(rows), np.inf)
    for _ in range(args.repeats):
        for i, (code, data, one, arrays, kwargs) in enumerate(rows):
            began = time.perf_counter()
            evaluate_batch(code, data, one, *arrays, **kwargs)
            seconds[i] = min(seconds[i], time.perf_counter() - began)
    columns = sorted({k for counts in features for k in counts})
    X = np.array([[counts.get(k, 0) for k in columns] + [1] for counts in features], float)
    coef, *_ = np.linalg.lstsq(X, seconds, rcond=None)
    shares = (X * coef).sum(axis=0) / seconds.sum()
    tasks, examples = rows[0][3][0].shape[0], rows[0][3][0].shape[1] + rows[0][3][2].shape[1]
    r2 = 1 - ((X @ coef - seconds) ** 2).sum() / ((seconds - seconds.mean()) ** 2).sum()
    print(f"{len(rows)} programs, {seconds.sum():.3f} s in all, R^2 {r2:.3f}; "
          f"ns/task-example = seconds per program / ({tasks} tasks x {examples} examples)")
    table = zip([*columns, "(per program and example)"], coef, shares, X.sum(axis=0), strict=True)
    for name, c, share, n in sorted(table, key=lambda r: -r[2]):
        print(f"{name:34s} {c / (tasks * examples) * 1e9:8.1f} ns/task-example  {share * 100:5.1f}%  n={int(n)}")


if __name__ == "__main__":
    main()
