#!/bin/bash
# Usage: ./run_demo_seed.sh SEED
# Runs the AutoML-Zero demo search exactly as automl_zero/run_demo.sh does
# (same flags, same search/final/select spec text), plus --random_seed=SEED.
# The binary was built with -DMAX_SCALAR_ADDRESSES=4 -DMAX_VECTOR_ADDRESSES=3
# -DMAX_MATRIX_ADDRESSES=1 (see build.sh), matching run_demo.sh's --copt flags.
set -eu
if [ $# -ne 1 ]; then echo "usage: $0 SEED" >&2; exit 2; fi
SEED="$1"
BIN="${AZERO_BIN:-$(cd "$(dirname "$0")" && pwd)/build/run_search_experiment}"

"$BIN" \
  --random_seed="$SEED" \
  --search_experiment_spec=" \
    search_tasks { \
      tasks { \
        scalar_linear_regression_task {} \
        features_size: 4 \
        num_train_examples: 100 \
        num_valid_examples: 100 \
        num_tasks: 10 \
        eval_type: RMS_ERROR \
      } \
    } \
    setup_ops: [SCALAR_CONST_SET_OP, VECTOR_INNER_PRODUCT_OP, SCALAR_DIFF_OP, SCALAR_PRODUCT_OP, SCALAR_VECTOR_PRODUCT_OP, VECTOR_SUM_OP] \
    predict_ops: [SCALAR_CONST_SET_OP, VECTOR_INNER_PRODUCT_OP, SCALAR_DIFF_OP, SCALAR_PRODUCT_OP, SCALAR_VECTOR_PRODUCT_OP, VECTOR_SUM_OP] \
    learn_ops: [SCALAR_CONST_SET_OP, VECTOR_INNER_PRODUCT_OP, SCALAR_DIFF_OP, SCALAR_PRODUCT_OP, SCALAR_VECTOR_PRODUCT_OP, VECTOR_SUM_OP] \
    learn_size_init: 8 \
    setup_size_init: 10 \
    predict_size_init: 2 \
    fec {num_train_examples: 10 num_valid_examples: 10} \
    fitness_combination_mode: MEAN_FITNESS_COMBINATION \
    population_size: 1000 \
    tournament_size: 10 \
    initial_population: RANDOM_ALGORITHM \
    max_train_steps: 200000000 \
    allowed_mutation_types {
      mutation_types: [ALTER_PARAM_MUTATION_TYPE, RANDOMIZE_INSTRUCTION_MUTATION_TYPE, RANDOMIZE_COMPONENT_FUNCTION_MUTATION_TYPE] \
    } \
    mutate_prob: 0.9 \
    progress_every: 10000 \
    " \
  --final_tasks=" \
    tasks { \
      scalar_linear_regression_task {} \
      features_size: 4 \
      num_train_examples: 1000 \
      num_valid_examples: 100 \
      num_tasks: 100 \
      eval_type: RMS_ERROR \
      data_seeds: [1000000] \
      param_seeds: [2000000] \
    } \
    " \
  --max_experiments=0 \
  --randomize_task_seeds \
  --select_tasks=" \
    tasks { \
      scalar_linear_regression_task {} \
      features_size: 4 \
      num_train_examples: 1000 \
      num_valid_examples: 100 \
      num_tasks: 100 \
      eval_type: RMS_ERROR \
    } \
    " \
  --sufficient_fitness=0.9999
