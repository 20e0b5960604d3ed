import * as core from '@actions/core'
import { HttpError, oneLine } from '../errors.js'
import { TimeBudget, formatDuration } from './budget.js'
import {
  DEFAULT_RETRY,
  backoffDelay,
  isTransientStatus,
  parseRetryAfter,
  systemClock,
  type Clock,
  type RetryPolicy,
} from './retry.js'
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  TransportError,
  UndiciTransport,
  isTransientTransportError,
  type Transport,
  type TransportResponse,
} from './transport.js'

/**
 * The HTTP client every service client (MLflow, GitHub) sits on: one request loop over the transport with the
 * one retry policy, the shared time budget, and every failure turned into one HttpError line of one shape:
 * `<service> <METHOD> <url without credentials or query>: <what happened>`. The service client only says
 * what its error bodies mean and which extra answers are transient; it never sees a socket.
 */

/** An answer as the service's hooks see it. */
export interface HttpAnswer {
  status: number
  headers: TransportResponse['headers']
  text: string
}

/** An answer with the request it answers, for classify(). */
export interface AnsweredRequest extends HttpAnswer {
  method: string
  /** The path given to request(), without the base URL or query. */
  path: string
}

/** A service's verdict on an answer: an error with this text (after "<service> <METHOD> <url>: "). */
export interface Classified {
  detail: string
  transient: boolean
}

export interface HttpClientOptions {
  /** Name in messages: "MLflow", "GitHub API". */
  service: string
  /** Base URL; a path prefix is kept. Userinfo, query and fragment are dropped. */
  baseUrl: string
  /** Sent with every request (auth, user agent). */
  headers?: Record<string, string>
  /** Default: the real transport with the proxy from the environment. */
  transport?: Transport
  retry?: Partial<RetryPolicy>
  clock?: Clock
  /** Jitter source in [0, 1). */
  random?: () => number
  /** Wall-clock deadline of one try (headers and body); default 30 s. */
  timeoutMs?: number
  /** Largest answer read; default 32 MiB. */
  maxResponseBytes?: number
  /** Shared by every request of the client (and of other clients holding the same budget). */
  budget?: TimeBudget
  /** Answers this service counts as transient beyond network errors, 408, 429 and 5xx. */
  isTransient?: (answer: HttpAnswer) => boolean
  /**
   * Sees every answer first, 2xx and 3xx included (an HTML sign-in page answered 200, a redirect, an
   * overloaded server's 400): a verdict makes it an error with the service's own words; undefined leaves it
   * to the default handling.
   */
  classify?: (answer: AnsweredRequest) => Classified | undefined
  /** The service's error body: an error code and a readable message. Default: the body on one line. */
  describeError?: (text: string) => { code?: string; message: string }
  /** Advice added to the message of an error answer with this status ('' for none). */
  hint?: (status: number) => string
}

export interface CallOptions {
  query?: Record<string, string | number | undefined>
  /** A JSON body. */
  json?: unknown
  /** A raw body (application/octet-stream). */
  raw?: Buffer
  /** Statuses besides 2xx returned as answers instead of errors (e.g. 404 while something is not visible). */
  accept?: number[]
  timeoutMs?: number
  /**
   * For requests that create something: called before each retry, after a try whose outcome is unknown (the
   * server may have created it before the answer was lost). A value is returned as the answer's body and the
   * request is not sent again; undefined sends it again.
   */
  lookup?: () => Promise<unknown>
  /** Sent even when the time budget is spent (ending a run must still reach the server). */
  outsideBudget?: boolean
  /** Tries in all for this call (the policy's otherwise): ending a run tries longest. */
  attempts?: number
  /** The 2xx body as text, not JSON (MLflow's GET /version answers plain text). */
  text?: boolean
}

export interface HttpResult<T> {
  status: number
  /** The parsed JSON body; undefined when the body is empty. */
  body: T | undefined
}

/** A failed try: the error, and whether another try may succeed. */
interface FailedTry {
  error: HttpError
  transient: boolean
  retryAfterMs?: number
}

const EXCERPT_MAX = 300

/** A URL for messages: scheme, host, port and path; never userinfo, a query string or a fragment. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname}`
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//').replace(/[?#].*$/, '')
  }
}

/** A body on one line, HTML tags removed, cut to `max` characters. */
export function bodyExcerpt(text: string, max = EXCERPT_MAX): string {
  const trimmed = text.slice(0, max * 4).trim()
  const plain = trimmed.startsWith('<') ? trimmed.replace(/<[^>]*>/g, ' ') : trimmed
  // eslint-disable-next-line no-control-regex
  const line = oneLine(plain.replace(/[\u0000-\u001f\u007f]+/g, ' ')).replace(/\s{2,}/g, ' ')
  return line.length > max ? `${line.slice(0, max)}…` : line
}

export class HttpClient {
  readonly service: string
  readonly baseUrl: string
  readonly retry: RetryPolicy
  readonly clock: Clock
  private readonly headers: Record<string, string>
  private readonly transport: Transport
  private readonly random: () => number
  private readonly timeoutMs: number
  private readonly maxResponseBytes: number
  private readonly budget?: TimeBudget
  private readonly options: HttpClientOptions

  constructor(options: HttpClientOptions) {
    this.options = options
    this.service = options.service
    this.baseUrl = cleanBaseUrl(options.baseUrl)
    this.headers = { ...options.headers }
    this.transport = options.transport ?? new UndiciTransport()
    this.retry = { ...DEFAULT_RETRY, ...options.retry }
    this.clock = options.clock ?? systemClock
    this.random = options.random ?? Math.random
    this.timeoutMs = options.timeoutMs ?? 30_000
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
    this.budget = options.budget
  }

  /** Sends one request with the bounded retries; 2xx (and `accept`ed statuses) come back parsed. */
  async request<T>(method: string, path: string, call: CallOptions = {}): Promise<HttpResult<T>> {
    const leave = call.outsideBudget ? undefined : this.budget?.enter()
    try {
      return await this.requestWithRetries<T>(method, path, call)
    } finally {
      leave?.()
    }
  }

  private async requestWithRetries<T>(
    method: string,
    path: string,
    call: CallOptions,
  ): Promise<HttpResult<T>> {
    const url = this.urlFor(path, call.query)
    const what = `${method} ${redactUrl(url)}`
    const budget = call.outsideBudget ? undefined : this.budget
    let last: FailedTry | undefined
    const attempts = call.attempts ?? this.retry.attempts
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (last) {
        const delay = backoffDelay(attempt - 1, this.retry, last.retryAfterMs, this.random)
        if (budget && delay >= budget.remainingMs()) throw this.budgetSpent(last.error, budget)
        core.info(`${last.error.message}; retry ${attempt - 1} of ${attempts - 1} in ${delay} ms`)
        await this.clock.sleep(delay)
        if (call.lookup) {
          const found = await call.lookup()
          if (found !== undefined) {
            core.info(
              `${this.service} ${what}: the earlier try had succeeded; not sending it again`,
            )
            return { status: 200, body: found as T }
          }
        }
      }
      if (budget && budget.remainingMs() <= 0) {
        if (last) throw this.budgetSpent(last.error, budget)
        budget.check(what)
      }
      const timeoutMs = Math.min(
        call.timeoutMs ?? this.timeoutMs,
        budget ? budget.remainingMs() : Infinity,
      )
      const outcome = await this.tryOnce<T>(method, path, url, call, timeoutMs)
      if (!('error' in outcome)) return outcome
      last = outcome
      if (!outcome.transient) throw outcome.error
    }
    const final = last!.error
    return Promise.reject(withMessage(final, `${final.message} (gave up after ${attempts} tries)`))
  }

  private async tryOnce<T>(
    method: string,
    path: string,
    url: string,
    call: CallOptions,
    timeoutMs: number,
  ): Promise<HttpResult<T> | FailedTry> {
    const what = `${method} ${redactUrl(url)}`
    const details = { method, url: redactUrl(url) }
    let response: TransportResponse
    try {
      response = await this.transport.send({
        method,
        url,
        headers: {
          ...this.headers,
          ...(call.raw
            ? { 'Content-Type': 'application/octet-stream' }
            : call.json !== undefined
              ? { 'Content-Type': 'application/json' }
              : {}),
        },
        body: call.raw ?? (call.json === undefined ? undefined : JSON.stringify(call.json)),
        deadlineMs: timeoutMs,
        maxResponseBytes: this.maxResponseBytes,
      })
    } catch (error) {
      if (!(error instanceof TransportError)) throw error
      return {
        error: new HttpError(
          this.service,
          undefined,
          error.code,
          `${this.service} ${what}: ${error.message}`,
          details,
        ),
        transient: isTransientTransportError(error),
      }
    }
    const status = response.status
    const text = response.body.toString('utf8')
    const verdict = this.options.classify?.({
      status,
      headers: response.headers,
      text,
      method,
      path,
    })
    if (verdict) {
      return {
        error: new HttpError(
          this.service,
          status,
          undefined,
          `${this.service} ${what}: ${verdict.detail}`,
          { ...details, excerpt: bodyExcerpt(text) },
        ),
        transient: verdict.transient,
        retryAfterMs: parseRetryAfter(response.headers['retry-after'], this.clock.now()),
      }
    }
    if ((status >= 200 && status < 300) || call.accept?.includes(status)) {
      if (call.text) return { status, body: text as T }
      if (text.trim() === '') return { status, body: undefined }
      try {
        return { status, body: JSON.parse(text) as T }
      } catch {
        if (call.accept?.includes(status)) return { status, body: undefined }
        // A cut-off answer: the request may or may not have been applied; retry (creates look first).
        const message = `${this.service} ${what}: HTTP ${status} with an unreadable (cut-off?) JSON body`
        return {
          error: new HttpError(this.service, status, 'bad_json', message, details),
          transient: true,
        }
      }
    }
    return this.errorAnswer({ status, headers: response.headers, text }, what, details)
  }

  private errorAnswer(
    answer: HttpAnswer,
    what: string,
    details: { method: string; url: string },
  ): FailedTry {
    const described = this.options.describeError?.(answer.text) ?? {
      message: bodyExcerpt(answer.text),
    }
    const excerpt = bodyExcerpt(described.message)
    const detail = ([described.code, excerpt].filter((s) => s).join(': ') || 'no details').replace(
      /[.\s]+$/,
      '',
    )
    const hint = this.options.hint?.(answer.status) ?? ''
    const error = new HttpError(
      this.service,
      answer.status,
      described.code,
      `${this.service} ${what}: HTTP ${answer.status} ${detail}.${hint ? ` ${hint}` : ''}`,
      { ...details, excerpt },
    )
    return {
      error,
      transient: isTransientStatus(answer.status) || (this.options.isTransient?.(answer) ?? false),
      retryAfterMs: parseRetryAfter(answer.headers['retry-after'], this.clock.now()),
    }
  }

  private budgetSpent(last: HttpError, budget: TimeBudget): HttpError {
    return withMessage(
      last,
      `${last.message} (gave up: the ${budget.service} calls of this job used up their time budget of ${formatDuration(budget.totalMs)})`,
    )
  }

  private urlFor(path: string, query?: CallOptions['query']): string {
    const params = new URLSearchParams()
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) params.append(key, String(value))
    }
    const search = params.toString()
    return `${this.baseUrl}${path}${search ? `?${search}` : ''}`
  }
}

function withMessage(error: HttpError, message: string): HttpError {
  return new HttpError(error.service, error.status, error.code, message, {
    method: error.method,
    url: error.url,
    excerpt: error.excerpt,
  })
}

/** The base URL without credentials, query, fragment or a trailing slash. */
function cleanBaseUrl(baseUrl: string): string {
  const text = baseUrl.trim()
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return text.replace(/\/+$/, '')
  }
  url.username = ''
  url.password = ''
  url.search = ''
  url.hash = ''
  return url.href.replace(/\/+$/, '')
}
