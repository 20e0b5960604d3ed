#!/usr/bin/env bash
# Installs everything the integration tests and the demo need, idempotently, into $MLSECOPS_CACHE:
# Debian's dockerd and debootstrap, the MLflow venv (server, auth, onnxruntime), a Trivy binary built from the
# Go module proxy, and a Debian 12 root filesystem with Node.js for the local base image.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"
mkdir -p "$MLSECOPS_CACHE"
log() { printf '[install] %s\n' "$*" >&2; }

need_apt=()
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_apt+=(debootstrap)
command -v unzip >/dev/null 2>&1 || need_apt+=(unzip)
# A local container registry (distribution 2.8) for the push and signing tests (issue 13).
command -v docker-registry >/dev/null 2>&1 || need_apt+=(docker-registry)
# PostgreSQL: the backend store of the concurrency test's MLflow server (issue 6).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -x "$MLSECOPS_VENV/bin/mlflow" ] || [ ! -f "$MLSECOPS_VENV/.complete" ]; then
  log "MLflow $MLSECOPS_MLFLOW_VERSION venv in $MLSECOPS_VENV"
  rm -rf "$MLSECOPS_VENV"
  python3 -m venv "$MLSECOPS_VENV"
  "$MLSECOPS_VENV/bin/pip" install -q "mlflow[auth]==$MLSECOPS_MLFLOW_VERSION" onnx onnxruntime
  touch "$MLSECOPS_VENV/.complete"
fi
# psycopg2 for MLflow on a PostgreSQL backend store (concurrency test); added to venvs made before it.
if ! "$MLSECOPS_VENV/bin/python" -c 'import psycopg2' >/dev/null 2>&1; then
  log "pip install psycopg2-binary into $MLSECOPS_VENV"
  "$MLSECOPS_VENV/bin/pip" install -q psycopg2-binary==2.9.13
fi
# MLflow 2.9.2, the oldest supported server: the 2.x half of __tests__/mlflow-compat.itest.ts (issue 11).
# `npm run compat` makes the venvs of the other releases the same way.
bash "$here/../compat/mlflow-venv.sh" 2.9.2 >/dev/null

if [ ! -x "$MLSECOPS_TRIVY_DIR/trivy" ]; then
  log "building Trivy $MLSECOPS_TRIVY_VERSION (several minutes)"
  tmp="$MLSECOPS_TRIVY_DIR.tmp"
  rm -rf "$tmp" && mkdir -p "$tmp"
  GOTOOLCHAIN=local GOEXPERIMENT=jsonv2 CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS=-mod=mod \
    go install -trimpath -ldflags "-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver=$MLSECOPS_TRIVY_VERSION" \
    "github.com/aquasecurity/trivy/cmd/trivy@v$MLSECOPS_TRIVY_VERSION"
  rm -rf "$MLSECOPS_TRIVY_DIR" && mv "$tmp" "$MLSECOPS_TRIVY_DIR"
fi

if [ ! -f "$MLSECOPS_ROOTFS_TAR" ]; then
  log "debootstrap Debian 12 with nodejs"
  rootfs="$MLSECOPS_CACHE/rootfs.tmp"
  rm -rf "$rootfs"
  debootstrap --variant=minbase --include=nodejs bookworm "$rootfs" >"$MLSECOPS_CACHE/debootstrap.log" 2>&1 \
    || { tail -n 20 "$MLSECOPS_CACHE/debootstrap.log" >&2; exit 1; }
  tar -C "$rootfs" -cf "$MLSECOPS_ROOTFS_TAR.tmp" .
  mv "$MLSECOPS_ROOTFS_TAR.tmp" "$MLSECOPS_ROOTFS_TAR"
  rm -rf "$rootfs"
fi
# --- Trivy test DB writer (issue 4) ---------------------------------------------------------------------------
# A small Go program (scripts/trivy-test-db) that writes a Trivy vulnerability DB from a JSON spec of advisories,
# with github.com/aquasecurity/trivy-db + go.etcd.io/bbolt, and can serve it as Trivy's OCI artifact from an
# in-process registry (go-containerregistry). Rebuilt only when its sources change (stamp = hash).
test_db_src="$here/../trivy-test-db"
test_db_dir="$MLSECOPS_CACHE/trivy-test-db"
test_db_stamp="$(cat "$test_db_src"/*.go "$test_db_src/go.mod" "$test_db_src/go.sum" | sha256sum | cut -c1-16)"
if [ ! -x "$test_db_dir/trivy-test-db" ] || [ "$(cat "$test_db_dir/.stamp" 2>/dev/null)" != "$test_db_stamp" ]; then
  log "building trivy-test-db"
  mkdir -p "$test_db_dir"
  (cd "$test_db_src" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod \
    go build -trimpath -o "$test_db_dir/trivy-test-db.tmp" .)
  mv "$test_db_dir/trivy-test-db.tmp" "$test_db_dir/trivy-test-db"
  echo "$test_db_stamp" >"$test_db_dir/.stamp"
fi
# --- end Trivy test DB writer ---------------------------------------------------------------------------------

# actionlint checks the workflows of this repository (they cannot run here), pinned, from the Go module proxy.
actionlint_version=1.7.12
if ! "$MLSECOPS_CACHE/bin/actionlint" -version 2>/dev/null | grep -qx "v$actionlint_version"; then
  log "building actionlint $actionlint_version"
  GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$MLSECOPS_CACHE/bin" \
    go install "github.com/rhysd/actionlint/cmd/actionlint@v$actionlint_version"
fi
# nektos/act runs the project's workflow files on the host (-P ubuntu-latest=-self-hosted): a real runner reads
# action.yml (the act itest). Pinned, from the Go module proxy.
act_version="$MLSECOPS_ACT_VERSION"
if ! "$MLSECOPS_CACHE/bin/act" --version 2>/dev/null | grep -q "version $act_version$"; then
  log "building act $act_version"
  GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$MLSECOPS_CACHE/bin" \
    go install -trimpath -ldflags "-s -w" "github.com/nektos/act@v$act_version"
fi
# --- cosign and the SBOM validators (issue 13) ------------------------------------------------------------------
# cosign, pinned, from the Go module proxy (no GitHub here); the tests put it on PATH for the action and use it to
# verify. A small venv with CycloneDX's own validator (cyclonedx-python-lib, JSON strict) and spdx-tools.
cosign_version="$MLSECOPS_COSIGN_VERSION"
if ! "$MLSECOPS_COSIGN_DIR/cosign" version 2>/dev/null | grep -q "GitVersion: *v$cosign_version$"; then
  log "building cosign $cosign_version (several minutes)"
  tmp="$MLSECOPS_COSIGN_DIR.tmp"
  rm -rf "$tmp" && mkdir -p "$tmp"
  GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS=-mod=mod \
    go install -trimpath -ldflags "-s -w" "github.com/sigstore/cosign/v2/cmd/cosign@v$cosign_version"
  rm -rf "$MLSECOPS_COSIGN_DIR" && mv "$tmp" "$MLSECOPS_COSIGN_DIR"
fi
if [ ! -f "$MLSECOPS_SBOM_VENV/.complete" ]; then
  log "SBOM validators venv in $MLSECOPS_SBOM_VENV"
  rm -rf "$MLSECOPS_SBOM_VENV"
  python3 -m venv "$MLSECOPS_SBOM_VENV"
  "$MLSECOPS_SBOM_VENV/bin/pip" install -q "cyclonedx-python-lib[validation]==11.12.0" "spdx-tools==0.8.5"
  touch "$MLSECOPS_SBOM_VENV/.complete"
fi
log "done"
