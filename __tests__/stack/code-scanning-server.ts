/**
 * A local stand-in for GitHub's code-scanning SARIF endpoints, for integration tests (GitHub itself cannot be
 * reached here). It checks each request the way GitHub's REST reference documents it:
 *
 *   POST {api}/repos/{owner}/{repo}/code-scanning/sarifs
 *     Authorization: Bearer <token>; JSON body: commit_sha (40 hex), ref (refs/heads/..., refs/tags/...,
 *     refs/pull/N/merge|head), sarif (gzip, then base64, of a SARIF 2.1.0 log, at most 10 MB gzipped),
 *     optional checkout_uri (URI), started_at (date-time), tool_name (string), validate (boolean)
 *     -> 202 {"id", "url"}
 *   GET  {api}/repos/{owner}/{repo}/code-scanning/sarifs/{sarif_id}
 *     -> 200 {"processing_status": "pending"|"complete"|"failed", "analyses_url", "errors"}
 *
 * It can be told to answer the upload with GitHub's 403 "Resource not accessible by integration".
 * The API is served under a path prefix (like GitHub Enterprise's /api/v3) so tests prove the base URL is used.
 */
import * as crypto from 'node:crypto'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as zlib from 'node:zlib'

export const NOT_ACCESSIBLE_BODY = {
  message: 'Resource not accessible by integration',
  documentation_url:
    'https://docs.github.com/rest/code-scanning/code-scanning#upload-an-analysis-as-sarif-data',
  status: '403',
}

export interface CodeScanningServerOptions {
  owner: string
  repo: string
  token: string
  /** Path prefix of the API (default /api/v3). */
  prefix?: string
}

export interface Behaviour {
  /** 'forbidden': answer uploads with 403 Resource not accessible by integration. */
  upload: 'accept' | 'forbidden'
  /** Status polls answered 404 (not yet visible) before the real status. */
  notFoundPolls: number
  /** Status polls answered "pending" before the final status. */
  pendingPolls: number
  finalStatus: 'complete' | 'failed'
  processingErrors: string[]
}

export interface ReceivedUpload {
  id: string
  /** The JSON body as sent, except sarif (see below). */
  fields: Record<string, unknown>
  /** The decoded SARIF text (base64 -> gunzip). */
  sarifText: string
  sarif: { version: string; runs: unknown[]; [key: string]: unknown }
  gzipBytes: number
  headers: http.IncomingHttpHeaders
  polls: number
}

export interface RecordedRequest {
  method: string
  path: string
  status: number
  /** Why the request was refused, when it was. */
  problem?: string
}

export interface CodeScanningServer {
  /** The GITHUB_API_URL to give the action. */
  apiUrl: string
  uploads: ReceivedUpload[]
  requests: RecordedRequest[]
  behaviour: Behaviour
  stop(): Promise<void>
}

const ALLOWED_FIELDS = new Set([
  'commit_sha',
  'ref',
  'sarif',
  'checkout_uri',
  'started_at',
  'tool_name',
  'validate',
])
const MAX_GZIP_BYTES = 10 * 1024 * 1024
const REF = /^refs\/(heads\/.+|tags\/.+|pull\/\d+\/(merge|head))$/

/** Checks one upload body; returns the problem or the decoded SARIF. */
export function checkUploadBody(
  raw: unknown,
):
  | { problem: string; status: number }
  | { sarifText: string; gzipBytes: number; sarif: ReceivedUpload['sarif'] } {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    return { status: 400, problem: 'Problems parsing JSON' }
  }
  const body = raw as Record<string, unknown>
  for (const key of Object.keys(body)) {
    if (!ALLOWED_FIELDS.has(key))
      return { status: 422, problem: `"${key}" is not a permitted key.` }
  }
  for (const key of ['commit_sha', 'ref', 'sarif']) {
    if (!(key in body)) return { status: 422, problem: `"${key}" wasn't supplied.` }
  }
  if (typeof body.commit_sha !== 'string' || !/^[0-9a-f]{40}$/.test(body.commit_sha)) {
    return { status: 422, problem: '"commit_sha" must be a 40-character hex SHA' }
  }
  if (typeof body.ref !== 'string' || !REF.test(body.ref)) {
    return {
      status: 422,
      problem: '"ref" must be a full Git reference (refs/heads/..., refs/pull/N/merge, ...)',
    }
  }
  if ('checkout_uri' in body) {
    try {
      new URL(String(body.checkout_uri))
      if (typeof body.checkout_uri !== 'string') throw new Error('not a string')
    } catch {
      return { status: 422, problem: '"checkout_uri" is not a URI' }
    }
  }
  if ('tool_name' in body && (typeof body.tool_name !== 'string' || body.tool_name === '')) {
    return { status: 422, problem: '"tool_name" must be a non-empty string' }
  }
  if ('started_at' in body && Number.isNaN(Date.parse(String(body.started_at)))) {
    return { status: 422, problem: '"started_at" is not a date-time' }
  }
  if ('validate' in body && typeof body.validate !== 'boolean') {
    return { status: 422, problem: '"validate" must be a boolean' }
  }
  if (typeof body.sarif !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(body.sarif)) {
    return { status: 422, problem: '"sarif" must be base64 text' }
  }
  const gzipped = Buffer.from(body.sarif, 'base64')
  if (gzipped.length > MAX_GZIP_BYTES) {
    return { status: 413, problem: `the gzipped SARIF is ${gzipped.length} bytes, over 10 MB` }
  }
  if (gzipped[0] !== 0x1f || gzipped[1] !== 0x8b) {
    return { status: 400, problem: 'the SARIF is not gzip-compressed' }
  }
  let sarifText: string
  try {
    sarifText = zlib.gunzipSync(gzipped).toString('utf8')
  } catch {
    return { status: 400, problem: 'the SARIF does not gunzip' }
  }
  let sarif: ReceivedUpload['sarif']
  try {
    sarif = JSON.parse(sarifText) as ReceivedUpload['sarif']
  } catch {
    return { status: 400, problem: 'the decoded SARIF is not JSON' }
  }
  if (sarif?.version !== '2.1.0' || !Array.isArray(sarif.runs)) {
    return { status: 400, problem: 'the decoded SARIF is not SARIF 2.1.0 (version, runs)' }
  }
  if (sarif.runs.length > 20) return { status: 400, problem: 'more than 20 runs' }
  // SARIF 2.1.0 §3.27.17: partialFingerprints maps names to strings.
  for (const run of sarif.runs as { results?: { partialFingerprints?: unknown }[] }[]) {
    for (const result of run?.results ?? []) {
      const prints = result?.partialFingerprints
      if (prints === undefined) continue
      if (
        !prints ||
        typeof prints !== 'object' ||
        Array.isArray(prints) ||
        Object.values(prints).some((v) => typeof v !== 'string')
      ) {
        return {
          status: 400,
          problem: 'a result has partialFingerprints that are not string values',
        }
      }
    }
  }
  return { sarifText, sarif, gzipBytes: gzipped.length }
}

export async function startCodeScanningServer(
  options: CodeScanningServerOptions,
): Promise<CodeScanningServer> {
  const prefix = options.prefix ?? '/api/v3'
  const uploads: ReceivedUpload[] = []
  const requests: RecordedRequest[] = []
  const behaviour: Behaviour = {
    upload: 'accept',
    notFoundPolls: 0,
    pendingPolls: 0,
    finalStatus: 'complete',
    processingErrors: [],
  }
  const base = `/repos/${options.owner}/${options.repo}/code-scanning/sarifs`
  let apiUrl = ''

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost')
      const path = url.pathname
      const record: RecordedRequest = { method: req.method ?? '', path, status: 0 }
      requests.push(record)
      const send = (status: number, body: unknown, problem?: string): void => {
        record.status = status
        record.problem = problem
        res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' })
        res.end(JSON.stringify(body))
      }
      const fail = (status: number, message: string): void =>
        send(
          status,
          {
            message,
            documentation_url: 'https://docs.github.com/rest/code-scanning/code-scanning',
            status: String(status),
          },
          message,
        )

      if (!path.startsWith(`${prefix}/`)) return fail(404, 'Not Found')
      const route = path.slice(prefix.length)
      const auth = req.headers.authorization ?? ''
      if (auth !== `Bearer ${options.token}` && auth !== `token ${options.token}`) {
        return fail(401, 'Bad credentials')
      }
      const version = req.headers['x-github-api-version']
      if (version !== undefined && version !== '2022-11-28') {
        return fail(400, `API version ${String(version)} is not supported.`)
      }

      if (route === base && req.method === 'POST') {
        if (behaviour.upload === 'forbidden') {
          record.status = 403
          record.problem = NOT_ACCESSIBLE_BODY.message
          res.writeHead(403, { 'Content-Type': 'application/json; charset=utf-8' })
          res.end(JSON.stringify(NOT_ACCESSIBLE_BODY))
          return
        }
        if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
          return fail(415, 'Unsupported Media Type')
        }
        let raw: unknown
        try {
          raw = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        } catch {
          return fail(400, 'Problems parsing JSON')
        }
        const checked = checkUploadBody(raw)
        if ('problem' in checked) return fail(checked.status, checked.problem)
        const id = crypto.randomUUID()
        const fields = { ...(raw as Record<string, unknown>) }
        delete fields.sarif
        uploads.push({ id, fields, ...checked, headers: req.headers, polls: 0 })
        return send(202, { id, url: `${apiUrl}${base}/${id}` })
      }

      if (route.startsWith(`${base}/`) && req.method === 'GET') {
        const id = decodeURIComponent(route.slice(base.length + 1))
        const upload = uploads.find((u) => u.id === id)
        if (!upload) return fail(404, 'Not Found')
        upload.polls++
        if (upload.polls <= behaviour.notFoundPolls) return fail(404, 'Not Found')
        if (upload.polls <= behaviour.notFoundPolls + behaviour.pendingPolls) {
          return send(200, { processing_status: 'pending', analyses_url: null })
        }
        if (behaviour.finalStatus === 'failed') {
          return send(200, {
            processing_status: 'failed',
            analyses_url: null,
            errors: behaviour.processingErrors,
          })
        }
        return send(200, {
          processing_status: 'complete',
          analyses_url: `${apiUrl}/repos/${options.owner}/${options.repo}/code-scanning/analyses?sarif_id=${id}`,
        })
      }
      return fail(404, 'Not Found')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}`
  return {
    apiUrl,
    uploads,
    requests,
    behaviour,
    async stop() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
