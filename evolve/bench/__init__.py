"""Measurements of the tool itself: interpreter throughput (:mod:`~evolve.bench.throughput`), two
builds side by side (:mod:`~evolve.bench.against`) and what more workers buy
(:mod:`~evolve.bench.scaling`)."""
