// Unit tests of the one HTTP client (src/http/): the retry policy on a fake clock, Retry-After in seconds and as
// an HTTP date, jitter, the shared time budget, the look-before-create hook, the service's transient hook,
// and the one HttpError shape (redacted URL, one-line capped excerpt). The transport is a script: no network.
import { describe, expect, it, jest } from '@jest/globals'
import { fakeClock } from './support/fake-clock.js'
import * as core from '../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { HttpError } = await import('../src/errors.js')
const { HttpClient, bodyExcerpt, redactUrl } = await import('../src/http/http-client.js')
const { TimeBudget } = await import('../src/http/budget.js')
const { TransportError } = await import('../src/http/transport.js')
const { backoffDelay, parseRetryAfter, pollUntil, DEFAULT_RETRY } =
  await import('../src/http/retry.js')
type TransportRequest = import('../src/http/transport.js').TransportRequest

type Answer = { status: number; body?: string; headers?: Record<string, string> } | Error

function scripted(answers: Answer[]) {
  const sent: TransportRequest[] = []
  return {
    sent,
    transport: {
      send: async (request: TransportRequest) => {
        sent.push(request)
        const next = answers.shift()
        if (!next) throw new Error('script exhausted')
        if (next instanceof Error) throw next
        return {
          status: next.status,
          headers: next.headers ?? {},
          body: Buffer.from(next.body ?? ''),
        }
      },
    },
  }
}

function client(
  answers: Answer[],
  extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {},
) {
  const clock = fakeClock()
  const { sent, transport } = scripted(answers)
  const c = new HttpClient({
    service: 'Svc',
    baseUrl: 'https://user:pw@svc.example/prefix/?k=v',
    transport,
    clock,
    random: () => 1,
    ...extra,
  })
  return { client: c, clock, sent }
}

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates, relative to the given now', () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(parseRetryAfter('2', now)).toBe(2000)
    expect(parseRetryAfter('0.5', now)).toBe(500)
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:03 GMT', now)).toBe(3000)
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter(['7'], now)).toBe(7000)
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
  })
})

describe('backoffDelay', () => {
  const o = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 30000 }
  it('doubles with jitter in [delay/2, delay], capped', () => {
    expect(backoffDelay(1, o, undefined, () => 0)).toBe(500)
    expect(backoffDelay(1, o, undefined, () => 1)).toBe(1000)
    expect(backoffDelay(3, o, undefined, () => 0.5)).toBe(3000)
    expect(backoffDelay(10, o, undefined, () => 1)).toBe(30000)
  })
  it('waits at least Retry-After, within the cap', () => {
    expect(backoffDelay(1, o, 5000, () => 0)).toBe(5000)
    expect(backoffDelay(1, o, 100, () => 1)).toBe(1000)
    expect(backoffDelay(1, o, 120000, () => 0)).toBe(30000)
  })
  it('defaults to 5 tries', () => {
    expect(DEFAULT_RETRY.attempts).toBe(5)
  })
})

describe('redaction and excerpts', () => {
  it('keeps scheme, host and path; drops userinfo, query and fragment', () => {
    expect(redactUrl('https://u:p%40ss@h.example:8443/a/b?api_key=s3cret#x')).toBe(
      'https://h.example:8443/a/b',
    )
    expect(redactUrl('not a url://u:p@h/x?api_key=1')).not.toMatch(/api_key|u:p/)
  })
  it('puts a body on one line, strips HTML and control characters, caps the length', () => {
    expect(bodyExcerpt('<html><h1>502 Bad Gateway</h1></html>')).toBe('502 Bad Gateway')
    expect(bodyExcerpt('a\r\nb\u001b[31mc\u0007')).toBe('a b [31mc')
    const long = bodyExcerpt('x'.repeat(10_000_000))
    expect(long.length).toBe(301)
  })
})

describe('HttpClient retries (fake clock)', () => {
  it('retries network errors, 408, 429 (Retry-After seconds and date) and 5xx, then succeeds', async () => {
    const {
      client: c,
      clock,
      sent,
    } = client(
      [
        new TransportError('ECONNRESET', 'network error ECONNRESET'),
        { status: 503, body: 'down' },
        { status: 429, headers: { 'retry-after': '3' } },
        { status: 429, headers: { 'retry-after': 'Thu, 01 Jan 2026 00:00:20 GMT' } },
        { status: 408 },
        { status: 200, body: '{"ok": true}' },
      ],
      { retry: { attempts: 6, baseDelayMs: 100, maxDelayMs: 30_000 } },
    )
    await expect(c.request('GET', '/x')).resolves.toEqual({ status: 200, body: { ok: true } })
    expect(sent).toHaveLength(6)
    // 100, 200, Retry-After 3 s (> 400), the date: 20 s after the start minus the 3.3 s slept, then 1600.
    expect(clock.sleeps).toEqual([100, 200, 3000, 16700, 1600])
    expect(sent[0].url).toBe('https://svc.example/prefix/x')
  })

  it('jitters within [delay/2, delay]', async () => {
    const { client: c, clock } = client([{ status: 502 }, { status: 200 }], {
      random: () => 0,
      retry: { baseDelayMs: 1000 },
    })
    await c.request('GET', '/x')
    expect(clock.sleeps).toEqual([500])
  })

  it('gives up after the bounded tries with one line in the one shape', async () => {
    const { client: c, clock } = client(
      Array.from({ length: 3 }, () => ({ status: 502, body: '<h1>Bad\nGateway</h1>' })),
      { retry: { attempts: 3 } },
    )
    const error = (await c
      .request('GET', '/runs', { query: { api_key: 's3cret' } })
      .catch((e: unknown) => e)) as InstanceType<typeof HttpError>
    expect(error).toBeInstanceOf(HttpError)
    expect(error.message).toBe(
      'Svc GET https://svc.example/prefix/runs: HTTP 502 Bad Gateway. (gave up after 3 tries)',
    )
    expect(error).toMatchObject({
      service: 'Svc',
      status: 502,
      method: 'GET',
      url: 'https://svc.example/prefix/runs',
      excerpt: 'Bad Gateway',
    })
    expect(clock.sleeps).toHaveLength(2)
    expect(JSON.stringify(error) + error.message).not.toMatch(/s3cret|pw/)
  })

  it('does not retry other 4xx, a too-large answer, or a bad certificate', async () => {
    for (const answer of [
      { status: 400, body: '{"message": "bad"}' },
      new TransportError('too_large', 'the answer is larger than 32 MiB (cut off)'),
      new TransportError('CERT_HAS_EXPIRED', 'network error CERT_HAS_EXPIRED'),
    ]) {
      const { client: c, sent } = client([answer])
      await expect(c.request('GET', '/x')).rejects.toThrow(HttpError)
      expect(sent).toHaveLength(1)
    }
  })

  it("asks the service about extra transient answers (an overloaded server's 400)", async () => {
    const { client: c, sent } = client(
      [{ status: 400, body: 'QueuePool limit of size 5 overflow 10 reached' }, { status: 200 }],
      { isTransient: (a) => /QueuePool limit/.test(a.text) },
    )
    await expect(c.request('POST', '/x', { json: {} })).resolves.toEqual({
      status: 200,
      body: undefined,
    })
    expect(sent).toHaveLength(2)
  })

  it('lets the service classify any answer first, 2xx included, in its own words', async () => {
    const { client: c, sent } = client(
      [
        { status: 200, body: '<html>Sign in</html>', headers: { 'content-type': 'text/html' } },
        { status: 400, body: 'database is locked' },
        { status: 200, body: '{"ok": 1}' },
      ],
      {
        classify: (a) =>
          a.text.startsWith('<html>')
            ? {
                detail: `HTTP ${a.status} with an HTML page (${a.method} ${a.path})`,
                transient: false,
              }
            : /database is locked/.test(a.text)
              ? { detail: 'server busy', transient: true }
              : undefined,
      },
    )
    await expect(c.request('GET', '/page', { query: { q: 'x' } })).rejects.toThrow(
      'Svc GET https://svc.example/prefix/page: HTTP 200 with an HTML page (GET /page)',
    )
    await expect(c.request('POST', '/w')).resolves.toEqual({ status: 200, body: { ok: 1 } })
    expect(sent).toHaveLength(3)
  })

  it('retries a cut-off 2xx JSON answer; returns accepted statuses as answers', async () => {
    const { client: c } = client([
      { status: 200, body: '{"a": ' },
      { status: 200, body: '{"a": 1}' },
      { status: 404, body: 'Not Found' },
    ])
    await expect(c.request('GET', '/x')).resolves.toEqual({ status: 200, body: { a: 1 } })
    await expect(c.request('GET', '/y', { accept: [404] })).resolves.toEqual({
      status: 404,
      body: undefined,
    })
  })

  it('looks before creating again: a create whose answer was lost is not sent twice', async () => {
    const { client: c, sent } = client([{ status: 503 }])
    const lookup = jest.fn(async () => ({ id: 'made-before' }))
    await expect(c.request('POST', '/create', { json: {}, lookup })).resolves.toEqual({
      status: 200,
      body: { id: 'made-before' },
    })
    expect(sent).toHaveLength(1)
    expect(lookup).toHaveBeenCalledTimes(1)
  })

  it('sends the service headers, a JSON body, and a per-call deadline', async () => {
    const { client: c, sent } = client([{ status: 200 }], {
      headers: { Authorization: 'Bearer t' },
      timeoutMs: 5000,
    })
    await c.request('PUT', '/a', { json: { x: 1 }, timeoutMs: 700 })
    expect(sent[0]).toMatchObject({
      method: 'PUT',
      headers: { Authorization: 'Bearer t', 'Content-Type': 'application/json' },
      body: '{"x":1}',
      deadlineMs: 700,
      maxResponseBytes: 32 * 1024 * 1024,
    })
  })
})

describe('the shared time budget (fake clock)', () => {
  /** A transport that takes `ms` of clock time per request. */
  function slow(clock: ReturnType<typeof fakeClock>, ms: number, answers: Answer[]) {
    const { transport, sent } = scripted(answers)
    return {
      sent,
      transport: {
        send: async (request: TransportRequest) => {
          clock.advance(Math.min(ms, request.deadlineMs))
          return transport.send(request)
        },
      },
    }
  }

  it('counts the time inside calls only, cuts each deadline to what is left, refuses calls when spent; exempt calls go through', async () => {
    const clock = fakeClock()
    const budget = new TimeBudget(20 * 60_000, 'Svc', clock)
    const { transport, sent } = slow(clock, 9 * 60_000, [
      { status: 200 },
      { status: 200 },
      { status: 200 },
      { status: 200 },
    ])
    const c = new HttpClient({
      service: 'Svc',
      baseUrl: 'http://svc.test',
      transport,
      clock,
      budget,
      timeoutMs: 10 * 60_000,
    })
    await c.request('GET', '/a')
    // An hour between calls (a build, a scan) costs nothing.
    clock.advance(60 * 60_000)
    await c.request('GET', '/b')
    expect(budget.usedMs()).toBe(18 * 60_000)
    await c.request('GET', '/c')
    expect(sent.map((r) => r.deadlineMs)).toEqual([600_000, 600_000, 120_000])
    await expect(c.request('GET', '/d')).rejects.toThrow(
      'Svc GET http://svc.test/d: the Svc calls of this job used up their time budget of 20 min',
    )
    await expect(c.request('POST', '/end', { outsideBudget: true })).resolves.toMatchObject({
      status: 200,
    })
    expect(sent.map((r) => r.url)).toEqual([
      'http://svc.test/a',
      'http://svc.test/b',
      'http://svc.test/c',
      'http://svc.test/end',
    ])
  })

  it('counts retry waits and a nested look-up once, and gives up instead of waiting past the budget', async () => {
    const clock = fakeClock()
    const budget = new TimeBudget(5000, 'Svc', clock)
    const { transport, sent } = slow(clock, 1000, [
      { status: 503 },
      { status: 200 },
      { status: 503, headers: { 'retry-after': '10' } },
    ])
    const c = new HttpClient({
      service: 'Svc',
      baseUrl: 'http://svc.test',
      transport,
      clock,
      budget,
      retry: { baseDelayMs: 500 },
      random: () => 1,
    })
    const lookup = async () => (await c.request('GET', '/look')).body
    await expect(c.request('POST', '/make', { lookup })).rejects.toThrow(
      /^Svc POST http:\/\/svc\.test\/make: HTTP 503 no details\. \(gave up: the Svc calls of this job used up their time budget of 5 s\)$/,
    )
    // 1 s try, 0.5 s wait, 1 s look-up (not counted twice), 1 s retry; the next wait (10 s) is not started.
    expect(sent.map((r) => r.url)).toEqual([
      'http://svc.test/make',
      'http://svc.test/look',
      'http://svc.test/make',
    ])
    expect(budget.usedMs()).toBe(3500)
    expect(clock.sleeps).toEqual([500])
  })
})

describe('pollUntil (fake clock)', () => {
  it('doubles the wait up to the cap and stops at the timeout, never sleeping past it', async () => {
    const clock = fakeClock()
    const checks: number[] = []
    const result = await pollUntil(
      async (elapsed) => {
        checks.push(elapsed)
        return undefined
      },
      { timeoutMs: 60_000, initialDelayMs: 1000, maxDelayMs: 15_000, clock },
    )
    expect(result).toBeUndefined()
    expect(clock.sleeps).toEqual([1000, 2000, 4000, 8000, 15_000, 15_000, 15_000])
    expect(checks.at(-1)).toBe(60_000)
  })

  it('counts the time the checks take', async () => {
    const clock = fakeClock()
    let n = 0
    const result = await pollUntil(
      async () => {
        clock.advance(10_000)
        return ++n === 3 ? 'done' : undefined
      },
      { timeoutMs: 60_000, initialDelayMs: 1000, maxDelayMs: 1000, clock },
    )
    expect(result).toBe('done')
    const short = await pollUntil(
      async () => {
        clock.advance(30_000)
        return undefined
      },
      { timeoutMs: 60_000, initialDelayMs: 1000, maxDelayMs: 1000, clock },
    )
    expect(short).toBeUndefined()
    expect(clock.sleeps.slice(3)).toEqual([1000, 1000])
  })
})
