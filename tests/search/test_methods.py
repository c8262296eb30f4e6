"""The method registry (evolve/search/methods.py) is what config, campaigns and islands ask about methods.

Every registered method runs through a real (tiny) campaign from its ``init``/``step`` hooks and
keeps what its flags promise: a population or none, a Pareto population for ``pareto``; config
choices are the registry's names, and islands refuse exactly the methods not marked ``islands``.
"""

from __future__ import annotations

import pytest

from evolve.config import METHODS as CONFIG_METHODS
from evolve.config import load_config
from evolve.engine.campaign import start_campaign
from evolve.errors import ConfigError
from evolve.search.methods import METHODS, method
from evolve.search.nsga2 import ParetoPopulation

TINY = ["search.population_size=20", "search.batch_size=10", "campaign.max_evaluations=200",
        "tasks.search=2", "tasks.select=2", "tasks.final=2"]


def test_config_choices_are_the_registry() -> None:
    assert tuple(METHODS) == CONFIG_METHODS
    with pytest.raises(ConfigError, match=r"search\.method"):
        load_config("linear-demo", ['search.method="simulated_annealing"'])
    with pytest.raises(KeyError, match="allowed: evolution, random, nsga2"):
        method("simulated_annealing")


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_runs_a_campaign_through_its_hooks(name: str, tmp_path) -> None:
    config = load_config("linear-demo", [*TINY, f'search.method="{name}"'])
    (tmp_path / name).mkdir()
    campaign = start_campaign(config, tmp_path / name, quiet=True)
    summary = campaign.run()
    assert summary["individuals"] >= 200
    registered = METHODS[name]
    population = getattr(campaign, "population", None)
    if not registered.keeps_population:
        assert population is None
    else:
        assert population is not None and len(population.members) == 20
        assert isinstance(population, ParetoPopulation) == registered.pareto


@pytest.mark.parametrize("name", [n for n, m in METHODS.items() if not m.islands])
def test_islands_refuse_the_methods_not_marked_for_them(name: str, tmp_path) -> None:
    config = load_config("linear-demo", [*TINY, f'search.method="{name}"', "campaign.islands=2"])
    (tmp_path / "islands").mkdir()
    with pytest.raises(ConfigError, match="islands") as error:
        start_campaign(config, tmp_path / "islands", quiet=True)
    allowed = [n for n, m in METHODS.items() if m.islands]
    assert all(n in str(error.value) for n in allowed)


def test_a_method_owns_its_populations_checkpoint_record(tmp_path, monkeypatch) -> None:
    """A method with a new kind of state (here: an age per member) is checkpointed and restored
    through its own save/load hooks alone; the strategy and the campaign are not edited."""
    import dataclasses

    import numpy as np

    from evolve.engine.campaign import resume_campaign
    from evolve.search import methods

    base = METHODS["evolution"]
    seen = {}

    def save(population):
        return {**base.save(population), "population_age": np.arange(len(population.members))}

    def load(arrays, memory, n, head):
        seen["age"] = arrays["population_age"].copy()
        return base.load(arrays, memory, n, head)

    monkeypatch.setitem(methods.METHODS, "evolution", dataclasses.replace(base, save=save, load=load))
    run = tmp_path / "run"
    run.mkdir()
    config = load_config("linear-demo", [*TINY, "campaign.max_evaluations=400"])
    campaign = start_campaign(config, run, quiet=True)
    campaign._stop_reason = lambda: "interrupted" if campaign.individuals >= 200 else None
    campaign.run()
    (run / "summary.json").unlink()
    resumed, warnings = resume_campaign(run, quiet=True)
    assert warnings == [] and list(seen["age"]) == list(range(20))
    assert resumed.run()["individuals"] >= 400
