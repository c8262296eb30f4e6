"""The engine: a campaign's loop and everything it drives.

- :mod:`~evolve.engine.campaign`: experiments of search until success or the budget ends;
- :mod:`~evolve.engine.strategy` (the interface), :mod:`~evolve.engine.one_population` (one
  population here; islands are :mod:`evolve.islands`);
- :mod:`~evolve.engine.search_context`: tasks, search space, evaluator and random streams;
- :mod:`~evolve.engine.task_protocol`: resampled search tasks, mixing, funnel, restarts;
- :mod:`~evolve.engine.checkpoint`: the campaign's own checkpoint record;
- :mod:`~evolve.engine.progress`, :mod:`~evolve.engine.resources`, :mod:`~evolve.engine.metadata`.

The engine imports the search methods, evaluation, islands and the run directory, never the
analysis layer (:mod:`evolve.analysis`) or the user interface (:mod:`evolve.ui`).
"""
