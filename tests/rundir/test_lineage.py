"""Lineage (evolve.analysis.lineage): mutation kinds read from parent/child differences, the run's
lineage.csv, its survival across resume, and the hook leaving seeded results unchanged."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import evolve.search.evolution as evolution
from evolve.analysis.lineage import chain_of
from evolve.cli import main
from evolve.engine.campaign import resume_campaign, start_campaign
from evolve.errors import CheckpointError
from evolve.rundir.lineage import LINEAGE_FILE, infer_mutation, read_lineage
from evolve.search.mutation import MUTATORS, SearchSpace
from primitives.memory import MemorySpec
from primitives.ops import OPS_BY_NAME
from tests.engine.test_campaign import run_files, small_config

OPS = tuple(OPS_BY_NAME[n].code for n in ("scalar_sum", "scalar_product", "vector_sum",
                                           "scalar_vector_product", "vector_inner_product",
                                           "scalar_const_set"))
SPACE = SearchSpace((OPS, OPS, OPS), (3, 3, 3), (1, 1, 1), (6, 6, 6), MemorySpec(4, 3, 1))


@pytest.mark.parametrize("kind", ["alter_param", "randomize_instruction", "insert", "remove",
                                  "trade", "randomize_component"])
def test_mutation_kind_is_read_back_from_the_difference(kind):
    rng = random.Random(7)
    seen = 0
    for _ in range(60):
        parent = SPACE.random_program(rng)
        child = MUTATORS[kind](parent.copy(), SPACE, rng)
        got, what = infer_mutation(parent, child)
        if child == parent:
            assert got == "copy"
            continue
        seen += 1
        if kind == "randomize_instruction":  # a redraw that keeps the op reads as alter_param
            assert got in ("randomize_instruction", "alter_param")
        elif kind == "randomize_component":  # a component of one instruction: one redrawn
            assert got in ("randomize_component", "randomize_instruction", "alter_param", "trade")
        elif kind == "trade":
            assert got in ("trade", "alter_param", "randomize_instruction")
        else:
            assert got == kind, (what, got)
        assert what
    assert seen > 20


def _small_run(run_dir, n):
    run_dir.mkdir()
    return start_campaign(small_config(n, "campaign.lineage=true"), run_dir, quiet=True)


def test_run_writes_a_lineage_ending_at_the_best_programs(tmp_path, capsys):
    _small_run(tmp_path / "r", 3000).run()
    steps = read_lineage(tmp_path / "r")
    for name in ("best", "hof1"):
        chain = chain_of(steps, name)
        assert chain[0].mutation == "initial" and chain[0].parent_id == -1
        assert all(b.parent_id == a.id for a, b in itertools.pairwise(chain))
    hof_text = (tmp_path / "r" / "hall_of_fame.txt").read_text()
    assert repr(chain_of(steps, "hof1")[-1].fitness) in hof_text
    assert main(["lineage", str(tmp_path / "r"), "--program", "hof1"]) == 0
    out = capsys.readouterr().out
    assert "mutations from the initial program" in out
    assert (tmp_path / "r" / "plots" / "lineage.png").stat().st_size > 5000
    assert main(["lineage", str(tmp_path / "r"), "--program", "hof99"]) == 2


def test_lineage_survives_resume(tmp_path):
    whole = _small_run(tmp_path / "whole", 4000)
    whole.run()
    part = _small_run(tmp_path / "part", 4000)
    original_step = part._step

    def step_then_stop():
        original_step()
        if part.individuals >= 2000:
            part._stop_signal = True

    part.reraise_signals = False  # as the CLI does: report the stop, raise nothing
    part._step = step_then_stop
    assert part.run()["stopped_by"] == "interrupted"
    resumed, warnings = resume_campaign(tmp_path / "part", quiet=True)
    assert warnings == []
    resumed.run()
    assert run_files(tmp_path / "part") == run_files(tmp_path / "whole")
    a = (tmp_path / "whole" / LINEAGE_FILE).read_text()
    b = (tmp_path / "part" / LINEAGE_FILE).read_text()
    assert a == b and len(a.splitlines()) > 20


def test_recording_lineage_changes_no_seeded_result(tmp_path, monkeypatch):
    _small_run(tmp_path / "with", 3000).run()
    (tmp_path / "off").mkdir()
    start_campaign(small_config(3000, "campaign.lineage=false"), tmp_path / "off", quiet=True).run()
    monkeypatch.setattr(evolution, "link_parents", lambda children, parents: None)
    _small_run(tmp_path / "without", 3000).run()
    assert run_files(tmp_path / "with") == run_files(tmp_path / "without")
    assert run_files(tmp_path / "with") == run_files(tmp_path / "off")
    assert not (tmp_path / "without" / LINEAGE_FILE).exists()
    assert not (tmp_path / "off" / LINEAGE_FILE).exists()


def test_missing_or_broken_lineage_is_a_clear_error(tmp_path, capsys):
    assert main(["lineage", str(tmp_path)]) == 2
    (tmp_path / LINEAGE_FILE).write_text("program,step\nbest,x\n")
    assert main(["lineage", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "lineage.csv" in err and "Traceback" not in err


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=300) | st.text(max_size=300).map(str.encode),
       header=st.booleans())
def test_hostile_lineage_file_is_one_error_or_a_view(tmp_path_factory, content, header, capsys):
    run_dir = tmp_path_factory.mktemp("run")
    prefix = b"program,step,id,parent_id,mutation,fitness,copies,changed\n" if header else b""
    (run_dir / LINEAGE_FILE).write_bytes(prefix + content)
    code = main(["lineage", str(run_dir)])
    err = capsys.readouterr().err
    assert code in (0, 2) and "Traceback" not in err
    if code == 2:
        assert len(err.strip().splitlines()) == 1


def test_corrupt_lineage_in_checkpoints_is_a_clear_error(tmp_path):
    campaign = _small_run(tmp_path / "r", 1500)
    original_step = campaign._step

    def step_then_stop():
        original_step()
        if campaign.individuals >= 800:
            campaign._stop_signal = True

    campaign.reraise_signals = False  # as the CLI does: report the stop, raise nothing
    campaign._step = step_then_stop
    campaign.run()
    corrupted = 0
    for name in ("checkpoint.npz", "checkpoint.prev.npz"):
        path = tmp_path / "r" / name
        arrays = dict(np.load(path, allow_pickle=False)) if path.exists() else {}
        if "lineage_parent" not in arrays:  # e.g. written before the first population
            path.unlink(missing_ok=True)
            continue
        arrays["lineage_parent"] = arrays["lineage_parent"][::-1].copy()  # children before parents
        np.savez(path, **arrays)
        corrupted += 1
    assert corrupted
    with pytest.raises(CheckpointError, match="lineage"):
        resume_campaign(tmp_path / "r", quiet=True)
