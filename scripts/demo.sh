#!/usr/bin/env bash
# The demo: the whole action, `node dist/index.js`, on the example model, against a real local stack.
#
#   bash scripts/demo.sh        (npm run demo) installs what is missing, starts the stack, runs the action,
#                               and prints where to look. Run it again: MLflow keeps its data, the next run
#                               registers the next version.
#   bash scripts/demo.sh stop   stops the background services the demo started (MLflow, the artifact service
#                               and code-scanning endpoint).
#
# What runs: dockerd (scripts/stack/dockerd.sh), an MLflow server on 127.0.0.1:5000 or the next free port
# (data in .tmp/demo/mlflow), Azurite + the project's Twirp artifact service and a local code-scanning
# endpoint (scripts/demo/local-stack.ts), Trivy 0.74.0 with the test vulnerability DB (scripts/trivy-test-db),
# and the example Dockerfile on the local Debian 12 base image. Nothing leaves the machine.
#
# Environment: FAIL_ON_SEVERITY (default HIGH, the action's default: the test DB's advisories fail it;
# FAIL_ON_SEVERITY=none gives a run that passes every gate and moves the alias), MLFLOW_PORT (first port
# tried, default 5000).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. scripts/stack/env.sh
demo="$root/.tmp/demo"
mkdir -p "$demo"
log() { printf '[demo] %s\n' "$*" >&2; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pidfile() {
  local file=$1 what=$2
  if alive "$file"; then
    local pid
    pid=$(cat "$file")
    log "stopping $what (pid $pid)"
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true; }
  fi
  rm -f "$file"
}

if [ "${1:-}" = "stop" ]; then
  stop_pidfile "$demo/local-stack.pid" "the artifact service and code-scanning endpoint"
  stop_pidfile "$demo/mlflow.pid" "the MLflow server"
  stop_pidfile "$demo/registry.pid" "the local registry"
  log "stopped. dockerd keeps running; stop it with: bash scripts/stack/dockerd.sh stop"
  exit 0
fi
if [ -n "${1:-}" ]; then
  echo "usage: $0 [stop]" >&2
  exit 2
fi

# --- what the demo needs ---
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund
fi
bash scripts/stack/install.sh
bash scripts/stack/dockerd.sh start
if [ ! -f dist/index.js ]; then
  log "dist/index.js is missing: npm run build"
  npm run --silent build
fi
if [ ! -x "$MLSECOPS_CACHE/trivy-test-db/trivy-test-db" ]; then
  log "the test DB writer is missing: run scripts/stack/install.sh"
  exit 1
fi

# --- MLflow, in the background, reused by later runs ---
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
mlflow_url=""
if alive "$demo/mlflow.pid" && [ -f "$demo/mlflow.url" ] &&
  curl -fsS -m 3 "$(cat "$demo/mlflow.url")/health" >/dev/null 2>&1; then
  mlflow_url=$(cat "$demo/mlflow.url")
  log "MLflow already running at $mlflow_url"
else
  stop_pidfile "$demo/mlflow.pid" "a stale MLflow server"
  port=${MLFLOW_PORT:-5000}
  while port_busy "$port"; do port=$((port + 1)); done
  mlflow_url="http://127.0.0.1:$port"
  mkdir -p "$demo/mlflow"
  log "starting MLflow at $mlflow_url (data and log in .tmp/demo/mlflow)"
  (
    cd "$demo/mlflow"
    for key in $(env | sed -n 's/^\(MLFLOW_TRACKING_[A-Z_]*\)=.*/\1/p'); do unset "$key"; done
    MLFLOW_FLASK_SERVER_SECRET_KEY=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n') \
      PYTHONUNBUFFERED=1 setsid "$MLSECOPS_VENV/bin/mlflow" server \
      --backend-store-uri "sqlite:///$demo/mlflow/mlflow.db" \
      --serve-artifacts --artifacts-destination "$demo/mlflow/artifacts" \
      --host 127.0.0.1 --port "$port" --workers 1 >>"$demo/mlflow/server.log" 2>&1 </dev/null &
    echo $! >"$demo/mlflow.pid"
  )
  for _ in $(seq 1 120); do
    curl -fsS -m 2 "$mlflow_url/health" >/dev/null 2>&1 && break
    alive "$demo/mlflow.pid" || { tail -n 20 "$demo/mlflow/server.log" >&2; log "MLflow exited"; exit 1; }
    sleep 1
  done
  curl -fsS -m 2 "$mlflow_url/health" >/dev/null || { log "MLflow is not healthy after 120 s"; exit 1; }
  echo "$mlflow_url" >"$demo/mlflow.url"
fi

# --- the artifact service and code-scanning endpoint (restarted each run: a fresh runtime token) ---
stop_pidfile "$demo/local-stack.pid" "the previous artifact service"
log "compiling scripts/demo/local-stack.ts"
npx tsc -p scripts/demo/tsconfig.json
repository="mlsecops/iris-demo"
setsid node build/demo/scripts/demo/local-stack.js "$demo/local-stack" "$repository" \
  >>"$demo/local-stack.log" 2>&1 </dev/null &
echo $! >"$demo/local-stack.pid"
for _ in $(seq 1 60); do
  [ -f "$demo/local-stack/local-stack.env" ] && break
  alive "$demo/local-stack.pid" || { tail -n 20 "$demo/local-stack.log" >&2; log "the local stack exited"; exit 1; }
  sleep 0.5
done
[ -f "$demo/local-stack/local-stack.env" ] || { log "the local stack did not start"; exit 1; }
set -a
. "$demo/local-stack/local-stack.env"
set +a

# --- the run: a workspace like a checkout of the example, the environment a runner gives the action ---
# A local registry (Debian's docker-registry, plain HTTP on 127.0.0.1) and a cosign key pair: the image is pushed
# by digest and signed when every gate passes (issue 13).
registry=""
if alive "$demo/registry.pid" && [ -f "$demo/registry.host" ] &&
  curl -fsS -m 3 "http://$(cat "$demo/registry.host")/v2/" >/dev/null 2>&1; then
  registry=$(cat "$demo/registry.host")
  log "registry already running at $registry"
else
  stop_pidfile "$demo/registry.pid" "a stale registry"
  rport=${REGISTRY_PORT:-5100}
  while port_busy "$rport"; do rport=$((rport + 1)); done
  registry="127.0.0.1:$rport"
  mkdir -p "$demo/registry"
  printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
    "$demo/registry/data" "$registry" >"$demo/registry/config.yml"
  log "starting the registry at $registry (data in .tmp/demo/registry)"
  setsid docker-registry serve "$demo/registry/config.yml" >>"$demo/registry/registry.log" 2>&1 </dev/null &
  echo $! >"$demo/registry.pid"
  for _ in $(seq 1 60); do
    curl -fsS -m 2 "http://$registry/v2/" >/dev/null 2>&1 && break
    sleep 0.5
  done
  echo "$registry" >"$demo/registry.host"
fi
cosign_dir="$demo/cosign"
cosign_password=demo-password
if [ ! -f "$cosign_dir/cosign.key" ]; then
  mkdir -p "$cosign_dir"
  (cd "$cosign_dir" && COSIGN_PASSWORD=$cosign_password "$MLSECOPS_COSIGN_DIR/cosign" generate-key-pair >/dev/null 2>&1)
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
run="$demo/runs/$stamp"
mkdir -p "$run/runner-temp" "$run/workspace"
cp -r Dockerfile .dockerignore model "$run/workspace/"
rm -rf "$demo/trivy-cache"
"$MLSECOPS_CACHE/trivy-test-db/trivy-test-db" --spec scripts/trivy-test-db/advisories.json \
  --cache-dir "$demo/trivy-cache" --updated-at 2026-11-20T06:00:00Z
: >"$run/outputs.txt"
: >"$run/summary.md"
sha=$(git rev-parse HEAD 2>/dev/null || head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
run_id=$(date +%s)

log "running node dist/index.js (log: $run/action.log)"
set +e
env -i PATH="$MLSECOPS_TRIVY_DIR:$MLSECOPS_COSIGN_DIR:$PATH" HOME="$HOME" LANG=C.UTF-8 \
  GITHUB_ACTIONS=true CI=true \
  GITHUB_WORKSPACE="$run/workspace" GITHUB_REPOSITORY="$repository" GITHUB_REPOSITORY_OWNER=mlsecops \
  GITHUB_SHA="$sha" GITHUB_REF=refs/heads/main GITHUB_REF_NAME=main GITHUB_EVENT_NAME=push \
  GITHUB_ACTOR="${USER:-demo}" GITHUB_WORKFLOW=demo GITHUB_JOB=model \
  GITHUB_RUN_ID="$run_id" GITHUB_RUN_ATTEMPT=1 GITHUB_API_URL="$GITHUB_API_URL" \
  GITHUB_OUTPUT="$run/outputs.txt" GITHUB_STEP_SUMMARY="$run/summary.md" \
  RUNNER_TEMP="$run/runner-temp" RUNNER_TOOL_CACHE="$demo/tool-cache" \
  ACTIONS_RUNTIME_TOKEN="$ACTIONS_RUNTIME_TOKEN" ACTIONS_RESULTS_URL="$ACTIONS_RESULTS_URL" \
  INPUT_DATASET=model/iris.csv INPUT_TARGET-COLUMN=species \
  INPUT_MLFLOW-TRACKING-URI="$mlflow_url" \
  INPUT_GITHUB-TOKEN="$DEMO_GITHUB_TOKEN" \
  INPUT_BUILD-ARGS="BASE_IMAGE=$MLSECOPS_BASE_IMAGE" \
  INPUT_TRIVY-CACHE-DIR="$demo/trivy-cache" \
  INPUT_TRIVY-SKIP-DB-UPDATE=true \
  INPUT_FAIL-ON-SEVERITY="${FAIL_ON_SEVERITY:-HIGH}" \
  INPUT_IMAGE="$registry/iris-demo:${sha:0:7}" INPUT_PUSH=true \
  INPUT_COSIGN-KEY="$(cat "$cosign_dir/cosign.key")" INPUT_COSIGN-PASSWORD="$cosign_password" \
  INPUT_COSIGN-TLOG-UPLOAD=false \
  node dist/index.js >"$run/action.log" 2>&1
code=$?
set -e
ln -sfn "runs/$stamp" "$demo/latest"

# --- where to look ---
output() {
  node -e '
    const text = require("fs").readFileSync(process.argv[1], "utf8")
    const out = {}
    for (const m of text.matchAll(/^([^\n<]+)<<(\S+)\n([\s\S]*?)\n?\2$/gm)) out[m[1]] = m[3]
    process.stdout.write(out[process.argv[2]] ?? "")
  ' "$run/outputs.txt" "$1"
}
gate=$(output gate)
if [ -z "$gate" ]; then
  tail -n 30 "$run/action.log" >&2
  log "the action stopped before the gate (exit $code); the log is $run/action.log"
  exit 1
fi
run_url=$(grep -o "$mlflow_url/#/experiments/[0-9]*/runs/[0-9a-f]*" "$run/summary.md" | head -n 1 || true)
model="iris-demo"
version=$(output model-version)
failure=$(grep '^::error' "$run/action.log" | sed 's/^::error[^:]*::/                   /' || true)
# The artifact, downloaded the way actions/download-artifact does: the Twirp service's signed URL, then the blob.
artifact_name="mlsecops-report"
artifact_dir=""
if [ -n "$(output artifact-id)" ]; then
  signed=$(curl -fsS -m 10 -X POST -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $ACTIONS_RUNTIME_TOKEN" \
    -d "{\"workflow_run_backend_id\":\"$DEMO_WORKFLOW_RUN_BACKEND_ID\",\"workflow_job_run_backend_id\":\"$DEMO_WORKFLOW_JOB_RUN_BACKEND_ID\",\"name\":\"$artifact_name\"}" \
    "${ACTIONS_RESULTS_URL%/}/twirp/github.actions.results.api.v1.ArtifactService/GetSignedArtifactURL" |
    node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => process.stdout.write(JSON.parse(s).signed_url))' || true)
  if [ -n "$signed" ] && curl -fsS -m 30 -o "$run/artifact.zip" "$signed"; then
    artifact_dir="$run/artifact"
    rm -rf "$artifact_dir" && mkdir -p "$artifact_dir"
    python3 -m zipfile -e "$run/artifact.zip" "$artifact_dir"
  fi
fi
alias=$(curl -fsS -m 5 "$mlflow_url/api/2.0/mlflow/registered-models/alias?name=$model&alias=candidate" 2>/dev/null |
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => { try { process.stdout.write(JSON.parse(s).model_version.version) } catch {} })' || true)
alias_text="no version yet"
[ -n "$alias" ] && alias_text="version $alias"
why=""
[ -n "$failure" ] && why="Why
$failure
"

image_ref=$(output image-ref)
if [ -n "$image_ref" ]; then
  pushed_text="$image_ref (digest $(output digest)), signed with $cosign_dir/cosign.key
  verify           $MLSECOPS_COSIGN_DIR/cosign verify --key $cosign_dir/cosign.pub --insecure-ignore-tlog=true --allow-http-registry=true $image_ref
                   $MLSECOPS_COSIGN_DIR/cosign verify-attestation --key $cosign_dir/cosign.pub --type cyclonedx --insecure-ignore-tlog=true --allow-http-registry=true $image_ref"
else
  pushed_text="no (the image is pushed to $registry only when every gate passed)"
fi

cat <<EOF

==================================================================== mlsecops demo
Action exit code   $code  (gate: $gate, fail-on-severity ${FAIL_ON_SEVERITY:-HIGH})
$why
MLflow UI          $mlflow_url
  run              ${run_url:-(see the experiment mlsecops)}
  model version    $mlflow_url/#/models/$model/versions/$version   ($(output model-uri))
                   verdict tags: scan_status, scan_critical..scan_unknown, trivy_version,
                   trivy_db_updated_at, image, image_id, image_digest, image_signature,
                   sbom_format, sbom_sha256, gate, gate_reason
                   alias 'candidate' -> $alias_text (it moves only when every gate passed)
Image              $(output image)
  id               $(output image-id)
  pushed           ${pushed_text}
  SBOM             $(output sbom-report)
Findings           critical $(output critical), high $(output high), medium $(output medium), low $(output low), unknown $(output unknown)
Reports            $(output json-report)
                   $(output sarif-report)
                   $run/runner-temp/mlsecops/report.md
Job summary        $run/summary.md
Outputs            $run/outputs.txt
Action log         $run/action.log
Artifact           id $(output artifact-id) '$artifact_name' in the local artifact service (Azurite at $DEMO_BLOB_ENDPOINT)
                   downloaded to ${artifact_dir:-(not downloaded)}
Code scanning      upload id $(output sarif-id); the SARIF received: $demo/local-stack/code-scanning/$(output sarif-id).sarif

Still running in the background: MLflow (pid $(cat "$demo/mlflow.pid")), the artifact service and code-scanning
endpoint (pid $(cat "$demo/local-stack.pid")), the registry (pid $(cat "$demo/registry.pid")), dockerd.
Stop them with:    bash scripts/demo.sh stop      (and dockerd: bash scripts/stack/dockerd.sh stop)
EOF
if [ "$gate" = failed ]; then
  echo "The gate failed, as it should with the test DB's HIGH and CRITICAL advisories."
  echo "FAIL_ON_SEVERITY=none npm run demo shows a run that passes every gate and moves the alias."
fi
