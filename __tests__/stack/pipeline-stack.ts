/**
 * The setting of the whole-pipeline tests that run `node dist/index.js` with a real image build and scan
 * (e2e, secrets, fail-closed): their preconditions, a temp dir with a workspace and a Trivy cache holding the
 * test DB, and the services the publish stages talk to (MLflow, the artifact service on Azurite, the
 * code-scanning endpoint) with the environment that points the action at them.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { requireDist } from './action-process.js'
import { startArtifactService, type ArtifactService } from './artifact-service.js'
import { startCodeScanningServer, type CodeScanningServer } from './code-scanning-server.js'
import { copyExampleContext, requireDocker } from './docker.js'
import { MLSECOPS_TRIVY_DIR, REPO_ROOT, TRIVY_BINARY } from './env.js'
import { startMlflowServer, type MlflowServer, type MlflowServerOptions } from './mlflow-server.js'
import { writeTrivyTestDb } from './trivy-test-db.js'

export interface PipelineDirs {
  tmp: string
  /** GITHUB_WORKSPACE: the build context. */
  workspace: string
  /** trivy-cache-dir, holding the test DB. */
  cacheDir: string
}

/**
 * Fails unless dockerd, the bundle and Trivy are there; then a fresh temp dir (prefix), a workspace and a
 * Trivy cache with the test DB (updatedAt: its UpdatedAt). The workspace is the example build context
 * (copyExampleContext), or with `repositoryCopy` the repository's Dockerfile, .dockerignore and whole model/
 * directory, as a user would check it out.
 */
export function preparePipelineDirs(
  prefix: string,
  options: { updatedAt?: string; repositoryCopy?: boolean } = {},
): PipelineDirs {
  requireDocker()
  requireDist()
  if (!fs.existsSync(TRIVY_BINARY)) {
    throw new Error(`${TRIVY_BINARY} is missing: run scripts/stack/install.sh`)
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  const cacheDir = path.join(tmp, 'trivy-cache')
  writeTrivyTestDb(cacheDir, options.updatedAt)
  let workspace = path.join(tmp, 'workspace')
  if (options.repositoryCopy) {
    fs.mkdirSync(workspace)
    for (const entry of ['Dockerfile', '.dockerignore', 'model']) {
      fs.cpSync(path.join(REPO_ROOT, entry), path.join(workspace, entry), { recursive: true })
    }
  } else {
    workspace = copyExampleContext(workspace)
  }
  return { tmp, workspace, cacheDir }
}

export interface PipelineServices {
  mlflow: MlflowServer
  artifacts: ArtifactService
  codeScanning: CodeScanningServer
  /** The action's environment for these services and the installed Trivy (first on PATH). */
  env(): Record<string, string>
  /** Stops what was started (code scanning, artifacts, MLflow). */
  stop(): Promise<void>
}

/** Starts MLflow, the artifact service (state under tmp) and the code-scanning endpoint for owner/repo. */
export async function startPipelineServices(
  tmp: string,
  options: { owner: string; repo: string; token: string; mlflow?: MlflowServerOptions },
): Promise<PipelineServices> {
  const started: { stop(): Promise<void> }[] = []
  const stop = async (): Promise<void> => {
    for (const service of started.reverse()) await service.stop()
  }
  try {
    const mlflow = await startMlflowServer(options.mlflow)
    started.push(mlflow)
    const artifacts = await startArtifactService(path.join(tmp, 'artifact-service'))
    started.push(artifacts)
    const codeScanning = await startCodeScanningServer({
      owner: options.owner,
      repo: options.repo,
      token: options.token,
    })
    started.push(codeScanning)
    return {
      mlflow,
      artifacts,
      codeScanning,
      env: () => ({
        PATH: `${MLSECOPS_TRIVY_DIR}${path.delimiter}${process.env.PATH ?? ''}`,
        GITHUB_API_URL: codeScanning.apiUrl,
        ...artifacts.env(),
      }),
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}
