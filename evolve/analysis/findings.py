"""The report's "what was found" sections: ablation ranks, hyperparameter coupling, lineage and
the generalization probe, each as Markdown lines, HTML parts and plots (PNG bytes) for
:func:`evolve.analysis.report.build_report`. Everything is recomputed from the run directory."""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, field
from pathlib import Path

from evolve.analysis import knockouts as ab
from evolve.analysis.decouple import decouple_report, format_decoupling
from evolve.analysis.generalize import format_probe, probe, summary
from evolve.analysis.lineage import chain_of, format_lineage, lineage_plot
from evolve.rundir.lineage import LINEAGE_FILE, read_lineage

COLORS = {"essential": "#d62728", "helps": "#ff7f0e", "no effect": "#999999", "harmful": "#2ca02c"}
MAX_ABLATION_TASKS = 50


@dataclass
class Findings:
    md: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    plots: dict[str, bytes] = field(default_factory=dict)


def _table_html(head: tuple, rows: list[tuple], right: tuple[int, ...] = ()) -> str:
    esc = html.escape
    out = ["<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>"]
    for r in rows:
        out.append("<tr>" + "".join(
            f'<td style="text-align:right">{esc(str(c))}</td>' if i in right
            else f"<td>{esc(str(c))}</td>" for i, c in enumerate(r)) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _table_md(head: tuple, rows: list[tuple], right: tuple[int, ...] = ()) -> list[str]:
    align = ["---:" if i in right else "---" for i in range(len(head))]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return [*lines, ""]


def knockout_plot(result: ab.Ablation) -> bytes:
    """Horizontal bars: Δ fitness when each live instruction is knocked out."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = result.knockouts
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(ks) + 1.3), dpi=110)
    labels = [f"#{k.rank} {k.where()}: {k.text}"[:48] for k in ks]
    ax.barh(range(len(ks)), [k.delta for k in ks], color=[COLORS[k.verdict] for k in ks])
    ax.set_yticks(range(len(ks)), labels, fontsize=8, family="monospace")
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("Δ fitness when knocked out (instruction → NoOp)")
    ax.set_title(f"Knock-outs (fitness {result.fitness:.4f} on {result.tasks} select tasks)",
                 fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def build_findings(run_dir: Path, source, config, eval_type: str, threshold: float | None,
                   *, probe_baselines: bool = True) -> Findings:
    """All four sections for the run's best program."""
    from evolve.analysis.load import final_tasks
    from evolve.evaluation.scoring import TaskBatch

    out = Findings()
    esc = html.escape
    program, memory = source.program, source.memory
    e = config.evaluation
    n = min(config.tasks.select, MAX_ABLATION_TASKS)
    batch = TaskBatch.from_tasks(final_tasks(config, "select", n))
    result = ab.ablate(program, batch, memory, max_abs_error=e.max_abs_error, reduction=e.reduction)
    head = ("rank", "where", "instruction", "knocked out", "Δ fitness", "effect")
    rows = [(k.rank, k.where(), k.text, f"{k.fitness:.4f}", f"{round(k.delta, 4) + 0.0:+.4f}",
             f"{ab.MARKS[k.verdict]} {k.verdict}") for k in result.knockouts]
    summary_text = ab.dependence_summary(result)
    out.plots["knockouts"] = knockout_plot(result)
    intro = (f"Every live instruction knocked out (→ NoOp) and every constant swept ×0 … ×100, "
             f"{result.variants} variants in one interpreter call ({result.seconds:.1f} s) on "
             f"{result.tasks} select tasks (`evolve explain {run_dir.name}`).")
    out.md += ["## What the algorithm depends on (ablation)", "", intro, "", summary_text, "",
               "![knockouts](plots/knockouts.png)", ""]
    out.md += _table_md(head, rows, (0, 3, 4))
    out.md += ["Marked program (★ essential, + helps, · no effect, ! harmful):", "", "```",
               ab.marked_program(program, result).rstrip(), "```", ""]
    out.html += ["<h2>What the algorithm depends on (ablation)</h2>", f"<p>{esc(intro)}</p>",
                 f"<p>{esc(summary_text)}</p>", _img("knockouts", out.plots["knockouts"]),
                 _table_html(head, rows, (0, 3, 4)),
                 "<p>Marked program (★ essential, + helps, · no effect, ! harmful):</p>",
                 f"<pre>{esc(ab.marked_program(program, result))}</pre>"]
    marked = ab.format_marked_math(ab.marked_math(program, result, eval_type))
    out.md += ["The math, each line with the knock-outs that change it:", "", "```", marked.rstrip(),
               "```", ""]
    out.html += ["<p>The math, each line with the knock-outs that change it:</p>",
                 f"<pre>{esc(marked)}</pre>"]
    sweeps = [s for s in result.sweeps if s.spread > ab.NO_EFFECT][:6]
    if sweeps:
        shead = ("constant", "value", *(f"×{f:g}" for f in sweeps[0].factors))
        srows = [(s.where_text(), f"{s.value:.4g}", *(f"{v:.3f}" for v in s.fitness))
                 for s in sweeps]
        right = tuple(range(1, len(shead)))
        out.md += ["Constant sweeps (fitness with the constant multiplied):", ""]
        out.md += _table_md(shead, srows, right)
        out.html += ["<p>Constant sweeps (fitness with the constant multiplied):</p>",
                     _table_html(shead, srows, right)]

    params = {**config.problem.params, **config.problem.select}
    coupling = decouple_report(program, memory, config.problem.name, params, "select",
                               min(n, 20), config.seed, max_abs_error=e.max_abs_error,
                               reduction=e.reduction)
    text = format_decoupling(coupling)
    out.md += ["## Hyperparameter coupling", "", "```", text.rstrip(), "```", ""]
    out.html += ["<h2>Hyperparameter coupling</h2>", f"<pre>{esc(text)}</pre>"]

    if (run_dir / LINEAGE_FILE).exists():
        chain = chain_of(read_lineage(run_dir), "best")
        if len(chain) < 3:  # the best candidate was an initial program: show the top of the hall
            chain = chain_of(read_lineage(run_dir), "hof1")
        out.plots["lineage"] = lineage_plot(chain, threshold)
        lines = format_lineage(chain).splitlines()
        shown = lines if len(lines) <= 26 else [*lines[:24], "…", *lines[-1:]]
        out.md += ["## Lineage", "", "![lineage](plots/lineage.png)", "", "```",
                   "\n".join(shown), "```", ""]
        out.html += ["<h2>Lineage</h2>", _img("lineage", out.plots["lineage"]),
                     f"<pre>{esc(chr(10).join(shown))}</pre>"]

    rows_p, seconds = probe(program, memory, config.problem.name, params, seed=config.seed,
                            max_abs_error=e.max_abs_error, reduction=e.reduction,
                            sklearn=probe_baselines)
    note = (f"10 final tasks per row ({seconds:.0f} s); verdicts against the best shipped "
            "algorithm: ahead / level (±0.01) / behind, breaks below half the program's own "
            "score.")
    out.md += ["## Generalization probe", "", note, "", format_probe(rows_p, markdown=True),
               summary(rows_p), ""]
    ph = ("tasks", "program", "best shipped", "best scikit-learn", "verdict")
    prow = [(r.variant, f"{r.program:.3f}", f"{r.shipped[1]:.3f} {r.shipped[0]}" if r.shipped
             else "-", f"{r.sklearn[1]:.3f} {r.sklearn[0]}" if r.sklearn else "-", r.verdict)
            for r in rows_p]
    out.html += ["<h2>Generalization probe</h2>", f"<p>{esc(note)}</p>",
                 _table_html(ph, prow, (1,)), f"<p>{esc(summary(rows_p))}</p>"]
    return out


def _img(name: str, data: bytes) -> str:
    import base64

    return (f'<img class="plot" alt="{html.escape(name)}" '
            f'src="data:image/png;base64,{base64.b64encode(data).decode()}">')
