#!/bin/bash
# Usage: side_by_side.sh SEED...   (from the repository root, the project installed)
# Time to discovery, AutoML-Zero's C++ demo (built by build.sh) and `evolve run linear-demo`,
# interleaved seed by seed, one process at a time on an otherwise idle machine. Prints for each
# seed AutoML-Zero's wall time and peak RSS (it stops at success: --sufficient_fitness) and ours
# ("found in": seconds from the campaign's start to the select check that succeeded; wall
# includes start-up and the final evaluation) with our peak RSS. Logs go to ${LOGS:-/tmp}.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
LOGS="${LOGS:-/tmp}"
for s in "$@"; do
  /usr/bin/time -f "azero seed $s wall %e s rss %M KB" "$HERE/run_demo_seed.sh" "$s" \
    > "$LOGS/azero_$s.log" 2> "$LOGS/azero_$s.time"
  tail -1 "$LOGS/azero_$s.time"
  rm -rf "$LOGS/ours_$s"
  echo "ours seed $s $( /usr/bin/time -f 'rss %M KB wall %e s' evolve run linear-demo --seed "$s" \
    --out "$LOGS/ours_$s" 2>&1 | grep -E 'found in|individuals at|rss|FAIL' \
    | sed -E 's/SUCCESS: search [0-9.]+, select [0-9.]+, final [0-9.]+, //' | tr '\n' ' ')"
done
