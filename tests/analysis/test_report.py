"""show/export/report/compare on a synthetic run directory."""

from __future__ import annotations

import json
import struct

import pytest

from evolve.cli import main
from tests.primitives.test_prune import AZL

CONFIG = """
name = "synthetic"
seed = 3
[problem]
name = "linear"
features_size = 4
num_train_examples = 50
num_valid_examples = 20
[tasks]
search = 2
select = 2
final = 4
[memory]
scalars = 4
vectors = 3
matrices = 1
"""


@pytest.fixture
def run_dir(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    (d / "config.toml").write_text(CONFIG)
    rows = ["experiment,individuals,evaluations,seconds,best_fitness,mean_fitness,fec_hit_rate,"
            "individuals_per_second"]
    for i in range(1, 21):
        rows.append(f"0,{i * 100},{i * 60},{i * 0.5},{min(1.0, 0.3 + i * 0.04)},"
                    f"{0.2 + i * 0.01},{0.5 + i * 0.01},{200.0}")
    (d / "progress.csv").write_text("\n".join(rows) + "\n")
    (d / "best.txt").write_text("# best program\n# fitness 0.9999\n" + AZL.lstrip())
    linear = ("def Setup():\n  s3 = 0.1\ndef Predict():\n  s1 = dot(v1, v0)\ndef Learn():\n"
              "  s2 = s0 - s1\n  s2 = s3 * s2\n  v2 = s2 * v0\n  v1 = v1 + v2\n")
    (d / "hall_of_fame.txt").write_text(
        "# rank 1 fitness 0.9999\n" + AZL.lstrip() + "# rank 2 fitness 0.99\n" + linear)
    (d / "summary.json").write_text(json.dumps({
        "success": True, "seconds_to_success": 9.5, "evaluations": 1200, "individuals": 2000,
        "individuals_per_second": 200.0, "search_fitness": 0.9999, "select_fitness": 0.9999,
        "final_fitness": 0.9998, "seed": 3, "experiments": 1, "run_dir": str(d)}))
    return d


def test_show_formats(run_dir, capsys):
    assert main(["show", str(run_dir), "--format", "math"]) == 0
    out = capsys.readouterr().out
    assert "ŷ = 0.2056·(w·x)" in out and "\033[" not in out
    assert main(["show", str(run_dir), "--format", "pruned"]) == 0
    assert capsys.readouterr().out.count("\n") == 10
    for fmt in ("text", "latex", "python"):
        assert main(["show", str(run_dir), "--format", fmt]) == 0


def test_export_writes_a_module(run_dir, tmp_path):
    out = tmp_path / "model.py"
    assert main(["export", str(run_dir), "--to", "python", "-o", str(out)]) == 0
    namespace: dict = {}
    exec(compile(out.read_text(), str(out), "exec"), namespace)
    assert "fit" in dir(namespace["DiscoveredAlgorithm"])


def test_report_writes_markdown_and_html(run_dir):
    assert main(["report", str(run_dir)]) == 0
    md = (run_dir / "report.md").read_text()
    html = (run_dir / "report.html").read_text()
    for text in (md, html):
        assert "LinearRegression" in text and "linear_sgd" in text
        assert "0.2056" in text
    # three progress plots and the knock-out bars (no lineage.csv in this run directory)
    assert html.count("data:image/png;base64,") == 4
    for section in ("What the algorithm depends on (ablation)", "Hyperparameter coupling",
                    "Generalization probe"):
        assert section in md and section in html
    assert "Lineage" not in md
    assert html.count("data:image/svg+xml;base64,") >= 3  # typeset math rows
    for png in (run_dir / "plots").glob("*.png"):
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 200_000
        width, height = struct.unpack(">II", data[16:24])
        assert width > 100 and height > 100


def test_compare_json(run_dir, capsys):
    code = main(["compare", str(run_dir), str(run_dir / "best.txt"), "--problem", "linear",
                 "--param", "features_size=4", "--tasks", "3", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    names = [s["name"] for s in result["scores"]]
    assert "linear_sgd" in names and "LinearRegression" in names
    assert result["scores"][0]["fitness"] == result["scores"][1]["fitness"] > 0.99


def test_compare_table_and_errors(run_dir, capsys):
    assert main(["compare", str(run_dir), "--problem", "linear", "--tasks", "2",
                 "--no-baselines"]) == 0
    assert "fitness" in capsys.readouterr().out
    assert main(["compare", str(run_dir), "--problem", "linear", "--param", "nokey"]) == 2
    assert main(["report", str(run_dir / "nothing")]) == 2
