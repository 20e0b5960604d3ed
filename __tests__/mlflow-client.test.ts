// Unit tests of the MLflow client's pure parts and its requests, with a scripted transport injected through
// the constructor (no network). The retry policy itself is tested in http-client.test.ts.
import { describe, expect, it, jest } from '@jest/globals'
import * as core from '../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { setSecret } = core
const { HttpError } = await import('../src/errors.js')
const { TransportError } = await import('../src/http/transport.js')
const {
  MlflowClient,
  artifactApiPath,
  describeErrorBody,
  DEFAULT_RETRY,
  LOG_BATCH_LIMITS,
  RUN_ERROR_TAG,
} = await import('../src/mlflow/client.js')
const { ERROR_TAG, metricKey, classMetricKeys } = await import('../src/mlflow/registration.js')
const { toYaml } = await import('../src/mlflow/mlmodel.js')
type TransportRequest = import('../src/http/transport.js').TransportRequest

type Answer = { status?: number; data?: string; headers?: Record<string, string> } | Error

const BASE = 'https://mlflow.example.com/prefix'

/** A client whose transport answers from a script; records what was sent. */
function scripted(
  answers: Answer[],
  options: { password?: string; token?: string; budgetMs?: number } = {},
) {
  const sleeps: number[] = []
  const sent: TransportRequest[] = []
  const client = new MlflowClient({
    trackingUri: `${BASE}/`,
    auth: { username: 'u', password: options.password, token: options.token },
    sleep: async (ms) => {
      sleeps.push(ms)
    },
    budgetMs: options.budgetMs,
    transport: {
      send: async (request) => {
        sent.push(request)
        const next = answers.shift()
        if (!next) throw new Error('script exhausted')
        if (next instanceof Error) throw next
        return {
          status: next.status ?? 200,
          headers: next.headers ?? {},
          body: Buffer.from(next.data ?? '{}'),
        }
      },
    },
  })
  return { client, sent, sleeps }
}

function networkError(code: string): Error {
  return new TransportError(code, `network error ${code}`)
}

describe('DEFAULT_RETRY', () => {
  it('is about 5 tries', () => {
    expect(DEFAULT_RETRY.attempts).toBe(5)
  })
})

describe('describeErrorBody', () => {
  it('reads MLflow JSON errors onto one short line', () => {
    const body = JSON.stringify({
      error_code: 'RESOURCE_ALREADY_EXISTS',
      message: 'Experiment(name=x) already exists.\n[SQL: INSERT ...]\n' + 'y'.repeat(1000),
    })
    const d = describeErrorBody(body)
    expect(d.code).toBe('RESOURCE_ALREADY_EXISTS')
    expect(d.message).not.toContain('\n')
    expect(d.message.length).toBeLessThanOrEqual(301)
  })
  it('reads plain-text and HTML answers (auth failures, proxies)', () => {
    expect(describeErrorBody('You are not authenticated.\n')).toEqual({
      message: 'You are not authenticated.',
    })
    expect(describeErrorBody('<html><body><h1>502 Bad Gateway</h1></body></html>').message).toBe(
      '502 Bad Gateway',
    )
  })
})

describe('artifactApiPath', () => {
  it('maps mlflow-artifacts URIs to the artifact API, escaping each segment', () => {
    expect(artifactApiPath('mlflow-artifacts:/1/abc/artifacts', 'model/MLmodel')).toBe(
      '/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model/MLmodel',
    )
    expect(
      artifactApiPath('mlflow-artifacts://host:5000/2/models/m-1/artifacts', 'a b#.json'),
    ).toBe('/api/2.0/mlflow-artifacts/artifacts/2/models/m-1/artifacts/a%20b%23.json')
  })
  it('says what to do when the server does not proxy artifacts', () => {
    expect(() => artifactApiPath('s3://bucket/1/abc', 'x')).toThrow(/--serve-artifacts/)
  })
})

describe('metricKey and toYaml', () => {
  it('keeps MLflow-legal metric keys', () => {
    expect(metricKey('precision.Iris-setosa')).toBe('precision.Iris-setosa')
    expect(metricKey('f1.äpfel "red"')).toBe('f1._pfel _red_')
  })
  it('gives every class its own MLflow-safe key', () => {
    const long = 'x'.repeat(300)
    const labels = ['setosa', 'a!', 'a?', 'a_', 'dir/name', long, `${long}y`, '', 'a__1']
    const keys = classMetricKeys(labels)
    expect(keys).toEqual([
      'setosa',
      'a__1_1',
      'a__2',
      'a_',
      'dir_name_4',
      `${'x'.repeat(60)}_5`,
      `${'x'.repeat(60)}_6`,
      '_7',
      'a__1',
    ])
    expect(new Set(keys).size).toBe(keys.length)
    for (const k of keys) expect(k).toMatch(/^[A-Za-z0-9_\-. ]{1,70}$/)
  })
  it('writes YAML with quoted strings', () => {
    expect(toYaml({ a: 'x: y', b: [1, 'two', { c: null }], d: {}, e: [] })).toBe(
      'a: "x: y"\nb:\n  - 1\n  - "two"\n  -\n    c: null\nd: {}\ne: []',
    )
  })
})

describe('MlflowClient.request', () => {
  it('keeps the path prefix and sends basic auth, masking the password and the encoded header', async () => {
    const { client, sent } = scripted([{ data: '{"experiment": {"experiment_id": "7"}}' }], {
      password: 'pw-123',
    })
    expect(client.baseUrl).toBe(BASE)
    const encoded = Buffer.from('u:pw-123').toString('base64')
    expect(setSecret).toHaveBeenCalledWith('pw-123')
    expect(setSecret).toHaveBeenCalledWith(encoded)
    expect((await client.getExperimentByName('x y'))?.experiment_id).toBe('7')
    expect(sent[0].url).toBe(`${BASE}/api/2.0/mlflow/experiments/get-by-name?experiment_name=x+y`)
    expect(sent[0].headers.Authorization).toBe(`Basic ${encoded}`)
  })

  it('prefers a bearer token', async () => {
    const { client, sent } = scripted([{ data: '{"run": {}}' }], { password: 'pw', token: 'tok-9' })
    await client.getRun('r')
    expect(sent[0].headers.Authorization).toBe('Bearer tok-9')
  })

  it('retries network errors, 408, 429 and 5xx, then succeeds', async () => {
    const { client, sleeps } = scripted([
      networkError('ECONNRESET'),
      { status: 503, data: 'down' },
      { status: 429, data: '', headers: { 'retry-after': '3' } },
      { status: 408, data: '' },
      { status: 200, data: '{"run": {"info": {"run_id": "r"}}}' },
    ])
    expect((await client.getRun('r')).info.run_id).toBe('r')
    expect(sleeps).toHaveLength(4)
    expect(sleeps[2]).toBeGreaterThanOrEqual(3000)
  })

  it('gives up after the bounded tries with one line naming the call, without the query string', async () => {
    const { client, sleeps } = scripted(
      Array.from({ length: 5 }, () => ({ status: 502, data: '<h1>Bad Gateway</h1>' })),
    )
    const error = await client.getRun('r').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HttpError)
    expect((error as Error).message).toBe(
      `MLflow GET ${BASE}/api/2.0/mlflow/runs/get: HTTP 502 Bad Gateway. (gave up after 5 tries)`,
    )
    expect(sleeps).toHaveLength(4)
  })

  it('does not retry client errors; 401 says which inputs to check and carries no credential', async () => {
    const { client, sleeps } = scripted(
      [{ status: 401, data: 'You are not authenticated. Please see the docs.' }],
      { password: 'pw-secret' },
    )
    const error = (await client.getRun('r').catch((e: unknown) => e)) as InstanceType<
      typeof HttpError
    >
    expect(error.status).toBe(401)
    expect(error.message).toBe(
      `MLflow GET ${BASE}/api/2.0/mlflow/runs/get: HTTP 401 You are not authenticated. Please see the docs. Check mlflow-username/mlflow-password or mlflow-token.`,
    )
    expect(error.message).not.toContain('pw-secret')
    expect(sleeps).toHaveLength(0)
  })

  it('ends a run even when the time budget is spent (the error tag and the terminal status)', async () => {
    expect(RUN_ERROR_TAG).toBe(ERROR_TAG)
    const { client, sent } = scripted([{}, {}], { budgetMs: 0 })
    await expect(client.getRun('r')).rejects.toThrow(/used up their time budget of 0 ms/)
    await expect(client.setTag('r', 'other', 'x')).rejects.toThrow(/time budget/)
    await client.setTag('r', ERROR_TAG, 'failed')
    await client.updateRun('r', 'FAILED')
    await expect(client.updateRun('r', 'RUNNING')).rejects.toThrow(/time budget/)
    expect(sent.map((r) => r.url.replace(BASE, ''))).toEqual([
      '/api/2.0/mlflow/runs/set-tag',
      '/api/2.0/mlflow/runs/update',
    ])
  })

  it('maps MLflow error codes', async () => {
    const { client } = scripted([
      { status: 404, data: '{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"No experiment"}' },
    ])
    expect(await client.getExperimentByName('nope')).toBeUndefined()
  })

  it('retries a cut-off JSON answer', async () => {
    const { client } = scripted([
      { status: 200, data: '{"run": {"info": {"ru' },
      { status: 200, data: '{"run": {"info": {"run_id": "r"}}}' },
    ])
    expect((await client.getRun('r')).info.run_id).toBe('r')
  })

  it('looks before creating again: a create whose answer was lost is not sent twice', async () => {
    const { client, sent } = scripted([{ status: 503, data: '' }])
    const lookup = jest.fn(async () => ({ info: { run_id: 'created-before' } }) as never)
    const r = await client.createRun(
      { experiment_id: '1', run_name: 'n', start_time: 1, tags: [] },
      lookup,
    )
    expect(r.info.run_id).toBe('created-before')
    expect(sent.filter((s) => s.url === `${BASE}/api/2.0/mlflow/runs/create`)).toHaveLength(1)
    expect(lookup).toHaveBeenCalledTimes(1)
  })

  it('creates again when the lookup finds nothing', async () => {
    const { client, sent } = scripted([
      networkError('ECONNRESET'),
      { data: '{"run": {"info": {"run_id": "new"}}}' },
    ])
    const r = await client.createRun(
      { experiment_id: '1', run_name: 'n', start_time: 1, tags: [] },
      async () => undefined,
    )
    expect(r.info.run_id).toBe('new')
    expect(sent).toHaveLength(2)
  })

  it('splits log-batch to MLflow limits', async () => {
    const answers = Array.from({ length: 10 }, () => ({ data: '{}' }))
    const { client, sent } = scripted(answers)
    const params = Array.from({ length: 250 }, (_, i) => ({ key: `p${i}`, value: 'v' }))
    const metrics = Array.from({ length: 1500 }, (_, i) => ({
      key: `m${i}`,
      value: i,
      timestamp: 1,
      step: 0,
    }))
    await client.logBatch('r', { params, metrics })
    const bodies = sent.map(
      (s) =>
        JSON.parse(s.body as string) as { params: unknown[]; metrics: unknown[]; tags: unknown[] },
    )
    for (const b of bodies) {
      expect(b.params.length).toBeLessThanOrEqual(LOG_BATCH_LIMITS.params)
      expect(b.metrics.length + b.params.length + b.tags.length).toBeLessThanOrEqual(
        LOG_BATCH_LIMITS.total,
      )
    }
    expect(bodies.reduce((n, b) => n + b.params.length, 0)).toBe(250)
    expect(bodies.reduce((n, b) => n + b.metrics.length, 0)).toBe(1500)
  })
})
