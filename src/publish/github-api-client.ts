import * as core from '@actions/core'
import { HttpError } from '../errors.js'
import { HttpClient } from '../http/http-client.js'
import { systemClock, type Clock } from '../http/retry.js'
import type { Transport } from '../http/transport.js'

/** One answer of the GitHub REST API: the status and the parsed JSON body (undefined when empty or not JSON). */
export interface ApiResponse<T> {
  status: number
  body: T
}

export interface GitHubApiClientOptions {
  /** GITHUB_API_URL: https://api.github.com, or https://HOST/api/v3 on GitHub Enterprise Server. */
  apiUrl: string
  token: string
  /** Tries per request for network errors, 408, 429 and 5xx (default 3). */
  attempts?: number
  /** First retry delay in ms, doubled per retry with jitter (default 1000). */
  retryDelayMs?: number
  /** Per-request wall-clock deadline in ms, headers and body (default 60 s). */
  timeoutMs?: number
  /** For tests: how to wait between tries (the clock's sleep otherwise). */
  sleep?: (ms: number) => Promise<void>
  /** For tests: the transport (default: the real one, proxy from the environment) and the clock. */
  transport?: Transport
  clock?: Clock
  random?: () => number
}

const API_VERSION = '2022-11-28'
const USER_AGENT = 'mlsecops-action'
/** A Retry-After longer than this is not waited for. */
const MAX_RETRY_AFTER_MS = 60_000

/** GitHub error bodies: {"message": "...", "errors": [...], "documentation_url": "..."}. */
function describeErrorBody(text: string): { message: string } {
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
    if (parts.length > 0) return { message: parts.join('; ') }
  } catch {
    // not JSON: the raw text
  }
  return { message: text }
}

/**
 * The GitHub REST API on the shared HTTP client (src/http/): auth and version headers, and what GitHub's error
 * bodies say. Transport, deadline, size cap, proxy, retries and the error shape are the shared client's;
 * messages carry the method and the URL, never the token or credentials of the URL.
 */
export class GitHubApiClient {
  /** The clock requests and polls wait on. */
  readonly clock: Clock
  private readonly http: HttpClient

  constructor(options: GitHubApiClientOptions) {
    if (options.token) core.setSecret(options.token)
    try {
      new URL(options.apiUrl)
    } catch {
      throw new HttpError('GitHub API', undefined, 'bad_url', `GITHUB_API_URL is not a URL`)
    }
    const base = options.clock ?? systemClock
    this.clock = options.sleep ? { now: () => base.now(), sleep: options.sleep } : base
    this.http = new HttpClient({
      service: 'GitHub API',
      baseUrl: options.apiUrl,
      headers: {
        Accept: 'application/vnd.github+json',
        Authorization: `Bearer ${options.token}`,
        'X-GitHub-Api-Version': API_VERSION,
        'User-Agent': USER_AGENT,
      },
      transport: options.transport,
      retry: {
        attempts: Math.max(1, options.attempts ?? 3),
        baseDelayMs: options.retryDelayMs ?? 1000,
        maxDelayMs: MAX_RETRY_AFTER_MS,
      },
      clock: this.clock,
      random: options.random,
      timeoutMs: options.timeoutMs ?? 60_000,
      describeError: describeErrorBody,
    })
  }

  /** The base URL requests go to (no credentials). */
  get apiUrl(): string {
    return this.http.baseUrl
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
    const result = await this.http.request<T>(method, path, { json: body, accept })
    return { status: result.status, body: result.body as T }
  }
}
