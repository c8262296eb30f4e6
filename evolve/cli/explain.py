"""``evolve explain``: which instructions and constants a discovered algorithm depends on
(knock-outs and constant sweeps, :mod:`evolve.analysis.knockouts`) and which of its scalars couple
a learning rate to the data's size (:mod:`evolve.analysis.decouple`)."""

from __future__ import annotations

import argparse
import json
import sys

from evolve.errors import EvolveError
from problems.task import SPLITS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain", help="ablation: knock-outs, constant sweeps, hyperparameter coupling",
        description="Knock out every live instruction (-> NoOp) and sweep every constant on a log "
        "scale, all in one interpreter call; rank what matters and mark it in the pruned program "
        "and the math. Also finds scalars computed from data or F-sized memory (norms, means, "
        "std, dot products) used as a learning rate or scale, and scores the decoupled program.")
    p.add_argument("program", metavar="RUN_DIR|PROGRAM")
    p.add_argument("--problem", metavar="NAME",
                   help="problem suite (default: the run directory's own)")
    p.add_argument("--param", action="append", default=[], metavar="K=V", help="suite parameter")
    p.add_argument("--split", choices=SPLITS, default="select", help="task split (default select)")
    p.add_argument("--tasks", type=int, metavar="N",
                   help="number of tasks (default: the run's count for the split, else 20)")
    p.add_argument("--seed", type=int, metavar="S", help="task seed (default: the run's, else 0)")
    p.add_argument("--vary", metavar="KEY=V1,V2,...",
                   help="also score the program and its decoupled form with this suite parameter "
                   "set to each value, e.g. features_size=8,16,32")
    p.add_argument("--probe", action="store_true",
                   help="also the generalization probe: other F, more examples and epochs, "
                   "another dataset, against the baselines (final split, 10 tasks)")
    p.add_argument("--no-math", action="store_true", help="skip marking the math (SymPy)")
    p.add_argument("--changes", action="store_true",
                   help="only what evolution changed: the difference from the starting program "
                   "(or the nearest shipped one), each change knocked out alone, and the gain "
                   "split into constants and structure (evolve/analysis/changes.py)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def resolve_tasks(args: argparse.Namespace, source) -> tuple[object, dict, float, str]:
    """``(suite, params, max_abs_error, reduction)`` and sets ``args.tasks``/``args.seed``:
    from ``--problem`` when given, else from the run directory's config."""
    from evolve.cli.eval import parse_params
    from problems.registry import make_suite

    config = source.config
    if args.tasks is not None and args.tasks < 1:
        raise EvolveError(f"--tasks {args.tasks}: must be at least 1")
    if args.problem is None:
        if config is None:
            raise EvolveError(f"{args.program}: a program file needs --problem NAME "
                              "(a run directory knows its own)")
        params = {**config.problem.params}
        if args.split != "search":
            params.update(config.problem.select)
        params.update(parse_params(args.param))
        name = config.problem.name
        n = getattr(config.tasks, args.split)
        seed = config.seed
        max_abs_error, reduction = config.evaluation.max_abs_error, config.evaluation.reduction
    else:
        name, params = args.problem, parse_params(args.param)
        n, seed, max_abs_error, reduction = 20, 0, 100.0, "mean"
    args.tasks = n if args.tasks is None else args.tasks
    args.seed = seed if args.seed is None else args.seed
    args.problem_name = name
    return make_suite(name, params), params, max_abs_error, reduction


def parse_vary(text: str) -> tuple[str, list[str]]:
    key, sep, values = text.partition("=")
    items = [v.strip() for v in values.split(",") if v.strip()]
    if not sep or not key.strip() or not items:
        raise EvolveError(f"--vary {text!r}: expected KEY=V1,V2,..., e.g. features_size=8,16,32")
    return key.strip(), items


def run(args: argparse.Namespace) -> int:
    from evolve.analysis import knockouts as ab
    from evolve.analysis.decouple import decouple_report, format_decoupling
    from evolve.analysis.load import load_source
    from evolve.evaluation.scoring import TaskBatch
    from problems.registry import get_tasks

    if args.changes:
        return run_changes_command(args)
    vary = parse_vary(args.vary) if args.vary else None
    source = load_source(args.program)
    suite, params, max_abs_error, reduction = resolve_tasks(args, source)
    if vary is not None:
        from problems.registry import make_suite

        allowed = type(suite).parameters()
        if vary[0] not in allowed:
            raise EvolveError(f"--vary {vary[0]!r}: not a parameter of {args.problem_name!r}; "
                              f"allowed: {', '.join(allowed)}")
        for value in vary[1]:
            make_suite(args.problem_name, {**params, vary[0]: value})  # a bad value fails here
    tasks = get_tasks(suite, args.split, args.tasks, args.seed)
    batch = TaskBatch.from_tasks(tasks)
    eval_type = batch.eval_type
    program, memory = source.program, source.memory
    result = ab.ablate(program, batch, memory, max_abs_error=max_abs_error, reduction=reduction)
    math_lines = None if args.no_math else ab.marked_math(program, result, eval_type)
    coupling = decouple_report(program, memory, args.problem_name, params, args.split,
                               args.tasks, args.seed, vary=vary, max_abs_error=max_abs_error,
                               reduction=reduction)
    rows = None
    if args.probe:
        from evolve.analysis.generalize import probe

        rows, probe_seconds = probe(program, memory, args.problem_name, params, seed=args.seed,
                                    max_abs_error=max_abs_error, reduction=reduction)
    where = (f"{args.problem_name} {args.split} split, {batch.num_tasks} tasks "
             f"(seed {args.seed}, {eval_type})")
    if args.json:
        out = {"program": str(args.program), "tasks": where, **result.as_dict(),
               "summary": ab.dependence_summary(result), "decoupling": coupling.as_dict()}
        if math_lines is not None:
            out["math"] = {"lines": [{"line": line, "changed_by": [k.rank for k in ks]}
                                     for line, ks in math_lines.lines],
                           "structural": [k.rank for k in math_lines.structural]}
        if rows is not None:
            out["probe"] = {"seconds": probe_seconds, "rows": [r.as_dict() for r in rows]}
        print(json.dumps(out, indent=1))
        return 0
    w = sys.stdout.write
    w(f"{args.program}: fitness {result.fitness:.4f} on {where}\n")
    w(f"{result.variants} variants in one interpreter call, {result.seconds:.2f} s\n\n")
    w("Knock-outs (instruction -> NoOp), most harmful first:\n")
    w(ab.knockout_table(result))
    w("\nConstant sweeps (fitness with the constant multiplied by each factor):\n")
    w(ab.constant_table(result))
    w("\nPruned program, marked (★ essential, + helps, · no effect, ! harmful):\n")
    w(ab.marked_program(program, result))
    if math_lines is not None:
        w("\nMath, each line with the knock-outs that change it:\n")
        w(ab.format_marked_math(math_lines))
    w("\n" + ab.dependence_summary(result) + "\n\n")
    w(format_decoupling(coupling))
    if rows is not None:
        from evolve.analysis.generalize import format_probe, summary

        w(f"\nGeneralization probe (final split, 10 tasks each, {probe_seconds:.1f} s):\n")
        w(format_probe(rows))
        w(summary(rows) + "\n")
    return 0


def run_changes_command(args: argparse.Namespace) -> int:
    """``evolve explain RUN --changes``."""
    import json

    from evolve.analysis.changes import run_changes, what_changed
    from evolve.analysis.load import load_source

    source = load_source(args.program)
    if source.run_dir is not None:
        result = run_changes(source.run_dir, split=args.split, n=args.tasks)
    else:  # a program file: against the nearest shipped algorithm, unscored
        result = what_changed(source.program)
    print(json.dumps(result.as_dict(), indent=1) if args.json else result.to_text(), end="")
    return 0

