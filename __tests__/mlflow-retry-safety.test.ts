// Unit tests: retries that must not apply a write twice (no network; the injected transport answers from a script).
// runs/outputs is not idempotent (a second identical call fails on a unique constraint), so a try whose answer
// was lost looks at the run first; every create retried after an unknown outcome is counted, which is what
// makes the registration flow look for late duplicates when the run ends. Writes that look, then insert a
// shared row (a dataset, a new alias) are sent once more when another job inserted it at the same time.
import { describe, expect, it, jest } from '@jest/globals'
import * as core from '../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { MlflowClient } = await import('../src/mlflow/client.js')

type Answer = { status?: number; data?: string }

function scripted(answers: Answer[]) {
  const sent: string[] = []
  const client = new MlflowClient({
    trackingUri: 'http://mlflow.test',
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
    sleep: async () => undefined,
    transport: {
      send: async (request) => {
        sent.push(
          `${request.method} ${request.url.replace('http://mlflow.test', '').replace(/\?.*$/, '')}`,
        )
        const next = answers.shift()
        if (!next) throw new Error('script exhausted')
        return { status: next.status ?? 200, headers: {}, body: Buffer.from(next.data ?? '{}') }
      },
    },
  })
  return { client, sent }
}

const lost: Answer = { status: 502, data: 'Bad Gateway' }
const runWith = (modelIds: string[]): Answer => ({
  data: JSON.stringify({
    run: {
      info: { run_id: 'r1' },
      data: {},
      outputs: { model_outputs: modelIds.map((model_id) => ({ model_id, step: 0 })) },
    },
  }),
})

describe('runs/outputs after a lost answer', () => {
  it('is not sent again when the run already lists the model', async () => {
    const { client, sent } = scripted([lost, runWith(['m-1'])])
    await client.logOutputs('r1', ['m-1'])
    expect(sent).toEqual(['POST /api/2.0/mlflow/runs/outputs', 'GET /api/2.0/mlflow/runs/get'])
    expect(client.retriedCreates).toBe(1)
  })

  it('is sent again when the first try did not get through', async () => {
    const { client, sent } = scripted([lost, runWith([]), {}])
    await client.logOutputs('r1', ['m-1'])
    expect(sent).toEqual([
      'POST /api/2.0/mlflow/runs/outputs',
      'GET /api/2.0/mlflow/runs/get',
      'POST /api/2.0/mlflow/runs/outputs',
    ])
  })
})

describe('retriedCreates', () => {
  it('stays 0 when only reads and idempotent writes were retried', async () => {
    const { client } = scripted([lost, {}, lost, {}])
    await client.getRun('r1').catch(() => undefined)
    await client.updateRun('r1', 'FINISHED')
    expect(client.retriedCreates).toBe(0)
  })

  it('counts a create retried after an unknown outcome', async () => {
    const created = { data: JSON.stringify({ run: { info: { run_id: 'r2' }, data: {} } }) }
    const { client } = scripted([lost, { data: '{"runs": []}' }, created])
    const run = await client.createRun(
      { experiment_id: '1', run_name: 'n', start_time: 0, tags: [] },
      async () => (await client.searchRuns(['1'], 'f', 1))[0],
    )
    expect(run.info.run_id).toBe('r2')
    expect(client.retriedCreates).toBe(1)
  })
})

describe('writes that race with another job on a unique row', () => {
  const unique: Answer = {
    status: 400,
    data: JSON.stringify({
      error_code: 'BAD_REQUEST',
      message:
        '(psycopg2.errors.UniqueViolation) duplicate key value violates unique constraint "dataset_pk"',
    }),
  }

  it('log-inputs and set-alias are sent once more after a unique-constraint 400', async () => {
    const { client, sent } = scripted([unique, {}, unique, {}])
    await client.logInputs('r1', [])
    await client.setAlias('m', 'candidate', '3')
    expect(sent).toEqual([
      'POST /api/2.0/mlflow/runs/log-inputs',
      'POST /api/2.0/mlflow/runs/log-inputs',
      'POST /api/2.0/mlflow/registered-models/alias',
      'POST /api/2.0/mlflow/registered-models/alias',
    ])
  })

  it('other 400s, and a second unique-constraint 400, still fail', async () => {
    const other: Answer = {
      status: 400,
      data: '{"error_code":"INVALID_PARAMETER_VALUE","message":"bad alias"}',
    }
    await expect(scripted([other]).client.setAlias('m', 'x', '1')).rejects.toThrow(/bad alias/)
    await expect(scripted([unique, unique]).client.logInputs('r1', [])).rejects.toThrow(
      /UniqueViolation/,
    )
  })
})
