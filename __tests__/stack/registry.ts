/**
 * A real container registry for integration tests: Debian's `docker-registry` (distribution 2.8) serving plain
 * HTTP on a free 127.0.0.1 port with filesystem storage in a temp dir. dockerd treats 127.0.0.0/8 as an insecure
 * registry, so `docker push 127.0.0.1:PORT/repo:tag` works. stop() ends the process it started, by its pid.
 */
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as os from 'node:os'
import * as path from 'node:path'
import { stopDetachedProcess } from './detached-process.js'
import { freePort } from './mlflow-server.js'

export const REGISTRY_BINARY = '/usr/bin/docker-registry'

/** The manifest media types a client accepts, as docker and cosign send them. */
export const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ')

export interface LocalRegistry {
  /** host:port, e.g. 127.0.0.1:41234 */
  host: string
  port: number
  dir: string
  log(): string
  /** HEAD /v2/<repo>/manifests/<reference>: the status and Docker-Content-Digest. */
  manifestDigest(repo: string, reference: string): Promise<{ status: number; digest?: string }>
  stop(): Promise<void>
}

function head(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'HEAD', headers: { Accept: MANIFEST_ACCEPT }, agent: false },
      (res) => {
        res.resume()
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }))
      },
    )
    req.on('error', reject)
    req.setTimeout(10000, () => req.destroy(new Error(`HEAD ${url} timed out`)))
    req.end()
  })
}

/** Starts the registry and waits until GET /v2/ answers 200. */
export async function startRegistry(): Promise<LocalRegistry> {
  if (!fs.existsSync(REGISTRY_BINARY)) {
    throw new Error(`${REGISTRY_BINARY} is missing: run scripts/stack/install.sh`)
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlsecops-registry-'))
  const port = await freePort()
  const host = `127.0.0.1:${port}`
  const config = path.join(dir, 'config.yml')
  fs.writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
      '',
    ].join('\n'),
  )
  let output = ''
  const child = spawn(REGISTRY_BINARY, ['serve', config], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()))
  const stop = async (): Promise<void> => {
    await stopDetachedProcess(child, 'SIGTERM', 'process')
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 30000
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`docker-registry exited (${child.exitCode}): ${output.slice(-2000)}`)
    }
    try {
      const r = await head(`http://${host}/v2/`)
      if (r.status === 200) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`docker-registry did not answer on ${host}: ${output.slice(-2000)}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return {
    host,
    port,
    dir,
    log: () => output,
    async manifestDigest(repo, reference) {
      const r = await head(`http://${host}/v2/${repo}/manifests/${reference}`)
      const digest = r.headers['docker-content-digest']
      return { status: r.status, digest: typeof digest === 'string' ? digest : undefined }
    },
    stop,
  }
}
