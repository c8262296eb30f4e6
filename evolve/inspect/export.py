"""Export a program as a standalone Python module (NumPy only) with a scikit-learn style estimator.

The module reproduces AutoML-Zero's executor (DESIGN.md "Executing an algorithm") exactly: memory
wiped then Setup; per epoch, train examples in order (later epochs Fisher-Yates shuffled by the
SplitMix64 shuffle stream), Predict, the sigmoid on accuracy tasks, the stop on a NaN error or one
above ``max_abs_error``, Learn; random ops draw from the same SplitMix64 stream as
:mod:`primitives.rng`. Sums accumulate left to right as the Numba kernel does, so predictions
agree with the interpreter to the last bits.
"""

from __future__ import annotations

from primitives.interpreter import DEFAULT_MAX_ABS_ERROR
from primitives.memory import MemorySpec
from primitives.ops import OPS
from primitives.program import COMPONENT_TITLES, Program
from primitives.text import format_instruction

_SCALAR_FN = {5: "np.abs", 7: "np.sin", 8: "np.cos", 9: "np.tan", 10: "np.arcsin",
              11: "np.arccos", 12: "np.arctan", 13: "np.exp", 14: "np.log"}


def instruction_code(row, consts) -> list[str]:
    """Python lines (over memory ``s``, ``v``, ``m`` and size ``F``) for one instruction."""
    code, a, b, o = (int(x) for x in row)
    c = [repr(float(x)) for x in consts]
    sa, sb, so = f"s[{a}]", f"s[{b}]", f"s[{o}]"
    va, vb, vo = f"v[{a}]", f"v[{b}]", f"v[{o}]"
    ma, mb, mo = f"m[{a}]", f"m[{b}]", f"m[{o}]"
    binary = {1: "+", 2: "-", 3: "*", 4: "/"}
    if code == 0:
        return []
    if code in binary:
        return [f"{so} = {sa} {binary[code]} {sb}"]
    if code in _SCALAR_FN:
        return [f"{so} = {_SCALAR_FN[code]}({sa})"]
    table = {
        6: f"{so} = 1.0 / {sa}",
        15: f"{so} = 1.0 if {sa} >= 0.0 else 0.0",
        16: f"{vo} = np.where({va} > 0.0, 1.0, 0.0)",
        17: f"{mo} = np.where({ma} > 0.0, 1.0, 0.0)",
        18: f"{vo} = {sa} * {vb}",
        19: f"{vo} = {sa}",
        20: f"{vo} = 1.0 / {va}",
        21: f"{so} = np.sqrt(_sum({va} * {va}))",
        22: f"{vo} = np.abs({va})",
        23: f"{vo} = {va} + {vb}",
        24: f"{vo} = {va} - {vb}",
        25: f"{vo} = {va} * {vb}",
        26: f"{vo} = {va} / {vb}",
        27: f"{so} = _sum({va} * {vb})",
        28: f"{mo} = np.outer({va}, {vb})",
        29: f"{mo} = {sa} * {mb}",
        30: f"{mo} = 1.0 / {ma}",
        31: f"{vo} = _sum({ma} * {vb}[None, :], axis=1)",
        32: f"{mo} = {va}[:, None]",
        33: f"{mo} = {va}[None, :]",
        34: f"{so} = np.sqrt(_sum(({ma} * {ma}).ravel()))",
        35: f"{vo} = np.sqrt(_sum({ma} * {ma}, axis=0))",
        36: f"{vo} = np.sqrt(_sum({ma} * {ma}, axis=1))",
        37: f"{mo} = {ma}.T.copy()",
        38: f"{mo} = np.abs({ma})",
        39: f"{mo} = {ma} + {mb}",
        40: f"{mo} = {ma} - {mb}",
        41: f"{mo} = {ma} * {mb}",
        42: f"{mo} = {ma} / {mb}",
        43: f"{mo} = _sum({ma}[:, :, None] * {mb}[None, :, :], axis=1)",
        44: f"{so} = {sb} if {sb} < {sa} else {sa}",
        45: f"{vo} = np.where({vb} < {va}, {vb}, {va})",
        46: f"{mo} = np.where({ma} < {mb}, {ma}, {mb})",
        47: f"{so} = {sb} if {sa} < {sb} else {sa}",
        48: f"{vo} = np.where({va} < {vb}, {vb}, {va})",
        49: f"{mo} = np.where({ma} > {mb}, {ma}, {mb})",
        50: f"{so} = _sum({va}) / F",
        51: f"{so} = _sum({ma}.ravel()) / (F * F)",
        52: f"{vo} = _sum({ma}, axis=1) / F",
        53: f"{vo} = _std({ma}, axis=1)",
        54: f"{so} = _std({va})",
        55: f"{so} = _std({ma}.ravel())",
        56: f"{so} = {c[0]}",
        57: f"{vo}[_index({c[0]}, F)] = {c[1]}",
        58: f"{mo}[_index({c[0]}, F), _index({c[1]}, F)] = {c[2]}",
        59: f"{so} = rng.uniform_in({c[0]}, {c[1]})",
        60: f"{vo} = [rng.uniform_in({c[0]}, {c[1]}) for _ in range(F)]",
        61: f"{mo} = np.reshape([rng.uniform_in({c[0]}, {c[1]}) for _ in range(F * F)], (F, F))",
        62: f"{so} = {c[0]} + {c[1]} * rng.gaussian()",
        63: f"{vo} = [{c[0]} + {c[1]} * rng.gaussian() for _ in range(F)]",
        64: f"{mo} = np.reshape([{c[0]} + {c[1]} * rng.gaussian() for _ in range(F * F)], (F, F))",
    }
    return [table[code]]


_RUNTIME = '''
import math

import numpy as np

_MASK64 = (1 << 64) - 1
_GOLDEN_GAMMA = 0x9E3779B97F4A7C15
_SALT_RANDOM_OPS = 0x5EED0001
_SALT_SHUFFLE = 0x5EED0002


def _mix64(z):
    """SplitMix64's finalizer (Steele et al. 2014)."""
    z &= _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


class _Stream:
    """A SplitMix64 stream, the same as the evolution engine's (one per task and purpose)."""

    def __init__(self, task_seed, eval_seed, salt):
        m = _MASK64
        self.state = _mix64(_mix64(_mix64(task_seed & m) ^ (eval_seed & m)) ^ salt)

    def uniform(self):
        self.state = (self.state + _GOLDEN_GAMMA) & _MASK64
        return (_mix64(self.state) >> 11) * (1.0 / 9007199254740992.0)

    def uniform_in(self, low, high):
        u = self.uniform()
        return low if low >= high else low + (high - low) * u

    def gaussian(self):
        u1 = self.uniform()
        u2 = self.uniform()
        return float(np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * math.pi * u2))


def _sum(a, axis=None):
    """Left-to-right sum (as the engine's kernel accumulates)."""
    if axis is None:
        return np.cumsum(a)[-1]
    return np.take(np.cumsum(a, axis=axis), -1, axis=axis)


def _std(a, axis=None):
    n = a.size if axis is None else a.shape[axis]
    mean = _sum(a, axis) / n
    return np.sqrt(_sum(a * a, axis) / n - mean * mean)


def _index(f, size):
    i = int(np.float32(size) * np.float32(f))
    return size - 1 if i > size - 1 else i


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))
'''

_CLASS = '''

class {class_name}:
    """Scikit-learn style estimator running the discovered algorithm (AutoML-Zero's executor).

    ``fit`` wipes the memory, runs Setup, then per epoch Predict and Learn on each example
    (first epoch in order, later ones shuffled); training stops, as in evolution, when
    ``|y - prediction|`` is NaN or above ``max_abs_error`` (``stopped_`` tells).
    ``predict`` runs Predict alone (it may change the memory, as during validation).
    """

    eval_type = {eval_type!r}
    memory = {memory!r}

    def __init__(self, max_abs_error={max_abs_error!r}, task_seed=0, eval_seed=0):
        self.max_abs_error = max_abs_error
        self.task_seed = task_seed
        self.eval_seed = eval_seed

    def get_params(self, deep=True):
        return {{"max_abs_error": self.max_abs_error, "task_seed": self.task_seed,
                "eval_seed": self.eval_seed}}

    def set_params(self, **params):
        for key, value in params.items():
            if key not in self.get_params():
                raise ValueError(f"invalid parameter {{key!r}} for {class_name}")
            setattr(self, key, value)
        return self

    # ---- the three component functions --------------------------------------------------
{components}
    # ---- the executor -------------------------------------------------------------------
    def fit(self, X, y, epochs=1):
        X = np.ascontiguousarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if X.ndim != 2 or X.shape[0] != y.shape[0]:
            raise ValueError(f"X must be (n, F) and y (n,), got {{X.shape}} and {{y.shape}}")
        n_s, n_v, n_m = self.memory
        F = X.shape[1]
        self.n_features_in_ = F
        self.s_ = np.zeros(n_s)
        self.v_ = np.zeros((n_v, F))
        self.m_ = np.zeros((max(n_m, 1), F, F))
        self.rng_ = _Stream(self.task_seed, self.eval_seed, _SALT_RANDOM_OPS)
        shuffle = _Stream(self.task_seed, self.eval_seed, _SALT_SHUFFLE)
        order = list(range(X.shape[0]))
        self.stopped_ = False
        self.epochs_ = 0
        with np.errstate(all="ignore"):
            self._setup(F)
            for epoch in range(epochs):
                if epoch > 0:
                    for i in range(len(order) - 1, 0, -1):
                        j = int(shuffle.uniform() * (i + 1))
                        order[i], order[j] = order[j], order[i]
                for row in order:
                    self.v_[0] = X[row]
                    self.s_[0] = 0.0
                    self._predict(F)
                    if self.eval_type == "accuracy":
                        self.s_[1] = _sigmoid(self.s_[1])
                    if not abs(y[row] - self.s_[1]) <= self.max_abs_error:
                        self.stopped_ = True
                        return self
                    self.s_[0] = y[row]
                    self._learn(F)
                self.epochs_ = epoch + 1
        return self

    def decision_function(self, X):
        """The raw prediction ``s1`` after Predict, one example after another."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        if not hasattr(self, "s_"):
            raise RuntimeError("call fit before predicting")
        out = np.empty(X.shape[0])
        F = self.n_features_in_
        with np.errstate(all="ignore"):
            for i in range(X.shape[0]):
                self.v_[0] = X[i]
                self.s_[0] = 0.0
                self._predict(F)
                out[i] = self.s_[1]
        return out

    def predict(self, X):
        """Regression: the predictions. Accuracy tasks: labels ``sigmoid(s1) > 0.5`` (0 or 1)."""
        raw = self.decision_function(X)
        if self.eval_type == "accuracy":
            with np.errstate(all="ignore"):
                return np.where(_sigmoid(raw) > 0.5, 1.0, 0.0)
        return raw
'''

_PROBA = '''
    def predict_proba(self, X):
        """Class probabilities ``[1 - p, p]`` with ``p = sigmoid(s1)``."""
        with np.errstate(all="ignore"):
            p = _sigmoid(self.decision_function(X))
        return np.stack([1.0 - p, p], axis=1)
'''


def _component(program: Program, index: int) -> str:
    name = COMPONENT_TITLES[index].lower()
    instructions, constants = program.component(index)
    lines = [f"    def _{name}(self, F):",
             f'        """{COMPONENT_TITLES[index]} (memory: s scalars, v vectors, m matrices)."""',
             "        s, v, m, rng = self.s_, self.v_, self.m_, self.rng_  # noqa: F841"]
    for row, consts in zip(instructions, constants, strict=True):
        body = instruction_code(row, consts)
        if body:
            lines.append(f"        # {format_instruction(row, consts)}")
            lines += [f"        {line}" for line in body]
    return "\n".join(lines) + "\n"


def export_python(
    program: Program,
    *,
    eval_type: str = "rms",
    memory: MemorySpec | None = None,
    max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
    class_name: str = "DiscoveredAlgorithm",
    math_text: str = "",
    title: str = "An algorithm discovered by evolution (AutoML-Zero style)",
) -> str:
    """Source of a standalone module (imports only NumPy) holding ``program`` as an estimator."""
    need = program.required_memory()
    if memory is not None:
        need = MemorySpec(*(max(x, y) for x, y in zip(need.as_tuple(), memory.as_tuple(), strict=True)))
    math_block = "\n".join("    " + line if line else "" for line in math_text.rstrip().splitlines())
    doc = [f'"""{title}.', "", f"Estimator: ``{class_name}`` (fit / predict"
           + (" / predict_proba" if eval_type == "accuracy" else "") + "); needs only NumPy."]
    if math_block:
        doc += ["", "The math::", "", math_block]
    doc += ['"""']
    components = "\n".join(_component(program, i) for i in range(3))
    source = "\n".join(doc) + "\n" + _RUNTIME + _CLASS.format(
        class_name=class_name, eval_type=eval_type, memory=need.as_tuple(),
        max_abs_error=float(max_abs_error), components=components,
    )
    if eval_type == "accuracy":
        source += _PROBA
    return source


def _check_ops() -> None:  # every op of the table has an exporter line
    for op in OPS:
        instruction_code([op.code, 1, 1, 1], [0.5, 0.5, 0.5])


_check_ops()
