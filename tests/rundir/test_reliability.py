"""Run directories under hostile conditions (issue 15): checkpoints, configs, early kills,
leaked workers, full disks, a run directory that points elsewhere."""

from __future__ import annotations

import errno
import json
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from evolve.cli import main
from evolve.config import load_config
from evolve.engine.campaign import checkpoint_interval, resume_campaign, start_campaign
from evolve.errors import CheckpointError, ConfigError
from evolve.rundir import store
from evolve.rundir.store import CHECKPOINT, PREVIOUS_CHECKPOINT, _read_checkpoint, save_checkpoint

SMALL = [
    'problem.name="affine"', "search.population_size=60", "search.batch_size=20", "tasks.search=4",
    "tasks.select=4", "tasks.final=4", "campaign.success_fitness=1.0", "campaign.checkpoint_seconds=0.1",
    "campaign.progress_seconds=0.05",
]


def small_config(max_evaluations: int, *extra: str):
    return load_config("linear-demo", [*SMALL, f"campaign.max_evaluations={max_evaluations}", *extra])


def result(run_dir: Path) -> dict:
    summary = json.loads((run_dir / "summary.json").read_text())
    keys = ("individuals", "evaluations", "search_fitness", "select_fitness", "final_fitness", "experiments")
    return {"summary": {k: summary[k] for k in keys}, "best": (run_dir / "best.txt").read_text(),
            "hof": (run_dir / "hall_of_fame.txt").read_text()}


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> dict:
    run_dir = tmp_path_factory.mktemp("whole") / "run"
    run_dir.mkdir()
    start_campaign(small_config(3000), run_dir, quiet=True).run()
    return result(run_dir)


@pytest.fixture(scope="module")
def stopped(tmp_path_factory) -> Path:
    """A run stopped part-way at 1500 of its 3000 individuals (as after a kill), a template."""
    run_dir = tmp_path_factory.mktemp("stopped") / "run"
    run_dir.mkdir()
    campaign = start_campaign(small_config(3000), run_dir, quiet=True)
    campaign._stop_reason = lambda: "interrupted" if campaign.individuals >= 1500 else None
    campaign.run()
    (run_dir / "summary.json").unlink()
    assert (run_dir / PREVIOUS_CHECKPOINT).exists()
    return run_dir


def copy_run(stopped: Path, tmp_path: Path) -> Path:
    target = tmp_path / "run"
    shutil.copytree(stopped, target)
    return target


def rewrite_checkpoint(path: Path, change) -> None:
    meta, arrays = _read_checkpoint(path)
    meta.pop("version")
    change(meta, arrays)
    folder = path.parent / "rewrite"
    folder.mkdir(exist_ok=True)
    save_checkpoint(folder, meta, arrays)
    shutil.move(str(folder / CHECKPOINT), str(path))
    shutil.rmtree(folder)


# ---------------------------------------------------------------------------- resume


def test_start_record_resumes_to_the_same_result(tmp_path, whole):
    """A run killed before its first periodic checkpoint resumes from its start record."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    start_campaign(small_config(3000), run_dir, quiet=True)  # never run: as if killed at once
    assert (run_dir / CHECKPOINT).exists()
    campaign, warnings = resume_campaign(run_dir, quiet=True)
    assert warnings == [] and campaign.individuals == 0
    campaign.run()
    assert result(run_dir) == whole


def test_no_checkpoint_at_all_starts_again_from_config(tmp_path, whole):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    start_campaign(small_config(3000), run_dir, quiet=True)
    (run_dir / CHECKPOINT).unlink()
    campaign, warnings = resume_campaign(run_dir, quiet=True)
    assert "no checkpoint yet" in warnings[0]
    campaign.run()
    assert result(run_dir) == whole


def test_stopped_run_resumes_to_the_same_result(stopped, tmp_path, whole):
    run_dir = copy_run(stopped, tmp_path)
    campaign, warnings = resume_campaign(run_dir, quiet=True)
    assert warnings == [] and campaign.individuals >= 1500
    campaign.run()
    assert result(run_dir) == whole


@pytest.mark.parametrize(("field", "value"), [
    ("memory.scalars", "2"), ("seed", "7"), ("search.population_size", "50"), ("tasks.search", "5"),
])
def test_an_edited_config_is_refused_naming_the_field(stopped, tmp_path, field, value):
    run_dir = copy_run(stopped, tmp_path)
    config = run_dir / "config.toml"
    key = field.rsplit(".", 1)[-1]
    lines = [f"{key} = {value}" if line.startswith(f"{key} = ") else line for line in config.read_text().splitlines()]
    config.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        resume_campaign(run_dir, quiet=True)


def test_an_empty_config_is_refused(stopped, tmp_path):
    run_dir = copy_run(stopped, tmp_path)
    (run_dir / "config.toml").write_text("")
    with pytest.raises(ConfigError, match="differs from the config the run was started with") as info:
        resume_campaign(run_dir, quiet=True)
    assert "name" in str(info.value) and "problem" in str(info.value)


def test_a_binary_config_is_one_clear_error(stopped, tmp_path):
    run_dir = copy_run(stopped, tmp_path)
    (run_dir / "config.toml").write_bytes(b"\xff\xfe\x00secret")
    with pytest.raises(CheckpointError, match="not UTF-8 text") as info:
        resume_campaign(run_dir, quiet=True)
    assert "secret" not in str(info.value)


INVALID = {
    "op code 10**12": lambda m, a: a["population_instructions"].__setitem__((0, 0), 10**12),
    "op code 65 in the candidate": lambda m, a: a["candidate_instructions"].__setitem__((0, 0), 65),
    "address 10**6": lambda m, a: a["hof_instructions"].__setitem__((0, 3), 10**6),
    "negative address": lambda m, a: a["population_instructions"].__setitem__(
        (int(np.argmax(a["population_instructions"][:, 0] == 1)), 1), -1),
    "write to s0": lambda m, a: a["population_instructions"].__setitem__(
        (int(np.argmax(a["population_instructions"][:, 0] == 1)), 3), 0),
    "NaN fitness": lambda m, a: a["population_fitness"].__setitem__(0, np.nan),
    "inf hall-of-fame fitness": lambda m, a: a["hof_fitness"].__setitem__(0, np.inf),
    "NaN constant": lambda m, a: a["population_constants"].__setitem__(
        (int(np.argmax(a["population_instructions"][:, 0] == 56)), 0), np.nan),
    "inf FEC value": lambda m, a: a["fec_values"].__setitem__(0, np.inf),
    "FEC count beyond int64": lambda m, a: a.__setitem__("fec_counts", np.array([2**64 - 1, 0], np.uint64)),
    "individuals 10**40": lambda m, a: m.__setitem__("individuals", 10**40),
    "individuals -10**12": lambda m, a: m.__setitem__("individuals", -10**12),
    "RNG state beyond 64 bits": lambda m, a: m.__setitem__("mutation_rng", 2**70),
    "selection RNG a string": lambda m, a: m.__setitem__("selection_rng", "x"),
    "seconds Infinity": lambda m, a: m.__setitem__("seconds", float("inf")),
    "head outside the population": lambda m, a: m.__setitem__("population_head", 10**9),
    "sizes that do not add up": lambda m, a: a["population_sizes"].__setitem__((0, 0), 10**6),
    "instructions as floats": lambda m, a: a.__setitem__("hof_instructions", a["hof_instructions"].astype(float)),
    "config not text": lambda m, a: m.__setitem__("config", 5),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_an_invalid_checkpoint_falls_back_to_the_previous_one(stopped, tmp_path, whole, case):
    run_dir = copy_run(stopped, tmp_path)
    rewrite_checkpoint(run_dir / CHECKPOINT, INVALID[case])
    campaign, warnings = resume_campaign(run_dir, quiet=True)
    assert len(warnings) == 1 and "trying the previous checkpoint" in warnings[0], warnings
    campaign.run()
    assert result(run_dir) == whole


@pytest.mark.parametrize("case", ["op code 10**12", "address 10**6", "individuals 10**40"])
def test_both_checkpoints_invalid_is_one_clear_error(stopped, tmp_path, case):
    run_dir = copy_run(stopped, tmp_path)
    rewrite_checkpoint(run_dir / CHECKPOINT, INVALID[case])
    rewrite_checkpoint(run_dir / PREVIOUS_CHECKPOINT, INVALID["individuals -10**12"])
    with pytest.raises(CheckpointError, match="cannot resume"):
        resume_campaign(run_dir, quiet=True)


def test_resume_never_connects_to_the_run_directory_scheduler(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    config = small_config(3000)
    start_campaign(config, run_dir, quiet=True)
    text = (run_dir / "config.toml").read_text()
    text = text.replace('executor = "serial"', 'executor = "dask"').replace('scheduler = ""', 'scheduler = "tcp://203.0.113.9:8786"')
    (run_dir / "config.toml").write_text(text)
    rewrite_checkpoint(run_dir / CHECKPOINT, lambda m, a: m.__setitem__("config", text))
    campaign, warnings = resume_campaign(run_dir, quiet=True)
    assert campaign.config.campaign.scheduler == ""
    assert any("does not connect" in w and "--scheduler" in w for w in warnings), warnings
    campaign, _ = resume_campaign(run_dir, quiet=True, scheduler="tcp://127.0.0.1:1")
    assert campaign.config.campaign.scheduler == "tcp://127.0.0.1:1"


def test_checkpoint_interval_adapts():
    assert checkpoint_interval(5.0, 0.01) == 2.0  # cheap: a kill loses at most ~2 s
    assert checkpoint_interval(0.5, 0.01) == 0.5  # the config's bound wins
    assert checkpoint_interval(60.0, 0.5) == pytest.approx(10.0)  # slow: <= 5% of the time


# ---------------------------------------------------------------------------- disks


def test_a_full_disk_is_a_clear_error_and_the_run_resumes(tmp_path, whole, monkeypatch):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    campaign = start_campaign(small_config(3000), run_dir, quiet=True)
    real, calls = store.atomic_write_bytes, {"n": 0}

    def full_disk(path, payload):
        if ".checkpoint" in Path(path).name:
            calls["n"] += 1
            if calls["n"] == 1:
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, payload)

    monkeypatch.setattr(store, "atomic_write_bytes", full_disk)
    with pytest.raises(OSError):
        campaign.run()
    monkeypatch.setattr(store, "atomic_write_bytes", real)
    assert not list(run_dir.glob(".checkpoint*")), "a half-written checkpoint was left"
    resumed, warnings = resume_campaign(run_dir, quiet=True)
    assert warnings == []
    resumed.run()
    assert result(run_dir) == whole


def test_os_errors_are_one_line(tmp_path, capsys, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "out"))

    monkeypatch.setattr(Path, "mkdir", read_only)
    code = main(["run", "linear-demo", "--out", str(tmp_path / "out"), "--max-evaluations", "10"])
    err = capsys.readouterr().err
    assert code == 2 and "Read-only file system" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------------- the CLI's clear errors


def cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evolve.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


@pytest.mark.parametrize(("args", "needle"), [
    (["run", "linear-demo", "--set", 'name="a\\u0000b"'], "name = 'a\\x00b'"),
    (["run", "linear-demo", "--set", f'name="{"x" * 300}"'], "1-100"),
    (["run", "linear-demo", "--set", 'name="../../X"'], "results/"),
    (["run", "linear-demo", "--set", "problem.x=" + "[" * 3000 + "]" * 3000], "nested too deeply"),
    (["run", "linear-demo", "--set", "memory.vectors=1", "--set", 'algorithm.learn_ops=["vector_sum"]'],
     "memory.vectors = 1"),
    (["run", "linear-demo", "--set", "memory.matrices=0", "--set", 'algorithm.learn_ops=["matrix_sum"]'],
     "memory.matrices = 0"),
    (["run", "linear-demo", "--out", "/dev/null"], "not a folder"),
    (["config", "show", "linear-demo", "--set", "problem.when=1979-05-27"], "not date"),
])
def test_hostile_inputs_are_one_clear_error(args, needle, tmp_path):
    proc = cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").iterdir())


def test_program_files_that_are_not_programs_are_not_echoed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("password = hunter2\n")
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    for field, path in (("algorithm.initial", secret), ("campaign.success_baseline", binary)):
        proc = cli("run", "linear-demo", "--out", str(tmp_path / field), "--set", f'{field}="{path}"', cwd=tmp_path)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert "hunter2" not in proc.stderr and field in proc.stderr, proc.stderr


def test_out_on_a_killed_runs_folder_says_how_to_resume(stopped, tmp_path):
    run_dir = copy_run(stopped, tmp_path)
    proc = cli("run", "linear-demo", "--out", str(run_dir))
    assert proc.returncode == 2 and f"evolve resume {run_dir}" in proc.stderr, proc.stderr
    afile = tmp_path / "file"
    afile.write_text("x")
    proc = cli("run", "linear-demo", "--out", str(afile))
    assert proc.returncode == 2 and "not a folder" in proc.stderr, proc.stderr


def test_written_config_reads_back(tmp_path):
    source = tmp_path / "in.toml"
    source.write_text('description = "tab\\tnul\\u0000"\n[problem]\nname = "linear"\n" " = 1\n"é" = "a\\u0000b"\n',
                      encoding="utf-8")
    proc = cli("config", "show", str(source))
    assert proc.returncode == 0, proc.stderr
    path = tmp_path / "c.toml"
    path.write_text(proc.stdout)
    config = load_config(str(path))
    assert config.problem.params[" "] == 1 and config.problem.params["é"] == "a\x00b"
    assert config.description == "tab\tnul\x00"


def test_report_on_corrupt_files_is_one_clear_error(stopped, tmp_path):
    run_dir = copy_run(stopped, tmp_path)
    resume_campaign(run_dir, quiet=True)[0].run()
    (run_dir / "summary.json").write_text("{not json")
    proc = cli("report", str(run_dir))
    assert proc.returncode == 2 and "summary.json" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    (run_dir / "summary.json").write_text("{}")
    (run_dir / "progress.csv").write_bytes(b"\xff\xfe\xfa" * 100)
    proc = cli("report", str(run_dir))
    assert proc.returncode == 2 and "progress.csv" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


# ---------------------------------------------------------------------------- kills and workers


def _sets(max_evaluations: int) -> list[str]:
    out = []
    for item in [*SMALL, f"campaign.max_evaluations={max_evaluations}", "tasks.search=10"]:
        out += ["--set", item]
    return out


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.2, 1.0, 2.5])
def test_kill9_at_any_time_resumes_to_the_same_result(tmp_path, delay):
    """kill -9 from the first second on (before the kernels load, during the first experiment)."""
    n = 60000
    whole_dir, part = tmp_path / "whole", tmp_path / "part"
    assert cli("run", "linear-demo", "--quiet", "--out", str(whole_dir), *_sets(n), timeout=300).returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "evolve.cli", "run", "linear-demo", "--quiet", "--out",
                             str(part), *_sets(n)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.kill()
    proc.wait(timeout=60)
    if not (part / "config.toml").exists():  # killed before it wrote anything: run it again there
        resumed = cli("run", "linear-demo", "--quiet", "--out", str(part), *_sets(n), timeout=300)
    else:
        resumed = cli("resume", str(part), "--quiet", timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert result(part) == result(whole_dir)


ORPHAN_SCRIPT = textwrap.dedent("""
    import sys, time
    from evolve.islands.executors import make_executor
    if __name__ == "__main__":  # spawned workers import this file again
        executor = make_executor(sys.argv[1], 2)
        executor.map(abs, [1, 2, 3, 4])
        print("ready", flush=True)
        time.sleep(600)
""")


@pytest.mark.parametrize("kind", ["processes", "dask"])
def test_workers_of_a_killed_campaign_exit(kind, tmp_path):
    psutil = pytest.importorskip("psutil")
    script = tmp_path / "coordinator.py"
    script.write_text(ORPHAN_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), kind], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 2
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    deadline = time.monotonic() + 20
    alive = children
    while time.monotonic() < deadline:
        alive = [c for c in children if _alive(c, psutil)]
        if not alive:
            break
        time.sleep(0.25)
    for child in alive:  # clean up before failing
        child.kill()
    assert not alive, [c.pid for c in alive]


def _alive(process, psutil) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
