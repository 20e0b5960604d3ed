// Load (issue 11): many repositories share one small MLflow server. 50 action runs at once (`node dist/index.js`,
// separate processes, build: false) against a one-worker server on sqlite, and 20 against a PostgreSQL-backed
// one. The busy server answers "QueuePool limit ... reached" or "database is locked"; the action retries those
// and ends every run. Expected: every job green, one FINISHED run and one READY version each, no run RUNNING.
// Slow: runs only with MLSECOPS_LOAD=1 (`npm run load`, which bundles the current source first); skipped in
// npm test.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { requireDist, runActionProcess, type ActionProcessResult } from './stack/action-process.js'
import { REPO_ROOT } from './stack/env.js'
import { countInMlflow } from './stack/mlflow-count.js'
import { startMlflowServer, type MlflowServer } from './stack/mlflow-server.js'
import { startPostgres, type Postgres } from './stack/postgres.js'

const LOAD = process.env.MLSECOPS_LOAD === '1'
const SQLITE_JOBS = Number(process.env.MLSECOPS_LOAD_SQLITE_JOBS || 50)
const POSTGRES_JOBS = Number(process.env.MLSECOPS_LOAD_POSTGRES_JOBS || 20)

let tmp: string

/** Starts `jobs` action runs at once against one server; checks every job, run and version. */
async function loadServer(server: MlflowServer, jobs: number, label: string): Promise<void> {
  const experiment = `load-${label}`
  const model = `load-${label}-model`
  const started = Date.now()
  const results: ActionProcessResult[] = await Promise.all(
    Array.from({ length: jobs }, (_, i) =>
      runActionProcess({
        tmp,
        name: `${label}-${i + 1}`,
        runId: String(9000 + i),
        timeoutMs: 20 * 60_000,
        // The dataset is a path input: inside the workspace.
        workspace: REPO_ROOT,
        inputs: {
          dataset: path.join(REPO_ROOT, 'model', 'iris.csv'),
          'mlflow-tracking-uri': server.url,
          'mlflow-experiment': experiment,
          'model-name': model,
          build: 'false',
          'upload-artifact': 'false',
          'upload-sarif': 'false',
        },
      }),
    ),
  )
  const elapsed = Date.now() - started
  const counted = countInMlflow(server.url, [{ experiment, model }])[0]
  const busy = results.filter((r) => /server busy/.test(r.stdout)).length
  const row = {
    server: label,
    jobs,
    green: results.filter((r) => r.code === 0).length,
    finished: counted.runs.filter((r) => r.status === 'FINISHED').length,
    running: counted.runs.filter((r) => r.status === 'RUNNING').length,
    ready: counted.versions.filter((v) => v.status === 'READY').length,
    jobsThatSawBusyAnswers: busy,
    seconds: Math.round(elapsed / 1000),
  }
  console.log(JSON.stringify(row))
  const out = process.env.MLSECOPS_LOAD_OUT
  if (out) fs.appendFileSync(out, JSON.stringify(row) + '\n')
  const failures = results
    .filter((r) => r.code !== 0)
    .map((r) => r.stdout.split('\n').find((l) => l.startsWith('::error')) ?? r.stderr.slice(-300))
  expect(failures).toEqual([])
  expect(row.running).toBe(0)
  expect(row.finished).toBe(jobs)
  expect(row.ready).toBe(jobs)
  expect(new Set(counted.versions.map((v) => v.run_id)).size).toBe(jobs)
}

const suite = LOAD ? describe : describe.skip

suite('many jobs at once against one small MLflow server', () => {
  beforeAll(() => {
    requireDist()
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'load-itest-'))
  })
  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
  })

  it(`${SQLITE_JOBS} jobs on a one-worker sqlite server: all green, one FINISHED run and one READY version each`, async () => {
    const server = await startMlflowServer({ workers: 1 })
    try {
      await loadServer(server, SQLITE_JOBS, 'sqlite')
    } finally {
      await server.stop()
    }
  })

  it(`${POSTGRES_JOBS} jobs on a PostgreSQL-backed server: all green, one FINISHED run and one READY version each`, async () => {
    let postgres: Postgres | undefined
    let server: MlflowServer | undefined
    try {
      postgres = await startPostgres()
      server = await startMlflowServer({ backendStoreUri: postgres.url, workers: 2 })
      await loadServer(server, POSTGRES_JOBS, 'postgresql')
    } finally {
      await server?.stop()
      await postgres?.stop()
    }
  })
})
