// Integration: 5 action runs at once (`node dist/index.js`, separate processes, INPUT_BUILD=false) registering
// the same model name in the same, not yet existing, experiment, against a real `mlflow server` (2 workers) on a
// PostgreSQL backend store: Debian's postgresql in a throwaway cluster (__tests__/stack/postgres.ts), as teams
// run MLflow for many repositories. Independent check: MLflow's Python client counts the runs, their status and
// the versions. Expected: 5 green jobs, 5 FINISHED runs, versions 1..5, one per run, no duplicates.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  recordRobustness,
  requireDist,
  runActionProcess,
  type ActionProcessResult,
} from './stack/action-process.js'
import { REPO_ROOT } from './stack/env.js'
import { countInMlflow, duplicatesIn } from './stack/mlflow-count.js'
import { startMlflowServer, type MlflowServer } from './stack/mlflow-server.js'
import { startPostgres, type Postgres } from './stack/postgres.js'

jest.setTimeout(600_000)

const JOBS = 5
const EXPERIMENT = 'shared-experiment'
const MODEL = 'shared-model'

let tmp: string
let postgres: Postgres
let server: MlflowServer

beforeAll(async () => {
  requireDist()
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'concurrency-itest-'))
  postgres = await startPostgres()
  server = await startMlflowServer({ backendStoreUri: postgres.url, workers: 2 })
}, 300_000)

afterAll(async () => {
  await server?.stop()
  await postgres?.stop()
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

describe(`${JOBS} action runs at once against MLflow on PostgreSQL`, () => {
  it('all succeed: one experiment, 5 FINISHED runs, 5 distinct READY versions, no duplicates', async () => {
    const started = Date.now()
    const results: ActionProcessResult[] = await Promise.all(
      Array.from({ length: JOBS }, (_, i) =>
        runActionProcess({
          tmp,
          name: `job-${i + 1}`,
          runId: String(7000 + i),
          inputs: {
            dataset: path.join(REPO_ROOT, 'model', 'iris.csv'),
            'mlflow-tracking-uri': server.url,
            'mlflow-experiment': EXPERIMENT,
            'model-name': MODEL,
            build: 'false',
            'upload-artifact': 'false',
            'upload-sarif': 'false',
          },
        }),
      ),
    )
    const elapsed = Date.now() - started
    console.log(
      `${JOBS} concurrent runs took ${elapsed} ms; each ${results.map((r) => r.elapsedMs).join(', ')} ms`,
    )
    const counted = countInMlflow(server.url, [{ experiment: EXPERIMENT, model: MODEL }])[0]
    // Per workflow run: extra runs, logged models or versions beyond one each.
    const perJob = countInMlflow(
      server.url,
      results.map((r) => ({ experiment: EXPERIMENT, runIdTag: r.runId })),
    )
    const duplicates = perJob.reduce(
      (n, c) =>
        n +
        duplicatesIn({
          ...c,
          logged_models: [],
          versions: counted.versions.filter((v) => c.runs.some((x) => x.run_id === v.run_id)),
        }),
      0,
    )
    recordRobustness({
      kind: 'concurrency',
      runs: JOBS,
      completed: results.filter((r) => r.code === 0).length,
      failedCleanly: 0,
      faultsInjected: 0,
      duplicates,
      runningLeft: counted.runs.filter((r) => r.status === 'RUNNING').length,
    })

    for (const r of results) {
      const problems = r.stdout.split('\n').filter((l) => /^::(error|warning)/.test(l))
      expect({ code: r.code, problems, stderr: r.stderr }).toEqual({
        code: 0,
        problems: [],
        stderr: '',
      })
    }
    const versions = results.map((r) => r.outputs['model-version'])
    expect([...versions].sort((a, b) => Number(a) - Number(b))).toEqual(['1', '2', '3', '4', '5'])
    expect(new Set(results.map((r) => r.outputs['run-id'])).size).toBe(JOBS)

    expect(counted.runs).toHaveLength(JOBS)
    expect(counted.runs.map((r) => r.status)).toEqual(Array(JOBS).fill('FINISHED'))
    expect(counted.logged_models).toHaveLength(JOBS)
    const byVersion = new Map(counted.versions.map((v) => [v.version, v]))
    expect([...byVersion.keys()].sort()).toEqual(['1', '2', '3', '4', '5'])
    for (const r of results) {
      const v = byVersion.get(r.outputs['model-version'])!
      expect(v.status).toBe('READY')
      expect(v.run_id).toBe(r.outputs['run-id'])
    }
    expect(duplicates).toBe(0)
    // The records really are in PostgreSQL.
    expect(postgres.query(`select count(*) from runs where status = 'FINISHED'`)).toBe(String(JOBS))
    expect(postgres.query(`select count(*) from model_versions where name = '${MODEL}'`)).toBe(
      String(JOBS),
    )
  })
})
