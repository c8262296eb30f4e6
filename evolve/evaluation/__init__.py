"""Fitness evaluation: tasks stacked for the interpreter (:mod:`~evolve.evaluation.scoring`), the
search-time evaluator with hurdles and compute budgets (:mod:`~evolve.evaluation.evaluator`) and
the functional-equivalence cache (:mod:`~evolve.evaluation.fec`, AutoML-Zero §4)."""
