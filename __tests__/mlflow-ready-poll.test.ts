// Unit: waiting for a new model version to become READY runs on the one poll loop and the client's clock
// (no bare setTimeout): a constant interval, FAILED_REGISTRATION ends it, the timeout ends it. No network.
import { describe, expect, it, jest } from '@jest/globals'
import * as core from '../__fixtures__/core.js'
import { fakeClock } from './support/fake-clock.js'

jest.unstable_mockModule('@actions/core', () => core)
const { MlflowClient } = await import('../src/mlflow/client.js')
const { waitUntilReady } = await import('../src/mlflow/registration.js')

function clientAnswering(statuses: string[]) {
  const clock = fakeClock()
  const client = new MlflowClient({
    trackingUri: 'http://mlflow.test',
    clock,
    transport: {
      send: async () => {
        const status = statuses.shift() ?? 'PENDING_REGISTRATION'
        const body = { model_version: { name: 'm', version: '3', status, source: 's' } }
        return { status: 200, headers: {}, body: Buffer.from(JSON.stringify(body)) }
      },
    },
  })
  return { client, clock }
}

const pending = { name: 'm', version: '3', status: 'PENDING_REGISTRATION', source: 's' }

describe('waitUntilReady', () => {
  it('polls at a constant interval on the client clock until READY', async () => {
    const { client, clock } = clientAnswering(['PENDING_REGISTRATION', 'READY'])
    await expect(waitUntilReady(client, pending, 1000, 300_000)).resolves.toMatchObject({
      status: 'READY',
    })
    expect(clock.sleeps).toEqual([1000, 1000])
  })

  it('fails on FAILED_REGISTRATION and after the timeout, with one line', async () => {
    const failed = clientAnswering(['FAILED_REGISTRATION'])
    await expect(waitUntilReady(failed.client, pending, 1000, 300_000)).rejects.toThrow(
      'MLflow could not register m version 3: FAILED_REGISTRATION',
    )
    const slow = clientAnswering([])
    await expect(waitUntilReady(slow.client, pending, 1000, 5000)).rejects.toThrow(
      'MLflow model m version 3 is still PENDING_REGISTRATION after 5 s',
    )
    expect(slow.clock.sleeps).toEqual([1000, 1000, 1000, 1000, 1000])
  })
})
