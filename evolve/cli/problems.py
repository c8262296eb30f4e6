"""``evolve problems``: every problem suite, built-in and from ``evolve.problems`` entry points."""

from __future__ import annotations

import argparse
import json

from problems.registry import describe_suites


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "problems",
        help="list problem suites with their parameters, defaults and source",
        description="List every problem suite (built-in and third-party entry points) with its "
        "parameters (type, default), description and source. Use a suite with "
        "`evolve eval PROGRAM --problem NAME --param key=value`.",
    )
    p.add_argument("--json", action="store_true", help="print a JSON list of suites")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    records = describe_suites()
    if args.json:
        print(json.dumps(records, indent=1))
        return 0
    for index, record in enumerate(records):
        if index:
            print()
        print(f"{record['name']}  [{record['source']}]")
        print(f"  {record['description']}")
        if not record["params"]:
            print("  (no parameters)")
        width = max((len(name) for name in record["params"]), default=0)
        for name, param in record["params"].items():
            print(f"  --param {name:<{width}}  {param['type']:<5}  default {param['default']!r}")
    return 0
