"""``evolve retune RUN_DIR``: the run's algorithm and the baselines, equally tuned, on final tasks.

AutoML-Zero §4.2: the discovered algorithm's constants are re-tuned by random search on the
select tasks (log-scale x[1e-3, 1e3], :mod:`evolve.studies.retune`); logistic SGD and the 2-layer network
get the same number of trials for their learning rates and initial scales, on the same select
tasks. Every tuned program is then scored once on the run's final tasks (held out from search,
selection and tuning), next to scikit-learn's LogisticRegression and MLPClassifier fitted on the
same train examples. The paired 95% interval of the per-task difference to each tuned baseline
says whether a lead is more than noise. Writes ``retune.json``, ``retune.md`` and ``retuned.txt``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from evolve.analysis.baselines import score_sklearn
from evolve.analysis.load import final_tasks, load_source
from evolve.errors import EvolveError
from evolve.evaluation.evaluator import op_costs, program_cost
from evolve.evaluation.scoring import TaskBatch, per_task_fitness, reduce_fitness
from evolve.reference_programs import load_algorithm
from evolve.rundir.store import atomic_write_text, write_json
from evolve.studies.retune import clustered_interval, paired_interval, retune
from primitives.memory import MemorySpec
from primitives.text import format_program

# The hand-designed baselines, each tuned with the same trials as the evolved program: logistic
# SGD without and with a bias, the 2-layer network without and with biases, and with momentum.
BASELINES = ("logistic_sgd", "affine_sgd", "nn_2layer", "nn_2layer_bias", "nn_2layer_momentum")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "retune",
        help="re-tune a run's algorithm and the baselines equally; compare on final tasks",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="run directory (best.txt + config.toml)")
    p.add_argument("--trials", type=int, default=100, metavar="N",
                   help="tuning trials per method, the untouched program included (default 100)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the trials (default 0)")
    p.add_argument("--final-tasks", type=int, metavar="N",
                   help="final tasks to score on (default: the run's tasks.final)")
    p.add_argument("--no-sklearn", action="store_true", help="skip the scikit-learn references")
    p.add_argument("--quiet", action="store_true", help="no table; print the JSON summary")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.trials <= 100_000:
        raise EvolveError(f"--trials {args.trials}: must be in [1, 100000]")
    if args.final_tasks is not None and not 2 <= args.final_tasks <= 100_000:
        raise EvolveError(f"--final-tasks {args.final_tasks}: must be in [2, 100000]")
    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise EvolveError(f"{run_dir}: not a run directory")
    source = load_source(run_dir)
    if source.config is None:
        raise EvolveError(f"{run_dir}: no config.toml: cannot rebuild the run's tasks")
    summary = compare_tuned(source.program, source.config, source.memory, args.trials, args.seed,
                            args.final_tasks, sklearn=not args.no_sklearn)
    write_json(run_dir / "retune.json", summary)
    atomic_write_text(run_dir / "retune.md", markdown(summary))
    header = (f"# `evolve retune` of {run_dir.name}: {args.trials} trials, seed {args.seed}\n"
              f"# select fitness {summary['methods']['evolved']['select_after']!r}\n"
              f"# final fitness {summary['methods']['evolved']['final']!r}\n")
    atomic_write_text(run_dir / "retuned.txt", header + summary.pop("_retuned_text"))
    print(json.dumps(summary, indent=1) if args.quiet else markdown(summary), end="")
    return 0


def compare_tuned(program, config, memory: MemorySpec, trials: int, seed: int,
                  final_count: int | None = None, sklearn: bool = True) -> dict:
    """Tune the program and each baseline with ``trials`` trials on the select tasks; score all
    on the final tasks. Returns the summary dict (per method: select before/after, final mean,
    std, worst task; the paired intervals to each tuned baseline; the compute-cost ratio)."""
    e = config.evaluation
    select = TaskBatch.from_tasks(final_tasks(config, "select", config.tasks.select))
    tasks = final_tasks(config, "final", final_count or config.tasks.final)
    final = TaskBatch.from_tasks(tasks)
    methods = {"evolved": (program, memory)}
    for name in BASELINES:
        baseline = load_algorithm(name)
        methods[name] = (baseline, baseline.required_memory())
    out: dict = {"trials": trials, "seed": seed, "select_tasks": select.num_tasks,
                 "final_tasks": final.num_tasks, "methods": {}}
    per_task = {}
    for index, (name, (prog, mem)) in enumerate(methods.items()):
        # each method its own stream, so adding a method changes no other's trials
        rng = np.random.default_rng([seed, index])
        tuned = retune(prog, select, mem, trials, rng, reduction=e.reduction,
                       max_abs_error=e.max_abs_error)
        for label, candidate in (("untuned", prog), ("tuned", tuned.program)):
            scores, _ = per_task_fitness([candidate], final, mem, max_abs_error=e.max_abs_error)
            per_task[(name, label)] = scores[0]
        final_scores = per_task[(name, "tuned")]
        out["methods"][name] = {
            "select_before": tuned.select_before, "select_after": tuned.select_after,
            "final_untuned": float(reduce_fitness(per_task[(name, "untuned")][None], e.reduction)[0]),
            "final": float(reduce_fitness(final_scores[None], e.reduction)[0]),
            "final_std": float(final_scores.std()), "final_min": float(final_scores.min()),
            "tunable_constants": tuned.tunable,
        }
        if name == "evolved":
            out["_retuned_text"] = format_program(tuned.program)
            retuned_program = tuned.program
    clusters = _task_clusters(config, final.num_tasks)
    for name in BASELINES:
        mean, low, high = paired_interval(per_task[("evolved", "tuned")], per_task[(name, "tuned")])
        out[f"evolved_minus_{name}"] = {"mean": mean, "low": low, "high": high}
        if clusters is not None:
            c_mean, c_low, c_high, k = clustered_interval(per_task[("evolved", "tuned")],
                                                          per_task[(name, "tuned")], clusters)
            out[f"evolved_minus_{name}"]["clustered"] = {"mean": c_mean, "low": c_low,
                                                         "high": c_high, "clusters": k}
    strongest = max(BASELINES, key=lambda n: out["methods"][n]["final"])
    out["strongest_tuned_baseline"] = strongest
    costs = op_costs(final.features_size)
    shape = (final.train_x.shape[1], final.valid_x.shape[1], final.num_epochs)
    out["cost_ratio_to_nn_2layer"] = (program_cost(retuned_program, costs, *shape)
                                      / program_cost(load_algorithm("nn_2layer"), costs, *shape))
    if sklearn:
        out["sklearn"] = {s.name: {"final": s.fitness, "final_std": float(s.per_task.std())}
                          for s in score_sklearn(tasks, max_abs_error=e.max_abs_error, strong=True)}
    return out


def _task_clusters(config, n: int) -> list | None:
    """Each final task's class pair (the unit an interval should be clustered by), or None for a
    suite without pairs."""
    from evolve.analysis.load import suite_of

    suite = suite_of(config)
    if suite is None or not hasattr(suite, "task_pairs"):
        return None
    pairs = suite.task_pairs("final", n, config.seed)
    return None if any(p is None for p in pairs) else [tuple(p) for p in pairs]


def markdown(summary: dict) -> str:
    """The summary as a markdown table (final fitness over the final tasks)."""
    lines = [
        f"Tuned with {summary['trials']} trials each on {summary['select_tasks']} select tasks; "
        f"scored on {summary['final_tasks']} final tasks.",
        "",
        "| method | select untuned | select tuned | final untuned | final tuned | std | worst |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, m in summary["methods"].items():
        lines.append(f"| {name} | {m['select_before']:.4f} | {m['select_after']:.4f} | "
                     f"{m['final_untuned']:.4f} | {m['final']:.4f} | {m['final_std']:.4f} | "
                     f"{m['final_min']:.4f} |")
    for name, m in summary.get("sklearn", {}).items():
        lines.append(f"| {name} (sklearn) | | | | {m['final']:.4f} | {m['final_std']:.4f} | |")
    lines.append("")
    for name in BASELINES:
        d = summary[f"evolved_minus_{name}"]
        line = (f"- evolved - tuned {name}: {100 * d['mean']:+.2f} points "
                f"(95% interval per task {100 * d['low']:+.2f} to {100 * d['high']:+.2f}")
        if "clustered" in d:
            c = d["clustered"]
            line += (f"; clustered by class pair, {c['clusters']} pairs: {100 * c['low']:+.2f} "
                     f"to {100 * c['high']:+.2f}")
        lines.append(line + ")")
    lines.append(f"- strongest tuned baseline: {summary['strongest_tuned_baseline']}")
    lines.append(f"- compute cost: {summary['cost_ratio_to_nn_2layer']:.2f}x nn_2layer's")
    return "\n".join(lines) + "\n"
