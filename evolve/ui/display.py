"""The terminal display of a running campaign, on rich.

On a terminal: a few lines redrawn in place (rich's ``Live``), laid out anew for the terminal's
width at every refresh, so nothing wraps or is left behind: the experiment, individuals,
individuals/s, FEC hit rate, best/mean search fitness, select fitness, elapsed / budget with the
time left in the budget, a sparkline of the best search fitness, the current candidate's update rules (one line,
cut to fit). Before the clock starts, a spinner says "compiling the interpreter (once, ~20 s)"
when Numba's on-disk cache is cold. Elsewhere (a log, CI, a notebook's captured stderr): one plain
line at most every ``plain_every`` seconds. ``--quiet`` attaches no display at all.
"""

from __future__ import annotations

import atexit
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.text import Text

from evolve.engine.progress import Progress

SEPARATOR = " │ "
SPARKS = "▁▂▃▄▅▆▇█"
COLD_NOTICE = "compiling the interpreter (once, ~20 s)"
WARM_NOTICE = "loading the interpreter and the tasks"


def si(value: float) -> str:
    """1234567 -> ``1.2M``."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.1f}{unit}"
    return f"{value:.0f}"


def clock(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    return f"{seconds // 3600:d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def sparkline(values: Sequence[float], width: int) -> str:
    """``values`` as at most ``width`` block characters, scaled between their min and max; with
    more values than columns each column shows the largest value of its bucket."""
    if width <= 0 or not values:
        return ""
    n = len(values)
    if n > width:
        values = [max(values[i * n // width:(i + 1) * n // width]) for i in range(width)]
    lo, hi = min(values), max(values)
    span = hi - lo
    top = len(SPARKS) - 1
    return "".join(SPARKS[top if span <= 0 else round((v - lo) / span * top)] for v in values)


def fields(p: Progress) -> list[str]:
    """The display's fields in the order they are laid out."""
    out = [f"{p.name} exp {p.experiment}", f"{si(p.individuals)} ind", f"{si(p.individuals_per_second)} ind/s",
           f"FEC {100 * p.fec_hit_rate:.0f}%", f"best {p.best_fitness:.5f}", f"mean {p.mean_fitness:.3f}"]
    if p.select_fitness is not None:
        out.append(f"select {p.select_fitness:.5f}" + (" ✓" if p.success else f" (goal {p.success_threshold:.4g})"))
    out.append(clock(p.seconds) + (f" / {clock(p.budget_seconds)}" if p.budget_seconds else ""))
    if p.eta_seconds is not None:  # the budget's end: a success may stop the run sooner
        out.append(f"budget left {clock(p.eta_seconds)}")
    if p.islands:
        out.append("islands " + " ".join(f"{i.best_fitness:.3f}" for i in p.islands))
    return out


def pack(items: Sequence[str], width: int, separator: str = SEPARATOR) -> list[Text]:
    """Items joined by ``separator`` into as few lines of at most ``width`` cells as they fit;
    an item wider than a line alone is cut with an ellipsis."""
    lines: list[Text] = []
    current = Text()
    for item in items:
        if current.cell_len and current.cell_len + len(separator) + Text(item).cell_len <= width:
            current.append(separator, style="dim")
            current.append(item)
            continue
        if current.cell_len:
            lines.append(current)
        current = Text(item)
        current.truncate(width, overflow="ellipsis")
    if current.cell_len:
        lines.append(current)
    return lines


def render_lines(p: Progress, width: int) -> list[Text]:
    """The display of ``p`` as lines of at most ``width`` cells each."""
    width = max(width, 1)
    lines = pack(fields(p), width)
    if p.best_history:
        lo, hi = min(p.best_history), max(p.best_history)
        label = f"best {lo:.3f}…{hi:.3f} "
        room = width - len(label)
        spark = Text()
        if room >= 10:
            spark.append(label, style="dim")
            spark.append(sparkline(p.best_history, room), style="green")
        else:
            spark.append(sparkline(p.best_history, width), style="green")
        lines.append(spark)
    if p.best_math:
        math = Text(p.best_math, style="bold")
        math.truncate(width, overflow="ellipsis")
        lines.append(math)
    return lines


def plain_line(p: Progress) -> str:
    """One log line with every field (no width limit: logs do not wrap in place)."""
    line = " | ".join(fields(p))
    return line + (f" | {p.best_math}" if p.best_math else "")


class _Frame:
    """A renderable that lays itself out for the width rich gives it at each refresh."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in render_lines(self.progress, options.max_width):
            line.no_wrap = True
            line.overflow = "ellipsis"
            yield line


class TerminalDisplay:
    """A campaign listener (see :mod:`evolve.engine.progress`) drawing to ``console`` (stderr)."""

    def __init__(self, console: Console | None = None, plain_every: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        # off a terminal lines are never hard-wrapped (a log keeps program text whole)
        self.console = console or Console(stderr=True, soft_wrap=not sys.stderr.isatty())
        self.plain_every = plain_every
        self.clock = clock
        self.live: Live | None = None
        self.status: Any = None
        self._last_plain = -float("inf")

    @property
    def interactive(self) -> bool:
        return self.console.is_terminal and not self.console.is_dumb_terminal

    def warming(self, cold: bool) -> None:
        notice = COLD_NOTICE if cold else WARM_NOTICE
        if self.interactive:
            self.status = self.console.status(notice + " …")
            self.status.start()
        elif cold:
            self.console.print(notice + " …", highlight=False, soft_wrap=True)

    def _stop_status(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None

    def __call__(self, progress: Progress) -> None:
        self._stop_status()
        if self.interactive:
            if self.live is None:
                self.live = Live(_Frame(progress), console=self.console, auto_refresh=False,
                                 redirect_stdout=False, redirect_stderr=False)
                self.live.start(refresh=True)
                atexit.register(self._stop)  # a campaign that dies still gives the cursor back
            else:
                self.live.update(_Frame(progress), refresh=True)
            return
        now = self.clock()
        if now - self._last_plain >= self.plain_every:
            self._last_plain = now
            self.console.print(plain_line(progress), highlight=False, soft_wrap=True, markup=False)

    def finished(self, summary: dict, run_dir: Path) -> None:
        self._stop()

    def _stop(self) -> None:
        self._stop_status()
        if self.live is not None:
            self.live.stop()  # the last frame stays on screen
            self.live = None
            atexit.unregister(self._stop)


def make_display() -> TerminalDisplay:
    return TerminalDisplay()


# ------------------------------------------------------------------------------ the end of a run


def final_report(summary: dict, run_dir: Path, console: Console | None = None) -> None:
    """What a run found: the pruned program, its math, its final-task score next to the shipped
    baselines (on the same final tasks), and where the run directory is."""
    from evolve.analysis.baselines import compare
    from evolve.analysis.load import final_tasks, load_source
    from evolve.analysis.math_view import program_math
    from primitives.prune import prune
    from primitives.text import format_program

    console = console or Console(soft_wrap=not sys.stdout.isatty())
    run_dir = Path(run_dir)
    if (run_dir / "best.txt").exists():
        source = load_source(run_dir)
        pruned = prune(source.program)
        config = source.config
        tasks = final_tasks(config)
        eval_type = tasks[0].eval_type
        console.rule(f"discovered algorithm (pruned: {len(pruned)} of {len(source.program)} instructions)")
        console.print(format_program(pruned).rstrip(), highlight=False, markup=False)
        try:
            math = program_math(pruned, eval_type).to_text().rstrip()
        except Exception as exc:
            math = f"(no math: {type(exc).__name__})"
        console.rule("math")
        console.print(math, highlight=False, markup=False)
        scores = compare({"discovered": source.program}, tasks, source.memory,
                         max_abs_error=config.evaluation.max_abs_error,
                         reduction=config.evaluation.reduction, baselines=False)
        scores += _shipped_baselines(tasks, config)
        console.rule(f"final tasks ({len(tasks)}, {eval_type}, never seen by the search)")
        for score in scores:
            console.print(f"{score.name:<24} {score.fitness:.6f}", highlight=False, markup=False)
        try:
            from evolve.analysis.changes import run_changes

            changed = run_changes(run_dir).to_text().rstrip()
        except Exception as exc:  # an explanation must never cost the user the run's report
            changed = f"(what changed: not available, {type(exc).__name__})"
        console.rule("what evolution changed (select tasks; evolve explain RUN --changes)")
        console.print(changed, highlight=False, markup=False)
    fmt = lambda v: "n/a" if v is None else f"{v:.6f}"  # noqa: E731
    status = "SUCCESS" if summary["success"] else f"stopped ({summary['stopped_by']})"
    when = summary.get("seconds_to_success")
    start = summary.get("unchanged_start")
    if start:  # the search returned where it started: say so, never "SUCCESS ... found in 0.0 s"
        status = (f"no algorithm better than the starting {start} was found in "
                  f"{summary['seconds']:.0f} s ({summary['individuals']:,} individuals); returning it")
        when = None
    console.rule()
    console.print(
        f"{status}: search {fmt(summary['search_fitness'])}, select {fmt(summary['select_fitness'])}, "
        f"final {fmt(summary['final_fitness'])}" + (f", found in {when:.1f} s" if when is not None else "")
        + f"; {summary['individuals']} individuals at {summary['individuals_per_second']:.0f}/s, "
        f"FEC hit rate {100 * summary['fec_hit_rate']:.0f}%", highlight=False, markup=False)  # wrapped at words
    console.print(f"run directory: {run_dir}", highlight=False, markup=False, soft_wrap=True)


def _shipped_baselines(tasks: list, config: Any) -> list:
    from evolve.analysis.baselines import score_programs
    from evolve.reference_programs import BUILTIN_ALGORITHMS, load_algorithm

    shipped = {name: load_algorithm(name) for name in BUILTIN_ALGORITHMS}
    return score_programs(shipped, tasks, kind="shipped", max_abs_error=config.evaluation.max_abs_error,
                          reduction=config.evaluation.reduction)


def watch(campaign, display: bool = True):
    """Attach what a person watching needs: the terminal display (unless ``display`` is off)
    and the candidate's one-line math in every :class:`~evolve.engine.progress.Progress`."""
    from evolve.analysis.math_view import one_line_math

    campaign.math_of = one_line_math
    if display:
        campaign.listeners.insert(0, make_display())
    return campaign
