"""Studies: campaigns per (method, seed) and their statistics (:mod:`~evolve.studies.experiment`),
fairly tuned constants and baselines (:mod:`~evolve.studies.retune`) and the ablation table in
AutoML-Zero's Table S2 form (:mod:`~evolve.studies.ablation_table`)."""
