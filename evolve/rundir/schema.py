"""The run directory's schema: every file a run may hold, its format, who writes it, who reads it.

One table, :data:`FILES`, is the format's definition: the documentation's "Run-directory format"
page is generated from it (:func:`markdown_table`) and a test runs campaigns of each kind and
checks that every file they leave is listed here. Every file is written whole or not at all
(:func:`evolve.rundir.store.atomic_write_bytes`, or appended row by row and flushed for the
CSV logs) and read through the bounded reader :mod:`problems.files` with the ``limit`` given here;
nothing in a run directory is ever executed or unpickled.
"""

from __future__ import annotations

from dataclasses import dataclass

from problems.files import ARCHIVE_LIMIT, DATA_LIMIT, TEXT_LIMIT

CONFIG = "config.toml"
SUMMARY = "summary.json"
PROGRESS = "progress.csv"
BEST = "best.txt"
HALL_OF_FAME = "hall_of_fame.txt"
CHECKPOINT = "checkpoint.npz"
PREVIOUS_CHECKPOINT = "checkpoint.prev.npz"
SELECT_CURVE = "select_curve.csv"
ISLANDS_LOG = "islands.csv"
PARETO_FRONT = "pareto_front.txt"
LINEAGE = "lineage.csv"
DATA_REPORT = "data.json"
TABLE_MODEL = "table_model.json"
RETUNE = "retune.json"
RETUNE_TABLE = "retune.md"
RETUNED = "retuned.txt"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
LINEAGE_PLOT = "lineage.png"


@dataclass(frozen=True)
class RunFile:
    """One file of a run directory."""

    name: str
    format: str
    written_by: str
    read_by: str
    meaning: str
    limit: int = TEXT_LIMIT
    always: bool = False  # every campaign leaves it (else: only some kinds of run, or a command)


FILES: tuple[RunFile, ...] = (
    RunFile(CONFIG, "TOML", "engine.campaign.start_campaign", "rundir.resume_config, analysis.load",
            "the resolved config, every field, written before any work", always=True),
    RunFile(PROGRESS, "CSV (header + one row per progress tick, flushed)", "rundir.store.ProgressLog",
            "rundir.read, analysis.report, ui.dashboard", "individuals, evaluations, seconds, best "
            "and mean fitness, FEC hit rate, individuals/s", limit=DATA_LIMIT, always=True),
    RunFile(CHECKPOINT, "NPZ without pickles: arrays + a JSON 'meta' member with its SHA-256",
            "rundir.store.save_checkpoint", "rundir.store.load_checkpoint",
            "everything a resume needs: populations, RNG states, FEC, hall of fame, clock",
            limit=ARCHIVE_LIMIT, always=True),
    RunFile(PREVIOUS_CHECKPOINT, "NPZ (as checkpoint.npz)", "rundir.store.save_checkpoint",
            "rundir.store.load_checkpoint", "the checkpoint before the last: resume falls back to "
            "it when the newest is unreadable or edited", limit=ARCHIVE_LIMIT),
    RunFile(SUMMARY, "JSON object", "rundir.results", "rundir.read, api.read_result",
            "why the run stopped, individuals, fitness on search/select/final tasks, success, "
            "seconds, versions and git commit", always=True),
    RunFile(BEST, "program text (primitives.text)", "rundir.results", "analysis.load",
            "the reported program: best on the select tasks", always=True),
    RunFile(HALL_OF_FAME, "program text blocks headed '# rank N fitness F'", "rundir.results",
            "analysis.load, ui.dashboard", "the best distinct programs by search fitness",
            always=True),
    RunFile(SELECT_CURVE, "CSV", "engine.checkpoint", "analysis.report",
            "select-task fitness of each candidate checked, over individuals"),
    RunFile(ISLANDS_LOG, "CSV (one row per island per progress tick)", "engine.progress",
            "ui.dashboard", "each island's best fitness and individuals (islands > 1)",
            limit=DATA_LIMIT),
    RunFile(PARETO_FRONT, "program text blocks headed '# point ...'", "rundir.results",
            "analysis.report", "NSGA-II's front over (fitness, effective size)"),
    RunFile(LINEAGE, "CSV", "rundir.lineage", "rundir.lineage, analysis.lineage",
            "the chain of ancestors of the best programs and each step's mutation",
            limit=DATA_LIMIT),
    RunFile(DATA_REPORT, "JSON object", "tables.data_runs", "tables.data_runs, analysis.export_estimator",
            "a data run's file, hash, columns, encoding and task type"),
    RunFile(TABLE_MODEL, "JSON object", "tables.final_model", "(people, evolve bench --tables)",
            "a data run's final model (chosen on the training rows) and scikit-learn's standard "
            "models, scored on the held-out rows"),
    RunFile(RETUNE, "JSON object", "cli.retune (studies.retune)", "studies.ablation_table",
            "the run's program and the baselines, equally re-tuned, on final tasks"),
    RunFile(RETUNE_TABLE, "Markdown", "cli.retune", "(people)", "retune.json as a table"),
    RunFile(RETUNED, "program text", "cli.retune", "analysis.load", "the program with its re-tuned constants"),
    RunFile(REPORT_MD, "Markdown", "analysis.report", "(people)", "the run's report"),
    RunFile(REPORT_HTML, "self-contained HTML", "analysis.report", "(people)", "the run's report"),
    RunFile(LINEAGE_PLOT, "PNG", "cli.lineage", "(people)", "fitness along the best program's lineage"),
)

BY_NAME = {f.name: f for f in FILES}


def markdown_table() -> str:
    """The schema as a Markdown table (the documentation's run-directory page)."""
    lines = ["| file | format | written by | read by | holds |", "|---|---|---|---|---|"]
    for f in FILES:
        lines.append(f"| `{f.name}`{' (always)' if f.always else ''} | {f.format} | "
                     f"`{f.written_by}` | {f.read_by} | {f.meaning} |")
    return "\n".join(lines) + "\n"
