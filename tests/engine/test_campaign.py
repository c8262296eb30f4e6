"""Campaigns end to end: determinism, resume after Ctrl-C and kill -9, run directory contents."""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evolve.config import load_config
from evolve.engine.campaign import resume_campaign, start_campaign

# A small campaign that cannot succeed early (affine targets, linear-regression search space).
SMALL = [
    "problem.name=\"affine\"",
    "search.population_size=60",
    "search.batch_size=20",
    "tasks.search=4",
    "tasks.select=4",
    "tasks.final=4",
    "campaign.success_fitness=1.0",
    "campaign.checkpoint_seconds=0.1",
    "campaign.progress_seconds=0.05",
]


def small_config(max_evaluations: int, *extra: str):
    return load_config("linear-demo", [*SMALL, f"campaign.max_evaluations={max_evaluations}", *extra])


def run_files(run_dir: Path) -> dict:
    summary = json.loads((run_dir / "summary.json").read_text())
    return {
        "summary": {k: summary[k] for k in ("individuals", "evaluations", "search_fitness",
                                            "select_fitness", "final_fitness", "success", "experiments")},
        "best": (run_dir / "best.txt").read_text(),
        "hall_of_fame": (run_dir / "hall_of_fame.txt").read_text(),
    }


def test_seeded_run_is_deterministic(tmp_path):
    results = []
    for name in ("a", "b"):
        run_dir = tmp_path / name
        run_dir.mkdir()
        start_campaign(small_config(3000), run_dir, quiet=True).run()
        results.append(run_files(run_dir))
    assert results[0] == results[1]
    assert results[0]["summary"]["individuals"] >= 3000


def test_different_seeds_differ(tmp_path):
    results = []
    for seed in (1, 2):
        run_dir = tmp_path / str(seed)
        run_dir.mkdir()
        start_campaign(small_config(2000, f"seed={seed}"), run_dir, quiet=True).run()
        results.append(run_files(run_dir))
    assert results[0]["hall_of_fame"] != results[1]["hall_of_fame"]


@pytest.mark.parametrize("stop", [True, False])
def test_success_stops_the_campaign_unless_told_to_go_on(tmp_path, stop):
    # success_fitness = 0: the first select check succeeds
    config = small_config(2000, "campaign.success_fitness=0.0", f"campaign.stop_on_success={str(stop).lower()}")
    summary = start_campaign(config, tmp_path, quiet=True).run()
    assert summary["success"] and summary["individuals_to_success"] is not None
    assert summary["seconds_to_success"] is not None and summary["seconds_to_success"] <= summary["seconds"]
    if stop:
        assert summary["stopped_by"] == "success" and summary["individuals"] < 2000
    else:  # on to the budget; the moment of success is still the first one
        assert summary["stopped_by"] == "max_evaluations" and summary["individuals"] >= 2000
        assert summary["individuals_to_success"] < 2000


def test_resume_equals_uninterrupted(tmp_path):
    whole = tmp_path / "whole"
    whole.mkdir()
    start_campaign(small_config(4000), whole, quiet=True).run()

    part = tmp_path / "part"
    part.mkdir()
    campaign = start_campaign(small_config(4000), part, quiet=True)
    # Stop it half way, as Ctrl-C does (the signal handler sets this flag).
    original_step = campaign._step

    def step_then_stop():
        original_step()
        if campaign.individuals >= 2000:
            campaign._stop_signal = True

    campaign.reraise_signals = False  # as the CLI does: report the stop, raise nothing
    campaign._step = step_then_stop
    summary = campaign.run()
    assert summary["stopped_by"] == "interrupted"
    resumed, warnings = resume_campaign(part, quiet=True)
    assert warnings == []
    assert resumed.individuals >= 2000
    resumed.run()
    assert run_files(part) == run_files(whole)


def test_run_directory_has_no_pickle(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    start_campaign(small_config(1000), run_dir, quiet=True).run()
    names = sorted(p.name for p in run_dir.iterdir())
    for required in ("config.toml", "progress.csv", "hall_of_fame.txt", "best.txt", "summary.json", "checkpoint.npz"):
        assert required in names
    for path in run_dir.iterdir():
        data = path.read_bytes()
        assert not path.name.endswith((".pkl", ".pickle"))
        assert b"\x80\x04\x95" not in data and b"\x80\x05\x95" not in data, path.name  # pickle protocol 4/5
    import numpy as np

    with np.load(run_dir / "checkpoint.npz", allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)
    header = (run_dir / "progress.csv").read_text().splitlines()[0]
    assert header.split(",") == ["experiment", "individuals", "evaluations", "seconds", "best_fitness",
                                 "mean_fitness", "fec_hit_rate", "individuals_per_second"]


def test_corrupt_checkpoint_falls_back_to_previous(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    campaign = start_campaign(small_config(600), run_dir, quiet=True)
    campaign.run()
    campaign.checkpoint()  # now there is a previous good one
    (run_dir / "checkpoint.npz").write_bytes(b"PK\x03\x04 truncated")
    resumed, warnings = resume_campaign(run_dir, quiet=True)
    assert warnings and "checkpoint.npz" in warnings[0]
    assert resumed.individuals >= 600


def _cli(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "evolve.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def _sets(max_evaluations: int) -> list[str]:
    out = []
    for item in [*SMALL, f"campaign.max_evaluations={max_evaluations}", "tasks.search=10"]:
        out += ["--set", item]
    return out


def _wait_for(path: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["kill9", "ctrl_c"])
def test_killed_run_resumes_to_the_same_result(tmp_path, how):
    n = 150000
    whole = tmp_path / "whole"
    proc = _cli("run", "linear-demo", "--quiet", "--out", str(whole), *_sets(n))
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err

    part = tmp_path / "part"
    proc = _cli("run", "linear-demo", "--quiet", "--out", str(part), *_sets(n))
    _wait_for(part / "checkpoint.npz")
    time.sleep(0.3)
    if how == "kill9":
        proc.kill()
    else:
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    if how == "kill9":
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 130, err
        assert "evolve resume" in err
    summary_before = part / "summary.json"
    if how == "kill9":
        assert not summary_before.exists()
    proc = _cli("resume", str(part), "--quiet")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert run_files(part) == run_files(whole)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--set", "search.population_size=0"], "search.population_size = 0"),
        (["--set", "search.method=\"annealing\""], "search.method"),
        (["--set", "search.mutations=[\"explode\"]"], "explode"),
        (["--set", "algorithm.setup_ops=[\"no_such_op\"]"], "no_such_op"),
        (["--set", "algorithm.init_sizes=[1,2]"], "algorithm.init_sizes"),
        (["--set", "memory.scalars=1"], "memory.scalars"),
        (["--set", "nonsense.key=1"], "nonsense"),
        (["--set", "search.tournament_size=5000"], "tournament_size"),
        (["--set", "noequals"], "section.key=value"),
        (["--set", "campaign.mutate_prob=2"], "campaign.mutate_prob"),
        (["--set", "problem.name=\"nope\""], "nope"),
        (["--set", "problem.features_size=\"big\""], "features_size"),
        (["--seed", "-3"], "seed"),
    ],
)
def test_bad_config_fails_before_work_with_one_line(tmp_path, args, needle):
    out_dir = tmp_path / "out"
    proc = _cli("run", "linear-demo", "--out", str(out_dir), *args)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in err
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert not (out_dir / "checkpoint.npz").exists()


def test_unknown_preset_and_missing_config():
    proc = _cli("run", "no-such-preset")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "linear-demo" in err and "Traceback" not in err


def test_presets_and_config_show():
    proc = _cli("presets")
    out, _ = proc.communicate(timeout=60)
    assert "linear-demo" in out
    proc = _cli("config", "show", "linear-demo")
    out, _ = proc.communicate(timeout=60)
    assert "[search]" in out and "population_size = 1000" in out and "# P: population size" in out
    import tomllib

    from evolve.config import config_from_dict

    assert config_from_dict(tomllib.loads(out)) == load_config("linear-demo")


def test_resume_of_a_non_run_directory_is_a_clear_error(tmp_path):
    proc = _cli("resume", str(tmp_path))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "not a run directory" in err


def test_nsga2_campaign_writes_a_pareto_front_and_resumes_exactly(tmp_path):
    extra = ("search.method=\"nsga2\"", "search.population_size=40")
    whole = tmp_path / "whole"
    whole.mkdir()
    start_campaign(small_config(1200, *extra), whole, quiet=True).run()
    text = (whole / "pareto_front.txt").read_text()
    points = [line.split() for line in text.splitlines() if line.startswith("# point")]
    assert points
    sizes = [int(p[-1]) for p in points]
    fitness = [float(p[4]) for p in points]
    assert sizes == sorted(sizes)
    # Along a Pareto front, a larger program must be strictly fitter.
    assert all(b > a for a, b in itertools.pairwise(fitness))

    part = tmp_path / "part"
    part.mkdir()
    campaign = start_campaign(small_config(1200, *extra), part, quiet=True)
    original_step = campaign._step

    def step_then_stop():
        original_step()
        if campaign.individuals >= 600:
            campaign._stop_signal = True

    campaign.reraise_signals = False  # as the CLI does: report the stop, raise nothing
    campaign._step = step_then_stop
    campaign.run()
    resume_campaign(part, quiet=True)[0].run()
    assert run_files(part) == run_files(whole)
    assert (part / "pareto_front.txt").read_text() == text


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("fuzz") / "run"
    run_dir.mkdir()
    start_campaign(small_config(300), run_dir, quiet=True).run()
    return run_dir


def _copy_run(src: Path, dst: Path) -> Path:
    import shutil

    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    (dst / "checkpoint.prev.npz").unlink(missing_ok=True)
    return dst


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from evolve.errors import CheckpointError  # noqa: E402


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_checkpoint_fuzz_only_clear_errors(finished_run, tmp_path, data):
    run_dir = _copy_run(finished_run, tmp_path / "copy")
    path = run_dir / "checkpoint.npz"
    payload = bytearray(path.read_bytes())
    how = data.draw(st.sampled_from(["truncate", "flip", "random", "meta"]))
    if how == "truncate":
        payload = payload[: data.draw(st.integers(0, len(payload) - 1))]
    elif how == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            i = data.draw(st.integers(0, len(payload) - 1))
            payload[i] ^= data.draw(st.integers(1, 255))
    elif how == "random":
        payload = bytearray(data.draw(st.binary(max_size=2000)))
    else:
        import io

        import numpy as np

        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads(arrays["meta"].tobytes())
        key = data.draw(st.sampled_from(sorted(meta)))
        meta[key] = data.draw(st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=3)))
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        payload = bytearray(buffer.getvalue())
    path.write_bytes(bytes(payload))
    try:
        campaign, _ = resume_campaign(run_dir, quiet=True)
    except CheckpointError as exc:
        assert str(exc)
        return
    campaign.progress.close()


@pytest.mark.parametrize("fraction", [0.0, 0.25])
def test_stall_count_resets_only_on_an_improvement_of_the_stall_step(tmp_path, fraction):
    """``consider`` resets the stall count when the best search fitness b rises by more than
    min(stall_tolerance, stall_gap_fraction * (1 - b)) (the gap term only with a fraction > 0)."""
    import numpy as np

    from evolve.engine.campaign import Campaign
    from primitives.program import Program

    config = small_config(100, "campaign.stall_tolerance=0.001", f"campaign.stall_gap_fraction={fraction}",
                          "campaign.select_min_search_fitness=1.0")
    campaign = Campaign(config, tmp_path)
    program = campaign.context.space.no_op_program()
    campaign.candidate = Program(program.instructions, program.constants, program.sizes)  # no select checks
    steps = [(0.5, True), (0.5005, False), (0.9, True), (0.9996, True), (0.99969, False), (0.99985, bool(fraction))]
    for individuals, (fitness, counted) in enumerate(steps, start=1):
        campaign.individuals = 1000 * individuals
        before = campaign.experiment_best
        step = min(0.001, fraction * (1 - before)) if fraction else 0.001
        assert campaign.stall_step() == pytest.approx(step)
        campaign.consider([program], np.array([fitness]))
        assert (campaign.last_improvement == campaign.individuals) == counted, (fitness, before)
        assert campaign.experiment_best == fitness
