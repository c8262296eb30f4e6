"""The terminal display, the progress callback and the run metadata (issue 20)."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from evolve.config import load_config
from evolve.engine.campaign import start_campaign
from evolve.engine.metadata import run_metadata
from evolve.engine.progress import IslandProgress, Progress
from evolve.ui.display import SPARKS, TerminalDisplay, plain_line, render_lines, sparkline

SMALL = ["search.population_size=50", "search.batch_size=25", "tasks.search=4", "tasks.select=4",
         "tasks.final=4", "campaign.success_fitness=1.0", "campaign.progress_seconds=0.01"]

LONG_MATH = "ŷ = -0.04649·(w·x); w ← w + (-2·y + 2·ŷ - 0.0005044)·x; " * 8


def progress(**changes) -> Progress:
    base = dict(
        name="linear-demo", run_dir="results/x", experiment=12, individuals=1_234_567,
        evaluations=300_000, seconds=81.0, best_fitness=0.998123, mean_fitness=0.51234,
        select_fitness=0.99991, success_threshold=0.9999, success=False,
        individuals_per_second=52_345.0, fec_hit_rate=0.82, budget_seconds=1800.0,
        max_individuals=None, best_history=tuple(i / 300 for i in range(300)), best_math=LONG_MATH,
        islands=(IslandProgress(0, 0.9, 0.4), IslandProgress(1, 0.95, 0.5)),
    )
    base.update(changes)
    return Progress(**base)


def rendered(p: Progress, width: int) -> list[str]:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=True, color_system=None, legacy_windows=False)
    display = TerminalDisplay(console)
    display(p)
    display.finished({}, None)
    return buffer.getvalue().replace("\r", "\n").splitlines()


@pytest.mark.parametrize("width", [60, 80, 120, 200])
def test_lines_fit_the_terminal(width):
    from rich.cells import cell_len

    lines = [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", line) for line in rendered(progress(), width)]
    assert any(line.strip() for line in lines), "nothing drawn"
    for line in lines:
        assert cell_len(line) <= width, (width, line)
    joined = "\n".join(lines)
    for piece in ("linear-demo exp 12", "1.2M ind", "52.3k ind/s", "FEC 82%", "best 0.99812",
                  "select 0.99991", "0:01:21 / 0:30:00", "budget left 0:28:39", "ŷ = -0.04649"):
        assert piece in joined, (width, piece)
    assert "…" in joined  # the long math line is cut to fit, not wrapped


@given(width=st.integers(1, 300), seconds=st.floats(0, 1e7), individuals=st.integers(0, 10**12),
       math=st.text(max_size=300), history=st.lists(st.floats(-1, 1), max_size=500))
@settings(max_examples=80, deadline=None)
def test_render_never_exceeds_width(width, seconds, individuals, math, history):
    p = progress(seconds=seconds, individuals=individuals, best_math=math or None,
                 best_history=tuple(history))
    for line in render_lines(p, width):
        assert line.cell_len <= width


def test_sparkline_scales_between_min_and_max():
    assert sparkline([0.0, 0.5, 1.0], 3) == SPARKS[0] + SPARKS[4] + SPARKS[-1]
    assert sparkline([0.2] * 5, 5) == SPARKS[-1] * 5
    assert len(sparkline(list(range(1000)), 37)) == 37
    assert sparkline([], 10) == "" and sparkline([1.0], 0) == ""


def test_not_a_terminal_prints_plain_lines_at_most_every_few_seconds():
    buffer = io.StringIO()
    now = [0.0]
    display = TerminalDisplay(Console(file=buffer, force_terminal=False, width=80), plain_every=5.0,
                              clock=lambda: now[0])
    for tick in range(100):  # 100 ticks 0.5 s apart: 50 s
        now[0] = 0.5 * tick
        display(progress(seconds=0.5 * tick))
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 10
    assert all("\r" not in line and "\x1b" not in line for line in lines)
    assert lines[0] == plain_line(progress(seconds=0.0))


def test_quiet_campaign_prints_nothing_and_callback_gets_every_tick(tmp_path, capfd):
    seen: list[Progress] = []
    config = load_config("linear-demo", [*SMALL, "campaign.max_evaluations=3000"])
    summary = start_campaign(config, tmp_path, quiet=True, on_progress=seen.append).run()
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert seen and all(isinstance(p, Progress) for p in seen)
    assert seen[-1].individuals == summary["individuals"]
    assert [p.individuals for p in seen] == sorted(p.individuals for p in seen)
    assert seen[-1].best_history[-1] == seen[-1].best_fitness
    assert seen[-1].select_fitness == summary["select_fitness"]
    assert seen[-1].best_math is None or "ŷ" in seen[-1].best_math
    rows = (tmp_path / "progress.csv").read_text().splitlines()
    assert len(rows) - 1 == len(seen)  # one callback per progress row


def test_on_progress_must_be_callable(tmp_path):
    from evolve.errors import ConfigError

    config = load_config("linear-demo", [*SMALL, "campaign.max_evaluations=100"])
    with pytest.raises(ConfigError, match="on_progress"):
        start_campaign(config, tmp_path, quiet=True, on_progress=42)


def test_metadata_fields_present(tmp_path):
    meta = run_metadata(["evolve", "run", "x"])
    for key in ("evolve_version", "python", "cpu_model", "cpu_count", "usable_cores", "command_line", "git"):
        assert key in meta
    assert set(meta["packages"]) >= {"numpy", "numba", "deap"}
    assert all(meta["packages"][k] for k in ("numpy", "numba", "deap"))
    assert meta["command_line"] == ["evolve", "run", "x"]
    assert meta["cpu_count"] >= 1 and meta["cpu_model"]
    config = load_config("linear-demo", [*SMALL, "campaign.max_evaluations=200"])
    start_campaign(config, tmp_path, quiet=True).run()
    written = json.loads((tmp_path / "summary.json").read_text())["metadata"]
    assert written["packages"]["numba"] == meta["packages"]["numba"]
    assert written["evolve_version"] == meta["evolve_version"]


def test_version_flag():
    out = subprocess.run([sys.executable, "-m", "evolve.cli", "--version"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0
    assert out.stdout.startswith("evolve ") and "numba" in out.stdout


def test_report_brief_carries_the_metadata():
    from evolve.engine.metadata import metadata_brief

    brief = dict(metadata_brief(run_metadata(["evolve", "run", "linear-demo"])))
    assert brief["command line"] == "evolve run linear-demo"
    assert "numba" in brief["Python and packages"] and "cores" in brief["CPU"]
    assert metadata_brief(None) == [] and metadata_brief("garbage") == []
