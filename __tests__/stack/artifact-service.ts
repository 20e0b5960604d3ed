/**
 * A real GitHub-artifact-service stand-in for integration tests:
 * - the blob half is Azurite (npm azurite, started from node_modules), real Azure Blob storage semantics;
 * - the Twirp half is this project's own small server speaking github.actions.results.api.v1.ArtifactService
 *   (CreateArtifact, FinalizeArtifact, ListArtifacts, GetSignedArtifactURL) as @actions/artifact calls it,
 *   handing out Azurite SAS URLs and recording what was finalized.
 * It also builds the ACTIONS_RUNTIME_TOKEN (a JWT whose scp claim holds Actions.Results:<run>:<job>).
 */
import {
  BlobSASPermissions,
  BlobServiceClient,
  SASProtocol,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
} from '@azure/storage-blob'
import { spawn, type ChildProcess } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import * as net from 'node:net'
import * as path from 'node:path'

const SERVICE = 'github.actions.results.api.v1.ArtifactService'
/** Azurite's well-known development account. */
export const ACCOUNT = 'devstoreaccount1'
export const ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
const CONTAINER = 'actions-results'

export interface ArtifactRecord {
  id: number
  name: string
  workflowRunBackendId: string
  workflowJobRunBackendId: string
  blobName: string
  version: number
  mimeType?: string
  /** RFC 3339, as sent in CreateArtifact (absent: the repository default). */
  expiresAt?: string
  createdAt: string
  finalized: boolean
  /** From FinalizeArtifact. */
  size?: string
  hash?: string
}

export interface TwirpCall {
  method: string
  body: Record<string, unknown>
  status: number
}

export interface ArtifactService {
  /** ACTIONS_RESULTS_URL */
  resultsUrl: string
  /** ACTIONS_RUNTIME_TOKEN */
  runtimeToken: string
  workflowRunBackendId: string
  workflowJobRunBackendId: string
  /** http://127.0.0.1:PORT/devstoreaccount1 */
  blobEndpoint: string
  artifacts: ArtifactRecord[]
  calls: TwirpCall[]
  /** The env a runner gives an action for artifacts. */
  env(): Record<string, string>
  /** Calls the Twirp service over HTTP with the runtime token, as a client would. */
  twirp<T>(method: string, body: Record<string, unknown>): Promise<{ status: number; body: T }>
  stop(): Promise<void>
}

export function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url')
}

/** An HS256 JWT shaped like the runner's ACTIONS_RUNTIME_TOKEN. */
export function buildRuntimeToken(runId: string, jobId: string, key: Buffer): string {
  const now = Math.floor(Date.now() / 1000)
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))
  const payload = base64url(
    JSON.stringify({
      scp: `Actions.ExampleScope Actions.Results:${runId}:${jobId}`,
      iss: 'mlsecops-test-artifact-service',
      aud: 'vso:test',
      nbf: now - 60,
      iat: now,
      exp: now + 3600,
    }),
  )
  const signature = base64url(
    crypto.createHmac('sha256', key).update(`${header}.${payload}`).digest(),
  )
  return `${header}.${payload}.${signature}`
}

export function verifyToken(token: string, key: Buffer): { run: string; job: string } | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  const expected = base64url(
    crypto.createHmac('sha256', key).update(`${parts[0]}.${parts[1]}`).digest(),
  )
  if (
    expected.length !== parts[2].length ||
    !crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(parts[2]))
  )
    return undefined
  const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as {
    scp?: string
    exp?: number
  }
  if (!payload.exp || payload.exp * 1000 < Date.now()) return undefined
  for (const scope of (payload.scp ?? '').split(' ')) {
    const [kind, run, job] = scope.split(':')
    if (kind === 'Actions.Results' && run && job) return { run, job }
  }
  return undefined
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port
      server.close(() => resolve(port))
    })
  })
}

/** Starts Azurite's blob service from node_modules and waits until it listens. Throws when it cannot start. */
export async function startAzurite(
  dir: string,
): Promise<{ process: ChildProcess; endpoint: string; log: string }> {
  let main: string
  try {
    const pkg = createRequire(import.meta.url).resolve('azurite/package.json', {
      paths: [process.cwd()],
    })
    main = path.join(path.dirname(pkg), 'dist', 'src', 'blob', 'main.js')
  } catch {
    throw new Error('Azurite is not installed (npm azurite@3.35.0, a devDependency); run npm ci')
  }
  if (!fs.existsSync(main)) throw new Error(`Azurite's blob entry point is missing: ${main}`)
  const port = await freePort()
  const location = path.join(dir, 'azurite')
  fs.mkdirSync(location, { recursive: true })
  const log = path.join(dir, 'azurite.log')
  const out = fs.openSync(log, 'a')
  const child = spawn(
    process.execPath,
    [
      main,
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--skipApiVersionCheck',
      '--loose',
      '--disableTelemetry',
      '--location',
      location,
    ],
    { stdio: ['ignore', out, out] },
  )
  fs.closeSync(out)
  const endpoint = `http://127.0.0.1:${port}/${ACCOUNT}`
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`Azurite exited with ${child.exitCode}: ${fs.readFileSync(log, 'utf8')}`)
    }
    if (/successfully listen/i.test(fs.readFileSync(log, 'utf8'))) break
    if (Date.now() > deadline) {
      child.kill('SIGTERM')
      throw new Error(`Azurite did not start in 30 s: ${fs.readFileSync(log, 'utf8')}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return { process: child, endpoint, log }
}

function twirpError(
  res: http.ServerResponse,
  status: number,
  code: string,
  msg: string,
): { status: number } {
  res.writeHead(status, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify({ code, msg }))
  return { status }
}

/** Starts Azurite plus the Twirp artifact service. `dir` holds Azurite's data and log. */
export async function startArtifactService(dir: string): Promise<ArtifactService> {
  const azurite = await startAzurite(dir)
  const credential = new StorageSharedKeyCredential(ACCOUNT, ACCOUNT_KEY)
  try {
    const blobService = new BlobServiceClient(azurite.endpoint, credential)
    const container = blobService.getContainerClient(CONTAINER)
    await container.createIfNotExists()

    const key = crypto.randomBytes(32)
    const workflowRunBackendId = crypto.randomUUID()
    const workflowJobRunBackendId = crypto.randomUUID()
    const runtimeToken = buildRuntimeToken(workflowRunBackendId, workflowJobRunBackendId, key)
    const artifacts: ArtifactRecord[] = []
    const calls: TwirpCall[] = []
    let nextId = 1000

    const sasUrl = (blobName: string, permissions: string): string => {
      const sas = generateBlobSASQueryParameters(
        {
          containerName: CONTAINER,
          blobName,
          permissions: BlobSASPermissions.parse(permissions),
          startsOn: new Date(Date.now() - 60_000),
          expiresOn: new Date(Date.now() + 3_600_000),
          protocol: SASProtocol.HttpsAndHttp,
        },
        credential,
      ).toString()
      return `${azurite.endpoint}/${CONTAINER}/${blobName
        .split('/')
        .map(encodeURIComponent)
        .join('/')}?${sas}`
    }

    const toListed = (a: ArtifactRecord): Record<string, unknown> => ({
      workflow_run_backend_id: a.workflowRunBackendId,
      workflow_job_run_backend_id: a.workflowJobRunBackendId,
      database_id: String(a.id),
      name: a.name,
      size: a.size ?? '0',
      created_at: a.createdAt,
      ...(a.hash ? { digest: a.hash } : {}),
    })

    const handle = async (
      method: string,
      body: Record<string, unknown>,
      ids: { run: string; job: string },
      res: http.ServerResponse,
    ): Promise<{ status: number }> => {
      const run = body.workflow_run_backend_id
      const job = body.workflow_job_run_backend_id
      if (run !== ids.run || job !== ids.job) {
        return twirpError(res, 403, 'permission_denied', 'backend ids do not match the token')
      }
      const ok = (payload: Record<string, unknown>): { status: number } => {
        res.writeHead(200, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify(payload))
        return { status: 200 }
      }
      const name = typeof body.name === 'string' ? body.name : ''
      switch (method) {
        case 'CreateArtifact': {
          if (!name) return twirpError(res, 400, 'invalid_argument', 'name is required')
          if (typeof body.version !== 'number' || body.version < 4) {
            return twirpError(res, 400, 'invalid_argument', 'unsupported artifact version')
          }
          if (artifacts.some((a) => a.workflowRunBackendId === ids.run && a.name === name)) {
            return twirpError(
              res,
              409,
              'already_exists',
              'an artifact with this name already exists on the workflow run',
            )
          }
          if (body.expires_at !== undefined && Number.isNaN(Date.parse(String(body.expires_at)))) {
            return twirpError(res, 400, 'invalid_argument', 'expires_at is not a timestamp')
          }
          const id = nextId++
          const record: ArtifactRecord = {
            id,
            name,
            workflowRunBackendId: ids.run,
            workflowJobRunBackendId: ids.job,
            blobName: `${ids.run}/${ids.job}/${id}/${name}.zip`,
            version: body.version,
            mimeType: typeof body.mime_type === 'string' ? body.mime_type : undefined,
            expiresAt: typeof body.expires_at === 'string' ? body.expires_at : undefined,
            createdAt: new Date().toISOString(),
            finalized: false,
          }
          artifacts.push(record)
          return ok({ ok: true, signed_upload_url: sasUrl(record.blobName, 'rcw') })
        }
        case 'FinalizeArtifact': {
          const record = artifacts.find(
            (a) => a.workflowRunBackendId === ids.run && a.name === name && !a.finalized,
          )
          if (!record) return twirpError(res, 404, 'not_found', 'no artifact to finalize')
          // Check what really landed in the blob store against what the client claims.
          const blob = container.getBlobClient(record.blobName)
          if (!(await blob.exists())) {
            return twirpError(res, 400, 'invalid_argument', 'nothing was uploaded')
          }
          const content = await blob.downloadToBuffer()
          if (String(content.length) !== String(body.size)) {
            return twirpError(
              res,
              400,
              'invalid_argument',
              `size ${body.size} != ${content.length}`,
            )
          }
          const digest = `sha256:${crypto.createHash('sha256').update(content).digest('hex')}`
          if (body.hash !== undefined && body.hash !== digest) {
            return twirpError(res, 400, 'invalid_argument', `hash ${body.hash} != ${digest}`)
          }
          record.finalized = true
          record.size = String(content.length)
          record.hash = digest
          return ok({ ok: true, artifact_id: String(record.id) })
        }
        case 'ListArtifacts': {
          const nameFilter = typeof body.name_filter === 'string' ? body.name_filter : undefined
          const idFilter = body.id_filter === undefined ? undefined : String(body.id_filter)
          return ok({
            artifacts: artifacts
              .filter(
                (a) =>
                  a.finalized &&
                  a.workflowRunBackendId === ids.run &&
                  (nameFilter === undefined || a.name === nameFilter) &&
                  (idFilter === undefined || String(a.id) === idFilter),
              )
              .map(toListed),
          })
        }
        case 'GetSignedArtifactURL': {
          const record = artifacts.find(
            (a) => a.workflowRunBackendId === ids.run && a.name === name && a.finalized,
          )
          if (!record) return twirpError(res, 404, 'not_found', 'artifact not found')
          return ok({ signed_url: sasUrl(record.blobName, 'r') })
        }
        default:
          return twirpError(res, 404, 'bad_route', `no method ${method}`)
      }
    }

    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        void (async () => {
          const prefix = `/twirp/${SERVICE}/`
          const method = (req.url ?? '').startsWith(prefix)
            ? (req.url ?? '').slice(prefix.length)
            : ''
          let body: Record<string, unknown> = {}
          let status = 0
          try {
            if (req.method !== 'POST' || !method) {
              status = twirpError(res, 404, 'bad_route', `${req.method} ${req.url}`).status
              return
            }
            if (!String(req.headers['content-type']).startsWith('application/json')) {
              status = twirpError(
                res,
                415,
                'malformed',
                'Content-Type must be application/json',
              ).status
              return
            }
            const auth = req.headers.authorization ?? ''
            const ids = auth.startsWith('Bearer ') ? verifyToken(auth.slice(7), key) : undefined
            if (!ids) {
              status = twirpError(res, 401, 'unauthenticated', 'invalid runtime token').status
              return
            }
            try {
              body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
            } catch {
              status = twirpError(res, 400, 'malformed', 'body is not JSON').status
              return
            }
            status = (await handle(method, body, ids, res)).status
          } catch (error) {
            status = twirpError(res, 500, 'internal', (error as Error).message).status
          } finally {
            calls.push({ method, body, status })
          }
        })()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const resultsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`

    return {
      resultsUrl,
      runtimeToken,
      workflowRunBackendId,
      workflowJobRunBackendId,
      blobEndpoint: azurite.endpoint,
      artifacts,
      calls,
      env: () => ({ ACTIONS_RUNTIME_TOKEN: runtimeToken, ACTIONS_RESULTS_URL: resultsUrl }),
      async twirp<T>(method: string, body: Record<string, unknown>) {
        const response = await fetch(new URL(`/twirp/${SERVICE}/${method}`, resultsUrl), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${runtimeToken}` },
          body: JSON.stringify({
            workflow_run_backend_id: workflowRunBackendId,
            workflow_job_run_backend_id: workflowJobRunBackendId,
            ...body,
          }),
        })
        return { status: response.status, body: (await response.json()) as T }
      },
      async stop() {
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
        await stopProcess(azurite.process)
      },
    }
  } catch (error) {
    await stopProcess(azurite.process)
    throw error
  }
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill('SIGTERM')
  })
}
