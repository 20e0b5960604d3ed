// Integration: a self-hosted runner behind a corporate proxy. The tracking host's name (mlflow.internal.test)
// resolves only at a forward proxy of the project's own on 127.0.0.1 (__tests__/stack/forward-proxy.ts), which
// maps it to a real `mlflow server`. With HTTP_PROXY (or http_proxy) in the environment, a full registration
// (experiment, run, params, metrics, dataset, artifacts, logged model, READY version, run FINISHED) goes
// through the proxy; MLflow's Python client, reading the server directly, checks what landed. Without the
// proxy, and with the host in NO_PROXY, the same name fails with one line.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { getRunContext } from '../src/context.js'
import { HttpError } from '../src/errors.js'
import { MlflowClient } from '../src/mlflow/client.js'
import { registerModel } from '../src/mlflow/registration.js'
import { trainModel, type TrainResult } from '../src/train/train-stage.js'
import { REPO_ROOT } from './stack/env.js'
import { startForwardProxy, type ForwardProxy } from './stack/forward-proxy.js'
import {
  readWithMlflowPython,
  startMlflowServer,
  type MlflowServer,
} from './stack/mlflow-server.js'

jest.setTimeout(300_000)

const IRIS = path.join(REPO_ROOT, 'model', 'iris.csv')
const HOST = 'mlflow.internal.test'
const TRACKING_URI = `http://${HOST}:5000`
const PROXY_VARIABLES = [
  'HTTP_PROXY',
  'http_proxy',
  'HTTPS_PROXY',
  'https_proxy',
  'NO_PROXY',
  'no_proxy',
]

let server: MlflowServer
let proxy: ForwardProxy
let tmp: string
let trained: TrainResult

/** Runs fn with exactly these proxy variables set (the others unset), then restores the environment. */
async function withProxyEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(PROXY_VARIABLES.map((k) => [k, process.env[k]]))
  for (const k of PROXY_VARIABLES) delete process.env[k]
  Object.assign(process.env, vars)
  try {
    return await fn()
  } finally {
    for (const k of PROXY_VARIABLES) {
      if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
  }
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-proxy-itest-'))
  // The server must accept the public name in the Host header (MLflow 3 refuses others: DNS rebinding).
  server = await startMlflowServer({ allowedHosts: [HOST, `${HOST}:5000`] })
  proxy = await startForwardProxy({ [`${HOST}:5000`]: server.port })
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

describe('MLflow through a forward proxy from the environment', () => {
  it('the tracking host does not resolve without the proxy, nor when NO_PROXY names it', async () => {
    const cases: Record<string, string>[] = [
      {},
      { HTTP_PROXY: proxy.url, NO_PROXY: `localhost,.internal.test` },
    ]
    for (const vars of cases) {
      const before = proxy.requests.length
      const error = await withProxyEnv(vars, () =>
        new MlflowClient({ trackingUri: TRACKING_URI, retry: { attempts: 1 } })
          .getExperimentByName('x')
          .catch((e: unknown) => e),
      )
      expect(error).toBeInstanceOf(HttpError)
      expect((error as Error).message).toMatch(
        /^MLflow GET http:\/\/mlflow\.internal\.test:5000\/api\/2\.0\/mlflow\/experiments\/get-by-name: (the host name does not resolve|network error \S+) \(gave up after 1 tries\)$/,
      )
      expect(proxy.requests.length).toBe(before)
    }
  })

  it('carries a full registration, checked with MLflow’s Python client on the server itself', async () => {
    const context = {
      ...getRunContext({}),
      sha: 'c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ff',
      runId: 'proxy-1',
      runAttempt: '1',
    }
    const registration = await withProxyEnv(
      { http_proxy: proxy.url, NO_PROXY: 'localhost' },
      async () => {
        const r = await registerModel({
          trackingUri: TRACKING_URI,
          auth: {},
          experimentName: 'proxied',
          modelName: 'proxied-model',
          train: trained,
          context,
          pollIntervalMs: 100,
        })
        await r.finish()
        return r
      },
    )
    expect(registration.runUrl.startsWith(`${TRACKING_URI}/#/experiments/`)).toBe(true)

    const tunnels = proxy.requests.filter((q) => q.kind === 'connect')
    expect(tunnels.length).toBeGreaterThan(10)
    expect(new Set(proxy.requests.map((q) => `${q.kind} ${q.target} ${q.status}`))).toEqual(
      new Set([`connect ${HOST}:5000 200`]),
    )

    const read = readWithMlflowPython(server.url, {
      experiment: 'proxied',
      run_id: registration.runId,
      model_name: 'proxied-model',
      version: registration.modelVersion,
      csv: IRIS,
    }) as {
      run: {
        status: string
        params: Record<string, string>
        metrics: Record<string, number>
        artifacts: string[]
        dataset_inputs: unknown[]
        model_outputs: string[]
      }
      versions: { version: string; status: string; run_id: string }[]
      predictions: string[]
    }
    expect(read.run.status).toBe('FINISHED')
    expect(read.run.params).toEqual(trained.params)
    expect(read.run.metrics.accuracy).toBeCloseTo(trained.metrics.accuracy, 12)
    expect(read.run.dataset_inputs).toHaveLength(1)
    expect(read.run.model_outputs).toEqual([registration.modelId])
    // MLflow 3: the model files live in the logged model (loaded below through the version), stored once.
    expect(read.run.artifacts).toEqual(
      expect.arrayContaining(['metrics.json', 'confusion_matrix.json']),
    )
    expect(read.versions).toEqual([
      expect.objectContaining({ version: '1', status: 'READY', run_id: registration.runId }),
    ])
    expect(read.predictions).toHaveLength(150)
  })
})
