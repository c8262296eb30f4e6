"""The analysis layer: reading what was found, never part of a search.

Loading a run or a program (:mod:`~evolve.analysis.load`), its math (:mod:`~evolve.analysis.math_view`,
with :mod:`~evolve.analysis.algebra`, :mod:`~evolve.analysis.printers`,
:mod:`~evolve.analysis.typeset`), knock-outs and constant sweeps (:mod:`~evolve.analysis.knockouts`),
hyperparameter coupling (:mod:`~evolve.analysis.decouple`), lineage views
(:mod:`~evolve.analysis.lineage`), motifs, baselines and generalization probes, reports and the
export of a program as a standalone module (:mod:`~evolve.analysis.export`,
:mod:`~evolve.analysis.export_estimator`). Dead-code elimination is :mod:`primitives.prune`.
"""
