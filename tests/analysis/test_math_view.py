"""The math view: roles instead of addresses, simplified update rules."""

from __future__ import annotations

import pytest

from evolve.analysis.math_view import program_math
from evolve.reference_programs import BUILTIN_ALGORITHMS, load_algorithm
from primitives.text import parse_program
from tests.primitives.test_prune import AZL


def test_automl_zero_linear_regression_reads_as_sgd():
    text = program_math(parse_program(AZL)).to_text()
    assert "ŷ = 0.2056·(w·x)" in text
    assert "w ← w + (y - ŷ)·x" in text


def test_linear_sgd_learning_rate_is_a_number():
    text = program_math(load_algorithm("linear_sgd")).to_text()
    assert "ŷ = w·x" in text
    assert "w ← w + 0.1·(y - ŷ)·x" in text


def test_accuracy_prediction_shows_the_sigmoid():
    assert "ŷ = σ(w·x)" in program_math(load_algorithm("logistic_sgd"), "accuracy").to_text()


@pytest.mark.parametrize("name", BUILTIN_ALGORITHMS)
def test_latex_and_text_render(name):
    math = program_math(load_algorithm(name))
    assert "\\hat{y}" in math.to_latex()
    assert "Learn:" in math.to_text()


def test_nn_backprop_reads_with_hidden_layer():
    text = program_math(load_algorithm("nn_2layer")).to_text()
    assert "max(Wx, 0)" in text
    assert "W ← W +" in text


def test_random_and_partial_ops_stay_named():
    program = parse_program(
        "def Setup():\n  v1 = uniform(-0.5, 0.5, n_features)\n  v2[0.5] = 0.3\n"
        "def Predict():\n  v3 = abs(v1)\n  s1 = dot(v3, v0)\n  s2 = dot(v2, v0)\n  s1 = s1 + s2\n"
        "def Learn():\n  s3 = s0 - s1\n  v1 = s3 * v1\n  s2 = exp(s3)\n  v2 = s2 * v0\n"
    )
    text = program_math(program).to_text()
    assert "uniform(-0.5, 0.5)" in text
    assert "abs(" in text
