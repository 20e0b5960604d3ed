/**
 * A small HTTP proxy that puts faults between a client under test and a real server (never a fake of the
 * server: everything that is not a planned fault is forwarded unchanged).
 *
 * Faults are rules, consumed in order: the first rule that matches a request (method, path) and has tries
 * left decides what happens to it. Kinds:
 *   - status:   answer with a status (503, 429 + Retry-After, 500...) without forwarding, or after forwarding
 *               (`forward: true`: the server applied the request but the client sees the error: a lost answer)
 *   - drop:     close the client's connection, before or after forwarding
 *   - delay:    wait, then forward (or, with `after: true`, forward, then wait before answering: a slow answer
 *               to a request the server has already applied)
 *   - truncate: forward, then send only the first bytes of the answer (either closing the connection early
 *               under the full Content-Length, or as a shorter well-formed answer)
 * Every request is recorded with what was done to it.
 */
import * as http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export type Fault =
  | {
      kind: 'status'
      status: number
      headers?: Record<string, string>
      body?: string
      /** Forward to the server first (its answer is thrown away). */
      forward?: boolean
    }
  | { kind: 'drop'; forward?: boolean }
  | { kind: 'delay'; ms: number; after?: boolean }
  | {
      kind: 'truncate'
      /** Bytes of the server's body to pass on. */
      bytes: number
      /** true: keep the server's Content-Length and close early; false: a shorter, complete answer. */
      keepLength?: boolean
    }

export interface FaultRule {
  /** Method (any case) and path (exact string before the query, or a RegExp on path+query). */
  match?: { method?: string; path?: string | RegExp }
  fault: Fault
  /** How many matching requests this rule applies to (default 1). */
  times?: number
}

export interface ProxiedRequest {
  method: string
  /** Path and query (after the path prefix). */
  url: string
  /** The fault applied, if any. */
  fault?: Fault['kind']
  /** Whether the request reached the server. */
  forwarded: boolean
  /** Status the client was given (undefined when the connection was dropped). */
  status?: number
}

export interface FaultProxy {
  url: string
  port: number
  /** Adds rules at the end of the plan. */
  addRules(...rules: FaultRule[]): void
  /** Forgets the remaining rules and the recorded requests. */
  reset(): void
  readonly requests: ProxiedRequest[]
  /** Rules not used up yet. */
  pending(): FaultRule[]
  close(): Promise<void>
}

interface Upstream {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

function matches(rule: FaultRule, method: string, url: string): boolean {
  const m = rule.match
  if (!m) return true
  if (m.method && m.method.toUpperCase() !== method.toUpperCase()) return false
  if (m.path === undefined) return true
  if (typeof m.path === 'string') return url.split('?')[0] === m.path
  return m.path.test(url)
}

export interface FaultProxyOptions {
  /**
   * Serve the server under this path prefix (as a reverse proxy would, e.g. '/mlflow'): requests must start
   * with it and it is stripped before forwarding; anything else gets 404.
   */
  pathPrefix?: string
}

export async function startFaultProxy(
  target: string,
  options: FaultProxyOptions = {},
): Promise<FaultProxy> {
  const upstreamUrl = new URL(target)
  const prefix = (options.pathPrefix ?? '').replace(/\/+$/, '')
  const rules: { rule: FaultRule; left: number }[] = []
  const requests: ProxiedRequest[] = []
  const sockets = new Set<Socket>()

  const forward = (req: http.IncomingMessage, url: string, body: Buffer): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: upstreamUrl.host }
      const upstream = http.request(
        {
          hostname: upstreamUrl.hostname,
          port: upstreamUrl.port,
          method: req.method,
          path: url,
          headers,
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 502,
              headers: res.headers,
              body: Buffer.concat(chunks),
            }),
          )
          res.on('error', reject)
        },
      )
      upstream.on('error', reject)
      upstream.end(body)
    })

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void (async () => {
        const method = req.method ?? 'GET'
        const fullUrl = req.url ?? '/'
        if (
          prefix &&
          !(
            fullUrl === prefix ||
            fullUrl.startsWith(prefix + '/') ||
            fullUrl.startsWith(prefix + '?')
          )
        ) {
          requests.push({ method, url: fullUrl, forwarded: false, status: 404 })
          res.writeHead(404, { 'Content-Type': 'text/plain' })
          res.end(`fault-proxy: not under ${prefix}`)
          return
        }
        const url = fullUrl.slice(prefix.length) || '/'
        const body = Buffer.concat(chunks)
        const entry = rules.find((r) => r.left > 0 && matches(r.rule, method, url))
        if (entry) entry.left -= 1
        const fault = entry?.rule.fault
        const record: ProxiedRequest = { method, url, fault: fault?.kind, forwarded: false }
        requests.push(record)
        try {
          if (fault?.kind === 'delay' && !fault.after)
            await new Promise((r) => setTimeout(r, fault.ms))
          const shouldForward =
            !fault ||
            fault.kind === 'delay' ||
            fault.kind === 'truncate' ||
            ((fault.kind === 'status' || fault.kind === 'drop') && fault.forward === true)
          let upstream: Upstream | undefined
          if (shouldForward) {
            upstream = await forward(req, url, body)
            record.forwarded = true
          }
          if (fault?.kind === 'delay' && fault.after)
            await new Promise((r) => setTimeout(r, fault.ms))
          if (fault?.kind === 'drop') {
            req.socket.destroy()
            return
          }
          if (fault?.kind === 'status') {
            const text = fault.body ?? `fault-proxy: ${fault.status}`
            res.writeHead(fault.status, {
              'Content-Type': 'text/plain',
              'Content-Length': Buffer.byteLength(text),
              ...fault.headers,
            })
            record.status = fault.status
            res.end(text)
            return
          }
          const answer = upstream!
          const headers = { ...answer.headers }
          delete headers['transfer-encoding']
          if (fault?.kind === 'truncate') {
            const part = answer.body.subarray(0, fault.bytes)
            record.status = answer.status
            if (fault.keepLength) {
              headers['content-length'] = String(answer.body.length)
              res.writeHead(answer.status, headers)
              res.write(part, () => req.socket.destroy())
            } else {
              headers['content-length'] = String(part.length)
              res.writeHead(answer.status, headers)
              res.end(part)
            }
            return
          }
          headers['content-length'] = String(answer.body.length)
          res.writeHead(answer.status, headers)
          record.status = answer.status
          res.end(answer.body)
        } catch (error) {
          record.status = 502
          if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' })
          res.end(`fault-proxy: upstream error ${(error as Error).message}`)
        }
      })()
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    addRules: (...added) => {
      for (const rule of added) rules.push({ rule, left: rule.times ?? 1 })
    },
    reset: () => {
      rules.length = 0
      requests.length = 0
    },
    pending: () => rules.filter((r) => r.left > 0).map((r) => r.rule),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
