"""``evolve problems``: every suite with its parameters, types, defaults, description and source."""

from __future__ import annotations

import json

from evolve.cli import main
from problems.registry import SUITES


def test_lists_builtin_suites_with_parameters(capsys):
    assert main(["problems"]) == 0
    out = capsys.readouterr().out
    for name, suite in SUITES.items():
        assert f"{name}  [built-in]" in out
        assert suite.description in out
    assert "projected_binary" in out and "linear" in out
    assert "--param features_size" in out and "int" in out and "default 4" in out


def test_json_lists_every_suite(capsys):
    assert main(["problems", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    by_name = {record["name"]: record for record in records}
    assert {"linear", "projected_binary"} <= set(by_name)
    assert set(SUITES) <= set(by_name)
    for record in records:
        assert set(record) == {"name", "description", "params", "source"}
        assert record["description"] and "\n" not in record["description"]
        for param in record["params"].values():
            assert param["type"] in ("int", "float", "bool", "str")
            assert "default" in param
    assert by_name["linear"]["source"] == "built-in"
    assert by_name["linear"]["params"]["features_size"] == {"type": "int", "default": 4}
