/**
 * A throwaway PostgreSQL cluster for integration tests (Debian's postgresql, installed by
 * scripts/stack/install.sh): initdb into a temp dir, `postgres` on a free 127.0.0.1 port with its socket in
 * that dir, one database. PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres`
 * user and the server runs under setpriv as that user. stop() ends the server it started, by its pid, and
 * removes the dir. Starting fails (never skips) when PostgreSQL is missing or does not come up.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { stopDetachedProcess } from './detached-process.js'
import { freePort } from './mlflow-server.js'

export interface Postgres {
  /** postgresql+psycopg2://USER@127.0.0.1:PORT/DB (SQLAlchemy URL; psycopg2 is in the MLflow venv) */
  url: string
  port: number
  dir: string
  pid: number
  log(): string
  /** Runs one SQL statement with psql and returns its unaligned, tuples-only output. */
  query(sql: string): string
  stop(): Promise<void>
}

/** The newest /usr/lib/postgresql/<version>/bin holding initdb. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql'
  const versions = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : []
  if (versions.length === 0) {
    throw new Error(`PostgreSQL is missing (${root}/*/bin/initdb): run scripts/stack/install.sh`)
  }
  return path.join(root, versions[0], 'bin')
}

interface Identity {
  uid: number
  gid: number
  /** Command prefix that runs a program as this identity. */
  prefix: string[]
}

function identity(): Identity {
  if (process.getuid?.() !== 0) return { uid: process.getuid?.() ?? 0, gid: 0, prefix: [] }
  const id = (flag: string): number => {
    const r = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' })
    if (r.status !== 0)
      throw new Error('running as root, but there is no postgres user to run PostgreSQL as')
    return Number(r.stdout.trim())
  }
  return {
    uid: id('-u'),
    gid: id('-g'),
    prefix: ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--'],
  }
}

function runAs(who: Identity, command: string, args: string[]): void {
  const [tool, ...rest] = [...who.prefix, command, ...args]
  const r = spawnSync(tool, rest, { encoding: 'utf8', timeout: 120000 })
  if (r.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`)
  }
}

export async function startPostgres(database = 'mlflow'): Promise<Postgres> {
  const bin = postgresBinDir()
  const who = identity()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postgres-'))
  const data = path.join(dir, 'data')
  fs.mkdirSync(data, { mode: 0o700 })
  if (who.prefix.length > 0) {
    fs.chownSync(dir, who.uid, who.gid)
    fs.chownSync(data, who.uid, who.gid)
  }
  const user = 'mlflow'
  runAs(who, path.join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    user,
    '--auth=trust',
    '--encoding=UTF8',
    '--no-sync',
  ])
  const port = await freePort()
  const logFile = path.join(dir, 'postgres.log')
  const out = fs.openSync(logFile, 'a')
  if (who.prefix.length > 0) fs.fchownSync(out, who.uid, who.gid)
  const [tool, ...args] = [
    ...who.prefix,
    path.join(bin, 'postgres'),
    '-D',
    data,
    '-p',
    String(port),
    '-h',
    '127.0.0.1',
    '-k',
    dir,
    // A throwaway cluster: no durability needed, and room for the server's connection pools.
    '-c',
    'fsync=off',
    '-c',
    'max_connections=200',
  ]
  const child: ChildProcess = spawn(tool, args, {
    detached: true,
    stdio: ['ignore', out, out],
  })
  fs.closeSync(out)
  const pid = child.pid!
  const log = (): string => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '')
  const stop = async (): Promise<void> => {
    // SIGINT: PostgreSQL's fast shutdown.
    await stopDetachedProcess(child, 'SIGINT', 'process')
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 60000
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const text = log()
      await stop()
      throw new Error(`postgres exited before accepting connections:\n${text.slice(-3000)}`)
    }
    const ready = spawnSync(
      path.join(bin, 'pg_isready'),
      ['-h', '127.0.0.1', '-p', String(port), '-U', user],
      { encoding: 'utf8' },
    )
    if (ready.status === 0) break
    if (Date.now() > deadline) {
      const text = log()
      await stop()
      throw new Error(`postgres not ready on port ${port} after 60 s:\n${text.slice(-3000)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  const created = spawnSync(
    path.join(bin, 'createdb'),
    ['-h', '127.0.0.1', '-p', String(port), '-U', user, database],
    { encoding: 'utf8' },
  )
  if (created.status !== 0) {
    await stop()
    throw new Error(`createdb ${database} failed: ${created.stderr}`)
  }
  const query = (sql: string): string => {
    const r = spawnSync(
      path.join(bin, 'psql'),
      ['-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', database, '-tAc', sql],
      { encoding: 'utf8' },
    )
    if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`)
    return r.stdout.trim()
  }
  return {
    url: `postgresql+psycopg2://${user}@127.0.0.1:${port}/${database}`,
    port,
    dir,
    pid,
    log,
    query,
    stop,
  }
}
