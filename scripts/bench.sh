#!/usr/bin/env bash
# npm run bench: this project's trainer against scikit-learn on the same data and split, and the action's
# own overhead on Iris (see scripts/bench/bench.py). Needs the MLflow venv of scripts/stack/install.sh (it has
# scikit-learn). Arguments go to bench.py: --reps N, --datasets iris,wine, --no-mlflow.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=stack/env.sh
source scripts/stack/env.sh
if [ ! -x "$MLSECOPS_VENV/bin/python" ]; then
  echo "bench: no Python venv at $MLSECOPS_VENV: run scripts/stack/install.sh first" >&2
  exit 1
fi
echo "bench: compiling the TypeScript side into build/bench" >&2
# tsc emits even when a file elsewhere in the tree has a type error; say so and go on.
npx tsc -p scripts/bench/tsconfig.json >&2 || echo "bench: tsc reported errors (above); using its output" >&2
echo "bench: bundling the action (as npm run build does) into build/bench/bundle" >&2
npx ncc build src/index.ts -o build/bench/bundle --source-map >/dev/null
exec "$MLSECOPS_VENV/bin/python" scripts/bench/bench.py --work .tmp/bench "$@"
