"""``evolve show | export | report | compare``: inspecting discovered algorithms."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from evolve.errors import EvolveError

FORMATS = ("text", "pruned", "math", "latex", "python")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="print a program: text, pruned, math, LaTeX or Python")
    p.add_argument("program", metavar="RUN_DIR|PROGRAM.txt")
    p.add_argument("--format", choices=FORMATS, default="pruned", help="view (default: pruned)")
    p.add_argument("--eval-type", choices=("rms", "accuracy"), default=None,
                   help="task type for a bare program file (a run directory knows its own)")
    p.set_defaults(func=run_show)

    p = sub.add_parser("export", help="write a standalone NumPy module with a fit/predict estimator")
    p.add_argument("program", metavar="RUN_DIR|PROGRAM.txt")
    p.add_argument("--to", choices=("python",), default="python")
    p.add_argument("-o", "--output", help="file to write (default: stdout)")
    p.add_argument("--eval-type", choices=("rms", "accuracy"), default=None)
    p.add_argument("--class-name", default="DiscoveredAlgorithm")
    p.add_argument("--plain", action="store_true",
                   help="the bare executor class (fit on prepared features) instead of the "
                        "scikit-learn estimator")
    p.set_defaults(func=run_export)

    p = sub.add_parser("report", help="write report.md and report.html into a run directory")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--tasks", type=int, default=None, help="final tasks in the table (default: config)")
    p.add_argument("--no-baselines", action="store_true", help="skip the baseline rows")
    p.add_argument("--no-findings", action="store_true",
                   help="skip ablation, coupling, lineage and the generalization probe")
    p.set_defaults(func=run_report)

    p = sub.add_parser("compare", help="score programs and baselines side by side on the same tasks")
    p.add_argument("programs", nargs="+", metavar="PROGRAM")
    p.add_argument("--problem", required=True, help="problem suite (`evolve problems` lists them)")
    p.add_argument("--param", action="append", default=[], metavar="K=V", help="suite parameter")
    p.add_argument("--split", choices=("search", "select", "final"), default="final")
    p.add_argument("--tasks", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-abs-error", type=float, default=100.0)
    p.add_argument("--no-baselines", action="store_true")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_compare)


def _eval_type(source, requested):
    from evolve.analysis.load import eval_type_of

    return requested or eval_type_of(source)


def render(source, fmt: str, eval_type: str) -> str:
    from primitives.prune import prune
    from primitives.text import format_program

    if fmt == "text":
        return format_program(source.program)
    pruned = prune(source.program)
    if fmt == "pruned":
        return format_program(pruned)
    from evolve.analysis.math_view import program_math

    math = program_math(pruned, eval_type)
    if fmt == "math":
        return math.to_text()
    if fmt == "latex":
        return math.to_latex()
    from evolve.analysis.export import export_python

    return export_python(pruned, eval_type=eval_type, memory=source.memory,
                         math_text=math.to_text(), **_max_error(source))


def _max_error(source) -> dict:
    if source.config is None:
        return {}
    return {"max_abs_error": source.config.evaluation.max_abs_error}


def run_show(args: argparse.Namespace) -> int:
    from evolve.analysis.load import load_source

    source = load_source(args.program)
    text = render(source, args.format, _eval_type(source, args.eval_type))
    if sys.stdout.isatty() and args.format in ("text", "pruned", "math"):
        from evolve.analysis.highlight import highlight

        text = highlight(text)
    sys.stdout.write(text)
    return 0


def run_export(args: argparse.Namespace) -> int:
    from evolve.analysis.export import export_python
    from evolve.analysis.load import load_source
    from evolve.analysis.math_view import program_math
    from primitives.prune import prune

    source = load_source(args.program)
    eval_type = _eval_type(source, args.eval_type)
    if not args.class_name.isidentifier():
        raise EvolveError(f"--class-name {args.class_name!r}: must be a Python identifier")
    pruned = prune(source.program)
    if args.plain:
        text = export_python(pruned, eval_type=eval_type, memory=source.memory,
                             class_name=args.class_name,
                             math_text=program_math(pruned, eval_type).to_text(), **_max_error(source))
    else:  # a scikit-learn estimator (evolve/analysis/export_estimator.py)
        from evolve.analysis.export_estimator import estimator_source, run_estimator_source

        if args.class_name.startswith("_"):
            raise EvolveError(f"--class-name {args.class_name!r}: must not start with '_'")
        if source.run_dir is not None:
            text = run_estimator_source(source.run_dir, class_name=args.class_name,
                                        eval_type=args.eval_type)
        else:
            text = estimator_source(pruned, eval_type=eval_type, memory=source.memory,
                                    class_name=args.class_name,
                                    math_text=program_math(pruned, eval_type).to_text())
    if args.output:
        Path(args.output).write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def run_report(args: argparse.Namespace) -> int:
    from evolve.analysis.report import build_report

    md, html = build_report(args.run_dir, n_tasks=args.tasks, baselines=not args.no_baselines,
                            findings=not args.no_findings)
    print(f"wrote {md} and {html}")
    return 0


def _params(items: list[str]) -> dict:
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise EvolveError(f"--param {item!r}: expected KEY=VALUE")
        params[key.strip()] = value.strip()
    return params


def run_compare(args: argparse.Namespace) -> int:
    from evolve.analysis.baselines import compare, format_table
    from evolve.analysis.load import load_source
    from problems.registry import get_tasks, make_suite

    if args.tasks < 1:
        raise EvolveError(f"--tasks {args.tasks}: must be at least 1")
    programs = {}
    for path in args.programs:
        source = load_source(path)
        name = str(path)
        programs[name] = source.program
    tasks = get_tasks(make_suite(args.problem, _params(args.param)), args.split, args.tasks,
                      args.seed)
    scores = compare(programs, tasks, max_abs_error=args.max_abs_error,
                     baselines=not args.no_baselines)
    if args.json:
        print(json.dumps({"problem": args.problem, "split": args.split, "tasks": len(tasks),
                          "eval_type": tasks[0].eval_type,
                          "scores": [s.as_dict() for s in scores]}, indent=1))
    else:
        print(f"{args.problem} {args.split} split, {len(tasks)} tasks ({tasks[0].eval_type})")
        sys.stdout.write(format_table(scores))
    return 0
