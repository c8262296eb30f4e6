"""Search methods: the registry (:mod:`~evolve.search.methods`), regularized evolution and random
search over a DEAP toolbox (:mod:`~evolve.search.evolution`), the packed aging population
(:mod:`~evolve.search.population`), NSGA-II (:mod:`~evolve.search.nsga2`) and mutation
(:mod:`~evolve.search.mutation`, with its compiled twin :mod:`~evolve.search.mutation_kernel`)."""
