"""What evolution changed: the diff against the start, knock-outs, and the constants/structure
split (two-player Shapley values), checked against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from evolve.analysis.changes import _constants_only, _structure_only, what_changed
from evolve.reference_programs import algorithm_text, load_algorithm
from primitives.text import format_program, parse_program


def found_program():
    text = algorithm_text("linear_sgd").replace("s3 = 0.1", "s3 = 0.25")
    text = text.replace("  v1 = v1 + v2\n", "  v1 = v1 + v2\n  v1 = v1 + v2\n")
    return parse_program(text)


def test_the_diff_names_constant_and_structural_changes():
    result = what_changed(found_program(), load_algorithm("linear_sgd"), "linear_sgd")
    kinds = sorted(c.kind for c in result.changes)
    assert kinds == ["constant", "structural"]
    constant = next(c for c in result.changes if c.kind == "constant")
    assert "s3 = 0.1" in constant.describe() and "s3 = 0.25" in constant.describe()
    structural = next(c for c in result.changes if c.kind == "structural")
    assert structural.before == () and "v1 = v1 + v2" in structural.describe()


def test_partial_programs_are_the_two_orders():
    start, found = load_algorithm("linear_sgd"), found_program()
    constants_only = format_program(_constants_only(start, found))
    structure_only = format_program(_structure_only(start, found))
    assert "0.25" in constants_only and constants_only.count("v1 = v1 + v2") == 1
    assert "0.25" not in structure_only and structure_only.count("v1 = v1 + v2") == 2


def test_the_split_is_the_shapley_value_and_adds_up():
    """With a made-up additive score (constant change worth 0.3, structure 0.1, and 0.05 more
    together) the split is exact: constants 0.325, structure 0.125."""
    def score(programs):
        out = []
        for p in programs:
            text = format_program(p)
            c, s = "0.25" in text, text.count("v1 = v1 + v2") == 2
            out.append(0.5 + 0.3 * c + 0.1 * s + 0.05 * (c and s))
        return np.array(out)

    result = what_changed(found_program(), load_algorithm("linear_sgd"), "linear_sgd", score)
    assert result.gain == pytest.approx(0.45)
    assert result.constants_gain == pytest.approx(0.325)
    assert result.structural_gain == pytest.approx(0.125)
    assert result.constants_gain + result.structural_gain == pytest.approx(result.gain)
    losses = {c.kind: c.knockout_loss for c in result.changes}
    assert losses == pytest.approx({"constant": 0.35, "structural": 0.15})
    assert result.structural_share == pytest.approx(0.125 / 0.45)


def test_from_scratch_the_reference_is_the_nearest_shipped_algorithm():
    text = algorithm_text("affine_sgd").replace("s3 = 0.1", "s3 = 0.3")
    result = what_changed(parse_program(text))
    assert result.reference == "affine_sgd"
    assert [c.kind for c in result.changes] == ["constant"]
