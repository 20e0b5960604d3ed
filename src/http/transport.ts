import { Agent, EnvHttpProxyAgent, request, type Dispatcher } from 'undici'

/**
 * The one way bytes leave the action for an HTTP server (MLflow, GitHub). One try, no retries (the client
 * above retries): a wall-clock deadline that covers connecting, the headers and the whole body (a server that
 * drips one byte every few seconds is cut off at the deadline, not kept alive by each byte), a cap on the
 * answer's size (the body is read into memory only up to the cap), and the proxy from the environment.
 */

export interface TransportRequest {
  method: string
  url: string
  headers: Record<string, string>
  body?: Buffer | string
  /** Wall-clock limit for the whole exchange, in ms. */
  deadlineMs: number
  /** Largest answer body read, in bytes. */
  maxResponseBytes: number
}

export interface TransportResponse {
  status: number
  /** Header names in lower case. */
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

export interface Transport {
  /** Resolves with any status; rejects with a TransportError when no complete answer came. */
  send(request: TransportRequest): Promise<TransportResponse>
}

/** Why no complete answer came: `deadline`, `too_large`, or a network code (ECONNREFUSED, UND_ERR_SOCKET...). */
export class TransportError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'TransportError'
  }
}

/** Failures another try cannot fix: the answer is too large, the URL or TLS certificate is wrong. */
const PERMANENT_CODES = new Set([
  'too_large',
  'ERR_INVALID_URL',
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
])

export function isTransientTransportError(error: TransportError): boolean {
  return !PERMANENT_CODES.has(error.code)
}

export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024

export interface ProxySettings {
  httpProxy?: string
  httpsProxy?: string
  noProxy?: string
}

/** HTTP_PROXY / HTTPS_PROXY / NO_PROXY, lower case first (curl's order); empty values count as unset. */
export function proxyFromEnvironment(env: NodeJS.ProcessEnv = process.env): ProxySettings {
  const read = (name: string): string | undefined =>
    env[name.toLowerCase()] || env[name.toUpperCase()] || undefined
  return {
    httpProxy: read('http_proxy'),
    httpsProxy: read('https_proxy'),
    noProxy: env.no_proxy ?? env.NO_PROXY,
  }
}

/**
 * The dispatcher for these settings: undici's EnvHttpProxyAgent when a proxy is set (it tunnels with CONNECT,
 * honours NO_PROXY entries `host`, `.domain`, `host:port`, `*`, and uses HTTP_PROXY for https when
 * HTTPS_PROXY is unset), a plain agent otherwise. No keep-alive reuse: each request gets its own connection
 * (servers such as uvicorn close idle sockets after 5 s, and a request sent on a closing socket fails).
 */
export function createDispatcher(proxy: ProxySettings): Dispatcher {
  if (!proxy.httpProxy && !proxy.httpsProxy) return new Agent()
  return new EnvHttpProxyAgent({
    httpProxy: proxy.httpProxy ?? '',
    httpsProxy: proxy.httpsProxy ?? '',
    noProxy: proxy.noProxy ?? '',
  })
}

export interface UndiciTransportOptions {
  /** Default: from the environment of the process. */
  proxy?: ProxySettings
}

/** The real transport (undici). */
export class UndiciTransport implements Transport {
  private readonly dispatcher: Dispatcher

  constructor(options: UndiciTransportOptions = {}) {
    this.dispatcher = createDispatcher(options.proxy ?? proxyFromEnvironment())
  }

  async send(req: TransportRequest): Promise<TransportResponse> {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), req.deadlineMs)
    try {
      const response = await request(req.url, {
        method: req.method as Dispatcher.HttpMethod,
        headers: req.headers,
        body: req.body,
        signal: controller.signal,
        dispatcher: this.dispatcher,
        reset: true,
        maxRedirections: 0,
        // The deadline above bounds the exchange; these only must not cut in before it.
        headersTimeout: req.deadlineMs + 1000,
        bodyTimeout: req.deadlineMs + 1000,
      })
      const body = await readCapped(response.body, response.headers, req.maxResponseBytes)
      return { status: response.statusCode, headers: response.headers, body }
    } catch (error) {
      if (error instanceof TransportError) throw error
      if (controller.signal.aborted) {
        throw new TransportError(
          'deadline',
          `no complete answer within ${formatMs(req.deadlineMs)} (deadline)`,
        )
      }
      throw networkError(error)
    } finally {
      clearTimeout(timer)
    }
  }
}

/** Reads a body into memory, refusing (and destroying the stream) beyond maxBytes. */
async function readCapped(
  body: Dispatcher.ResponseData['body'],
  headers: Record<string, string | string[] | undefined>,
  maxBytes: number,
): Promise<Buffer> {
  const tooLarge = (): TransportError =>
    new TransportError('too_large', `the answer is larger than ${formatBytes(maxBytes)} (cut off)`)
  // Destroying a body that is not read to its end makes undici emit an abort error: nobody waits for it.
  body.on('error', () => undefined)
  const declared = Number(headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) {
    body.destroy()
    throw tooLarge()
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    const buffer = chunk as Buffer
    size += buffer.length
    if (size > maxBytes) {
      body.destroy()
      throw tooLarge()
    }
    chunks.push(buffer)
  }
  return Buffer.concat(chunks, size)
}

function networkError(error: unknown): TransportError {
  const e = error as { code?: unknown; message?: unknown; cause?: { code?: unknown } }
  const code =
    (typeof e.code === 'string' && e.code) ||
    (typeof e.cause?.code === 'string' && e.cause.code) ||
    'network'
  const reason =
    code === 'ECONNREFUSED'
      ? 'connection refused (is the server up?)'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'the host name does not resolve'
        : code === 'UND_ERR_SOCKET'
          ? 'the connection closed before the answer was complete'
          : `network error ${code}`
  return new TransportError(code, reason)
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`
  return `${bytes} bytes`
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`
}
