"""Bench D for any checkout on PYTHONPATH (also ones older than `evolve bench --only D`): the
digits-demo preset, seed 0, 10,000 individuals, no stop at success; best of two searches, as JSON."""
import json
import resource
import tempfile
from pathlib import Path

from evolve.config import apply_overrides, config_from_dict, load_source

try:
    from evolve.engine.campaign import start_campaign
except ImportError:
    from evolve.api import start_campaign
data = apply_overrides(load_source("digits-demo"), ["seed=0", "campaign.max_evaluations=10000",
                       "campaign.budget_minutes=0", "campaign.stop_on_success=false"])
config = config_from_dict(data)
rates = []
for _ in range(2):
    with tempfile.TemporaryDirectory() as d:
        s = start_campaign(config, Path(d), quiet=True).run()
    rates.append(s["individuals_per_second"])
print(json.dumps({"best": max(rates), "rates": rates, "evaluations": s["evaluations"], "individuals": s["individuals"],
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
