"""The run-directory schema is complete and the documentation shows it as it is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evolve.config import load_config
from evolve.engine.campaign import start_campaign
from evolve.rundir.schema import BY_NAME, markdown_table

ROOT = Path(__file__).resolve().parents[2]
SMALL = ['problem.name="affine"', "search.population_size=60", "search.batch_size=20",
         "tasks.search=4", "tasks.select=4", "tasks.final=4", "campaign.success_fitness=1.0",
         "campaign.max_evaluations=1500"]


@pytest.mark.parametrize("extra", [[], ["campaign.lineage=true"], ['search.method="nsga2"'],
                                   ["campaign.islands=2", 'campaign.executor="serial"']],
                         ids=["evolution", "lineage", "nsga2", "islands"])
def test_every_file_a_campaign_leaves_is_in_the_schema(tmp_path, extra):
    start_campaign(load_config("linear-demo", [*SMALL, *extra]), tmp_path, quiet=True).run()
    left = {p.name for p in tmp_path.iterdir()}
    assert left - set(BY_NAME) == set(), "files missing from evolve/rundir/schema.py"
    always = {f.name for f in BY_NAME.values() if f.always}
    assert always <= left


def test_the_documentation_page_holds_the_schema_table():
    page = (ROOT / "docs" / "run-directory.md").read_text()
    block = re.search(r"<!-- schema:begin -->\n(.*?)<!-- schema:end -->", page, re.S)
    assert block is not None and block.group(1) == markdown_table(), (
        "docs/run-directory.md is stale: paste the output of markdown_table() between the markers")
