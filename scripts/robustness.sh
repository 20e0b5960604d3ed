#!/usr/bin/env bash
# Runs the robustness checks of issue 6 and prints the table: the bad-input corpus (unit tests), faults between
# the action and a real MLflow server, 5 concurrent action runs on a PostgreSQL-backed MLflow, secrets, a
# scanner that breaks in every known way, and the hostile-input corpus (issue 12). Each integration test
# appends its figures (JSON lines) to
# $MLSECOPS_ROBUSTNESS_OUT; jest's JSON output counts the bad-input cases and says what passed.
# Needs the local stack (scripts/stack/install.sh, scripts/stack/dockerd.sh start) and a fresh dist/
# (npm run build; MLSECOPS_DIST=path/index.js runs another bundle). Ends with `npm audit --omit=dev`.
# Exit status: non-zero when a check failed or a figure is not what it must be.
set -uo pipefail
cd "$(dirname "$0")/.."
out=.tmp/robustness
rm -rf "$out" && mkdir -p "$out"
export MLSECOPS_ROBUSTNESS_OUT="$PWD/$out/figures.jsonl"
: >"$MLSECOPS_ROBUSTNESS_OUT"
export NODE_OPTIONS=--experimental-vm-modules
status=0

echo "==> bad-input corpus (unit)"
npx jest --selectProjects unit --runTestsByPath __tests__/bad-input.test.ts \
  --json --outputFile="$out/bad-input.json" >"$out/bad-input.log" 2>&1 || status=1
tail -n 5 "$out/bad-input.log"

echo "==> faults, concurrency, secrets, fail-closed, hostile input (integration, in band)"
npx jest --selectProjects integration --runInBand --runTestsByPath \
  __tests__/faults.itest.ts __tests__/concurrency.itest.ts __tests__/secrets.itest.ts \
  __tests__/fail-closed.itest.ts __tests__/hostile-input.itest.ts \
  --json --outputFile="$out/integration.json" >"$out/integration.log" 2>&1 || status=1
tail -n 6 "$out/integration.log"

echo "==> npm audit --omit=dev"
npm audit --omit=dev --json >"$out/audit.json" 2>"$out/audit.err"
audit_status=$?

node scripts/robustness/summarize.mjs "$out" "$audit_status" || status=1
exit $status
