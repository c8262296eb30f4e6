"""``evolve ops``: the instruction set, from the op table."""

from __future__ import annotations

import argparse
import json

from primitives.memory import KIND_LETTERS
from primitives.ops import OPS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ops", help="list the 65 ops (code, name, text form)")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=run)


def _example(op) -> str:
    fields = {f"c{i}": "c" + str(i) for i in range(len(op.constants))}
    if op.output is not None:
        fields["out"] = f"{KIND_LETTERS[op.output]}{'2' if op.output != 2 else '1'}"
    for slot, kind in zip(("in1", "in2"), op.inputs, strict=False):
        fields[slot] = f"{KIND_LETTERS[kind]}{'3' if slot == 'in1' else '1'}"
    return op.text.format(**fields)


def run(args: argparse.Namespace) -> int:
    if args.json:
        rows = [
            {"code": op.code, "name": op.name, "text": op.text, "inputs": [KIND_LETTERS[k] for k in op.inputs],
             "output": None if op.output is None else KIND_LETTERS[op.output],
             "constants": list(op.constants)}
            for op in OPS
        ]
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{'code':>4}  {'name':<24} text")
    for op in OPS:
        print(f"{op.code:>4}  {op.name:<24} {_example(op)}")
    return 0
