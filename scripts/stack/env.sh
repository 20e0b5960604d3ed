# Shared locations for the local stack. Sourced by the other scripts.
# Slow installs live in a cache outside the clone so a second run on the same machine is fast.
export MLSECOPS_CACHE="${MLSECOPS_CACHE:-$HOME/.cache/mlsecops-action}"
export MLSECOPS_TRIVY_VERSION="${MLSECOPS_TRIVY_VERSION:-0.74.0}"
# 3.18.0 is on PyPI here but its mlflow-skinny 3.18.0 is not, so the newest complete release is pinned.
export MLSECOPS_MLFLOW_VERSION="${MLSECOPS_MLFLOW_VERSION:-3.17.2}"
export MLSECOPS_VENV="$MLSECOPS_CACHE/mlflow-venv-$MLSECOPS_MLFLOW_VERSION"
export MLSECOPS_TRIVY_DIR="$MLSECOPS_CACHE/trivy-$MLSECOPS_TRIVY_VERSION"
export MLSECOPS_ROOTFS_TAR="$MLSECOPS_CACHE/debian-node-bookworm.tar"
export MLSECOPS_BASE_IMAGE="${MLSECOPS_BASE_IMAGE:-local/debian-node:bookworm}"
export MLSECOPS_COSIGN_VERSION="${MLSECOPS_COSIGN_VERSION:-2.6.5}"
export MLSECOPS_COSIGN_DIR="$MLSECOPS_CACHE/cosign-$MLSECOPS_COSIGN_VERSION"
export MLSECOPS_SBOM_VENV="$MLSECOPS_CACHE/sbom-venv"
export MLSECOPS_ACT_VERSION="${MLSECOPS_ACT_VERSION:-0.2.89}"
