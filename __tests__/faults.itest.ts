// Integration: faults between the register flow and a real `mlflow server`, injected by the fault proxy on
// 127.0.0.1 (__tests__/stack/fault-proxy.ts; everything that is not a planned fault reaches the real server).
// A matrix: every create the flow sends, with its answer lost in five ways (dropped after the server applied
// it, a 500 after it, cut off under its Content-Length, cut short, answered after the client timed out); every
// other request dropped, delayed, failed by a 503 burst and (for writes) answered with a 500 after it was
// applied; creates held before the server until after the client timed out (they land after the retry: late
// duplicates the flow removes when the run ends); 429 with Retry-After; faults longer than the retries. Each scenario is one registerModel() + finish()
// with short backoffs, in its own experiment and model. Independent check: MLflow's Python client counts the
// runs carrying the scenario's workflow run id, their status, dataset inputs and metric entries, the logged
// models and the versions (__tests__/stack/mlflow_count.py). Every scenario completes or fails with one line,
// no run is left RUNNING, duplicates are 0.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { getRunContext } from '../src/context.js'
import { HttpError, errorMessage } from '../src/errors.js'
import { registerModel } from '../src/mlflow/registration.js'
import { trainModel, type TrainResult } from '../src/train/train-stage.js'
import { recordRobustness } from './stack/action-process.js'
import { REPO_ROOT } from './stack/env.js'
import {
  startFaultProxy,
  type Fault,
  type FaultProxy,
  type FaultRule,
} from './stack/fault-proxy.js'
import { countInMlflow, duplicatesIn, removedDuplicatesIn } from './stack/mlflow-count.js'
import { startMlflowServer, type MlflowServer } from './stack/mlflow-server.js'

jest.setTimeout(900_000)

const API = '/api/2.0/mlflow'
const IRIS = path.join(REPO_ROOT, 'model', 'iris.csv')
/** Short backoffs; a cap above 1 s so Retry-After: 1 is honoured. Timeout 1.5 s per request. */
const RETRY = { attempts: 4, baseDelayMs: 20, maxDelayMs: 1500 }
const TIMEOUT_MS = 1500

interface Scenario {
  name: string
  rules: FaultRule[]
  /** 'complete': transient faults; 'fail': faults outlast the retries. */
  expect: 'complete' | 'fail'
  /**
   * Wait before ending the run, as the pipeline does while it builds and scans (minutes): long enough for a
   * held request to land first.
   */
  settleMs?: number
}

interface Outcome {
  scenario: Scenario
  runId: string
  completed: boolean
  error?: string
  faultsInjected: number
  pending: number
  elapsedMs: number
}

const creates: [string, FaultRule['match']][] = [
  ['experiments/create', { method: 'POST', path: `${API}/experiments/create` }],
  ['runs/create', { method: 'POST', path: `${API}/runs/create` }],
  ['logged-models', { method: 'POST', path: `${API}/logged-models` }],
  ['registered-models/create', { method: 'POST', path: `${API}/registered-models/create` }],
  ['model-versions/create', { method: 'POST', path: `${API}/model-versions/create` }],
]
const lostAnswers: [string, Fault][] = [
  ['dropped after applied', { kind: 'drop', forward: true }],
  ['500 after applied', { kind: 'status', status: 500, forward: true }],
  ['cut off under Content-Length', { kind: 'truncate', bytes: 7, keepLength: true }],
  ['cut short', { kind: 'truncate', bytes: 7 }],
  ['answered after the client timed out', { kind: 'delay', ms: TIMEOUT_MS + 1000, after: true }],
]
const writes: [string, FaultRule['match']][] = [
  ['runs/log-batch', { method: 'POST', path: `${API}/runs/log-batch` }],
  ['runs/log-inputs', { method: 'POST', path: `${API}/runs/log-inputs` }],
  ['runs/outputs', { method: 'POST', path: `${API}/runs/outputs` }],
  ['artifact upload', { method: 'PUT', path: /^\/api\/2\.0\/mlflow-artifacts\/artifacts\// }],
  ['logged model finalize', { method: 'PATCH', path: /^\/api\/2\.0\/mlflow\/logged-models\// }],
  ['runs/update', { method: 'POST', path: `${API}/runs/update` }],
]
const reads: [string, FaultRule['match']][] = [
  ['experiments/get-by-name', { method: 'GET', path: `${API}/experiments/get-by-name` }],
]
const transient: [string, Fault, number][] = [
  ['dropped', { kind: 'drop' }, 1],
  ['delayed 300 ms', { kind: 'delay', ms: 300 }, 1],
  ['503 burst x3', { kind: 'status', status: 503, body: 'Service Unavailable' }, 3],
  ['500 burst x2', { kind: 'status', status: 500, body: 'Internal Server Error' }, 2],
]

function scenarios(): Scenario[] {
  const list: Scenario[] = []
  for (const [endpoint, match] of creates)
    for (const [what, fault] of lostAnswers)
      list.push({ name: `${endpoint}: ${what}`, rules: [{ match, fault }], expect: 'complete' })
  for (const [endpoint, match] of [...writes, ...reads]) {
    for (const [what, fault, times] of transient)
      list.push({
        name: `${endpoint}: ${what}`,
        rules: [{ match, fault, times }],
        expect: 'complete',
      })
  }
  for (const [endpoint, match] of writes)
    list.push({
      name: `${endpoint}: 500 after applied`,
      rules: [{ match, fault: { kind: 'status', status: 500, forward: true } }],
      expect: 'complete',
    })
  for (const [endpoint, match] of [writes[0], creates[1], reads[0]])
    list.push({
      name: `${endpoint}: 429 with Retry-After: 1`,
      rules: [{ match, fault: { kind: 'status', status: 429, headers: { 'Retry-After': '1' } } }],
      expect: 'complete',
    })
  list.push({
    name: 'runs/create answer lost, then the look-up (runs/search) fails once',
    rules: [
      { match: creates[1][1], fault: { kind: 'drop', forward: true } },
      {
        match: { method: 'POST', path: `${API}/runs/search` },
        fault: { kind: 'status', status: 503 },
      },
    ],
    expect: 'complete',
  })
  list.push({
    name: 'model-versions/create answer lost, then the look-up (model-versions/search) is cut off',
    rules: [
      { match: creates[4][1], fault: { kind: 'status', status: 502, forward: true } },
      {
        match: { method: 'GET', path: `${API}/model-versions/search` },
        fault: { kind: 'truncate', bytes: 3, keepLength: true },
      },
    ],
    expect: 'complete',
  })
  // Requests held before they reach the server until after the client gave up: the retry's look-up finds
  // nothing, the create is sent again, and then the first one lands too (a server that queued it).
  for (const [endpoint, match] of [creates[1], creates[2], creates[4]])
    list.push({
      name: `${endpoint}: held until after the client timed out, then applied`,
      rules: [{ match, fault: { kind: 'delay', ms: TIMEOUT_MS + 500 } }],
      expect: 'complete',
      settleMs: 1500,
    })
  // Faults that outlast the retries: a clean failure, and the run (when it exists) ends FAILED.
  const always = (match: FaultRule['match'], fault: Fault): FaultRule => ({
    match,
    fault,
    times: RETRY.attempts,
  })
  list.push({
    name: 'experiments/get-by-name: 503 on every try',
    rules: [always(reads[0][1], { kind: 'status', status: 503 })],
    expect: 'fail',
  })
  list.push({
    name: 'artifact upload: dropped on every try',
    rules: [always(writes[3][1], { kind: 'drop' })],
    expect: 'fail',
  })
  list.push({
    name: 'logged-models: 503 on every try',
    rules: [always(creates[2][1], { kind: 'status', status: 503 })],
    expect: 'fail',
  })
  list.push({
    name: 'model-versions/create: 503 on every try',
    rules: [always(creates[4][1], { kind: 'status', status: 503 })],
    expect: 'fail',
  })
  list.push({
    name: 'runs/log-batch: 400 (not retryable)',
    rules: [
      {
        match: writes[0][1],
        fault: {
          kind: 'status',
          status: 400,
          headers: { 'Content-Type': 'application/json' },
          body: '{"error_code":"INVALID_PARAMETER_VALUE","message":"rejected by the test"}',
        },
      },
    ],
    expect: 'fail',
  })
  return list
}

let tmp: string
let server: MlflowServer
let proxy: FaultProxy
let trained: TrainResult
const outcomes: Outcome[] = []

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'faults-itest-'))
  server = await startMlflowServer()
  proxy = await startFaultProxy(server.url)
  trained = trainModel({
    dataset: IRIS,
    targetColumn: '',
    testSize: 0.2,
    seed: 42,
    modelDir: path.join(tmp, 'model'),
  })
}, 180_000)

afterAll(async () => {
  await proxy?.close()
  await server?.stop()
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

describe('the register flow through a fault proxy in front of a real MLflow server', () => {
  const all = scenarios()

  it(`runs ${all.length} fault scenarios: each completes or fails with one line; nothing left RUNNING; no duplicates`, async () => {
    const base = { ...getRunContext({}), sha: 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed' }
    for (const [i, scenario] of all.entries()) {
      proxy.reset()
      proxy.addRules(...scenario.rules)
      const runId = `faults-${i + 1}`
      const started = Date.now()
      let error: unknown
      try {
        const registration = await registerModel({
          trackingUri: proxy.url,
          auth: {},
          experimentName: `faults-${i + 1}`,
          modelName: `faults-model-${i + 1}`,
          train: trained,
          context: { ...base, runId, runAttempt: '1' },
          retry: RETRY,
          timeoutMs: TIMEOUT_MS,
          pollIntervalMs: 100,
        })
        if (scenario.settleMs) await new Promise((r) => setTimeout(r, scenario.settleMs))
        await registration.finish()
      } catch (e) {
        error = e
      }
      outcomes.push({
        scenario,
        runId,
        completed: error === undefined,
        error: error === undefined ? undefined : errorMessage(error),
        faultsInjected: proxy.requests.filter((q) => q.fault).length,
        pending: proxy.pending().length,
        elapsedMs: Date.now() - started,
      })
      if (error !== undefined) expect(error).toBeInstanceOf(HttpError)
    }
    proxy.reset()
    // A late request still in flight (a delayed answer) must not be counted before it lands.
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS + 1500))

    const counted = countInMlflow(
      server.url,
      outcomes.map((o, i) => ({
        experiment: `faults-${i + 1}`,
        runIdTag: o.runId,
        model: `faults-model-${i + 1}`,
      })),
    )
    const rows = outcomes.map((o, i) => {
      const c = counted[i]
      return {
        scenario: o.scenario.name,
        expect: o.scenario.expect,
        completed: o.completed,
        faults: o.faultsInjected,
        pending: o.pending,
        runs: c.runs
          .map((r) => `${r.status}${r.lifecycle_stage === 'deleted' ? ' (deleted)' : ''}`)
          .join(','),
        versions: c.versions.map((v) => `${v.version}:${v.status}`).join(','),
        duplicates: duplicatesIn(c),
        removed: removedDuplicatesIn(c),
        error: o.error,
        ms: o.elapsedMs,
      }
    })
    console.log(rows.map((r) => JSON.stringify(r)).join('\n'))
    const failedCleanly = (o: Outcome): boolean =>
      !o.completed && o.error !== undefined && !o.error.includes('\n')
    const runningLeft = counted.reduce(
      (n, c) => n + c.runs.filter((r) => r.status === 'RUNNING').length,
      0,
    )
    const duplicates = counted.reduce((n, c) => n + duplicatesIn(c), 0)
    const removed = counted.reduce((n, c) => n + removedDuplicatesIn(c), 0)
    recordRobustness({
      kind: 'faults',
      runs: outcomes.length,
      completed: outcomes.filter((o) => o.completed).length,
      failedCleanly: outcomes.filter(failedCleanly).length,
      faultsInjected: outcomes.reduce((n, o) => n + o.faultsInjected, 0),
      duplicates,
      duplicatesRemoved: removed,
      runningLeft,
    })

    for (const [i, o] of outcomes.entries()) {
      const c = counted[i]
      const row = rows[i]
      // Every planned fault was really injected.
      expect({ scenario: o.scenario.name, pending: o.pending }).toEqual({
        scenario: o.scenario.name,
        pending: 0,
      })
      expect({ ...row, error: undefined, ms: undefined }).toMatchObject({
        completed: o.scenario.expect === 'complete',
        duplicates: 0,
      })
      if (o.completed) {
        const active = c.runs.filter((r) => r.lifecycle_stage === 'active')
        expect(active.map((r) => r.status)).toEqual(['FINISHED'])
        // A late duplicate run is ended FAILED and deleted, never left RUNNING.
        for (const r of c.runs.filter((x) => x.lifecycle_stage === 'deleted'))
          expect(r.status).toBe('FAILED')
        expect(c.versions.map((v) => v.status)).toEqual(['READY'])
        expect(active[0].dataset_inputs).toBe(1)
        expect(active[0].accuracy_entries).toBe(1)
      } else {
        expect(failedCleanly(o)).toBe(true)
        expect(c.runs.every((r) => r.status === 'FAILED')).toBe(true)
        expect(c.versions).toEqual([])
        if (c.runs.length > 0) expect(c.runs[0].error).toBe(o.error)
      }
    }
    expect(runningLeft).toBe(0)
    expect(duplicates).toBe(0)
  })
})
