#!/usr/bin/env bash
# npm run load: 50 action runs at once against a one-worker sqlite MLflow server, 20 against a PostgreSQL-backed
# one (__tests__/load.itest.ts). Bundles the current source first (into .tmp/load-dist, not dist/) and runs
# that bundle as the runner would. Minutes; not part of npm test. Job counts: MLSECOPS_LOAD_SQLITE_JOBS,
# MLSECOPS_LOAD_POSTGRES_JOBS.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tmp
npx ncc build src/index.ts -o .tmp/load-dist --quiet
export MLSECOPS_DIST="$PWD/.tmp/load-dist/index.js" MLSECOPS_LOAD=1 MLSECOPS_LOAD_OUT="$PWD/.tmp/load.jsonl"
: >"$MLSECOPS_LOAD_OUT"
NODE_OPTIONS=--experimental-vm-modules npx jest --selectProjects integration --runInBand \
  --runTestsByPath __tests__/load.itest.ts
