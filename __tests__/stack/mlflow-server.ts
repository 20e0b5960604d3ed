/**
 * A real MLflow tracking server for integration tests: `$MLSECOPS_VENV/bin/mlflow server` on a free
 * 127.0.0.1 port, a temp sqlite DB and a temp artifacts dir (proxied artifacts, --serve-artifacts), optionally
 * with the basic-auth app. Waits for GET /health; stop() ends the process group it started, by its pid.
 * Starting fails (never skips) when the server cannot start.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { stopDetachedProcess } from './detached-process.js'
import { MLSECOPS_VENV } from './env.js'

export const MLFLOW_BIN = path.join(MLSECOPS_VENV, 'bin', 'mlflow')
export const MLFLOW_PYTHON = path.join(MLSECOPS_VENV, 'bin', 'python')

export interface MlflowServerOptions {
  /** Start with `--app-name basic-auth`; the admin user gets this password. */
  basicAuth?: { adminUsername: string; adminPassword: string }
  /** Seconds to wait for /health. */
  startTimeoutSec?: number
  /** Backend store (e.g. postgresql://... from stack/postgres.ts); default a temp sqlite DB. */
  backendStoreUri?: string
  /** Server workers (default 1). */
  workers?: number
  /** The venv of another MLflow release (scripts/compat/mlflow-venv.sh); default MLSECOPS_VENV. */
  venv?: string
  /**
   * Host names the server answers besides its own address (MLflow 3 refuses other Host headers with 403
   * "Invalid Host header"): the public name clients use through a proxy.
   */
  allowedHosts?: string[]
}

export interface MlflowServer {
  url: string
  port: number
  /** Temp dir holding mlflow.db, artifacts/, the log. */
  dir: string
  pid: number
  /** The server's combined stdout/stderr so far. */
  log(): string
  stop(): Promise<void>
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })
}

async function waitForHealth(
  url: string,
  child: ChildProcess,
  timeoutSec: number,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutSec * 1000
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `mlflow server exited (${child.exitCode ?? child.signalCode}) before it was healthy:\n${log().slice(-3000)}`,
      )
    }
    try {
      const response = await requestOnce(`${url}/health`, { timeoutMs: 2000 })
      if (response.status === 200) return
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
  throw new Error(
    `mlflow server at ${url} not healthy after ${timeoutSec} s:\n${log().slice(-3000)}`,
  )
}

/**
 * One HTTP request to the test server on a fresh connection (no keep-alive pool). fetch() keeps idle sockets
 * that uvicorn closes after 5 s; a later fetch on such a socket fails with "other side closed" on a loaded
 * machine. Tests talk to the server directly through this.
 */
export function requestOnce(
  url: string,
  options: {
    method?: string
    headers?: Record<string, string>
    body?: unknown
    timeoutMs?: number
  } = {},
): Promise<{ status: number; text: string; json: <T>() => T }> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body)
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        agent: false,
        headers: {
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...options.headers,
        },
        timeout: options.timeoutMs ?? 10000,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({ status: res.statusCode ?? 0, text, json: <T>() => JSON.parse(text) as T })
        })
        res.on('error', reject)
      },
    )
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)))
    req.on('error', reject)
    req.end(body)
  })
}

export async function startMlflowServer(options: MlflowServerOptions = {}): Promise<MlflowServer> {
  const mlflowBin = options.venv ? path.join(options.venv, 'bin', 'mlflow') : MLFLOW_BIN
  if (!fs.existsSync(mlflowBin)) {
    throw new Error(
      `${mlflowBin} is missing: run scripts/stack/install.sh (MLSECOPS_VENV=${MLSECOPS_VENV})`,
    )
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-server-'))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const args = [
    'server',
    '--backend-store-uri',
    options.backendStoreUri ?? `sqlite:///${path.join(dir, 'mlflow.db')}`,
    '--serve-artifacts',
    '--artifacts-destination',
    path.join(dir, 'artifacts'),
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--workers',
    String(options.workers ?? 1),
  ]
  if (options.allowedHosts) {
    const hosts = ['localhost', `localhost:${port}`, '127.0.0.1', `127.0.0.1:${port}`]
    args.push('--allowed-hosts', [...hosts, ...options.allowedHosts].join(','))
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MLFLOW_FLASK_SERVER_SECRET_KEY: crypto.randomBytes(16).toString('hex'),
    PYTHONUNBUFFERED: '1',
    // No background job runner (huey consumers): nothing the tests use, and it is heavy on 2 cores.
    MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
  }
  // The server must not inherit the tests' client settings.
  for (const key of Object.keys(env)) if (key.startsWith('MLFLOW_TRACKING_')) delete env[key]
  if (options.basicAuth) {
    const ini = path.join(dir, 'basic_auth.ini')
    fs.writeFileSync(
      ini,
      [
        '[mlflow]',
        'default_permission = READ',
        `database_uri = sqlite:///${path.join(dir, 'basic_auth.db')}`,
        `admin_username = ${options.basicAuth.adminUsername}`,
        `admin_password = ${options.basicAuth.adminPassword}`,
        'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
        '',
      ].join('\n'),
    )
    env.MLFLOW_AUTH_CONFIG_PATH = ini
    args.push('--app-name', 'basic-auth')
  }
  const logFile = path.join(dir, 'server.log')
  const out = fs.openSync(logFile, 'a')
  const child = spawn(mlflowBin, args, {
    cwd: dir,
    env,
    detached: true,
    stdio: ['ignore', out, out],
  })
  fs.closeSync(out)
  const log = (): string => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '')
  const pid = child.pid!
  const stop = (): Promise<void> => stopDetachedProcess(child, 'SIGTERM', 'group')
  try {
    await waitForHealth(url, child, options.startTimeoutSec ?? 120, log)
  } catch (error) {
    await stop()
    throw error
  }
  return { url, port, dir, pid, log, stop }
}

/**
 * Runs a Python script of this folder (mlflow_read.py, mlflow_count.py) in the server's venv with
 * MLFLOW_TRACKING_URI set and the request as JSON on stdin; returns the JSON of its last output line.
 */
export function runMlflowPythonScript(
  scriptName: string,
  trackingUri: string,
  request: unknown,
  env: NodeJS.ProcessEnv = {},
): unknown {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), scriptName)
  const result = spawnSync(MLFLOW_PYTHON, [script], {
    input: JSON.stringify(request),
    env: { ...process.env, MLFLOW_TRACKING_URI: trackingUri, ...env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 300000,
  })
  if (result.status !== 0) {
    throw new Error(`${scriptName} failed (${result.status}):\n${result.stderr.slice(-4000)}`)
  }
  const lines = result.stdout.trim().split('\n')
  return JSON.parse(lines[lines.length - 1]) as unknown
}

/** Runs the Python reader (mlflow_read.py) in the server's venv and returns its JSON. */
export function readWithMlflowPython(
  trackingUri: string,
  request: Record<string, unknown>,
  env: NodeJS.ProcessEnv = {},
): Record<string, unknown> {
  return runMlflowPythonScript('mlflow_read.py', trackingUri, request, env) as Record<
    string,
    unknown
  >
}
