/**
 * The one retry policy and the one poll loop of every HTTP client: which answers are worth another try, how
 * long to wait (exponential backoff with jitter, Retry-After in seconds or as an HTTP date), and a clock that
 * tests replace, so no test waits for real time.
 */

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number
  /** Delay before the first retry; doubles each time, with jitter. */
  baseDelayMs: number
  /** Cap for one delay, Retry-After included. */
  maxDelayMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 30000 }

/** Time as the clients see it: now() in ms, sleep(ms). Tests pass a fake one that advances on sleep. */
export interface Clock {
  now(): number
  sleep(ms: number): Promise<void>
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}

/** Statuses another try may change: timeout, too many requests, server errors. */
const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504])

export function isTransientStatus(status: number): boolean {
  return TRANSIENT_STATUS.has(status)
}

/** Retry-After in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (Array.isArray(value)) value = value[0]
  if (typeof value !== 'string' || value.trim() === '') return undefined
  const text = value.trim()
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000)
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** Exponential backoff with jitter in [delay/2, delay]; Retry-After wins when larger. Capped. */
export function backoffDelay(
  retry: number,
  policy: RetryPolicy,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1))
  const jittered = exponential / 2 + random() * (exponential / 2)
  const delay = retryAfterMs !== undefined ? Math.max(retryAfterMs, jittered) : jittered
  return Math.round(Math.min(policy.maxDelayMs, delay))
}

export interface PollOptions {
  /** Total time to keep polling, measured on the clock (checks included). */
  timeoutMs: number
  /** First wait before a check; doubles each time up to maxDelayMs. */
  initialDelayMs: number
  maxDelayMs: number
  clock: Clock
}

/**
 * The one poll loop: waits, then checks, until check() gives a value or timeoutMs has passed on the clock
 * (then undefined). The last wait is shortened so the loop never sleeps past its end.
 */
export async function pollUntil<T>(
  check: (elapsedMs: number) => Promise<T | undefined>,
  options: PollOptions,
): Promise<T | undefined> {
  const start = options.clock.now()
  let delay = options.initialDelayMs
  for (;;) {
    const left = options.timeoutMs - (options.clock.now() - start)
    if (left <= 0) return undefined
    await options.clock.sleep(Math.min(delay, left))
    delay = Math.min(delay * 2, options.maxDelayMs)
    const value = await check(options.clock.now() - start)
    if (value !== undefined) return value
  }
}
