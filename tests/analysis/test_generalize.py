"""Generalization probe (evolve.analysis.generalize): the variants and the verdicts."""

from __future__ import annotations

from evolve.analysis.generalize import format_probe, probe, variants
from evolve.reference_programs import load_algorithm


def test_variants_change_one_thing_each():
    rows = variants("linear", {"features_size": 8, "num_train_examples": 50})
    labels = [label for label, _, _ in rows]
    assert labels[0].startswith("as searched")
    assert "F = 4 (×½)" in labels and "F = 16 (×2)" in labels and "F = 32 (×4)" in labels
    assert "200 train examples (×4)" in labels and "4 epochs (×4)" in labels
    assert [name for _, name, _ in rows][-2:] == ["affine", "nn_teacher"]
    digits = variants("projected_binary", {"dataset": "digits", "held_out_pairs": "0-1"})
    other = [p for label, _, p in digits if label.startswith("dataset")]
    assert other and all(p["dataset"] != "digits" and "held_out_pairs" not in p for p in other)


def test_sgd_keeps_up_on_linear_variants_and_breaks_on_a_teacher_network():
    program = load_algorithm("linear_sgd")
    rows, seconds = probe(program, program.required_memory(), "linear", {"features_size": 4},
                          n_tasks=3)
    by = {r.variant: r for r in rows}
    assert by["as searched (held-out tasks)"].verdict == "level"  # it is the shipped baseline
    assert by["as searched (held-out tasks)"].shipped[1] >= by["as searched (held-out tasks)"].program
    assert by["affine tasks"].verdict in ("behind", "breaks")
    assert all(r.sklearn is not None for r in rows) and seconds > 0
    text = format_probe(rows)
    assert "verdict" in text and "F = 8 (×2)" in text
    assert format_probe(rows, markdown=True).startswith("| tasks |")
