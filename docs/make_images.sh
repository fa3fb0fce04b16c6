#!/usr/bin/env bash
# Re-renders the README's images from a short search on the bundled digits data:
#   docs/make_images.sh            (about 2-3 minutes on 2 cores; results do not depend on cores)
# The run goes to a temporary folder that is removed afterwards; only the images are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
EVOSEARCH=${EVOSEARCH:-.venv/bin/evosearch}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$EVOSEARCH" evolve --data digits --generations 10 --seed 0 --quiet --out "$work/digits-g10"
"$EVOSEARCH" report "$work/digits-g10" --out "$work/report"
cp "$work/report/pareto.png" docs/pareto-digits.png
echo "wrote docs/pareto-digits.png"
