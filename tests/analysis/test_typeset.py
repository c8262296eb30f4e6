"""Typeset math (evolve.analysis.typeset) and the report's findings with a recorded lineage."""

from __future__ import annotations

import base64
import re

from evolve.analysis.typeset import latex_rows, math_html, mathtext_svg
from evolve.cli import main
from tests.analysis.test_report import run_dir  # noqa: F401  (the fixture)

LATEX = ("\\begin{aligned}\n\\text{Setup:} & \\\\\n& \\mathbf{w} = 0 \\\\\n\\text{Predict:} & \\\\\n"
         "& \\hat{y} = 0.5 \\left(\\mathbf{w} \\cdot \\mathbf{x}\\right) \\\\\n\\end{aligned}\n")


def test_latex_rows_split_titles_and_math():
    assert latex_rows(LATEX) == [("title", "Setup"), ("math", "\\mathbf{w} = 0"),
                                 ("title", "Predict"),
                                 ("math", "\\hat{y} = 0.5 \\left(\\mathbf{w} \\cdot \\mathbf{x}\\right)")]


def test_rows_become_svg_paths_and_bad_tex_stays_source():
    svg = mathtext_svg("\\hat{y} \\leftarrow \\mathbf{w} \\odot \\mathbf{x}")
    assert svg.startswith(b"<?xml") and b"<path" in svg and b"href=\"http" not in svg
    assert mathtext_svg("\\frac{") is None
    block = math_html(LATEX.replace("0.5", "\\frac{"))
    assert block.count("data:image/svg+xml;base64,") == 1 and "<code>" in block


def test_report_shows_the_lineage_when_recorded(run_dir, tmp_path):  # noqa: F811
    # a lineage.csv as a run writes it: best descends from an initial program in three steps
    (run_dir / "lineage.csv").write_text(
        "program,step,id,parent_id,mutation,fitness,copies,changed\n"
        "best,0,0,-1,initial,0.3,0,\n"
        "best,1,1,0,alter_param,0.5,2,Learn 1: s2 = 0.1 → s2 = 0.2\n"
        "best,2,2,1,insert,0.9,0,Learn 2: + v2 = s2 * v0\n"
        "best,3,3,2,copy,0.9,0,\n")
    assert main(["report", str(run_dir)]) == 0
    html = (run_dir / "report.html").read_text()
    assert "<h2>Lineage</h2>" in html and "Learn 2: + v2 = s2 * v0" in html
    assert html.count("data:image/png;base64,") == 5
    # every embedded math row is an SVG without external references
    for data in re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", html):
        svg = base64.b64decode(data)
        assert b"<svg" in svg and b"href=\"http" not in svg
