// Integration: the register stage against a real `mlflow server` (MLflow 3.17, sqlite, proxied artifacts)
// started by __tests__/stack/mlflow-server.ts. Every check of what was written is made by MLflow's own Python
// client (__tests__/stack/mlflow_read.py, in the server's venv), including mlflow.pyfunc.load_model on
// models:/<name>/<version> and its predictions on every dataset row. No Docker: INPUT_BUILD=false.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { HttpError } from '../src/errors.js'
import { getRunContext } from '../src/context.js'
import { registerModel, ERROR_TAG, TOKEN_TAG } from '../src/mlflow/registration.js'
import { loadDataset } from '../src/train/csv-dataset.js'
import { loadModelDirectory } from '../src/train/model-directory.js'
import { trainModel } from '../src/train/train-stage.js'
import { runActionInProcess, type InProcessResult } from './stack/in-process-action.js'
import { REPO_ROOT } from './stack/env.js'
import { startFaultProxy, type FaultProxy } from './stack/fault-proxy.js'
import {
  freePort,
  readWithMlflowPython,
  requestOnce,
  startMlflowServer,
  type MlflowServer,
} from './stack/mlflow-server.js'

// Starting MLflow takes ~10 s; a run with retries, seconds.
jest.setTimeout(300000)

/** The example dataset, copied into the workspace (path inputs are confined to it). */
let IRIS: string
const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'

let tmp: string
let server: MlflowServer

type ActionResult = InProcessResult

/** The action in-process (see stack/in-process-action.ts) on this file's workspace and commit. */
function runAction(
  inputs: Record<string, string>,
  env: Record<string, string> = {},
): Promise<ActionResult> {
  return runActionInProcess({ tmp, sha: SHA, inputs, env })
}

/** Labels the TypeScript model predicts for every row of a CSV. */
function typescriptPredictions(modelDir: string, csv: string): string[] {
  const data = loadDataset(csv, '')
  const nf = data.featureNames.length
  const rows = Array.from({ length: data.rows }, (_, i) =>
    Array.from(data.features.subarray(i * nf, (i + 1) * nf)),
  )
  return loadModelDirectory(modelDir).predict(rows)
}

interface ReadRun {
  run_id: string
  run_name: string
  status: string
  params: Record<string, string>
  metrics: Record<string, number>
  tags: Record<string, string>
  dataset_inputs: {
    name: string
    digest: string
    source_type: string
    source: string
    schema: string
    profile: string
    tags: Record<string, string>
  }[]
  model_outputs: string[]
  artifacts?: string[]
}
interface ReadVersion {
  version: string
  status: string
  run_id: string
  source: string
  tags: Record<string, string>
}
interface Read {
  experiment: { id: string; name: string; lifecycle_stage: string } | null
  runs: ReadRun[]
  experiment_logged_models: string[]
  experiment_logged_model_statuses: string[]
  run: ReadRun
  logged_models: {
    model_id: string
    status: string
    source_run_id: string
    metrics: Record<string, number>
    tags: Record<string, string>
  }[]
  versions: ReadVersion[]
  aliases: Record<string, string>
  predictions: string[]
  input_schema: string[]
  flavors: string[]
  onnx_ops: string[]
}

function read(
  request: Record<string, unknown>,
  url = server.url,
  env: NodeJS.ProcessEnv = {},
): Read {
  return readWithMlflowPython(url, request, env) as unknown as Read
}

/** A noisy two-feature CSV with awkward string labels on which no model is perfect (accuracy below 1). */
function writeNoisyCsv(file: string): void {
  let state = 11
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return state / 2 ** 31
  }
  const lines = ['x,y,label']
  for (let i = 0; i < 200; i++) {
    // String labels that need care: quotes, a comma, non-ASCII, a number-looking one.
    const labels = ['links, "L"', 'rechts-ä', '10']
    const k = i % labels.length
    const x = (k + (next() - 0.5) * 3).toFixed(4)
    lines.push(`${x},${(next() * 2).toFixed(4)},"${labels[k].replace(/"/g, '""')}"`)
  }
  fs.writeFileSync(file, lines.join('\n') + '\n')
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-itest-'))
  IRIS = path.join(tmp, 'iris.csv')
  fs.copyFileSync(path.join(REPO_ROOT, 'model', 'iris.csv'), IRIS)
  server = await startMlflowServer()
}, 180000)

afterAll(async () => {
  await server?.stop()
})

describe('register stage through run() against a real MLflow server', () => {
  let first: ActionResult

  it('registers a FINISHED run, dataset, artifacts and a READY version that mlflow.pyfunc loads and predicts with', async () => {
    first = await runAction({
      dataset: IRIS,
      'mlflow-tracking-uri': server.url + '/',
      'mlflow-experiment': 'iris-it',
      'model-name': 'iris-classifier',
    })
    expect(first.failed).toBe(false)
    const { outputs } = first
    expect(outputs['model-version']).toBe('1')
    expect(outputs['model-uri']).toBe('models:/iris-classifier/1')
    expect(outputs['run-id']).toMatch(/^[0-9a-f]{32}$/)

    const r = read({
      experiment: 'iris-it',
      run_id: outputs['run-id'],
      model_name: 'iris-classifier',
      version: '1',
      csv: IRIS,
    })
    expect(r.experiment?.lifecycle_stage).toBe('active')
    const runRead = r.run
    expect(runRead.status).toBe('FINISHED')
    // Tags: MLflow's source/git system tags and the workflow run.
    expect(runRead.tags).toMatchObject({
      'mlflow.runName': 'iris-classifier-4242-1',
      'mlflow.user': 'octocat',
      'mlflow.source.name': 'https://github.com/acme/iris/actions/runs/4242',
      'mlflow.source.type': 'JOB',
      'mlflow.source.git.commit': SHA,
      'mlflow.source.git.branch': 'main',
      'mlflow.source.git.repoURL': 'https://github.com/acme/iris',
      'github.workflow_run_url': 'https://github.com/acme/iris/actions/runs/4242',
      'github.run_id': '4242',
      'github.run_attempt': '1',
    })
    expect(runRead.tags[TOKEN_TAG]).toMatch(/^[0-9a-f-]{36}$/)
    expect(runRead.tags[ERROR_TAG]).toBeUndefined()
    // Params: every training setting, the split and the dataset.
    const train = trainModel({
      dataset: IRIS,
      targetColumn: '',
      testSize: 0.2,
      seed: 42,
      modelDir: path.join(tmp, 'expected'),
    })
    expect(runRead.params).toEqual(train.params)
    expect(runRead.params).toMatchObject({
      test_size: '0.2',
      seed: '42',
      dataset: 'iris.csv',
      feature_count: '4',
    })
    // Metrics: every holdout metric.
    expect(runRead.metrics.accuracy).toBeCloseTo(Number(outputs.accuracy), 12)
    expect(runRead.metrics.accuracy).toBeCloseTo(train.metrics.accuracy, 12)
    for (const key of [
      'precision_macro',
      'recall_macro',
      'f1_macro',
      'train_size',
      'test_size',
      'precision.setosa',
      'recall.virginica',
      'f1.versicolor',
      'support.setosa',
    ]) {
      expect(runRead.metrics).toHaveProperty([key])
    }
    expect(runRead.metrics.test_size).toBe(30)
    // The dataset input.
    expect(runRead.dataset_inputs).toHaveLength(1)
    const ds = runRead.dataset_inputs[0]
    const digest = crypto.createHash('sha256').update(fs.readFileSync(IRIS)).digest('hex')
    expect(ds.name).toBe('iris.csv')
    expect(digest.startsWith(ds.digest)).toBe(true)
    expect(ds.tags['mlflow.data.context']).toBe('training')
    expect(JSON.parse(ds.source).uri).toBe(`file://${IRIS}`)
    expect(JSON.parse(ds.schema).mlflow_colspec.map((c: { name: string }) => c.name)).toEqual([
      'sepal_length',
      'sepal_width',
      'petal_length',
      'petal_width',
      'species',
    ])
    expect(JSON.parse(ds.profile)).toMatchObject({ num_rows: 150, sha256: digest })
    // Run artifacts: metrics and confusion matrix. The model files are stored once, in the logged model.
    expect(runRead.artifacts).toEqual(['confusion_matrix.json', 'metrics.json'])
    // The LoggedModel, as complete as mlflow.sklearn.log_model's: metrics linked to it, source and user tags.
    expect(r.logged_models).toHaveLength(1)
    expect(r.logged_models[0].status).toContain('READY')
    expect(r.logged_models[0].source_run_id).toBe(runRead.run_id)
    expect(r.logged_models[0].metrics.accuracy).toBeCloseTo(train.metrics.accuracy, 12)
    expect(Object.keys(r.logged_models[0].metrics).sort()).toEqual(
      Object.keys(runRead.metrics).sort(),
    )
    expect(r.logged_models[0].tags).toMatchObject({
      'mlflow.user': 'octocat',
      'mlflow.source.name': 'https://github.com/acme/iris/actions/runs/4242',
      'mlflow.source.type': 'JOB',
      'mlflow.source.git.commit': SHA,
    })
    expect(r.versions).toHaveLength(1)
    const v = r.versions[0]
    expect(v.status).toBe('READY')
    expect(v.run_id).toBe(runRead.run_id)
    expect(v.source).toBe(`models:/${r.logged_models[0].model_id}`)
    expect(v.tags).toMatchObject({
      git_commit: SHA,
      dataset_digest: digest,
      accuracy: outputs.accuracy,
    })
    // The register stage sets no alias (publish does, after every gate); here every gate passed.
    expect(Object.values(r.aliases).every((v) => v === '1')).toBe(true)
    // MLflow's own loader: flavors, signature, and the same labels as the TypeScript model on every row.
    expect(r.flavors).toEqual(['onnx', 'python_function'])
    expect(r.input_schema).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width'])
    expect(r.onnx_ops).toEqual(['Sub', 'Div', 'MatMul', 'Add', 'Sigmoid', 'ArgMin', 'Gather'])
    const expected = typescriptPredictions(outputs['model-dir'], IRIS)
    expect(r.predictions).toHaveLength(150)
    expect(r.predictions).toEqual(expected)
    // The summary links the run and the version in the MLflow UI.
    expect(first.summary).toContain(
      `${server.url}/#/experiments/${r.experiment?.id}/runs/${runRead.run_id}`,
    )
    expect(first.summary).toContain(`${server.url}/#/models/iris-classifier/versions/1`)
  })

  it('a second run makes version 2 of the same registered model', async () => {
    const second = await runAction({
      dataset: IRIS,
      'mlflow-tracking-uri': server.url,
      'mlflow-experiment': 'iris-it',
      'model-name': 'iris-classifier',
    })
    expect(second.failed).toBe(false)
    expect(second.outputs['model-version']).toBe('2')
    const r = read({ experiment: 'iris-it', model_name: 'iris-classifier' })
    expect(r.versions.map((v) => [v.version, v.status])).toEqual([
      ['1', 'READY'],
      ['2', 'READY'],
    ])
    expect(r.runs).toHaveLength(2)
    expect(r.runs.every((x) => x.status === 'FINISHED')).toBe(true)
    expect(new Set(r.versions.map((v) => v.run_id))).toEqual(new Set(r.runs.map((x) => x.run_id)))
  })

  it('skips with a notice and empty outputs when no tracking URI is set', async () => {
    const result = await runAction({ dataset: IRIS })
    expect(result.failed).toBe(false)
    expect(result.stdout).toMatch(/::notice::No MLflow tracking URI/)
    expect(result.outputs['run-id']).toBe('')
    expect(result.outputs['model-version']).toBe('')
    expect(result.outputs['model-uri']).toBe('')
  })

  it('a stage failing after registration (the accuracy gate) leaves the run FAILED with the error as a tag', async () => {
    const csv = path.join(tmp, 'noisy.csv')
    writeNoisyCsv(csv)
    const result = await runAction({
      dataset: csv,
      'min-accuracy': '1',
      'mlflow-tracking-uri': server.url,
      'mlflow-experiment': 'gate-it',
      'model-name': 'noisy',
    })
    expect(result.failed).toBe(true)
    expect(Number(result.outputs.accuracy)).toBeLessThan(1)
    expect(result.outputs['run-id']).toMatch(/^[0-9a-f]{32}$/)
    const r = read({
      experiment: 'gate-it',
      run_id: result.outputs['run-id'],
      model_name: 'noisy',
      version: '1',
      csv,
    })
    expect(r.run.status).toBe('FAILED')
    expect(r.run.tags[ERROR_TAG]).toMatch(/below min-accuracy 1/)
    // The version exists (registered before the gate) and still predicts as the TypeScript model does.
    expect(r.versions.map((v) => v.status)).toEqual(['READY'])
    // A failed gate: no alias on the version.
    expect(r.aliases).toEqual({})
    expect(r.predictions).toEqual(typescriptPredictions(result.outputs['model-dir'], csv))
    expect(new Set(r.predictions)).toEqual(new Set(['links, "L"', 'rechts-ä', '10']))
  })
})

describe('register stage: experiments and failures', () => {
  const context = { ...getRunContext({}), sha: SHA, actor: 'octocat' }
  const quickRetry = { attempts: 5, baseDelayMs: 20, maxDelayMs: 100 }
  let trained: ReturnType<typeof trainModel>

  beforeAll(() => {
    trained = trainModel({
      dataset: IRIS,
      targetColumn: '',
      testSize: 0.2,
      seed: 42,
      modelDir: path.join(tmp, 'direct'),
    })
  })

  it('restores a deleted experiment and uses it', async () => {
    const api = `${server.url}/api/2.0/mlflow`
    const created = (
      await requestOnce(`${api}/experiments/create`, { body: { name: 'restored-it' } })
    ).json<{ experiment_id: string }>()
    const deleted = await requestOnce(`${api}/experiments/delete`, {
      body: { experiment_id: created.experiment_id },
    })
    expect(deleted.status).toBe(200)
    expect(read({ experiment: 'restored-it' }).experiment?.lifecycle_stage).toBe('deleted')

    const registration = await registerModel({
      trackingUri: server.url,
      auth: {},
      experimentName: 'restored-it',
      modelName: 'restored-model',
      train: trained,
      context,
      retry: quickRetry,
    })
    await registration.finish()
    expect(registration.experimentId).toBe(created.experiment_id)
    const r = read({ experiment: 'restored-it', run_id: registration.runId })
    expect(r.experiment).toMatchObject({ id: created.experiment_id, lifecycle_stage: 'active' })
    expect(r.runs.map((x) => x.run_id)).toEqual([registration.runId])
    expect(r.run.status).toBe('FINISHED')
    // The stage itself sets no alias.
    expect(read({ experiment: 'restored-it', model_name: 'restored-model' }).aliases).toEqual({})
  })

  it('two jobs racing on a new experiment and model both succeed: one experiment, versions 1 and 2', async () => {
    const both = await Promise.all(
      [1, 2].map(async (n) => {
        const registration = await registerModel({
          trackingUri: server.url,
          auth: {},
          experimentName: 'race-it',
          modelName: 'race-model',
          train: trained,
          context: { ...context, runId: String(n) },
          retry: quickRetry,
        })
        await registration.finish()
        return registration
      }),
    )
    expect(both[0].experimentId).toBe(both[1].experimentId)
    expect(both.map((b) => b.modelVersion).sort()).toEqual(['1', '2'])
    const r = read({ experiment: 'race-it', model_name: 'race-model' })
    expect(r.runs.map((x) => x.status)).toEqual(['FINISHED', 'FINISHED'])
    expect(r.versions.map((v) => v.status)).toEqual(['READY', 'READY'])
  })

  it('fails with one clear line after the bounded retries when the server is down', async () => {
    const port = await freePort()
    const started = Date.now()
    const error = await registerModel({
      trackingUri: `http://127.0.0.1:${port}`,
      auth: {},
      experimentName: 'down',
      modelName: 'down',
      train: trained,
      context,
      retry: quickRetry,
    }).then(
      () => undefined,
      (e: unknown) => e,
    )
    const elapsed = Date.now() - started
    expect(error).toBeInstanceOf(HttpError)
    const message = (error as Error).message
    expect(message).not.toContain('\n')
    expect(message).toBe(
      `MLflow GET http://127.0.0.1:${port}/api/2.0/mlflow/experiments/get-by-name: connection refused (is the server up?) (gave up after 5 tries)`,
    )
    // 4 waits of at most 20, 40, 80, 100 ms.
    expect(elapsed).toBeLessThan(5000)
  })
})

describe('register stage through a proxy that fails requests, then recovers', () => {
  let proxy: FaultProxy

  beforeAll(async () => {
    // Behind a path prefix, as behind a reverse proxy: the client must keep it.
    proxy = await startFaultProxy(server.url, { pathPrefix: '/mlflow' })
  })
  afterAll(async () => {
    await proxy?.close()
  })

  it('answers 503 twice, loses the answers of creates, throttles with 429: completes with no duplicate run or version', async () => {
    proxy.addRules(
      // The server "down" for two requests, then back.
      { fault: { kind: 'status', status: 503, body: 'Service Unavailable' }, times: 2 },
      // Creates applied by the server but their answers lost: the retry must look before creating again.
      {
        match: { method: 'POST', path: '/api/2.0/mlflow/runs/create' },
        fault: { kind: 'status', status: 503, forward: true },
      },
      {
        match: { method: 'POST', path: '/api/2.0/mlflow/logged-models' },
        fault: { kind: 'drop', forward: true },
      },
      {
        match: { method: 'POST', path: '/api/2.0/mlflow/model-versions/create' },
        fault: { kind: 'status', status: 502, forward: true },
      },
      // Throttled, with Retry-After.
      {
        match: { method: 'POST', path: '/api/2.0/mlflow/runs/log-batch' },
        fault: { kind: 'status', status: 429, headers: { 'Retry-After': '1' } },
      },
      // Creates whose answers are cut off (connection closed early; a short body): applied, then looked up.
      {
        match: { method: 'POST', path: '/api/2.0/mlflow/experiments/create' },
        fault: { kind: 'truncate', bytes: 5, keepLength: true },
      },
      {
        match: { method: 'POST', path: '/api/2.0/mlflow/registered-models/create' },
        fault: { kind: 'truncate', bytes: 5 },
      },
      // A slow upload (the model files are uploaded once, to the logged model).
      {
        match: { method: 'PUT', path: /\/model\.onnx$/ },
        fault: { kind: 'delay', ms: 300 },
      },
    )
    const started = Date.now()
    const result = await runAction({
      dataset: IRIS,
      'mlflow-tracking-uri': `${proxy.url}/mlflow/`,
      'mlflow-experiment': 'faults-it',
      'model-name': 'faulty',
    })
    const elapsed = Date.now() - started
    expect(result.failed).toBe(false)
    expect(proxy.pending()).toEqual([])
    const applied = proxy.requests.filter((q) => q.fault).map((q) => `${q.fault} ${q.status}`)
    expect(applied.sort()).toEqual([
      'delay 200',
      'drop undefined',
      'status 429',
      'status 502',
      'status 503',
      'status 503',
      'status 503',
      'truncate 200',
      'truncate 200',
    ])
    // Every request went through the prefix.
    expect(proxy.requests.filter((q) => !q.fault && !q.forwarded)).toEqual([])
    expect(result.summary).toContain(`${proxy.url}/mlflow/#/models/faulty/versions/1`)
    expect(result.stdout).toMatch(/the earlier try had succeeded; not sending it again/)
    const r = read({
      experiment: 'faults-it',
      run_id: result.outputs['run-id'],
      model_name: 'faulty',
      version: '1',
      csv: IRIS,
    })
    expect(r.runs).toHaveLength(1)
    expect(r.run.status).toBe('FINISHED')
    expect(r.logged_models).toHaveLength(1)
    expect(r.experiment_logged_models).toEqual([r.logged_models[0].model_id])
    expect(r.versions.map((v) => [v.version, v.status])).toEqual([['1', 'READY']])
    expect(result.outputs['model-version']).toBe('1')
    expect(r.predictions).toEqual(typescriptPredictions(result.outputs['model-dir'], IRIS))
    // Retry-After: 1 was honoured.
    expect(elapsed).toBeGreaterThan(1000)
    console.log(`proxy run with 10 faults took ${elapsed} ms`)
  })
})

describe('register stage with basic auth (mlflow server --app-name basic-auth)', () => {
  let authServer: MlflowServer
  const right = `Right-${crypto.randomBytes(9).toString('base64url')}`
  const wrong = `Wrong-${crypto.randomBytes(9).toString('base64url')}`

  beforeAll(async () => {
    authServer = await startMlflowServer({
      basicAuth: { adminUsername: 'admin', adminPassword: right },
    })
  }, 180000)
  afterAll(async () => {
    await authServer?.stop()
  })

  /** Lines a runner would show: ::add-mask:: commands are consumed by the runner, never displayed. */
  function shownLines(stdout: string): string[] {
    return stdout.split('\n').filter((l) => !l.startsWith('::add-mask::'))
  }

  it('works with the right password; the password never shows', async () => {
    const result = await runAction({
      dataset: IRIS,
      'mlflow-tracking-uri': authServer.url,
      'mlflow-experiment': 'auth-it',
      'model-name': 'guarded',
      'mlflow-username': 'admin',
      'mlflow-password': right,
    })
    expect(result.failed).toBe(false)
    expect(result.outputs['model-version']).toBe('1')
    const basic = Buffer.from(`admin:${right}`).toString('base64')
    expect(result.stdout).toContain(`::add-mask::${right}`)
    expect(result.stdout).toContain(`::add-mask::${basic}`)
    for (const line of shownLines(result.stdout)) {
      expect(line).not.toContain(right)
      expect(line).not.toContain(basic)
    }
    expect(result.summary).not.toContain(right)
    const r = read(
      {
        experiment: 'auth-it',
        run_id: result.outputs['run-id'],
        model_name: 'guarded',
        version: '1',
        csv: IRIS,
      },
      authServer.url,
      {
        MLFLOW_TRACKING_USERNAME: 'admin',
        MLFLOW_TRACKING_PASSWORD: right,
      },
    )
    expect(r.run.status).toBe('FINISHED')
    expect(r.predictions).toEqual(typescriptPredictions(result.outputs['model-dir'], IRIS))
  })

  it('fails with one clear line on a wrong password, and neither password shows', async () => {
    const result = await runAction(
      {
        dataset: IRIS,
        'mlflow-tracking-uri': authServer.url,
        'mlflow-experiment': 'auth-it',
        'model-name': 'guarded',
      },
      // From MLflow's own environment variables this time.
      { MLFLOW_TRACKING_USERNAME: 'admin', MLFLOW_TRACKING_PASSWORD: wrong },
    )
    expect(result.failed).toBe(true)
    const errors = result.stdout.split('\n').filter((l) => l.startsWith('::error'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(
      /^::error::HttpError: MLflow GET \S*\/api\/2\.0\/mlflow\/experiments\/get-by-name: HTTP 401 .*Check mlflow-username\/mlflow-password or mlflow-token\.$/,
    )
    for (const line of shownLines(result.stdout)) {
      expect(line).not.toContain(wrong)
      expect(line).not.toContain(right)
      expect(line).not.toContain(Buffer.from(`admin:${wrong}`).toString('base64'))
    }
    expect(result.summary).not.toContain(wrong)
    // Not retried: a 401 is not transient.
    expect(result.stdout).not.toMatch(/retry 1 of/)
  })

  it('403 on the new version: one line naming user, model and permission; the run FAILED, no READY logged model left', async () => {
    const admin = { Authorization: `Basic ${Buffer.from(`admin:${right}`).toString('base64')}` }
    const api = async (method: string, endpoint: string, body: unknown) => {
      const r = await requestOnce(`${authServer.url}/api/${endpoint}`, {
        method,
        headers: admin,
        body,
      })
      if (r.status !== 200) throw new Error(`${endpoint}: ${r.status} ${r.text}`)
      return r.json<Record<string, string>>()
    }
    const botPassword = `Bot-${crypto.randomBytes(9).toString('base64url')}`
    await api('POST', '2.0/mlflow/users/create', { username: 'ci-bot', password: botPassword })
    const { experiment_id } = await api('POST', '2.0/mlflow/experiments/create', {
      name: 'perm-it',
    })
    // MLflow 3.17's basic-auth app grants through its v3 permissions API.
    await api('POST', '3.0/mlflow/users/permissions/grant', {
      username: 'ci-bot',
      resource_type: 'experiment',
      resource_id: experiment_id,
      permission: 'EDIT',
    })
    // The model exists already (made by the admin): ci-bot has the default READ on it.
    await api('POST', '2.0/mlflow/registered-models/create', { name: 'perm-model' })
    const result = await runAction({
      dataset: IRIS,
      'mlflow-tracking-uri': authServer.url,
      'mlflow-experiment': 'perm-it',
      'model-name': 'perm-model',
      'mlflow-username': 'ci-bot',
      'mlflow-password': botPassword,
    })
    expect(result.failed).toBe(true)
    const errors = result.stdout.split('\n').filter((l) => l.startsWith('::error'))
    expect(errors).toEqual([
      `::error::HttpError: MLflow POST ${authServer.url}/api/2.0/mlflow/model-versions/create: HTTP 403 permission denied: user 'ci-bot' needs EDIT on registered model 'perm-model'; ask an MLflow admin to grant it (README: "MLflow permissions").`,
    ])
    const r = read({ experiment: 'perm-it' }, authServer.url, {
      MLFLOW_TRACKING_USERNAME: 'admin',
      MLFLOW_TRACKING_PASSWORD: right,
    })
    expect(r.runs.map((x) => x.status)).toEqual(['FAILED'])
    expect(r.runs[0].tags[ERROR_TAG]).toContain('HTTP 403')
    // The logged model this run made was withdrawn: deleted, or marked failed; never READY.
    expect(r.experiment_logged_model_statuses.filter((s) => s.includes('READY'))).toEqual([])
  })
})
