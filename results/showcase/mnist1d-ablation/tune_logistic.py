"""Logistic SGD with its learning rate tuned on a preset's select tasks (evolve.studies.retune, 100
trials, seed 0): the success bar of the ablation runs. Usage: python tune_logistic.py PRESET OUT."""

import sys

import numpy as np

from evolve.analysis.load import final_tasks
from evolve.config import load_config
from evolve.evaluation.scoring import TaskBatch
from evolve.reference_programs import load_algorithm
from evolve.studies.retune import retune
from primitives.text import format_program

config = load_config(sys.argv[1])
select = TaskBatch.from_tasks(final_tasks(config, "select", config.tasks.select))
program = load_algorithm("logistic_sgd")
tuned = retune(program, select, program.required_memory(), 100, np.random.default_rng([0, 1]))
with open(sys.argv[2], "w") as out:
    out.write(f"# logistic_sgd tuned on the select tasks of {sys.argv[1]}: 100 trials, seed 0\n"
              f"# select fitness {tuned.select_before!r} as shipped, {tuned.select_after!r} tuned\n")
    out.write(format_program(tuned.program))
print(tuned.select_before, tuned.select_after)
