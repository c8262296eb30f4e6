"""``report.md`` and a self-contained ``report.html`` for a run directory.

Reads only the run's canonical files (``config.toml``, ``progress.csv``, ``hall_of_fame.txt``,
``best.txt``, ``summary.json``) and recomputes every view: plots of progress (Agg backend), the
pruned best program and its math, and a table against baselines on the final tasks.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from pathlib import Path

from evolve.analysis.baselines import compare, format_table
from evolve.analysis.load import final_tasks, load_source, read_hall_of_fame
from evolve.analysis.math_view import program_math
from evolve.analysis.typeset import STYLE as TYPESET_STYLE
from evolve.analysis.typeset import math_html
from evolve.engine.metadata import metadata_brief
from evolve.errors import CheckpointError, EvolveError
from primitives.prune import prune
from primitives.text import format_program
from problems.files import UnreadableFileError, read_text


def read_progress(path: Path) -> list[dict]:
    if not path.exists():
        return []
    try:
        text = read_text(path, what="progress log")
        rows = []
        for row in csv.DictReader(io.StringIO(text, newline="")):
            rows.append({k: _number(v) for k, v in row.items()})
        return rows
    except UnreadableFileError as exc:
        raise CheckpointError(str(exc)) from None
    except csv.Error as exc:
        raise CheckpointError(f"{path}: not a progress log (UTF-8 CSV): {type(exc).__name__}") from None


def read_summary(path: Path) -> dict:
    """``summary.json`` as an object; a corrupt one is one clear error."""
    try:
        summary = json.loads(read_text(path, what="run summary"))
    except UnreadableFileError as exc:
        raise CheckpointError(str(exc)) from None
    except (ValueError, RecursionError) as exc:
        raise CheckpointError(f"{path}: not a run summary (JSON): {type(exc).__name__}") from None
    if not isinstance(summary, dict):
        raise CheckpointError(f"{path}: not a run summary (a JSON object)")
    return summary


def _number(text: str):
    try:
        return float(text)
    except (TypeError, ValueError):
        return text


def progress_plots(rows: list[dict], threshold: float | None = None) -> dict[str, bytes]:
    """PNG bytes: fitness vs individuals, fitness vs seconds, FEC hit rate vs individuals.

    Best and mean fitness of one experiment share a colour (best solid, mean dashed); the success
    threshold is a dotted line; 8.5 x 4.2 inches at 110 dpi reads well on a laptop screen."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import EngFormatter

    plots: dict[str, bytes] = {}
    if not rows:
        return plots
    experiments = sorted({r.get("experiment", 0) for r in rows}, key=str)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]

    def series(exp, key):
        return [r[key] for r in rows if r.get("experiment", 0) == exp and key in r]

    specs = [
        ("fitness_vs_individuals", "individuals", ["best_fitness", "mean_fitness"], "fitness"),
        ("fitness_vs_seconds", "seconds", ["best_fitness", "mean_fitness"], "fitness"),
        ("fec_hit_rate", "individuals", ["fec_hit_rate"], "FEC hit rate"),
    ]
    for name, x_key, y_keys, ylabel in specs:
        fig, ax = plt.subplots(figsize=(8.5, 4.2), dpi=110)
        for n, exp in enumerate(experiments):
            color = colors[n % len(colors)]
            tag = "" if len(experiments) == 1 else (
                f", exp {exp:g}" if isinstance(exp, float) else f", exp {exp}")
            for y_key, style in zip(y_keys, ("-", "--"), strict=False):
                label = y_key.replace("_fitness", "").replace("_", " ") + tag
                ax.plot(series(exp, x_key), series(exp, y_key), style, color=color, lw=1.5,
                        label=label if n < 6 else None)
        if threshold is not None and ylabel == "fitness":
            ax.axhline(threshold, color="black", ls=":", lw=1.2,
                       label=f"success threshold {threshold:.4g}")
        ax.set_xlabel(x_key)
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9, loc="best", ncol=2 if len(experiments) > 1 else 1)  # not over the curves
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        plt.close(fig)
        plots[name] = buffer.getvalue()
    return plots


def human(value) -> str:
    """A number rounded for people: integers with thousands separators, 4 significant digits."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int) or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}" if abs(value) >= 1 else f"{value:.4f}"


def pareto_plot(path: Path) -> bytes | None:
    """PNG of the NSGA-II Pareto front (fitness vs effective size) from ``pareto_front.txt``."""
    if not path.exists():
        return None
    points = []
    for line in read_text(path, what="run file", errors="replace").splitlines():
        parts = line.split()
        if line.startswith("# point") and len(parts) >= 7:
            points.append((int(parts[6]), float(parts[4])))
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes, fitness = zip(*sorted(points), strict=True)
    fig, ax = plt.subplots(figsize=(5.5, 3.2), dpi=80)
    ax.step(sizes, fitness, where="post", alpha=0.5)
    ax.plot(sizes, fitness, "o")
    ax.set_xlabel("effective (pruned) size")
    ax.set_ylabel("search fitness")
    ax.set_title("Pareto front (NSGA-II)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def build_report(run_dir: str | Path, *, n_tasks: int | None = None,
                 baselines: bool = True, findings: bool = True) -> tuple[Path, Path]:
    """Write ``report.md`` (+ ``plots/*.png``) and ``report.html`` into ``run_dir``; with
    ``findings`` also ablation, coupling, lineage and the generalization probe
    (:mod:`evolve.analysis.findings`)."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.toml").exists():
        raise EvolveError(f"{run_dir}: not a run directory (no config.toml)")
    source = load_source(run_dir)
    config = source.config
    summary = {}
    if (run_dir / "summary.json").exists():
        summary = read_summary(run_dir / "summary.json")
    rows = read_progress(run_dir / "progress.csv")
    hof_path = run_dir / "hall_of_fame.txt"
    hall = read_hall_of_fame(hof_path) if hof_path.exists() else []

    tasks = final_tasks(config, n=n_tasks)
    eval_type = tasks[0].eval_type
    pruned = prune(source.program)
    math = program_math(pruned, eval_type)
    scores = compare({"discovered (best.txt)": source.program}, tasks, source.memory,
                     max_abs_error=config.evaluation.max_abs_error,
                     reduction=config.evaluation.reduction, baselines=baselines)
    threshold = summary.get("success_threshold")
    threshold = float(threshold) if isinstance(threshold, (int, float)) else None
    plots = progress_plots(rows, threshold)
    front = pareto_plot(run_dir / "pareto_front.txt")
    if front is not None:
        plots["pareto_front"] = front

    brief = [
        ("problem", f"{config.problem.name} {config.problem.params or ''}"
                    + (f" select/final overrides {config.problem.select}" if config.problem.select else "")),
        ("tasks", f"search {config.tasks.search}, select {config.tasks.select}, final {config.tasks.final}"
                  f" (table on {len(tasks)} final tasks, {eval_type})"),
        ("memory", f"{config.memory.scalars} scalars, {config.memory.vectors} vectors, "
                   f"{config.memory.matrices} matrices"),
        ("search", f"{config.search.method}, population {config.search.population_size}, "
                   f"tournament {config.search.tournament_size}"),
        ("seed", str(config.seed)),
    ]
    for key in ("success", "seconds_to_success", "individuals", "evaluations",
                "individuals_per_second", "search_fitness", "select_fitness", "final_fitness"):
        if key in summary:
            brief.append((key.replace("_", " "), human(summary[key])))
    brief += metadata_brief(summary.get("metadata"))  # versions, CPU, command line (evolve.engine.metadata)

    hall_rows = [(rank, fitness, len(p), len(prune(p))) for rank, fitness, p in hall]
    found = None
    if findings:
        from evolve.analysis.findings import build_findings

        found = build_findings(run_dir, source, config, eval_type, threshold,
                               probe_baselines=baselines)
    plot_dir = run_dir / "plots"
    if plots or found is not None:
        plot_dir.mkdir(exist_ok=True)
        for name, data in {**plots, **(found.plots if found else {})}.items():
            (plot_dir / f"{name}.png").write_bytes(data)

    md = [f"# Report: {run_dir.name}", "", "## Campaign", ""]
    md += [f"- **{k}**: {v}" for k, v in brief]
    md += ["", "## Progress", ""]
    md += [f"![{name}](plots/{name}.png)" for name in plots] or ["(no progress.csv)"]
    md += ["", "## Discovered algorithm (pruned)", "", "```", format_program(pruned).rstrip(), "```",
           "", "### Math", "", "```", math.to_text().rstrip(), "```", "", "$$", math.to_latex().rstrip(),
           "$$", "", f"## Final tasks ({len(tasks)}, {eval_type})", "", format_table(scores, True)]
    md += (found.md if found else []) + ["## Hall of fame", ""]
    if hall_rows:
        md += ["| rank | fitness | instructions | pruned |", "|---:|---:|---:|---:|"]
        md += [f"| {r} | {f:.4f} | {n} | {k} |" for r, f, n, k in hall_rows]
    else:
        md.append("(no hall_of_fame.txt)")
    md_path = run_dir / "report.md"
    md_path.write_text("\n".join(md) + "\n")

    esc = html.escape
    parts = [f"<h1>Report: {esc(run_dir.name)}</h1>", "<h2>Campaign</h2><ul>"]
    parts += [f"<li><b>{esc(k)}</b>: {esc(v)}</li>" for k, v in brief]
    parts += ["</ul>", "<h2>Progress</h2>"]
    parts += [f'<img class="plot" alt="{name}" '
              f'src="data:image/png;base64,{base64.b64encode(data).decode()}">'
              for name, data in plots.items()] or ["<p>(no progress.csv)</p>"]
    parts += ["<h2>Discovered algorithm (pruned)</h2>", f"<pre>{esc(format_program(pruned))}</pre>",
              "<h3>Math</h3>", math_html(math.to_latex()),
              f"<details><summary>as text</summary><pre>{esc(math.to_text())}</pre></details>",
              f"<details><summary>LaTeX</summary><pre>{esc(math.to_latex())}</pre></details>",
              f"<h2>Final tasks ({len(tasks)}, {esc(eval_type)})</h2>",
              "<table><tr><th>method</th><th>kind</th><th>fitness</th><th>std</th></tr>"]
    parts += [f"<tr><td>{esc(s.name)}</td><td>{s.kind}</td><td>{s.fitness:.4f}</td>"
              f"<td>{s.as_dict()['std']:.4f}</td></tr>" for s in scores]
    parts += ["</table>", *(found.html if found else []), "<h2>Hall of fame</h2>"]
    if hall_rows:
        parts.append("<table><tr><th>rank</th><th>fitness</th><th>instructions</th><th>pruned</th></tr>")
        parts += [f"<tr><td>{r}</td><td>{f:.4f}</td><td>{n}</td><td>{k}</td></tr>"
                  for r, f, n, k in hall_rows]
        parts.append("</table>")
        for rank, fitness, program in hall:
            parts.append(f"<details><summary>rank {rank} (fitness {fitness:.4f})</summary>"
                         f"<pre>{esc(format_program(program))}</pre></details>")
    style = ("body{font-family:sans-serif;max-width:60em;margin:auto}pre{background:#f4f4f4;"
             "padding:.5em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}"
             "img.plot{max-width:100%;height:auto;display:block;margin:.5em 0}pre{overflow-x:auto}"
             + TYPESET_STYLE)
    html_text = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(run_dir.name)}</title>"
                 f"<style>{style}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")
    html_path = run_dir / "report.html"
    html_path.write_text(html_text)
    return md_path, html_path
