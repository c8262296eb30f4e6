"""The model a user gets from a run on their own table, and the comparison they would make.

- **Rows.** The ``dataset`` suite holds out ``final_fraction`` of the rows (per class) before any
  task is made; those are the user's *test* rows. The rest are the *training* rows. No search,
  select or model-choice step sees a test row.
- **Features.** The table's encoded columns (:mod:`problems.table`: one-hot text, constant
  columns dropped), a missing cell imputed with the training rows' column mean, the same for
  every model below.
- **Model choice** (:func:`choose_model`). Candidates: the discovered program and the algorithm
  the search started from, each trained on every column (no projection) for ``epochs`` in
  :data:`EPOCHS` and input scales 1, ``1/sqrt(D)``, ``1/D`` (the step a fixed learning rate
  takes shrinks with them); classification one-vs-rest (one binary model per class inside the algorithm's
  estimator) for more than two classes. Each candidate is scored by ``folds``-fold
  cross-validation on (at most 1,500 of) the training rows (accuracy, or R²); the discovered
  program is chosen only when its best cross-validated score beats the start's *and* it beats the
  start again on a fresh 80/20 split of all training rows, so the result is never worse on
  validation than where the search began.
- **Guard.** Every evolved model's inputs are clipped to the training rows' range per column,
  and a regression prediction to the training targets' range widened by its span
  (:class:`Guarded`): a program that multiplies features never explodes on an outlier row.
- **Comparison** (:func:`table_comparison`). The chosen model, trained on all training rows,
  scored on the test rows, beside scikit-learn's LogisticRegression or Ridge, MLP and
  HistGradientBoosting with their default settings, fitted on the same standardized training
  rows: the comparison a user makes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evolve.rundir.store import write_json
from primitives.text import format_program

EPOCHS = (1, 3, 10, 30, 100)
FOLDS = 3
MAX_CV_ROWS = 1500  # cross-validation on at most this many training rows (a random subset)
MAX_ROW_PASSES = 40000  # epochs x cross-validation rows: more epochs only where rows are few


@dataclass(frozen=True)
class Choice:
    """The model chosen on the training rows."""

    which: str  # "discovered" or "start"
    algorithm: str  # program text
    epochs: int
    input_scale: float
    cv_score: float
    cv_scores: dict  # mean cross-validated score per "which/epochs/input scale"


class Guarded:
    """A fitted model that never extrapolates wildly: each input column is clipped to the range
    it had in the training rows, and a regression prediction to the training targets' range
    widened by its span on each side. An evolved program may multiply features together; on a
    row far outside the training range (an outlier in the held-out rows) its prediction would
    otherwise be unbounded (a health-economics table once scored R^2 = -46,000 on one such row)."""

    def __init__(self, model, task: str) -> None:
        self.model, self.task = model, task

    def fit(self, X: np.ndarray, y: np.ndarray) -> Guarded:
        X = np.asarray(X, dtype=np.float64)
        self.low_, self.high_ = X.min(axis=0), X.max(axis=0)
        if self.task != "classification":
            y = np.asarray(y, dtype=np.float64)
            span = float(y.max() - y.min())
            self.y_low_, self.y_high_ = float(y.min()) - span, float(y.max()) + span
        self.model.fit(X, y)
        return self

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        return np.clip(np.asarray(X, dtype=np.float64), self.low_, self.high_)

    def predict(self, X: np.ndarray) -> np.ndarray:
        predicted = self.model.predict(self._inputs(X))
        if self.task == "classification":
            return predicted
        return np.clip(np.nan_to_num(predicted, nan=0.5 * (self.y_low_ + self.y_high_)),
                       self.y_low_, self.y_high_)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(self._inputs(X))

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return self.model.decision_function(self._inputs(X))

    @property
    def classes_(self):
        return self.model.classes_


def estimator_for(task: str, algorithm: str, epochs: int, memory, max_abs_error: float, seed: int,
                  input_scale: float = 1.0) -> Guarded:
    """The unfitted model of ``algorithm`` on every column (no projection; one-vs-rest for more
    than two classes), :class:`Guarded` against extrapolation."""
    from evolve.estimators.discovered import DiscoveredClassifier, DiscoveredRegressor

    common = {"algorithm": algorithm, "memory": memory, "epochs": epochs, "features_size": None,
              "n_projections": 1, "random_state": seed, "max_abs_error": max_abs_error,
              "input_scale": input_scale}
    if task == "classification":
        return Guarded(DiscoveredClassifier(multiclass="ovr", **common), task)
    return Guarded(DiscoveredRegressor(**common), task)


def _score(task: str, model, X: np.ndarray, y: np.ndarray) -> float:
    from sklearn.metrics import accuracy_score, r2_score

    predicted = model.predict(X)
    if task == "classification":
        return float(accuracy_score(y, predicted))
    if not np.isfinite(predicted).all():
        return -np.inf
    return float(r2_score(y, predicted))


def choose_model(task: str, candidates: dict[str, str], X: np.ndarray, y: np.ndarray, *,
                 memory=None, max_abs_error: float = 100.0, seed: int = 0,
                 epochs: tuple[int, ...] = EPOCHS, folds: int = FOLDS) -> Choice:
    """The candidate (``{"discovered": text, "start": text}``), epoch count and input scale
    (1, ``1/sqrt(D)`` or ``1/D`` on D > 4 columns: smaller steps for a fixed learning rate) with
    the best ``folds``-fold cross-validated score on
    ``X, y``; epochs beyond :data:`MAX_ROW_PASSES` row passes are not tried. ``"discovered"`` is
    chosen only when it is at least as good as ``"start"`` (ties keep the start, then the
    fewer epochs, then scale 1)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    rng = np.random.default_rng(seed)
    rows = np.arange(len(y))
    if len(rows) > MAX_CV_ROWS:
        rows = np.sort(rng.choice(rows, MAX_CV_ROWS, replace=False))
    Xs, ys = X[rows], y[rows]
    k = max(2, min(folds, len(ys)))
    splitter = KFold(k, shuffle=True, random_state=seed)
    if task == "classification":
        smallest = int(np.min(np.unique(ys, return_counts=True)[1]))
        if smallest >= 2:
            splitter = StratifiedKFold(max(2, min(folds, smallest)), shuffle=True, random_state=seed)
    splits = list(splitter.split(Xs, ys))
    tried = [e for e in epochs if e * len(ys) <= MAX_ROW_PASSES] or [min(epochs)]
    D = X.shape[1]
    scales = (1.0, 1.0 / float(np.sqrt(D)), 1.0 / D) if D > 4 else (1.0,)
    scores: dict[str, float] = {}
    options = []
    for which, text in candidates.items():
        for e in tried:
            for s_rank, scale in enumerate(scales):
                fold_scores = []
                for train, valid in splits:
                    if task == "classification" and len(np.unique(ys[train])) < 2:
                        continue
                    model = estimator_for(task, text, e, memory, max_abs_error, seed, scale)
                    fold_scores.append(_score(task, model.fit(Xs[train], ys[train]), Xs[valid],
                                              ys[valid]))
                score = float(np.mean(fold_scores)) if fold_scores else -np.inf
                scores[f"{which}/{e}/{scale!r}"] = score
                options.append((which, score, e, s_rank, scale))

    def best(which: str) -> tuple:
        mine = [o for o in options if o[0] == which]
        return max(mine, key=lambda o: (o[1], -o[2], -o[3]))

    chosen = best("start") if "start" in candidates else best("discovered")
    if "discovered" in candidates and "start" in candidates:
        found = best("discovered")
        if found[1] > chosen[1] and _confirmed(task, candidates, found, chosen, X, y, memory,
                                               max_abs_error, seed, scores):
            chosen = found
    which, score, e, _, scale = chosen
    return Choice(which, candidates[which], e, scale, score, scores)


def _confirmed(task: str, candidates: dict, found: tuple, start: tuple, X: np.ndarray,
               y: np.ndarray, memory, max_abs_error: float, seed: int, scores: dict) -> bool:
    """The discovered program's best setting beats the start's best again on a fresh split of
    *all* training rows (80% train, 20% validation), not only on the cross-validation subset: a
    program that is unstable on rows the subset lacks (outliers) is caught here."""
    from sklearn.model_selection import train_test_split

    stratify = y if task == "classification" and np.min(np.unique(y, return_counts=True)[1]) >= 2 else None
    a, b, ya, yb = train_test_split(X, y, test_size=0.2, random_state=seed + 1, stratify=stratify)
    results = []
    for which, _, e, _, scale in (found, start):
        model = estimator_for(task, candidates[which], e, memory, max_abs_error, seed, scale)
        results.append(_score(task, model.fit(a, ya), b, yb))
    scores["confirm/discovered"], scores["confirm/start"] = results
    return results[0] > results[1]


def fit_final(task: str, choice: Choice, candidates: dict, X: np.ndarray, y: np.ndarray, memory,
              max_abs_error: float, seed: int) -> tuple[Choice, Guarded]:
    """The chosen model trained on every training row. A discovered program whose training
    diverges when given all the rows (its score on those rows falls below what the start scored
    on held-back rows in :func:`choose_model`'s confirmation) is replaced by the start, and the
    returned choice says so (``which == "start"``, ``cv_scores["fallback"] = 1``). The rows are
    shuffled (seeded) first: the first epoch runs in row order, and a file sorted by some column
    would otherwise leave the last rows' drift in the final weights."""
    order = np.random.default_rng([seed, 0x5F1]).permutation(len(y))
    X, y = X[order], y[order]
    model = estimator_for(task, choice.algorithm, choice.epochs, memory, max_abs_error, seed,
                          choice.input_scale).fit(X, y)
    start = choice.cv_scores.get("confirm/start")
    if choice.which != "discovered" or start is None or _score(task, model, X, y) >= start:
        return choice, model
    keys = [k for k in choice.cv_scores if k.startswith("start/")]
    best = max(keys, key=lambda k: choice.cv_scores[k])
    _, epochs, scale = best.split("/")
    scores = {**choice.cv_scores, "fallback": 1.0}
    fallback = Choice("start", candidates["start"], int(epochs), float(scale),
                      choice.cv_scores[best], scores)
    refit = estimator_for(task, fallback.algorithm, fallback.epochs, memory, max_abs_error, seed,
                          fallback.input_scale).fit(X, y)
    return fallback, refit


def _impute(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    with np.errstate(all="ignore"):
        mean = np.nanmean(np.where(np.isnan(train).all(axis=0), 0.0, train), axis=0)
    return [np.where(np.isnan(a), mean, a) for a in (train, *others)]


def practitioner_scores(task: str, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray,
                        y_test: np.ndarray, seed: int = 0) -> list[dict]:
    """scikit-learn's standard models with default settings on the same standardized rows."""
    import warnings

    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if task == "classification":
        models = {"LogisticRegression": LogisticRegression(max_iter=2000),
                  "MLPClassifier(100)": MLPClassifier(max_iter=1000, random_state=seed),
                  "HistGradientBoostingClassifier": HistGradientBoostingClassifier(random_state=seed)}
    else:
        models = {"Ridge": Ridge(),
                  "MLPRegressor(100)": MLPRegressor(max_iter=1000, random_state=seed),
                  "HistGradientBoostingRegressor": HistGradientBoostingRegressor(random_state=seed)}
    out = []
    for name, model in models.items():
        pipe = make_pipeline(StandardScaler(), model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipe.fit(X_train, y_train)
        out.append({"name": name, "score": _score(task, pipe, X_test, y_test),
                    "kind": "linear" if name in ("LogisticRegression", "Ridge") else "other"})
    return out


def table_comparison(config, run_dir: Path) -> dict:
    """Choose the final model for the run's table on its training rows, score it and
    scikit-learn's standard models on the held-out rows; written to ``table_model.json``."""
    from evolve.analysis.load import load_source
    from evolve.engine.search_context import load_program
    from primitives.prune import prune
    from problems.registry import make_suite

    suite = make_suite(config.problem.name, {**config.problem.params})
    task = "classification" if suite.classification else "regression"
    features = np.asarray(suite.table.features, dtype=np.float64)
    target = suite.labels if suite.classification else suite.values
    test = suite.final_rows
    X_train, X_test = _impute(features[~test], features[test])
    y_train, y_test = target[~test], target[test]
    source = load_source(Path(run_dir))
    candidates = {"discovered": format_program(prune(source.program))}
    initial = config.algorithm.initial
    if initial not in ("random", "no_op"):
        start = format_program(prune(load_program(initial, "algorithm.initial")))
        if start != candidates["discovered"]:
            candidates["start"] = start
    memory = source.memory.as_tuple()
    choice = choose_model(task, candidates, X_train, y_train, memory=memory,
                          max_abs_error=config.evaluation.max_abs_error, seed=config.seed)
    choice, model = fit_final(task, choice, candidates, X_train, y_train, memory,
                              config.evaluation.max_abs_error, config.seed)
    ours = _score(task, model, X_test, y_test)
    result = {
        "task": task, "metric": "accuracy" if task == "classification" else "R^2",
        "train_rows": len(y_train), "test_rows": len(y_test),
        "columns": int(features.shape[1]),
        "classes": len(suite.classes) if suite.classification else None,
        "chosen": {"which": choice.which, "epochs": choice.epochs, "cv_score": choice.cv_score,
                   "input_scale": choice.input_scale,
                   "multiclass": "one-vs-rest" if task == "classification" and len(suite.classes) > 2 else None},
        "start": initial, "cv_scores": choice.cv_scores,
        "evolved": ours,
        "practitioner": practitioner_scores(task, X_train, y_train, X_test, y_test, config.seed),
    }
    write_json(Path(run_dir) / "table_model.json", result)
    return result


def format_table_comparison(result: dict) -> str:
    """What ``evolve run --data`` prints at the end: the held-out rows' scores, best first."""
    chosen = result["chosen"]
    how = (f"the discovered algorithm, {chosen['epochs']} epochs"
           if chosen["which"] == "discovered" else
           f"the starting {result['start']} ({chosen['epochs']} epochs): on the training rows' "
           "cross-validation the discovered algorithm did not beat it")
    lines = [f"held-out rows: {result['test_rows']} of {result['train_rows'] + result['test_rows']} "
             f"(never seen by the search, by select or by the model choice); {result['metric']} "
             f"on all {result['columns']} encoded columns",
             f"evolved model: {how}" + (", one-vs-rest" if chosen.get("multiclass") else "")]
    rows = [("evolved model", result["evolved"])] + [(r["name"], r["score"]) for r in result["practitioner"]]
    for name, score in sorted(rows, key=lambda r: -r[1]):
        lines.append(f"  {name:<32} {score:.4f}")
    linear = next(r["score"] for r in result["practitioner"] if r["kind"] == "linear")
    lines.append(f"evolved minus linear model: {100 * (result['evolved'] - linear):+.1f} points")
    return "\n".join(lines) + "\n"
