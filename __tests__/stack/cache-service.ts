/**
 * A real GitHub Actions cache service (v2) stand-in for integration tests and the job benchmark:
 * - the blob half is Azurite (the same as the artifact service's), real Azure Blob semantics;
 * - the Twirp half is this project's own small server speaking github.actions.results.api.v1.CacheService
 *   (CreateCacheEntry, FinalizeCacheEntryUpload, GetCacheEntryDownloadURL) as @actions/cache 6.x calls it with
 *   ACTIONS_CACHE_SERVICE_V2=true: it hands out Azurite SAS URLs, matches the key exactly and the restore keys
 *   by prefix (newest first, same version only), refuses a second entry under the same key and version, and
 *   records every call so a test can tell that none was made.
 */
import {
  BlobSASPermissions,
  BlobServiceClient,
  SASProtocol,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
} from '@azure/storage-blob'
import * as crypto from 'node:crypto'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  ACCOUNT,
  ACCOUNT_KEY,
  buildRuntimeToken,
  startAzurite,
  stopProcess,
  verifyToken,
  type TwirpCall,
} from './artifact-service.js'

const SERVICE = 'github.actions.results.api.v1.CacheService'
const CONTAINER = 'actions-cache'

export interface CacheEntry {
  id: number
  key: string
  version: string
  blobName: string
  createdAt: number
  finalized: boolean
  sizeBytes?: number
}

export interface CacheService {
  /** ACTIONS_RESULTS_URL */
  resultsUrl: string
  entries: CacheEntry[]
  calls: TwirpCall[]
  /** The env a runner gives an action for the v2 cache. */
  env(): Record<string, string>
  /** Forgets every entry and call (a new repository, as far as the action can tell). */
  clear(): void
  stop(): Promise<void>
}

/** Starts Azurite plus the Twirp cache service. `dir` holds Azurite's data and log. */
export async function startCacheService(dir: string): Promise<CacheService> {
  const azurite = await startAzurite(dir)
  const credential = new StorageSharedKeyCredential(ACCOUNT, ACCOUNT_KEY)
  try {
    const container = new BlobServiceClient(azurite.endpoint, credential).getContainerClient(
      CONTAINER,
    )
    await container.createIfNotExists()
    const key = crypto.randomBytes(32)
    const runtimeToken = buildRuntimeToken(crypto.randomUUID(), crypto.randomUUID(), key)
    const entries: CacheEntry[] = []
    const calls: TwirpCall[] = []
    let nextId = 1
    let generation = 0

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
      return `${azurite.endpoint}/${CONTAINER}/${encodeURIComponent(blobName)}?${sas}`
    }

    const handle = async (
      method: string,
      body: Record<string, unknown>,
    ): Promise<Record<string, unknown>> => {
      const cacheKey = typeof body.key === 'string' ? body.key : ''
      const version = typeof body.version === 'string' ? body.version : ''
      if (!cacheKey || !version) throw new TwirpFailure(400, 'invalid_argument', 'key and version')
      switch (method) {
        case 'CreateCacheEntry': {
          if (entries.some((e) => e.key === cacheKey && e.version === version)) {
            return { ok: false, message: `cache entry ${cacheKey} already exists` }
          }
          const entry: CacheEntry = {
            id: nextId++,
            key: cacheKey,
            version,
            blobName: `g${generation}-${crypto.randomUUID()}.tgz`,
            createdAt: Date.now(),
            finalized: false,
          }
          entries.push(entry)
          return { ok: true, signed_upload_url: sasUrl(entry.blobName, 'rcw') }
        }
        case 'FinalizeCacheEntryUpload': {
          const entry = entries.find(
            (e) => e.key === cacheKey && e.version === version && !e.finalized,
          )
          if (!entry) return { ok: false, message: 'no entry to finalize' }
          const properties = await container.getBlobClient(entry.blobName).getProperties()
          if (String(properties.contentLength) !== String(body.size_bytes)) {
            return {
              ok: false,
              message: `size ${String(body.size_bytes)} != ${properties.contentLength}`,
            }
          }
          entry.finalized = true
          entry.sizeBytes = properties.contentLength
          return { ok: true, entry_id: String(entry.id) }
        }
        case 'GetCacheEntryDownloadURL': {
          const usable = entries
            .filter((e) => e.finalized && e.version === version)
            .sort((a, b) => b.createdAt - a.createdAt || b.id - a.id)
          const restoreKeys = Array.isArray(body.restore_keys) ? body.restore_keys.map(String) : []
          const match =
            usable.find((e) => e.key === cacheKey) ??
            restoreKeys.map((p) => usable.find((e) => e.key.startsWith(p))).find(Boolean)
          if (!match) return { ok: false }
          return {
            ok: true,
            signed_download_url: sasUrl(match.blobName, 'r'),
            matched_key: match.key,
          }
        }
        default:
          throw new TwirpFailure(404, 'bad_route', `no method ${method}`)
      }
    }

    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        void (async () => {
          const prefix = `/twirp/${SERVICE}/`
          const url = req.url ?? ''
          const method = url.startsWith(prefix) ? url.slice(prefix.length) : url
          let body: Record<string, unknown> = {}
          let status = 200
          let answer: Record<string, unknown>
          try {
            const auth = req.headers.authorization ?? ''
            if (!auth.startsWith('Bearer ') || !verifyToken(auth.slice(7), key)) {
              throw new TwirpFailure(401, 'unauthenticated', 'invalid runtime token')
            }
            if (req.method !== 'POST' || !url.startsWith(prefix)) {
              throw new TwirpFailure(404, 'bad_route', `${req.method} ${url}`)
            }
            try {
              body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
            } catch {
              throw new TwirpFailure(400, 'malformed', 'body is not JSON')
            }
            answer = await handle(method, body)
          } catch (error) {
            status = error instanceof TwirpFailure ? error.status : 500
            answer = {
              code: error instanceof TwirpFailure ? error.code : 'internal',
              msg: (error as Error).message,
            }
          }
          calls.push({ method, body, status })
          res.writeHead(status, { 'Content-Type': 'application/json' })
          res.end(JSON.stringify(answer))
        })()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const resultsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    return {
      resultsUrl,
      entries,
      calls,
      env: () => ({
        ACTIONS_CACHE_SERVICE_V2: 'true',
        ACTIONS_RESULTS_URL: resultsUrl,
        ACTIONS_RUNTIME_TOKEN: runtimeToken,
      }),
      clear() {
        entries.length = 0
        calls.length = 0
        generation++
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

class TwirpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}
