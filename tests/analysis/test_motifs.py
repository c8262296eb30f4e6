"""Motifs (evolve.analysis.motifs): three hand-written variants of SGD share one update rule."""

from __future__ import annotations

import json

import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evolve.analysis.motifs import canonical, find_motifs
from evolve.cli import main
from primitives.text import parse_program

# Linear regression by SGD three ways: other rates, other registers, the rate applied to the
# error or to the step, a dead instruction, an extra copy through another vector.
VARIANTS = {
    "a": """\
def Setup():
  s3 = 0.1
def Predict():
  s1 = dot(v1, v0)
def Learn():
  s2 = s0 - s1
  s2 = s3 * s2
  v2 = s2 * v0
  v1 = v1 + v2
""",
    "b": """\
def Setup():
  s2 = 0.37
def Predict():
  s1 = dot(v0, v2)
def Learn():
  s3 = s0 - s1
  v1 = s3 * v0
  v1 = s2 * v1
  s3 = 0.5
  v2 = v2 + v1
""",
    "c": """\
def Setup():
  s4 = 0.02
def Predict():
  s1 = dot(v1, v0)
def Learn():
  s3 = s0 - s1
  s3 = s3 * s4
  v3 = s3 * v0
  v2 = v3 + v1
  v1 = v2 + v0
  v1 = v1 - v0
""",
}
RULE = "Learn: w ← c·y·x - c·ŷ·x + w"


def test_canonical_form_folds_numbers_into_c():
    y, x = sympy.symbols("y x")
    assert canonical(0.1 * (y - x)) == canonical(0.37 * y - 0.37 * x)
    assert canonical(2 * 0.5 * y) == canonical(0.3 * y)
    assert canonical(-0.2 * y) != canonical(0.2 * y)


def test_three_sgd_variants_share_the_rule():
    programs = [(name, parse_program(text), "rms") for name, text in VARIANTS.items()]
    motifs = {m.text: m for m in find_motifs(programs)}
    assert RULE in motifs and motifs[RULE].programs == ["a", "b", "c"]
    assert motifs["ŷ = w·x"].count == 3
    assert motifs["error-driven update (the rule uses both y and ŷ)"].count == 3
    assert motifs["Learn: scalar_vector_product → vector_sum"].kind == "pattern"


def test_different_rules_are_not_merged():
    nn = ("nn", parse_program(VARIANTS["a"].replace("s2 = s0 - s1", "s2 = s0 + s1")), "rms")
    programs = [("a", parse_program(VARIANTS["a"]), "rms"), nn]
    motifs = {m.text for m in find_motifs(programs)}
    assert RULE not in motifs


def test_motifs_command(tmp_path, capsys):
    paths = []
    for name, text in VARIANTS.items():
        paths.append(tmp_path / f"{name}.txt")
        paths[-1].write_text(text)
    assert main(["motifs", *map(str, paths)]) == 0
    assert f"3 of 3  {RULE}" in capsys.readouterr().out
    assert main(["motifs", *map(str, paths), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert any(m["motif"] == RULE and m["count"] == 3 for m in data["motifs"])
    assert main(["motifs", str(paths[0]), "--min-count", "0"]) == 2
    assert main(["motifs", str(tmp_path / "missing.txt")]) == 2


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200), extra=st.sampled_from(["", "--hof=2", "--min-count=1", "--json"]))
def test_fuzzed_program_files_never_trace(tmp_path_factory, text, extra, capsys):
    path = tmp_path_factory.mktemp("m") / "p.txt"
    path.write_text(text)
    argv = ["motifs", str(path), str(path)] + ([extra] if extra else [])
    assert main(argv) in (0, 2)
    assert "Traceback" not in capsys.readouterr().err
