/**
 * Paths of the local stack for integration tests, with the same defaults as scripts/stack/env.sh.
 * Shared by every *.itest.ts: extend it rather than repeating these defaults.
 */
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The checkout; MLSECOPS_REPO_ROOT when this file runs compiled elsewhere (npm run bench:job). */
export const REPO_ROOT =
  process.env.MLSECOPS_REPO_ROOT ||
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

export const MLSECOPS_CACHE =
  process.env.MLSECOPS_CACHE || path.join(os.homedir(), '.cache', 'mlsecops-action')
export const MLSECOPS_TRIVY_VERSION = process.env.MLSECOPS_TRIVY_VERSION || '0.74.0'
export const MLSECOPS_MLFLOW_VERSION = process.env.MLSECOPS_MLFLOW_VERSION || '3.17.2'
export const MLSECOPS_VENV =
  process.env.MLSECOPS_VENV || path.join(MLSECOPS_CACHE, `mlflow-venv-${MLSECOPS_MLFLOW_VERSION}`)
export const MLSECOPS_TRIVY_DIR =
  process.env.MLSECOPS_TRIVY_DIR || path.join(MLSECOPS_CACHE, `trivy-${MLSECOPS_TRIVY_VERSION}`)
export const MLSECOPS_ROOTFS_TAR =
  process.env.MLSECOPS_ROOTFS_TAR || path.join(MLSECOPS_CACHE, 'debian-node-bookworm.tar')
export const MLSECOPS_BASE_IMAGE = process.env.MLSECOPS_BASE_IMAGE || 'local/debian-node:bookworm'

/** The Trivy binary built by scripts/stack/install.sh. */
export const TRIVY_BINARY = path.join(MLSECOPS_TRIVY_DIR, 'trivy')
/** The test vulnerability DB writer built by scripts/stack/install.sh (scripts/trivy-test-db). */
export const TRIVY_TEST_DB_BINARY = path.join(MLSECOPS_CACHE, 'trivy-test-db', 'trivy-test-db')

/** cosign built by scripts/stack/install.sh (issue 13), and the venv with the SBOM validators. */
export const MLSECOPS_COSIGN_VERSION = process.env.MLSECOPS_COSIGN_VERSION || '2.6.5'
export const MLSECOPS_COSIGN_DIR =
  process.env.MLSECOPS_COSIGN_DIR || path.join(MLSECOPS_CACHE, `cosign-${MLSECOPS_COSIGN_VERSION}`)
export const COSIGN_BINARY = path.join(MLSECOPS_COSIGN_DIR, 'cosign')
export const MLSECOPS_SBOM_VENV =
  process.env.MLSECOPS_SBOM_VENV || path.join(MLSECOPS_CACHE, 'sbom-venv')

/** nektos/act built by scripts/stack/install.sh: runs the project's workflow files on the host. */
export const MLSECOPS_ACT_VERSION = process.env.MLSECOPS_ACT_VERSION || '0.2.89'
export const ACT_BINARY = process.env.MLSECOPS_ACT || path.join(MLSECOPS_CACHE, 'bin', 'act')
