/**
 * The demo's stand-ins for GitHub's services, kept running in the background by scripts/demo.sh:
 * the artifact service (Azurite + the project's Twirp server, __tests__/stack/artifact-service.ts) and the
 * code-scanning endpoint (__tests__/stack/code-scanning-server.ts). Writes the environment a runner would give
 * the action to `<dir>/local-stack.env` (KEY=VALUE lines) and every code-scanning upload it receives to
 * `<dir>/code-scanning/<id>.sarif`, then stays alive until SIGTERM or SIGINT.
 *
 * Usage: node build/demo/scripts/demo/local-stack.js <dir> <owner/repo>
 */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { startArtifactService } from '../../__tests__/stack/artifact-service.js'
import { startCodeScanningServer } from '../../__tests__/stack/code-scanning-server.js'

async function main(): Promise<void> {
  const [dir, repository] = process.argv.slice(2)
  if (!dir || !repository || !repository.includes('/')) {
    console.error('usage: local-stack.js <dir> <owner/repo>')
    process.exit(2)
  }
  const [owner, repo] = repository.split('/')
  fs.mkdirSync(dir, { recursive: true })
  const envFile = path.join(dir, 'local-stack.env')
  fs.rmSync(envFile, { force: true })

  const artifacts = await startArtifactService(path.join(dir, 'artifact-service'))
  const token = `ghs_demo${crypto.randomBytes(16).toString('hex')}`
  const codeScanning = await startCodeScanningServer({ owner, repo, token })

  // Every accepted upload, decoded, so the demo can point at what code scanning received.
  const uploadsDir = path.join(dir, 'code-scanning')
  fs.mkdirSync(uploadsDir, { recursive: true })
  let written = 0
  const timer = setInterval(() => {
    for (const upload of codeScanning.uploads.slice(written)) {
      fs.writeFileSync(path.join(uploadsDir, `${upload.id}.sarif`), upload.sarifText)
      written++
    }
  }, 200)

  const env: Record<string, string> = {
    ...artifacts.env(),
    GITHUB_API_URL: codeScanning.apiUrl,
    DEMO_GITHUB_TOKEN: token,
    DEMO_BLOB_ENDPOINT: artifacts.blobEndpoint,
    DEMO_WORKFLOW_RUN_BACKEND_ID: artifacts.workflowRunBackendId,
    DEMO_WORKFLOW_JOB_RUN_BACKEND_ID: artifacts.workflowJobRunBackendId,
  }
  fs.writeFileSync(
    `${envFile}.tmp`,
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n',
  )
  fs.renameSync(`${envFile}.tmp`, envFile)
  console.log(`artifact service ${artifacts.resultsUrl} (blobs ${artifacts.blobEndpoint})`)
  console.log(`code-scanning endpoint ${codeScanning.apiUrl}`)

  let stopping = false
  const stop = async (): Promise<void> => {
    if (stopping) return
    stopping = true
    clearInterval(timer)
    await codeScanning.stop()
    await artifacts.stop()
    fs.rmSync(envFile, { force: true })
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop())
  process.on('SIGINT', () => void stop())
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error))
  process.exit(1)
})
