"""Ablation of a discovered algorithm: knock-outs and constant sweeps, in one interpreter call.

AutoML-Zero's authors read their discovered algorithms by knocking instructions out and in by
hand (Real et al. 2020, §4.2 and §4.3, "we removed ... and the accuracy dropped"). This module
does it for every live instruction at once:

- **knock-out**: instruction ``k`` of the *whole* program is replaced by ``NoOp()`` and the edited
  program is scored; ``Δ = fitness(knocked out) - fitness(program)``. A dead instruction's
  knock-out changes nothing (it is pruned away either way); knocking out a live one may revive
  dead code it used to overwrite, exactly as editing the program file would.
- **constant sweep**: every constant ``c`` of a live instruction (index fractions excepted) is
  replaced by ``c·f`` for ``f`` on a log scale (10⁻² … 10², and 0) and the fitness recorded.

Random ops (OP59-OP64) draw from one stream per task: knocking one out also changes what later
random ops draw, so a random op whose value is overwritten can still show an effect.

All variants go to :func:`evolve.evaluation.scoring.per_task_fitness` (one
:func:`primitives.interpreter.evaluate_batch` call) on the same tasks and seeds, so each number
equals what ``evolve eval`` prints for the edited program on those tasks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from evolve.evaluation.scoring import TaskBatch, per_task_fitness, reduce_fitness
from primitives.interpreter import DEFAULT_MAX_ABS_ERROR
from primitives.memory import MemorySpec
from primitives.ops import CONST_INDEX, OPS
from primitives.program import COMPONENT_TITLES, Program
from primitives.prune import live_instructions
from primitives.text import format_instruction

#: Multipliers of the constant sweep: 0, then 10^-2 .. 10^2 in half decades (1, 3, 10, ...).
SWEEP_FACTORS = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)

#: |Δ fitness| at most this is "no effect"; a drop beyond ESSENTIAL is "essential".
NO_EFFECT = 1e-4
ESSENTIAL = 0.05


@dataclass
class Knockout:
    """Fitness of the program with instruction ``index`` (flat, over all components) a no-op."""

    index: int
    component: int
    position: int  # 1-based within its component, as the text form counts
    text: str
    fitness: float
    delta: float
    rank: int = 0

    @property
    def verdict(self) -> str:
        return verdict(self.delta)

    def where(self) -> str:
        return f"{COMPONENT_TITLES[self.component]} {self.position}"

    def as_dict(self) -> dict:
        return {"index": self.index, "component": COMPONENT_TITLES[self.component],
                "position": self.position, "instruction": self.text, "fitness": self.fitness,
                "delta": self.delta, "rank": self.rank, "verdict": self.verdict}


@dataclass
class ConstantSweep:
    """Fitness with constant ``slot`` of instruction ``index`` multiplied by each factor."""

    index: int
    component: int
    position: int
    text: str
    slot: int
    value: float
    factors: tuple[float, ...]
    fitness: np.ndarray

    def where_text(self) -> str:
        return f"{COMPONENT_TITLES[self.component]} {self.position}.c{self.slot}"

    @property
    def spread(self) -> float:
        """How much the constant matters: best minus worst fitness over the sweep."""
        return float(np.max(self.fitness) - np.min(self.fitness))

    @property
    def best_factor(self) -> float:
        return float(self.factors[int(np.argmax(self.fitness))])

    def tolerated(self, base: float, tol: float = 0.01) -> tuple[float, float] | None:
        """Smallest and largest non-zero factor whose fitness is within ``tol`` of ``base``."""
        ok = [f for f, v in zip(self.factors, self.fitness.tolist(), strict=True)
              if f > 0 and v >= base - tol]
        return (min(ok), max(ok)) if ok else None

    def as_dict(self) -> dict:
        return {"index": self.index, "component": COMPONENT_TITLES[self.component],
                "position": self.position, "instruction": self.text, "slot": self.slot,
                "value": self.value, "factors": list(self.factors),
                "fitness": [float(v) for v in self.fitness], "spread": self.spread,
                "best_factor": self.best_factor}


@dataclass
class Ablation:
    """Knock-outs (ranked by Δ, most harmful first) and constant sweeps of one program."""

    fitness: float
    knockouts: list[Knockout]
    sweeps: list[ConstantSweep]
    seconds: float
    variants: int
    tasks: int
    live: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, bool))

    def essential(self) -> list[Knockout]:
        return [k for k in self.knockouts if k.verdict == "essential"]

    def as_dict(self) -> dict:
        return {"fitness": self.fitness, "tasks": self.tasks, "variants": self.variants,
                "seconds": self.seconds, "knockouts": [k.as_dict() for k in self.knockouts],
                "constants": [s.as_dict() for s in self.sweeps]}


def verdict(delta: float) -> str:
    """Name of a knock-out's effect: essential, helps, no effect or harmful (Δ > 0)."""
    if delta > NO_EFFECT:
        return "harmful"
    if delta >= -NO_EFFECT:
        return "no effect"
    return "essential" if delta < -ESSENTIAL else "helps"


def knocked_out(program: Program, index: int) -> Program:
    """A copy of ``program`` with flat instruction ``index`` replaced by ``NoOp()``."""
    edited = program.copy()
    edited.instructions[index] = 0
    edited.constants[index] = 0.0
    return edited


def with_constant(program: Program, index: int, slot: int, value: float) -> Program:
    edited = program.copy()
    edited.constants[index, slot] = value
    return edited


def locate(program: Program, index: int) -> tuple[int, int]:
    """(component, 1-based position) of flat instruction ``index``."""
    start = 0
    for component, size in enumerate(program.sizes):
        if index < start + size:
            return component, index - start + 1
        start += size
    raise IndexError(index)


def short_text(program: Program, index: int, digits: int = 4) -> str:
    """The instruction's text form with its constants rounded for people."""
    consts = np.array([float(f"{c:.{digits}g}") for c in program.constants[index]])
    return format_instruction(program.instructions[index], consts)


def sweepable_slots(program: Program, index: int) -> list[int]:
    """Constant slots of an instruction that a sweep multiplies (index fractions excluded)."""
    op = OPS[int(program.instructions[index, 0])]
    return [s for s, kind in enumerate(op.constants) if kind != CONST_INDEX]


def score(programs: list[Program], batch: TaskBatch, memory: MemorySpec, *,
          max_abs_error: float = DEFAULT_MAX_ABS_ERROR, reduction: str = "mean") -> np.ndarray:
    """Combined fitness of each program, all in one interpreter call."""
    per_task, _ = per_task_fitness(programs, batch, memory, max_abs_error=max_abs_error)
    return reduce_fitness(per_task, reduction)


def ablate(program: Program, batch: TaskBatch, memory: MemorySpec, *,
           indices: list[int] | None = None, factors: tuple[float, ...] = SWEEP_FACTORS,
           max_abs_error: float = DEFAULT_MAX_ABS_ERROR, reduction: str = "mean") -> Ablation:
    """Knock out each instruction in ``indices`` (default: every live one) and sweep every
    constant of the live instructions over ``factors``; rank knock-outs by Δ fitness."""
    started = time.perf_counter()
    live = live_instructions(program)
    if indices is None:
        indices = [int(i) for i in np.flatnonzero(live)]
    variants = [program] + [knocked_out(program, i) for i in indices]
    sweep_keys = []
    for i in np.flatnonzero(live).tolist():
        for slot in sweepable_slots(program, i):
            value = float(program.constants[i, slot])
            if value == 0.0:
                continue  # scaling zero is zero: nothing to sweep
            sweep_keys.append((i, slot, value))
            variants += [with_constant(program, i, slot, value * f) for f in factors]
    fitness = score(variants, batch, memory, max_abs_error=max_abs_error, reduction=reduction)
    base = float(fitness[0])
    knockouts = []
    for j, i in enumerate(indices):
        component, position = locate(program, i)
        text = short_text(program, i)
        f = float(fitness[1 + j])
        knockouts.append(Knockout(i, component, position, text, f, f - base))
    knockouts.sort(key=lambda k: (k.delta, k.index))
    for rank, k in enumerate(knockouts, 1):
        k.rank = rank
    sweeps = []
    offset = 1 + len(indices)
    for i, slot, value in sweep_keys:
        component, position = locate(program, i)
        text = short_text(program, i)
        chunk = np.array(fitness[offset:offset + len(factors)], dtype=float)
        offset += len(factors)
        sweeps.append(ConstantSweep(i, component, position, text, slot, value, tuple(factors),
                                    chunk))
    sweeps.sort(key=lambda s: (-s.spread, s.index, s.slot))
    return Ablation(base, knockouts, sweeps, time.perf_counter() - started, len(variants),
                    batch.num_tasks, live)


# ------------------------------------------------------------------------------ views

MARKS = {"essential": "★", "helps": "+", "no effect": "·", "harmful": "!"}


def _fmt(v: float, digits: int = 4) -> str:
    return f"{v:.{digits}f}"


def knockout_table(ablation: Ablation) -> str:
    """Knock-outs ranked by Δ fitness, most harmful first."""
    rows = [("rank", "where", "instruction", "knocked out", "Δ fitness", "effect")]
    rows += [(str(k.rank), k.where(), k.text, _fmt(k.fitness), f"{round(k.delta, 4) + 0.0:+.4f}",
              f"{MARKS[k.verdict]} {k.verdict}") for k in ablation.knockouts]
    return _columns(rows, right=(0, 3, 4))


def constant_table(ablation: Ablation) -> str:
    """Fitness of each constant's sweep, most influential first (factor 1 is the program)."""
    if not ablation.sweeps:
        return "(no constants in live instructions)\n"
    factors = ablation.sweeps[0].factors
    head = ("where", "constant", *(f"×{f:g}" for f in factors), "best ×")
    rows = [head]
    for s in ablation.sweeps:
        rows.append((s.where_text(), f"{s.value:.4g}", *(f"{v:.3f}" for v in s.fitness),
                     f"{s.best_factor:g}"))
    return _columns(rows, right=tuple(range(1, len(head))))


def _columns(rows: list[tuple], right: tuple[int, ...] = ()) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        cells = [c.rjust(w) if i in right else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out) + "\n"


def marked_program(program: Program, ablation: Ablation) -> str:
    """The pruned program, each instruction followed by its knock-out mark, rank and Δ."""
    by_index = {k.index: k for k in ablation.knockouts}
    lines = []
    start = 0
    for component, size in enumerate(program.sizes):
        lines.append(f"def {COMPONENT_TITLES[component]}():")
        for i in range(start, start + size):
            if not ablation.live[i]:
                continue
            text = short_text(program, i)
            k = by_index.get(i)
            note = f"  # {MARKS[k.verdict]} #{k.rank} Δ {round(k.delta, 4) + 0.0:+.4f}" if k else ""
            lines.append(f"  {text.ljust(28)}{note}")
        start += size
    return "\n".join(lines) + "\n"


@dataclass
class MarkedMath:
    """Lines of the program's math with the knock-outs that change each, and the knock-outs
    after which a state appears that the program's math has not (no line of it can show that)."""

    lines: list[tuple[str, list[Knockout]]]
    structural: list[Knockout]


def _keyed(lines: list[str]) -> dict[tuple, str]:
    """Each line under a key: its section, what it defines, and which occurrence of that it is
    (a steady constant's "(c is c0 before ...)" note defines "(constant)")."""
    keyed, section, seen = {}, "", {}
    for line in lines:
        if not line.startswith("  "):
            section = line
            continue
        lhs = "(constant)" if line.startswith("  (") else line.split(" = ")[0].split(" ← ")[0]
        n = seen.get((section, lhs), 0)
        seen[(section, lhs)] = n + 1
        keyed[(section, lhs, n)] = line
    return keyed


def marked_math(program: Program, ablation: Ablation, eval_type: str = "rms",
                seconds: float = 2.0) -> MarkedMath:
    """Mark each line of the math with the knock-outs after which it reads differently or is
    gone (lines matched by what they define), most harmful first; knock-outs after which the
    math has a state the program's has not are listed as structural too."""
    from evolve.analysis.math_view import program_math

    base_lines = program_math(program, eval_type, seconds).to_text().splitlines()
    base = _keyed(base_lines)
    touching: dict[tuple, list[Knockout]] = {key: [] for key in base}
    structural = []
    for k in ablation.knockouts:
        if k.verdict == "no effect":
            continue
        other = _keyed(program_math(knocked_out(program, k.index), eval_type,
                                    seconds).to_text().splitlines())
        for key, line in base.items():
            if other.get(key) != line:
                touching[key].append(k)
        if set(other) - set(base):
            structural.append(k)
    by_line = {line: key for key, line in base.items()}
    lines = [(line, sorted(touching[by_line[line]], key=lambda k: k.delta) if line in by_line
              else []) for line in base_lines]
    return MarkedMath(lines, sorted(structural, key=lambda k: k.delta))


def format_marked_math(marked: MarkedMath) -> str:
    width = max((len(line) for line, _ in marked.lines), default=0)
    out = []
    for line, ks in marked.lines:
        if ks:
            worst = ks[0]
            tags = ", ".join(f"#{k.rank}" for k in ks[:4]) + (" …" if len(ks) > 4 else "")
            out.append(f"{line.ljust(width)}  {MARKS[worst.verdict]} {tags} (worst Δ "
                       f"{worst.delta:+.3f})")
        else:
            out.append(line)
    if marked.structural:
        out.append("Knock-outs after which the math has a state it had not: "
                   + ", ".join(f"#{k.rank} {k.where()}" for k in marked.structural))
    return "\n".join(out) + "\n"


def dependence_summary(ablation: Ablation) -> str:
    """One paragraph: what the algorithm depends on, what it does not, which constants matter."""
    essential = [k for k in ablation.knockouts if k.verdict == "essential"]
    helps = [k for k in ablation.knockouts if k.verdict == "helps"]
    idle = [k for k in ablation.knockouts if k.verdict == "no effect"]
    harmful = [k for k in ablation.knockouts if k.verdict == "harmful"]
    say = []
    n = len(ablation.knockouts)
    if essential:
        say.append(f"It depends on {len(essential)} of {n} live instructions (knock-out costs more "
                   f"than {ESSENTIAL:g}): " + "; ".join(f"{k.where()} `{k.text}` ({k.delta:+.3f})"
                                                        for k in essential) + ".")
    if helps:
        say.append(f"{len(helps)} more help a little: "
                   + "; ".join(f"{k.where()} ({k.delta:+.4f})" for k in helps) + ".")
    if idle:
        say.append(f"{len(idle)} change nothing when knocked out (|Δ| ≤ {NO_EFFECT:g}): "
                   + ", ".join(k.where() for k in idle) + ".")
    if harmful:
        say.append(f"Knocking out {', '.join(k.where() for k in harmful)} *improves* it.")
    for s in ablation.sweeps[:3]:
        if s.spread <= NO_EFFECT:
            continue
        band = s.tolerated(ablation.fitness)
        band_text = (f"fitness within 0.01 for ×{band[0]:g}–×{band[1]:g}" if band
                     else "every swept value is worse by more than 0.01")
        say.append(f"Constant {s.where_text()} = {s.value:.4g}: spread {s.spread:.3f} over the "
                   f"sweep, best at ×{s.best_factor:g}, {band_text}.")
    return " ".join(say) if say else "No live instruction changes the fitness."
