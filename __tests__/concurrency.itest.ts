// Integration: 5 action runs at once (`node dist/index.js`, separate processes, INPUT_BUILD=false) registering
// the same model name in the same, not yet existing, experiment, against a real `mlflow server` (2 workers) on a
// PostgreSQL backend store: Debian's postgresql in a throwaway cluster (__tests__/stack/postgres.ts), as teams
// run MLflow for many repositories. Independent check: MLflow's Python client counts the runs, their status and
// the versions (and psql). Two rounds. Expected per round: 5 green jobs with no error or warning, 5 FINISHED
// runs, 5 new versions (1..5, then 6..10), one per run, no duplicates.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
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
  // Each round: 5 jobs at once in a new experiment (racing on the experiment, the shared dataset's row, the
  // registered model or the alias, and the next version number), all registering the same model.
  it.each([1, 2])(
    'round %i: all succeed, 5 FINISHED runs, 5 new distinct READY versions, no duplicates',
    async (round) => {
      const experiment = `${EXPERIMENT}-${round}`
      const started = Date.now()
      const results: ActionProcessResult[] = await Promise.all(
        Array.from({ length: JOBS }, (_, i) =>
          runActionProcess({
            tmp,
            name: `round-${round}-job-${i + 1}`,
            runId: String(7000 + round * 100 + i),
            // The dataset is a path input: inside the workspace.
            workspace: REPO_ROOT,
            inputs: {
              dataset: path.join(REPO_ROOT, 'model', 'iris.csv'),
              'mlflow-tracking-uri': server.url,
              'mlflow-experiment': experiment,
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
        `round ${round}: ${JOBS} concurrent runs took ${elapsed} ms; each ${results.map((r) => r.elapsedMs).join(', ')} ms`,
      )
      const counted = countInMlflow(server.url, [{ experiment, model: MODEL }])[0]
      const versions = counted.versions.filter((v) =>
        counted.runs.some((r) => r.run_id === v.run_id),
      )
      // Per workflow run: extra runs or versions beyond one each.
      const perJob = countInMlflow(
        server.url,
        results.map((r) => ({ experiment, runIdTag: r.runId })),
      )
      const duplicates = perJob.reduce(
        (n, c) =>
          n +
          duplicatesIn({
            ...c,
            logged_models: [],
            versions: versions.filter((v) => c.runs.some((x) => x.run_id === v.run_id)),
          }),
        0,
      )
      const problems = results.map((r) =>
        r.stdout.split('\n').filter((l) => /^::(error|warning)/.test(l)),
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

      expect(problems).toEqual(Array(JOBS).fill([]))
      expect(results.map((r) => [r.code, r.stderr])).toEqual(Array(JOBS).fill([0, '']))
      const expected = Array.from({ length: JOBS }, (_, i) => String((round - 1) * JOBS + i + 1))
      const outputs = results.map((r) => r.outputs['model-version'])
      expect([...outputs].sort((a, b) => Number(a) - Number(b))).toEqual(expected)
      expect(new Set(results.map((r) => r.outputs['run-id'])).size).toBe(JOBS)

      expect(counted.runs.map((r) => r.status)).toEqual(Array(JOBS).fill('FINISHED'))
      expect(counted.logged_models).toHaveLength(JOBS)
      const byVersion = new Map(versions.map((v) => [v.version, v]))
      expect([...byVersion.keys()].sort((a, b) => Number(a) - Number(b))).toEqual(expected)
      for (const r of results) {
        const v = byVersion.get(r.outputs['model-version'])!
        expect(v.status).toBe('READY')
        expect(v.run_id).toBe(r.outputs['run-id'])
      }
      expect(duplicates).toBe(0)
      // The records really are in PostgreSQL.
      expect(postgres.query(`select count(*) from runs where status = 'FINISHED'`)).toBe(
        String(round * JOBS),
      )
      expect(postgres.query(`select count(*) from model_versions where name = '${MODEL}'`)).toBe(
        String(round * JOBS),
      )
    },
  )
})
