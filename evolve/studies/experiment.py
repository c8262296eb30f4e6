"""Experiments: one campaign per (method, seed), and the statistics that compare methods.

AutoML-Zero §4.1 (Figure 4) compares regularized evolution with random search on how often each
finds an *acceptable* algorithm, one at least as good as a hand-designed reference such as linear
regression trained by SGD. An experiment here runs the same campaign config for seeds
``0 .. N-1`` under each search method, each run in its own run directory
``OUT/<method>/seed-<s>/``, and reports per method:

* the success rate ``k / n`` with a 95% Wilson score interval (Wilson 1927), which stays inside
  [0, 1] and is sensible at ``k = 0`` or ``k = n``;
* the median individuals and seconds to success over the successful runs;
* the efficiency ``E = K / N``, total successes over total individuals evaluated (a run stops at
  success, so ``N`` counts each successful run up to its success): the paper's "acceptable
  algorithms per N evaluated", reported per million individuals;
* for evolution against random search, the ratio ``E_evo / E_rs``. Treating the success counts as
  Poisson with exposures ``N_evo`` and ``N_rs``, given ``K = K_evo + K_rs`` the count ``K_evo`` is
  binomial with ``p = E_evo N_evo / (E_evo N_evo + E_rs N_rs)``; the Wilson interval of ``p``
  maps to the interval ``p / (1 - p) * N_rs / N_evo`` of the ratio. When random search found
  nothing the ratio is unbounded above, and the reported lower bound divides evolution's rate by
  the rule-of-three 95% upper bound ``3 / N_rs`` on random search's rate (Hanley & Lippman-Hand
  1983).
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from evolve.config import load_config
from evolve.rundir.store import write_json

Z95 = 1.959963984540054  # two-sided 95% normal quantile

# summary fields kept for every run in experiment.json
RUN_FIELDS = (
    "success", "success_threshold", "individuals_to_success", "seconds_to_success", "individuals",
    "evaluations", "seconds", "individuals_per_second", "search_fitness", "select_fitness",
    "final_fitness", "stopped_by", "experiments",
)


# ---------------------------------------------------------------------------- statistics


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion:
    ``(p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)`` with ``p = k / n``; (0, 1) when n = 0."""
    if not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes} of {trials}")
    if trials == 0:
        return 0.0, 1.0
    n, p = trials, successes / trials
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return max(0.0, (centre - half) / scale), min(1.0, (centre + half) / scale)


def rule_of_three(trials: float) -> float:
    """95% upper bound ``3 / n`` on a rate after 0 events in ``n`` trials."""
    return 3.0 / trials if trials > 0 else math.inf


def efficiency_ratio(
    successes: int, individuals: int, baseline_successes: int, baseline_individuals: int, z: float = Z95
) -> dict:
    """Ratio of success rates per individual, ``(k1 / n1) / (k2 / n2)``, with a 95% interval.

    Returns ``ratio``, ``low``, ``high`` (``None`` stands for unbounded or undefined) and ``method``:
    ``conditional-binomial`` when both counts are positive, ``rule-of-three`` when the baseline found
    nothing (``low = (k1/n1) / (3/n2)``, no upper bound) or when the first found nothing
    (``high = (3/n1) / (k2/n2)``), ``undefined`` when neither found anything or an exposure is 0.
    """
    k1, n1, k2, n2 = successes, individuals, baseline_successes, baseline_individuals
    if n1 <= 0 or n2 <= 0 or (k1 == 0 and k2 == 0):
        return {"ratio": None, "low": None, "high": None, "method": "undefined"}
    if k2 == 0:
        return {"ratio": None, "low": (k1 / n1) / rule_of_three(n2), "high": None, "method": "rule-of-three"}
    ratio = (k1 / n1) / (k2 / n2)
    if k1 == 0:
        return {"ratio": 0.0, "low": 0.0, "high": rule_of_three(n1) / (k2 / n2), "method": "rule-of-three"}
    p_low, p_high = wilson_interval(k1, k1 + k2, z)
    odds = lambda p: p / (1 - p) * n2 / n1  # noqa: E731
    return {"ratio": ratio, "low": odds(p_low), "high": odds(p_high), "method": "conditional-binomial"}


def method_stats(runs: Sequence[dict]) -> dict:
    """Success rate (Wilson 95%), medians to success and successes per million individuals."""
    n = len(runs)
    wins = [r for r in runs if r["success"]]
    k = len(wins)
    # a successful run counts up to its success (it may have gone on: campaign.stop_on_success)
    individuals = sum(int(r["individuals_to_success"] if r["success"] and r.get("individuals_to_success") is not None
                          else r["individuals"]) for r in runs)
    low, high = wilson_interval(k, n)
    median = lambda key: statistics.median(r[key] for r in wins) if wins else None  # noqa: E731
    per_million = 1e6 * k / individuals if individuals else None
    return {
        "runs": n,
        "successes": k,
        "success_rate": k / n if n else None,
        "success_rate_ci95": [low, high],
        "median_individuals_to_success": median("individuals_to_success"),
        "median_seconds_to_success": median("seconds_to_success"),
        "total_individuals": individuals,
        "total_seconds": sum(float(r["seconds"]) for r in runs),
        "successes_per_million_individuals": per_million,
        # with no success, the rule-of-three bound says how rare success may still be
        "successes_per_million_upper95": 1e6 * rule_of_three(individuals) if k == 0 and individuals else None,
    }


def compare(stats: dict[str, dict]) -> dict | None:
    """Efficiency ratio evolution / random (or first / second method of two), else ``None``."""
    names = list(stats)
    if "evolution" in stats and "random" in stats:
        a, b = "evolution", "random"
    elif len(names) == 2:
        a, b = names
    else:
        return None
    sa, sb = stats[a], stats[b]
    result = efficiency_ratio(sa["successes"], sa["total_individuals"], sb["successes"], sb["total_individuals"])
    return {"numerator": a, "denominator": b, "quantity": "successes per individual", **result}


# ---------------------------------------------------------------------------- running


@dataclass(frozen=True)
class RunSpec:
    """One campaign of an experiment: picklable, so a worker process can run it."""

    source: str
    overrides: tuple[str, ...]
    method: str
    seed: int
    run_dir: str

    def config(self):
        return load_config(self.source, [*self.overrides, f'search.method="{self.method}"', f"seed={self.seed}"])


def run_one(spec: RunSpec) -> dict:
    """Run one campaign quietly in its run directory; the summary fields of ``RUN_FIELDS``."""
    from evolve.engine.campaign import start_campaign

    run_dir = Path(spec.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    summary = start_campaign(spec.config(), run_dir, quiet=True).run()
    return {"method": spec.method, "seed": spec.seed, "run_dir": str(run_dir),
            **{key: summary.get(key) for key in RUN_FIELDS}}


@dataclass
class Experiment:
    """Seeds ``first_seed .. first_seed + seeds - 1`` of one config under each method, run by
    ``workers`` processes."""

    source: str
    overrides: list[str]
    methods: list[str]
    seeds: int
    out: Path
    workers: int = 1
    runs: list[dict] = field(default_factory=list)
    interrupted: bool = False
    first_seed: int = 0

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.first_seed, self.first_seed + self.seeds))

    def specs(self) -> list[RunSpec]:
        return [
            RunSpec(self.source, tuple(self.overrides), method, seed, str(self.out / method / f"seed-{seed}"))
            for seed in self.seed_list for method in self.methods
        ]

    def configs(self) -> list:
        """Every run's resolved config (a bad ``--set`` or preset fails here, before any work)."""
        return [spec.config() for spec in self.specs()]

    def run(self, on_result: Callable[[dict], None] | None = None) -> dict:
        """Run every campaign (serially in this process when ``workers == 1``); write and return the
        report. Ctrl-C stops the runs in flight, which end as ``interrupted``; the report then
        covers the runs that ended."""
        started = time.time()
        specs = self.specs()
        name = specs[0].config().name

        def done(result: dict) -> None:
            if result["stopped_by"] == "interrupted":
                self.interrupted = True
            self.runs.append(result)
            self.write(name, started)
            if on_result is not None:
                on_result(result)

        try:
            if self.workers == 1:
                for spec in specs:
                    if self.interrupted:
                        break
                    done(run_one(spec))
            else:
                with ProcessPoolExecutor(max_workers=self.workers) as pool:
                    pending = {pool.submit(run_one, spec) for spec in specs}
                    try:
                        while pending:
                            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                            for future in finished:
                                done(future.result())
                            if self.interrupted:
                                for future in pending:
                                    future.cancel()
                    except KeyboardInterrupt:
                        self.interrupted = True
                        for future in pending:
                            future.cancel()
                        for future in wait(pending).done:
                            if not future.cancelled() and future.exception() is None:
                                done(future.result())
        except KeyboardInterrupt:
            self.interrupted = True
        return self.write(name, started)

    def report(self, name: str, started: float) -> dict:
        order = {(s.method, s.seed): i for i, s in enumerate(self.specs())}
        runs = sorted(self.runs, key=lambda r: order[(r["method"], r["seed"])])
        stats = {m: method_stats([r for r in runs if r["method"] == m]) for m in self.methods}
        threshold = next((r["success_threshold"] for r in runs), None)
        return {
            "name": name,
            "config": self.source,
            "overrides": list(self.overrides),
            "methods": list(self.methods),
            "seeds": self.seed_list,
            "workers": self.workers,
            "success_threshold": threshold,
            "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "wall_seconds": time.time() - started,
            "complete": len(runs) == len(order) and not self.interrupted,
            "interrupted": self.interrupted,
            "stats": stats,
            "comparison": compare(stats),
            "runs": runs,
        }

    def write(self, name: str, started: float) -> dict:
        report = self.report(name, started)
        write_json(self.out / "experiment.json", report)
        return report


# ---------------------------------------------------------------------------- reporting


def _si(value: float | None) -> str:
    if value is None:
        return "-"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{unit}"
    return f"{value:.3g}"


def format_table(report: dict) -> str:
    """The per-method table and the efficiency comparison, as printed on the terminal."""
    header = (f"{'method':<11}{'runs':>5}{'succ':>6}{'rate':>7}  {'95% CI':<14}{'med. ind.':>10}"
              f"{'med. s':>9}{'succ/M ind':>12}")
    lines = [header, "-" * len(header)]
    for method, s in report["stats"].items():
        low, high = s["success_rate_ci95"]
        rate = "-" if s["success_rate"] is None else f"{100 * s['success_rate']:.0f}%"
        seconds = s["median_seconds_to_success"]
        if s["successes_per_million_individuals"] is None:
            efficiency = "-"
        elif s["successes"] == 0:
            efficiency = f"<{s['successes_per_million_upper95']:.3g}"
        else:
            efficiency = f"{s['successes_per_million_individuals']:.3g}"
        lines.append(
            f"{method:<11}{s['runs']:>5}{s['successes']:>6}{rate:>7}  {f'[{100 * low:.0f}%, {100 * high:.0f}%]':<14}"
            f"{_si(s['median_individuals_to_success']):>10}{'-' if seconds is None else f'{seconds:.1f}':>9}"
            f"{efficiency:>12}"
        )
    c = report["comparison"]
    if c is not None:
        what = f"efficiency {c['numerator']} / {c['denominator']} (successes per individual)"
        if c["method"] == "undefined":
            lines.append(f"{what}: undefined (no successes)")
        elif c["ratio"] is None:
            lines.append(f"{what}: >= {c['low']:.3g} (95%; {c['denominator']} found none: rule of three)")
        elif c["high"] is not None and c["method"] == "rule-of-three":
            lines.append(f"{what}: 0, <= {c['high']:.3g} (95%; {c['numerator']} found none: rule of three)")
        else:
            lines.append(f"{what}: {c['ratio']:.3g}, 95% CI [{c['low']:.3g}, {c['high']:.3g}]")
    if report["success_threshold"] is not None:
        lines.append(f"success: select fitness >= {report['success_threshold']!r}")
    return "\n".join(lines)


def plot(report: dict, path: Path) -> None:
    """``experiment.png``: success rate with Wilson 95% bars per method, and individuals to success
    of each successful run (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = list(report["stats"])
    stats = [report["stats"][m] for m in methods]
    colours = [f"C{i}" for i in range(len(methods))]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    rates = [s["success_rate"] or 0.0 for s in stats]
    errors = [[r - s["success_rate_ci95"][0] for r, s in zip(rates, stats, strict=True)],
              [s["success_rate_ci95"][1] - r for r, s in zip(rates, stats, strict=True)]]
    x = range(len(methods))
    left.bar(x, rates, color=colours, yerr=errors, capsize=8, alpha=0.8)
    for i, s in enumerate(stats):
        left.text(i + 0.06, rates[i] + 0.02, f"{s['successes']}/{s['runs']}", ha="left", va="bottom")
    left.set_xticks(list(x), methods)
    left.set_ylim(0, 1.05)
    left.set_ylabel("success rate (95% Wilson CI)")
    left.set_title("runs reaching the success threshold")

    any_points = False
    for i, method in enumerate(methods):
        values = [r["individuals_to_success"] for r in report["runs"] if r["method"] == method and r["success"]]
        if values:
            any_points = True
            jitter = [i + 0.08 * ((j % 5) - 2) for j in range(len(values))]
            right.scatter(jitter, values, color=colours[i], alpha=0.8, zorder=3)
            right.hlines(statistics.median(values), i - 0.3, i + 0.3, color=colours[i], zorder=2)
        else:
            right.text(i, 0.5, "no successes", ha="center", va="center", transform=right.get_xaxis_transform())
    if any_points:
        right.set_yscale("log")
    else:
        right.set_yticks([])
    right.set_xticks(list(x), methods)
    right.set_xlim(-0.6, len(methods) - 0.4)
    right.set_ylabel("individuals to success (line: median)")
    right.set_title("successful runs")
    c = report["comparison"]
    title = f"{report['name']}: {len(report['seeds'])} seeds per method"
    if c is not None and c["method"] != "undefined":
        if c["ratio"] is None:
            title += f"; efficiency {c['numerator']}/{c['denominator']} >= {c['low']:.3g}"
        else:
            title += f"; efficiency {c['numerator']}/{c['denominator']} = {c['ratio']:.3g}"
    fig.suptitle(title)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)


def progress_line(result: dict, done: int, total: int) -> str:
    head = f"[{done}/{total}] {result['method']} seed {result['seed']}: "
    if result["success"]:
        return head + (f"SUCCESS at {result['individuals_to_success']:,} individuals "
                       f"({result['seconds_to_success']:.1f} s)")
    select = result["select_fitness"]
    return head + (f"stopped ({result['stopped_by']}) after {result['individuals']:,} individuals, best select "
                   + ("n/a" if select is None else f"{select:.6f}"))


def print_progress(total: int) -> Callable[[dict], None]:
    count = [0]

    def show(result: dict) -> None:
        count[0] += 1
        print(progress_line(result, count[0], total), file=sys.stderr, flush=True)

    return show
