import * as core from '@actions/core'
import { HttpError, oneLine } from '../errors.js'

/** One answer of the GitHub REST API: the status and the parsed JSON body (undefined when not JSON). */
export interface ApiResponse<T> {
  status: number
  body: T
}

export interface GitHubApiClientOptions {
  /** GITHUB_API_URL: https://api.github.com, or https://HOST/api/v3 on GitHub Enterprise Server. */
  apiUrl: string
  token: string
  /** Tries per request for network errors, 5xx and 429 (default 3). */
  attempts?: number
  /** First retry delay in ms, doubled per retry (default 1000). */
  retryDelayMs?: number
  /** Per-request timeout in ms (default 60 s). */
  timeoutMs?: number
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>
}

const API_VERSION = '2022-11-28'
const USER_AGENT = 'mlsecops-action'
/** A Retry-After longer than this is not waited for. */
const MAX_RETRY_AFTER_MS = 60_000

export function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** The API base without credentials or a trailing slash, for requests and for messages. */
function cleanBaseUrl(apiUrl: string): string {
  let url: URL
  try {
    url = new URL(apiUrl)
  } catch {
    throw new HttpError('GitHub API', undefined, 'bad_url', `GITHUB_API_URL is not a URL`)
  }
  url.username = ''
  url.password = ''
  url.search = ''
  url.hash = ''
  return url.href.replace(/\/+$/, '')
}

/** GitHub error bodies: {"message": "...", "errors": [...], "documentation_url": "..."}. */
function describeErrorBody(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; errors?: unknown }
    const parts: string[] = []
    if (typeof body.message === 'string') parts.push(body.message)
    if (Array.isArray(body.errors)) {
      for (const e of body.errors.slice(0, 5)) {
        if (typeof e === 'string') parts.push(e)
        else if (
          e &&
          typeof e === 'object' &&
          typeof (e as { message?: unknown }).message === 'string'
        )
          parts.push((e as { message: string }).message)
      }
    }
    if (parts.length > 0) return parts.join('; ')
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 300)
}

/**
 * The one place that talks HTTP to the GitHub REST API: auth and version headers, bounded retries with
 * backoff for network errors, 5xx and 429, and every failure turned into one HttpError line that names the
 * method and path (never the token, never a URL with credentials).
 */
export class GitHubApiClient {
  private readonly baseUrl: string
  private readonly token: string
  private readonly attempts: number
  private readonly retryDelayMs: number
  private readonly timeoutMs: number
  private readonly sleep: (ms: number) => Promise<void>

  constructor(options: GitHubApiClientOptions) {
    if (options.token) core.setSecret(options.token)
    this.baseUrl = cleanBaseUrl(options.apiUrl)
    this.token = options.token
    this.attempts = Math.max(1, options.attempts ?? 3)
    this.retryDelayMs = options.retryDelayMs ?? 1000
    this.timeoutMs = options.timeoutMs ?? 60_000
    this.sleep = options.sleep ?? sleepMs
  }

  /** The base URL requests go to (no credentials). */
  get apiUrl(): string {
    return this.baseUrl
  }

  /**
   * Sends one request. Answers 2xx are returned; `accept` lists other statuses returned as they are
   * (e.g. 404 while a SARIF upload is not yet visible). Everything else throws HttpError.
   */
  async request<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    accept: number[] = [],
  ): Promise<ApiResponse<T>> {
    const url = `${this.baseUrl}${path}`
    const label = `${method} ${path}`
    const payload = body === undefined ? undefined : JSON.stringify(body)
    let lastError: HttpError | undefined
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      let response: Response
      try {
        response = await fetch(url, {
          method,
          headers: {
            Accept: 'application/vnd.github+json',
            Authorization: `Bearer ${this.token}`,
            'X-GitHub-Api-Version': API_VERSION,
            'User-Agent': USER_AGENT,
            ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }),
          },
          body: payload,
          signal: AbortSignal.timeout(this.timeoutMs),
        })
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause
        const reason = cause?.code ?? (error as Error).name ?? 'network error'
        lastError = new HttpError(
          'GitHub API',
          undefined,
          reason,
          `${label} could not reach ${new URL(this.baseUrl).host}: ${reason}`,
        )
        if (attempt < this.attempts) {
          await this.backoff(attempt, undefined)
          continue
        }
        throw lastError
      }
      const text = await response.text()
      if (response.ok || accept.includes(response.status)) {
        let parsed: unknown = undefined
        if (text.trim() !== '') {
          try {
            parsed = JSON.parse(text)
          } catch {
            throw new HttpError(
              'GitHub API',
              response.status,
              'bad_json',
              `${label} answered ${response.status} with a body that is not JSON`,
            )
          }
        }
        return { status: response.status, body: parsed as T }
      }
      const detail = oneLine(describeErrorBody(text))
      lastError = new HttpError(
        'GitHub API',
        response.status,
        undefined,
        `${label} answered ${response.status}${detail ? `: ${detail}` : ''}`,
      )
      const retryable = response.status >= 500 || response.status === 429
      if (retryable && attempt < this.attempts) {
        core.info(`${lastError.message}; retrying (${attempt} of ${this.attempts})`)
        await this.backoff(attempt, response.headers.get('retry-after'))
        continue
      }
      throw lastError
    }
    // The loop either returns or throws; this satisfies the compiler.
    throw lastError ?? new HttpError('GitHub API', undefined, undefined, `${label} failed`)
  }

  private async backoff(attempt: number, retryAfter: string | null | undefined): Promise<void> {
    let delay = this.retryDelayMs * 2 ** (attempt - 1)
    const seconds = retryAfter ? Number(retryAfter) : NaN
    if (Number.isFinite(seconds) && seconds >= 0)
      delay = Math.min(seconds * 1000, MAX_RETRY_AFTER_MS)
    await this.sleep(delay)
  }
}
