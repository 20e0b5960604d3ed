// The transport on real sockets, loopback only (servers of the test's own on 127.0.0.1): a server that drips
// one byte a second hits the wall-clock deadline with one line; a 1.5 GB answer is cut off at the size cap
// with one line and bounded memory; the proxy comes from HTTP_PROXY/HTTPS_PROXY/NO_PROXY in either case.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { startForwardProxy, type ForwardProxy } from './stack/forward-proxy.js'
import * as core from '../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { HttpError } = await import('../src/errors.js')
const { HttpClient } = await import('../src/http/http-client.js')
const { TransportError, UndiciTransport, proxyFromEnvironment } =
  await import('../src/http/transport.js')

const MiB = 1024 * 1024
let server: http.Server
let base: string
const hits: string[] = []

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits.push(req.url ?? '')
    if (req.url === '/drip') {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.write('[')
      const timer = setInterval(() => res.write('1,'), 1000)
      res.on('close', () => clearInterval(timer))
    } else if (req.url === '/huge') {
      // 1.5 GB, chunked (no Content-Length): only the cap stops the client.
      res.writeHead(200, { 'Content-Type': 'application/json' })
      const chunk = Buffer.alloc(MiB, 0x20)
      let sent = 0
      const pump = (): void => {
        while (sent < 1536) {
          sent += 1
          if (!res.write(chunk)) {
            res.once('drain', pump)
            return
          }
        }
        res.end()
      }
      res.on('close', () => (sent = Infinity))
      pump()
    } else if (req.url === '/declared') {
      res.writeHead(200, { 'Content-Length': String(1536 * MiB) })
      res.write('x')
    } else {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify({ url: req.url, host: req.headers.host }))
    }
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((ok) => server.close(ok))
})

const noProxy = { httpProxy: undefined, httpsProxy: undefined }

describe('UndiciTransport on loopback', () => {
  it('cuts a dripping answer at the wall-clock deadline, with one line', async () => {
    const c = new HttpClient({
      service: 'Svc',
      baseUrl: base,
      transport: new UndiciTransport({ proxy: noProxy }),
      timeoutMs: 2500,
      retry: { attempts: 1 },
    })
    const started = Date.now()
    const error = (await c.request('GET', '/drip').catch((e: unknown) => e)) as Error
    const elapsed = Date.now() - started
    expect(error).toBeInstanceOf(HttpError)
    expect(error.message).toBe(
      `Svc GET ${base}/drip: no complete answer within 2.5 s (deadline) (gave up after 1 tries)`,
    )
    expect(elapsed).toBeGreaterThanOrEqual(2400)
    expect(elapsed).toBeLessThan(5000)
  })

  it('cuts a 1.5 GB answer off at the cap with one line and bounded memory', async () => {
    const transport = new UndiciTransport({ proxy: noProxy })
    const before = process.memoryUsage()
    let peak = 0
    const sampler = setInterval(() => {
      const m = process.memoryUsage()
      peak = Math.max(peak, m.rss - before.rss)
    }, 20)
    const started = Date.now()
    const error = await transport
      .send({
        method: 'GET',
        url: `${base}/huge`,
        headers: {},
        deadlineMs: 60_000,
        maxResponseBytes: 32 * MiB,
      })
      .catch((e: unknown) => e)
    clearInterval(sampler)
    expect(error).toBeInstanceOf(TransportError)
    expect((error as Error).message).toBe('the answer is larger than 32 MiB (cut off)')
    expect(Date.now() - started).toBeLessThan(30_000)
    // The cap plus buffers in flight: far below the 1.5 GB the server would send.
    expect(peak).toBeLessThan(200 * MiB)
    console.log(`huge answer: peak RSS growth ${Math.round(peak / MiB)} MiB`)
  })

  it('refuses a declared Content-Length above the cap before reading the body', async () => {
    const c = new HttpClient({
      service: 'Svc',
      baseUrl: base,
      transport: new UndiciTransport({ proxy: noProxy }),
      maxResponseBytes: 1 * MiB,
    })
    const error = (await c.request('GET', '/declared').catch((e: unknown) => e)) as InstanceType<
      typeof HttpError
    >
    expect(error.message).toBe(
      `Svc GET ${base}/declared: the answer is larger than 1 MiB (cut off)`,
    )
    expect(error.code).toBe('too_large')
  })
})

describe('the proxy from the environment', () => {
  let proxy: ForwardProxy

  beforeAll(async () => {
    const port = (server.address() as AddressInfo).port
    proxy = await startForwardProxy({ 'svc.internal.test': port })
  })
  afterAll(async () => {
    await proxy.close()
  })

  it('reads lower case first, then upper case; empty counts as unset', () => {
    expect(
      proxyFromEnvironment({ HTTP_PROXY: 'http://a', https_proxy: 'http://b', NO_PROXY: 'x' }),
    ).toEqual({ httpProxy: 'http://a', httpsProxy: 'http://b', noProxy: 'x' })
    expect(proxyFromEnvironment({ http_proxy: 'http://l', HTTP_PROXY: 'http://u' })).toEqual({
      httpProxy: 'http://l',
      httpsProxy: undefined,
      noProxy: undefined,
    })
    expect(proxyFromEnvironment({ http_proxy: '', HTTP_PROXY: 'http://u' }).httpProxy).toBe(
      'http://u',
    )
  })

  it('reaches a host name that resolves only at the proxy; NO_PROXY bypasses it', async () => {
    const viaProxy = new HttpClient({
      service: 'Svc',
      baseUrl: 'http://svc.internal.test:8080/p',
      transport: new UndiciTransport({ proxy: proxyFromEnvironment({ HTTP_PROXY: proxy.url }) }),
      retry: { attempts: 1 },
    })
    await expect(viaProxy.request('GET', '/a')).resolves.toEqual({
      status: 200,
      body: { url: '/p/a', host: 'svc.internal.test:8080' },
    })
    expect(proxy.requests.at(-1)).toEqual({
      kind: 'connect',
      target: 'svc.internal.test:8080',
      status: 200,
    })

    const direct = new HttpClient({
      service: 'Svc',
      baseUrl: base,
      transport: new UndiciTransport({
        proxy: proxyFromEnvironment({ http_proxy: proxy.url, no_proxy: 'localhost,127.0.0.1' }),
      }),
    })
    const count = proxy.requests.length
    await expect(direct.request('GET', '/b')).resolves.toMatchObject({ status: 200 })
    expect(proxy.requests.length).toBe(count)

    const bypassed = new HttpClient({
      service: 'Svc',
      baseUrl: 'http://svc.internal.test:8080',
      transport: new UndiciTransport({
        proxy: proxyFromEnvironment({ HTTP_PROXY: proxy.url, NO_PROXY: '.internal.test' }),
      }),
      retry: { attempts: 1 },
    })
    await expect(bypassed.request('GET', '/c')).rejects.toThrow(
      /^Svc GET http:\/\/svc\.internal\.test:8080\/c: (the host name does not resolve|network error \S+) \(gave up after 1 tries\)$/,
    )
  })
})
