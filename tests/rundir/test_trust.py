"""Opening someone's results never runs their code, and every file is read bounded.

Each numbered case of the hostile-input campaign has a test here: run-directory names that try to
become code (1), ``.npz`` bombs, pickles and lying headers (2), FIFOs and ``/dev/zero`` where a
run file should be (3), a checkpoint that is a zip but not an npz, and one edited so it still
parses (4, 9), a config asking for terabytes (5), ``--workers`` with islands (6), numbers too
large to standardize (7), and signals in the Python API (8).
"""

from __future__ import annotations

import ast
import builtins
import io
import os
import shutil
import signal
import struct
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evolve.analysis.export_estimator import run_estimator_source
from evolve.cli import build_parser, main
from evolve.cli.campaigns import resolve_config
from evolve.config import load_config, to_toml
from evolve.errors import CheckpointError
from evolve.estimators import DiscoveredRegressor, load_estimator
from evolve.reference_programs import algorithm_text
from evolve.rundir.store import CHECKPOINT, PREVIOUS_CHECKPOINT, load_checkpoint, save_checkpoint
from problems.base import ProblemError
from problems.files import UnreadableFileError, read_bytes, read_npz, read_text
from problems.table import load_table

SMALL = ['problem.name="affine"', "search.population_size=60", "search.batch_size=20",
         "tasks.search=4", "tasks.select=4", "tasks.final=4", "campaign.success_fitness=1.0",
         "campaign.checkpoint_seconds=0.1", "campaign.progress_seconds=0.05"]
MARKER = "EVOLVE_TRUST_MARKER"
PAYLOADS = [
    f'y"""\nimport builtins; builtins.{MARKER} = 1\n"""',
    f"y'''\nimport builtins; builtins.{MARKER} = 1\n'''",
    f'"); import builtins; builtins.{MARKER} = 1; ("',
    f"\\N{{bogus}}\\\n__import__('builtins').{MARKER} = 1 #",
    "\\x00\\u12\\N{LATIN SMALL LETTER A}\\",
    f'{{class_name}}${{title}}$$ {{0}} %s\n"""\nexec("import builtins; builtins.{MARKER}=1")',
]


def write_run(folder: Path, *overrides: str, algorithm: str = "linear_sgd") -> Path:
    """A run directory as a campaign leaves it, as far as opening it goes: config and program."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(to_toml(load_config("linear-demo", [*SMALL, *overrides])))
    (folder / "best.txt").write_text(algorithm_text(algorithm))
    return folder


@pytest.fixture(autouse=True)
def _no_marker():
    if hasattr(builtins, MARKER):
        delattr(builtins, MARKER)
    yield
    assert not hasattr(builtins, MARKER), "code from a run directory ran"


def _names() -> st.SearchStrategy[str]:
    tricky = st.sampled_from(['"', "'", '"""', "'''", "\\", "\n", "\r", "\\N{", "}", "{", "$",
                              "%", "\u2028", "\x85", "\t", "é", "漢字", "🙂", "\U0010fffd", " "])
    pieces = st.one_of(st.sampled_from(PAYLOADS), tricky,
                       st.text(st.characters(blacklist_characters="/\x00",
                                             blacklist_categories=("Cs",)), max_size=30))
    long_names = st.integers(100, 250).map(lambda n: ("\\N{x}\"'" * 60)[:n])
    name = st.one_of(st.lists(pieces, min_size=1, max_size=8).map("".join), long_names)
    return name.filter(lambda s: s not in (".", "..") and 0 < len(s.encode("utf-8",
                                                                           "surrogatepass")) <= 255)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=_names())
def test_run_directory_names_never_become_code(tmp_path_factory, name):
    """1,000 hostile folder names: the exported module parses back with the name as a literal in
    its docstring, importing it runs nothing of the name, and load_estimator executes nothing."""
    base = tmp_path_factory.mktemp("names")
    try:
        run = write_run(base / name)
    except OSError:  # a name this file system refuses is not a name a run can have
        return
    source = run_estimator_source(run)
    tree = ast.parse(source)
    assert f"The algorithm discovered in {name}." in ast.get_docstring(tree, clean=False)
    namespace: dict = {"__name__": "exported_model"}
    exec(compile(tree, "model.py", "exec"), namespace)
    assert not hasattr(builtins, MARKER)
    estimator = load_estimator(run)
    assert isinstance(estimator, DiscoveredRegressor)
    shutil.rmtree(base)


def test_exported_file_imports_without_running_the_name(tmp_path):
    run = write_run(tmp_path / PAYLOADS[0].replace("builtins." + MARKER + " = 1",
                                                   "open('PWNED', 'w').close()"))
    out = tmp_path / "model.py"
    assert main(["export", str(run), "--to", "python", "-o", str(out)]) == 0
    rng = np.random.default_rng(0)
    np.save(tmp_path / "X.npy", rng.normal(size=(50, 3)))
    script = ("import numpy as np, model\n"
              "X = np.load('X.npy'); m = model.DiscoveredAlgorithm(n_projections=1)\n"
              "print(m.fit(X, X @ [1.0, 2.0, 3.0]).predict(X).shape)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "(50,)" in done.stdout and not (tmp_path / "PWNED").exists()
    estimator = load_estimator(run).fit(np.load(tmp_path / "X.npy"), np.arange(50.0))
    assert estimator.predict(np.load(tmp_path / "X.npy")).shape == (50,)
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()


# ---------------------------------------------------------------------------- bounded reading


def test_the_reader_takes_regular_files_only(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UnreadableFileError, match="FIFO"):
        read_bytes(fifo, what="run file")
    with pytest.raises(UnreadableFileError, match="character device"):
        read_bytes("/dev/zero")
    (tmp_path / "zero").symlink_to("/dev/zero")
    with pytest.raises(UnreadableFileError, match="character device"):
        read_text(tmp_path / "zero")
    with pytest.raises(UnreadableFileError, match="directory"):
        read_bytes(tmp_path)
    with pytest.raises(UnreadableFileError, match="no such file"):
        read_bytes(tmp_path / "missing")
    (tmp_path / "big").write_bytes(b"x" * 2000)
    with pytest.raises(UnreadableFileError, match="at most 1000 bytes"):
        read_bytes(tmp_path / "big", limit=1000)
    assert read_bytes(tmp_path / "big", limit=2000) == b"x" * 2000


@pytest.mark.timeout(120)
@pytest.mark.parametrize("special", ["fifo", "dev-zero"])
@pytest.mark.parametrize("command", ["show", "export", "load_estimator"])
def test_special_best_txt_is_one_clear_error(tmp_path, capsys, special, command):
    run = write_run(tmp_path / "run")
    (run / "best.txt").unlink()
    if special == "fifo":
        os.mkfifo(run / "best.txt")
    else:
        (run / "best.txt").symlink_to("/dev/zero")
    why = "FIFO" if special == "fifo" else "character device"
    if command == "load_estimator":
        with pytest.raises(Exception, match=why) as info:
            load_estimator(run)
        assert "\n" not in str(info.value)
        return
    assert main([command, str(run)]) == 2
    err = capsys.readouterr().err
    assert why in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def _stopped_run(tmp_path: Path) -> Path:
    """A run stopped part-way, with a current and a previous checkpoint."""
    from evolve.engine.campaign import start_campaign

    run = tmp_path / "run"
    run.mkdir()
    campaign = start_campaign(load_config("linear-demo", [*SMALL, "campaign.max_evaluations=2000"]),
                              run, quiet=True)
    campaign._stop_reason = lambda: "interrupted" if campaign.individuals >= 800 else None
    campaign.run()
    (run / "summary.json").unlink()
    assert (run / PREVIOUS_CHECKPOINT).exists()
    return run


@pytest.fixture(scope="module")
def stopped(tmp_path_factory) -> Path:
    return _stopped_run(tmp_path_factory.mktemp("stopped"))


def _copy(stopped: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(stopped, target)
    return target


def _zip_not_npz(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")


def _edited_but_valid(path: Path) -> None:
    """The checkpoint's arrays rewritten with one fitness changed, its metadata kept as it was."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["population_fitness"] = arrays["population_fitness"].copy()
    arrays["population_fitness"][0] = 0.999
    np.savez(path, **arrays)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("case", ["fifo", "zip, not npz", "edited but valid", "pickle member",
                                  "truncated", "/dev/zero"])
def test_every_unreadable_checkpoint_falls_back_to_the_previous(stopped, tmp_path, case):
    run = _copy(stopped, tmp_path)
    path = run / CHECKPOINT
    if case == "fifo":
        path.unlink()
        os.mkfifo(path)
    elif case == "zip, not npz":
        _zip_not_npz(path)
    elif case == "edited but valid":
        _edited_but_valid(path)
    elif case == "pickle member":
        np.savez(path, meta=np.array([{"a": 1}], dtype=object))
    elif case == "truncated":
        path.write_bytes(path.read_bytes()[:300])
    else:
        path.unlink()
        path.symlink_to("/dev/zero")
    _, _, warns = load_checkpoint(run)
    assert len(warns) == 1 and "trying the previous checkpoint" in warns[0], warns
    assert "\n" not in warns[0]
    if case == "edited but valid":
        assert "SHA-256" in warns[0]
    from evolve.engine.campaign import resume_campaign

    campaign, warns = resume_campaign(run, quiet=True)
    assert any("trying the previous checkpoint" in w for w in warns)
    campaign.run()
    assert (run / "summary.json").exists()


@pytest.mark.timeout(120)
def test_both_checkpoints_special_is_one_clear_error(stopped, tmp_path, capsys):
    run = _copy(stopped, tmp_path)
    for name in (CHECKPOINT, PREVIOUS_CHECKPOINT):
        (run / name).unlink()
        os.mkfifo(run / name)
    assert main(["resume", str(run)]) == 2
    err = capsys.readouterr().err
    assert "cannot resume" in err and "FIFO" in err and "Traceback" not in err


def test_the_checksum_covers_metadata_and_arrays(tmp_path):
    arrays = {"a": np.arange(5), "b": np.ones((2, 2))}
    save_checkpoint(tmp_path, {"individuals": 5}, arrays)
    meta, _, _ = load_checkpoint(tmp_path)
    assert meta["individuals"] == 5 and len(meta["sha256"]) == 64
    with np.load(tmp_path / CHECKPOINT) as data:
        raw = {k: data[k] for k in data.files}
    import json

    edited = json.loads(raw["meta"].tobytes())
    edited["individuals"] = 6
    raw["meta"] = np.frombuffer(json.dumps(edited).encode(), dtype=np.uint8)
    np.savez(tmp_path / CHECKPOINT, **raw)
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_checkpoint(tmp_path)


def _lying_zip(members: dict[str, bytes], declared: int) -> bytes:
    """A zip whose headers declare ``declared`` bytes for every member, whatever they hold."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    data = bytearray(buffer.getvalue())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (at := data.find(signature, start)) >= 0:
            data[at + offset: at + offset + 4] = struct.pack("<I", declared)
            start = at + 4
    return bytes(data)


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_npz_bombs_pickles_and_lying_headers_are_refused(tmp_path):
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("X.npy", _npy(np.zeros(4 * 1024 * 1024 // 8)))
    assert bomb.stat().st_size < 50_000
    with pytest.raises(UnreadableFileError, match=r"inflates to 4\.0 MiB"):
        read_npz(bomb, limit=1024 * 1024)
    assert read_npz(bomb, limit=8 * 1024 * 1024)["X"].shape == (524288,)
    short = tmp_path / "short.npz"
    short.write_bytes(_lying_zip({"X.npy": _npy(np.arange(1000.0))}, declared=200))
    with pytest.raises(UnreadableFileError, match="member 'X'"):
        read_npz(short)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, X=np.array([object(), 1], dtype=object))
    with pytest.raises(UnreadableFileError, match="without pickles"):
        read_npz(pickled)
    with pytest.raises(UnreadableFileError, match=r"not an \.npz"):
        read_npz(_text(tmp_path))


def _text(tmp_path: Path) -> Path:
    path = tmp_path / "not.npz"
    path.write_text("plain text")
    return path


@pytest.mark.parametrize("case", ["bomb", "pickle", "lying header", "fifo"])
def test_hostile_data_files_are_one_clear_error(tmp_path, capsys, monkeypatch, case):
    import problems.table

    monkeypatch.setattr(problems.table, "DATA_LIMIT", 1024 * 1024)
    path = tmp_path / "data.npz"
    y = np.arange(100.0)
    if case == "bomb":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("X.npy", _npy(np.zeros((100_000, 8))))
            archive.writestr("y.npy", _npy(y))
    elif case == "pickle":
        np.savez(path, X=np.array([object()] * 100, dtype=object), y=y)
    elif case == "lying header":
        path.write_bytes(_lying_zip({"X.npy": _npy(np.ones((100, 3))), "y.npy": _npy(y)}, 64))
    else:
        os.mkfifo(path)
    code = main(["run", "--data", str(path), "--target", "y", "--max-evaluations", "100",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and "data file" in err, err
    assert len(err.strip().splitlines()) == 1, err


# ---------------------------------------------------------------------------- items 5 to 8


def test_a_huge_features_size_is_a_clear_error_not_an_allocation(tmp_path, capsys):
    run = write_run(tmp_path / "run", "problem.features_size=1000000")
    estimator = load_estimator(run)
    assert estimator.features_size == 1_000_000
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match=r"features_size=1000000: the trained models would need"):
        estimator.fit(X, X[:, 0])
    assert main(["export", str(run), "--to", "python", "-o", str(tmp_path / "m.py")]) == 0
    assert "features_size=1000000" in (tmp_path / "m.py").read_text()


def test_workers_with_islands_use_worker_processes():
    parser = build_parser()
    config = resolve_config(parser.parse_args(["run", "linear-demo", "--workers", "2", "--set",
                                               "campaign.islands=4"]))
    assert config.campaign.islands == 4 and config.campaign.executor == "processes"
    config = resolve_config(parser.parse_args(["run", "linear-demo", "--workers", "2"]))
    assert config.campaign.islands == 2 and config.campaign.executor == "processes"
    args = parser.parse_args(["run", "linear-demo", "--workers", "2", "--executor", "serial"])
    with pytest.raises(Exception, match="--executor serial"):
        resolve_config(args)


def test_numbers_too_large_to_standardize_name_file_and_column(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n1,2,0\n3,1e308,1\n5,6,0\n7,8,1\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ProblemError, match=r"t.csv.*column 'b'.*1e\+308.*1e\+150"):
            load_table(str(path), target="y")


def _interrupting(signum: int):
    def on_progress(progress) -> None:
        os.kill(os.getpid(), signum)
    return on_progress


@pytest.mark.timeout(300)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signals_in_the_python_api_checkpoint_then_raise(tmp_path, signum):
    from evolve.api import run_campaign

    expected = KeyboardInterrupt if signum == signal.SIGINT else SystemExit
    before = signal.getsignal(signum)  # SIG_IGN under nohup or a background CI job
    with pytest.raises(expected) as info:
        run_campaign("linear-demo", overrides=[*SMALL, "campaign.max_evaluations=10000000"],
                     run_dir=tmp_path / "run", on_progress=_interrupting(signum))
    if signum == signal.SIGTERM:
        assert info.value.code == 143
    import json

    assert json.loads((tmp_path / "run" / "summary.json").read_text())["stopped_by"] == "interrupted"
    assert (tmp_path / "run" / CHECKPOINT).exists()
    assert signal.getsignal(signum) == before  # the caller's handler is back


@settings(max_examples=300, deadline=None)
@given(flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=6),
       cut=st.integers(0, 10**6))
def test_damaged_archives_give_only_the_clear_error(tmp_path_factory, flips, cut):
    """An .npz with bytes changed or cut anywhere: arrays or one UnreadableFileError, nothing else."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, X=np.arange(60.0).reshape(20, 3), y=np.array(["a", "b"] * 10))
    data = bytearray(buffer.getvalue())
    for at, value in flips:
        data[at % len(data)] = value
    path = tmp_path_factory.mktemp("damaged") / "d.npz"
    path.write_bytes(bytes(data[: max(1, cut % (len(data) + 1))]))
    try:
        arrays = read_npz(path)
    except UnreadableFileError as error:
        assert "\n" not in str(error)
    else:
        assert set(arrays) <= {"X", "y"}
