/**
 * A small forward proxy of the project's own on 127.0.0.1, as a corporate proxy sits between a self-hosted
 * runner and its servers: CONNECT tunnels (what undici's ProxyAgent sends, for http and https targets) and
 * absolute-URI requests (`GET http://host:port/path`, what curl sends for http targets). Host names are
 * resolved only here, through `hosts` (name -> 127.0.0.1 port): the client under test cannot reach them
 * without the proxy. Every request is recorded with the host it asked for.
 */
import * as http from 'node:http'
import * as net from 'node:net'
import type { AddressInfo } from 'node:net'

export interface ProxiedVia {
  kind: 'connect' | 'absolute'
  /** host:port the client asked for. */
  target: string
  /** Status the proxy gave (CONNECT: 200 or 502). */
  status: number
}

export interface ForwardProxy {
  url: string
  port: number
  readonly requests: ProxiedVia[]
  close(): Promise<void>
}

/** `hosts` maps "name:port" (or "name", any port) to the local port that serves it. */
export async function startForwardProxy(hosts: Record<string, number>): Promise<ForwardProxy> {
  const requests: ProxiedVia[] = []
  const sockets = new Set<net.Socket>()
  const resolve = (host: string, port: number): number | undefined =>
    hosts[`${host}:${port}`] ?? hosts[host]

  const server = http.createServer((req, res) => {
    let target: URL
    try {
      target = new URL(req.url ?? '')
    } catch {
      res.writeHead(400).end('absolute URI expected')
      return
    }
    const port = Number(target.port || 80)
    const local = resolve(target.hostname, port)
    const record: ProxiedVia = { kind: 'absolute', target: `${target.hostname}:${port}`, status: 0 }
    requests.push(record)
    if (local === undefined) {
      record.status = 502
      res.writeHead(502).end(`unknown host ${target.hostname}`)
      return
    }
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: local,
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        record.status = answer.statusCode ?? 0
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })

  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const [host, portText] = (req.url ?? '').split(':')
    const port = Number(portText || 443)
    const local = resolve(host, port)
    const record: ProxiedVia = { kind: 'connect', target: `${host}:${port}`, status: 0 }
    requests.push(record)
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.on('error', () => client.destroy())
    if (local === undefined) {
      record.status = 502
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n')
      return
    }
    const upstream = net.connect(local, '127.0.0.1', () => {
      record.status = 200
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    sockets.add(upstream)
    upstream.on('close', () => sockets.delete(upstream))
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
  })
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((ok) => server.close(() => ok()))
    },
  }
}
