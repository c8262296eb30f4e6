"""Export a program as a standalone Python module (NumPy only) with a scikit-learn style estimator.

The module reproduces AutoML-Zero's executor (Real et al. 2020, §3) exactly: memory
wiped then Setup; per epoch, train examples in order (later epochs Fisher-Yates shuffled by the
SplitMix64 shuffle stream), Predict, the sigmoid on accuracy tasks, the stop on a NaN error or one
above ``max_abs_error``, Learn; random ops draw from the same SplitMix64 stream as
:mod:`primitives.rng`. Sums accumulate left to right as the Numba kernel does, so predictions
agree with the interpreter to the last bits.
"""

from __future__ import annotations

import inspect

from primitives import libm, rng
from primitives.interpreter import DEFAULT_MAX_ABS_ERROR
from primitives.memory import MemorySpec
from primitives.ops import OPS
from primitives.program import COMPONENT_TITLES, Program
from primitives.text import format_instruction


def instruction_code(row, consts) -> list[str]:
    """Python lines (over memory ``s``, ``v``, ``m`` and size ``F``) for one instruction: the op
    table's ``numpy`` column with the registers and constants filled in."""
    code, a, b, o = (int(x) for x in row)
    op = OPS[code]
    if op.output is None:
        return []
    if op.numpy is None:
        raise ValueError(f"op {code} ({op.name}) has no 'numpy' column: it cannot be exported")
    bank = "svm"
    registers = {"o": f"{bank[op.output]}[{o}]"}
    for name, kind, address in zip(("a", "b"), op.inputs, (a, b), strict=False):
        registers[name] = f"{bank[kind]}[{address}]"
    constants = {f"c{i}": repr(float(x)) for i, x in enumerate(consts)}
    return [op.numpy.format(**registers, **constants)]


def _embedded(module, name: str) -> str:
    """Lines that rebuild the pure-Python ``module`` as a namespace ``name`` of the exported file,
    from its verbatim source (one source of truth: the export computes what the engine does)."""
    source = inspect.getsource(module).replace("from __future__ import annotations\n", "")
    if "'''" in source:  # pragma: no cover - guarded so the raw string below cannot end early
        raise ValueError(f"{module.__name__} cannot be embedded: it contains triple single quotes")
    return (f"# ---- {module.__name__} (verbatim)\n{name} = types.ModuleType({name!r})\n"
            f"exec(r'''{source}''', {name}.__dict__)\n")


# The exported module embeds the engine's own pure-Python random streams (primitives/rng.py) and
# C-library functions (primitives/libm.py), so it draws and rounds exactly as the kernel does.
_RUNTIME = (
    "\nimport types\n\nimport numpy as np\n\n"
    + _embedded(rng, "splitmix")
    + "\n"
    + _embedded(libm, "libm")
    + '''

def _Stream(task_seed, eval_seed, salt):
    """The SplitMix64 stream of one (task, evaluation seed, purpose), as in evolution."""
    return splitmix.Stream(splitmix.stream_start(task_seed, eval_seed, salt))


_SALT_RANDOM_OPS = splitmix.SALT_RANDOM_OPS
_SALT_SHUFFLE = splitmix.SALT_SHUFFLE


def _uniform_in(rng, low, high):
    """``uniform(low, high)``: one draw, ``low`` when ``low >= high`` (AutoML-Zero)."""
    u = rng.uniform()
    return low if low >= high else low + (high - low) * u


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
    """``1 / (1 + exp(-x))`` with the C library's ``exp``, element by element."""
    if np.ndim(x) == 0:
        return libm.sigmoid(float(x))
    return np.array([libm.sigmoid(float(v)) for v in np.ravel(x)]).reshape(np.shape(x))
'''
)

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


def docstring_literal(lines: list[str]) -> str:
    """A module docstring as one parenthesized run of ``repr`` literals, a line each.

    Any text (a run directory's name, the math) is written as a literal, never between triple
    quotes: no quote, backslash or ``\\N{...}`` in it can end the string or break the parse."""
    body = "".join(f"    {line + chr(10)!r}\n" for line in lines)
    return "(\n" + body + ")\n"


def export_python(
    program: Program,
    *,
    eval_type: str = "rms",
    memory: MemorySpec | None = None,
    max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
    class_name: str = "DiscoveredAlgorithm",
    math_text: str = "",
    title: str = "An algorithm discovered by evolution (AutoML-Zero style)",
    docstring: bool = True,
) -> str:
    """Source of a standalone module (imports only NumPy) holding ``program`` as an estimator;
    ``docstring=False`` leaves out the module docstring (for a module that writes its own)."""
    if not class_name.isidentifier():
        raise ValueError(f"class name {class_name!r}: must be a Python identifier")
    need = program.required_memory()
    if memory is not None:
        need = MemorySpec(*(max(x, y) for x, y in zip(need.as_tuple(), memory.as_tuple(), strict=True)))
    doc = [f"{title}.", "", f"Estimator: ``{class_name}`` (fit / predict"
           + (" / predict_proba" if eval_type == "accuracy" else "") + "); needs only NumPy."]
    if math_text.strip():
        doc += ["", "The math::", "", *("    " + line if line else "" for line in
                                       math_text.rstrip().splitlines())]
    components = "\n".join(_component(program, i) for i in range(3))
    source = (docstring_literal(doc) if docstring else "") + _RUNTIME + _CLASS.format(
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
