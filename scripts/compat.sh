#!/usr/bin/env bash
# npm run compat: the action against MLflow servers of every supported release, each checked with that
# release's own Python client (__tests__/mlflow-compat.itest.ts, with `mlflow models serve` too), then the table.
# Makes the venvs first (cached in $MLSECOPS_CACHE, minutes each the first time). Not part of npm test.
#   MLSECOPS_COMPAT_RELEASES=2.9.2,3.17.2 npm run compat     # a subset
set -uo pipefail
cd "$(dirname "$0")/.."
releases="${MLSECOPS_COMPAT_RELEASES:-2.9.2,2.16.2,2.22.5,3.0.1,3.10.1,3.17.2}"
out=.tmp/compat
rm -rf "$out" && mkdir -p "$out"
status=0
for release in ${releases//,/ }; do
  bash scripts/compat/mlflow-venv.sh "$release" >/dev/null || { echo "venv $release failed" >&2; status=1; }
done
export MLSECOPS_COMPAT_RELEASES="$releases" MLSECOPS_COMPAT_SERVE=1 MLSECOPS_COMPAT_OUT="$PWD/$out/rows.jsonl"
: >"$MLSECOPS_COMPAT_OUT"
NODE_OPTIONS=--experimental-vm-modules npx jest --selectProjects integration --runInBand \
  --runTestsByPath __tests__/mlflow-compat.itest.ts >"$out/jest.log" 2>&1 || status=1
tail -n 8 "$out/jest.log"
node scripts/compat/table.mjs "$MLSECOPS_COMPAT_OUT" "$releases" || status=1
exit $status
