#!/usr/bin/env bash
# npm run bench:job: the whole action on the example model as a fresh runner sees it (first and second run,
# with a local Actions cache service) against the anchors' steps (scikit-learn training, docker build, trivy
# JSON + trivy SARIF on empty Trivy caches). See scripts/bench/job.ts. Arguments go to job.js: --reps N
# (default 3), --work DIR (default .tmp/bench-job). Not part of npm test: it takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=stack/env.sh
source scripts/stack/env.sh
if [ ! -x "$MLSECOPS_VENV/bin/python" ] || [ ! -x "$MLSECOPS_TRIVY_DIR/trivy" ]; then
  echo "bench:job: the local stack is missing: run scripts/stack/install.sh first" >&2
  exit 1
fi
bash scripts/stack/dockerd.sh start >&2
echo "bench:job: compiling scripts/bench into build/bench" >&2
npx tsc -p scripts/bench/tsconfig.json >&2 || echo "bench:job: tsc reported errors (above); using its output" >&2
echo "bench:job: bundling the action (as npm run build does) into build/bench/bundle" >&2
npx ncc build src/index.ts -o build/bench/bundle --source-map >/dev/null
MLSECOPS_REPO_ROOT="$PWD" MLSECOPS_DIST="$PWD/build/bench/bundle/index.js" exec node build/bench/scripts/bench/job.js "$@"
