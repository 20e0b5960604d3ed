#!/usr/bin/env bash
# All checks and tests, the way CI runs them on a fresh machine: install the local stack (cached in
# ~/.cache/mlsecops-action), start it, lint, check dist/ against a fresh build, run unit and integration tests.
# Ends with one line "N passed, M failed" taken from jest's totals.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. scripts/stack/env.sh
mkdir -p .tmp
status=0
step() { printf '\n==> %s\n' "$*"; }

step "npm ci"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund || exit 1
fi

step "install the local stack (cached in $MLSECOPS_CACHE)"
bash scripts/stack/install.sh || exit 1

step "start dockerd"
# Stop dockerd at the end only when this run started it; an engine that was already up is left alone.
docker info >/dev/null 2>&1 && engine_was_up=1 || engine_was_up=0
bash scripts/stack/dockerd.sh start || exit 1
[ "$engine_was_up" = 1 ] || trap 'bash "$root/scripts/stack/dockerd.sh" stop' EXIT

failed_checks=()
step "lint (ESLint, Prettier, actionlint on the workflows)"
npm run --silent lint || { echo "lint failed"; failed_checks+=(lint); status=1; }
"$MLSECOPS_CACHE/bin/actionlint" .github/workflows/*.yml __tests__/fixtures/workflows/*.yml || { echo "actionlint failed"; failed_checks+=(actionlint); status=1; }

step "dist/ matches a fresh build"
npm run --silent build >.tmp/build.log 2>&1 || { cat .tmp/build.log; echo "build failed"; failed_checks+=(build); status=1; }
if [ -n "$(git status --porcelain -- dist/)" ]; then
  git status --short -- dist/
  echo "dist/ differs from a fresh build: run 'npm run build' and commit dist/"
  failed_checks+=(dist)
  status=1
fi

step "unit tests"
NODE_OPTIONS=--experimental-vm-modules npx jest --selectProjects unit --passWithNoTests --json --outputFile=.tmp/jest-unit.json || status=1

step "integration tests (real MLflow, dockerd, Trivy, Azurite)"
NODE_OPTIONS=--experimental-vm-modules npx jest --selectProjects integration --runInBand --passWithNoTests --json --outputFile=.tmp/jest-integration.json || status=1

if [ "$engine_was_up" = 0 ]; then
  bash scripts/stack/dockerd.sh stop
  trap - EXIT
fi
[ ${#failed_checks[@]} -eq 0 ] || echo "checks outside jest that failed: ${failed_checks[*]}"
node -e '
const fs = require("fs")
let passed = 0, failed = 0
for (const f of [".tmp/jest-unit.json", ".tmp/jest-integration.json"]) {
  if (!fs.existsSync(f)) { failed++; continue }
  const r = JSON.parse(fs.readFileSync(f, "utf8"))
  passed += r.numPassedTests
  failed += r.numFailedTests + r.numRuntimeErrorTestSuites
}
console.log(`${passed} passed, ${failed} failed`)
'
exit $status
