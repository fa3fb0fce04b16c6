#!/usr/bin/env bash
# Is evolution helping? NSGA-II against random search on the same space and wall-clock budget.
#   benchmarks/evolution_vs_random.sh [SECONDS] [OUT]      (default 180 s, runs/evolution-vs-random)
# Three seeds of each strategy on digits and breast_cancer. The two runs of a seed run side by
# side on one core each, so both strategies share whatever else the machine is doing; then one
# comparison report per dataset (evosearch report RUN1 RUN2 ...): OUT/<data>/compare.html.
# Takes 6 x SECONDS plus the refits (about 19 minutes at 180 s) on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-180}
OUT=${2:-runs/evolution-vs-random}
EVOSEARCH=${EVOSEARCH:-.venv/bin/evosearch}
mkdir -p "$OUT"
for data in digits breast_cancer; do
  for seed in 0 1 2; do
    for strategy in nsga2 random; do
      "$EVOSEARCH" evolve --data "$data" --strategy "$strategy" --seed "$seed" --n-jobs 1 \
        --generations 100000 --max-time "$SECONDS_EACH" --quiet \
        --out "$OUT/$data-$strategy-s$seed" > "$OUT/$data-$strategy-s$seed.log" 2>&1 &
    done
    wait
  done
  "$EVOSEARCH" report "$OUT/$data"-*-s? --out "$OUT/$data"
done
