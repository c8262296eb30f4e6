#!/bin/sh
# The ablation of results/showcase/mnist1d-ablation/README.md: mnist1d-scratch at small scale
# (2.5 minutes per run, seeds 0-1), each row adding one piece of the protocol to the one above.
# Usage: sh run.sh OUT_ROOT   (then: evolve ablation NAME=OUT_ROOT/NAME ... > table.md)
set -e
OUT=${1:?usage: sh run.sh OUT_ROOT}
BAR=$(cd "$(dirname "$0")" && pwd)/logistic_sgd_tuned.txt
COMMON="--set campaign.success_baseline=\"$BAR\" --set campaign.stall_individuals=0"
BASE="--set evaluation.fec=false --set tasks.resample_individuals=0 --set tasks.funnel=0"
FEC="--set evaluation.fec=true"
HURDLE="--set evaluation.hurdle=true --set evaluation.hurdle_tasks=2"
POOL="--set tasks.resample_individuals=10000 --set tasks.search_pool=360"
MIX="--set tasks.mix_fraction=0.5 --set tasks.mix_dataset=\"digits\""
FUNNEL="--set tasks.funnel=40"
WARM="--set algorithm.initial=\"logistic_sgd\""
run() {
  name=$1; shift
  eval python -m evolve.cli experiment mnist1d-scratch --seeds 2 --methods evolution --workers 2 \
    --budget-minutes 2.5 --quiet --out "$OUT/$name" $COMMON "$@"
}
run 1-base "$BASE"
run 2-fec "$BASE $FEC"
run 3-hurdles "$BASE $FEC $HURDLE"
run 4-pool "$BASE $FEC $HURDLE $POOL"
run 5-mixing "$BASE $FEC $HURDLE $POOL $MIX"
run 6-funnel "$BASE $FEC $HURDLE $POOL $MIX $FUNNEL"
run 7-warm "$BASE $FEC $HURDLE $POOL $MIX $FUNNEL $WARM"
