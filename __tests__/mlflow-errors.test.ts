// The one-line errors of issue 11, each with the exact line it prints: an HTML page, a redirect, a 403 naming
// the user, the resource and the permission, the overload answers (retried), and tracking URIs copied from the
// browser or carrying a query string (never printed). Unit: the client's transport is replaced (no network).
import { describe, expect, it, jest } from '@jest/globals'

import * as core from '../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { info, notice } = core
const { MlflowClient } = await import('../src/mlflow/client.js')
const { classifyAnswer, isOverloadAnswer, printableUrl } = await import('../src/mlflow/errors.js')
const { detectCapabilities, parseRelease, releaseBefore } =
  await import('../src/mlflow/capabilities.js')
const { parseServiceUrl, redactUrl } = await import('../src/inputs.js')

type Answer = { status?: number; data?: string; headers?: Record<string, string> }

const BASE = 'https://mlflow.example.com'

/** A client whose transport answers from a script; records what was sent. */
function scripted(
  answers: Answer[],
  auth: { username?: string; password?: string; token?: string } = {},
) {
  const sent: { method: string; url: string }[] = []
  const client = new MlflowClient({
    trackingUri: BASE,
    auth,
    retry: { attempts: 3 },
    sleep: async () => undefined,
    transport: {
      send: async (request) => {
        sent.push({ method: request.method, url: request.url })
        const next = answers.shift()
        if (!next) throw new Error('script exhausted')
        return {
          status: next.status ?? 200,
          headers: next.headers ?? {},
          body: Buffer.from(next.data ?? '{}'),
        }
      },
    },
  })
  return { client, sent }
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    return (error as Error).message
  }
  throw new Error('expected a failure')
}

const LOGIN_PAGE =
  '<!DOCTYPE html><html><head><title>Sign in</title></head><body>Log in</body></html>'

describe('one-line errors of the MLflow client', () => {
  it('an HTML page where JSON was expected: says so and suggests the path prefix; not retried', async () => {
    const { client, sent } = scripted([
      { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, data: LOGIN_PAGE },
    ])
    expect(await failure(client.getExperimentByName('iris'))).toBe(
      "MLflow GET https://mlflow.example.com/api/2.0/mlflow/experiments/get-by-name: HTTP 200 with an HTML page where MLflow's JSON API was expected (a sign-in page, a proxy, or a wrong path prefix); if MLflow is served under a path, put it in mlflow-tracking-uri (e.g. https://host/mlflow).",
    )
    expect(sent).toHaveLength(1)
  })

  it('an HTML 404 (no API at this address)', async () => {
    const { client } = scripted([{ status: 404, headers: {}, data: LOGIN_PAGE }])
    expect(await failure(client.getExperimentByName('iris'))).toBe(
      'MLflow GET https://mlflow.example.com/api/2.0/mlflow/experiments/get-by-name: HTTP 404 with an HTML page: no MLflow API at this address (a wrong path prefix, or an MLflow server without this call); if MLflow is served under a path, put it in mlflow-tracking-uri (e.g. https://host/mlflow).',
    )
  })

  it('a redirect (SSO in front of MLflow): says where it points, without its query string; not retried', async () => {
    const { client, sent } = scripted([
      {
        status: 302,
        headers: { location: 'https://sso.example.com/login?client_secret=s3cr3t&next=/api' },
        data: '',
      },
    ])
    const message = await failure(client.getExperimentByName('iris'))
    expect(message).toBe(
      "MLflow GET https://mlflow.example.com/api/2.0/mlflow/experiments/get-by-name: HTTP 302 redirect to https://sso.example.com/login?…, likely a sign-in page in front of MLflow; the action needs MLflow's REST API itself: give mlflow-tracking-uri an address that answers the API without a browser sign-in (credentials in mlflow-token or mlflow-username/mlflow-password).",
    )
    expect(message).not.toContain('s3cr3t')
    expect(sent).toHaveLength(1)
  })

  it('403 on a new version: the user, the registered model and the permission', async () => {
    const { client } = scripted([{ status: 403, data: 'Permission denied' }], {
      username: 'ci-bot',
      password: 'pw',
    })
    const message = await failure(
      client.createModelVersion({ name: 'iris-classifier', source: 's', run_id: 'r', tags: [] }),
    )
    expect(message).toBe(
      "MLflow POST https://mlflow.example.com/api/2.0/mlflow/model-versions/create: HTTP 403 permission denied: user 'ci-bot' needs EDIT on registered model 'iris-classifier'; ask an MLflow admin to grant it (README: \"MLflow permissions\").",
    )
  })

  it('403 on a new run: the experiment by name and id', async () => {
    const { client } = scripted([{ status: 403, data: 'Permission denied' }], {
      username: 'ci-bot',
      password: 'pw',
    })
    client.errorContext.experimentNames = { '7': 'iris' }
    const message = await failure(
      client.createRun({ experiment_id: '7', run_name: 'r', start_time: 1, tags: [] }),
    )
    expect(message).toBe(
      "MLflow POST https://mlflow.example.com/api/2.0/mlflow/runs/create: HTTP 403 permission denied: user 'ci-bot' needs EDIT on experiment 'iris' (7); ask an MLflow admin to grant it (README: \"MLflow permissions\").",
    )
  })

  it('403 with a token (user unknown) on an artifact upload', async () => {
    const { client } = scripted([{ status: 403, data: 'Permission denied' }], { token: 't' })
    const message = await failure(
      client.uploadArtifact('mlflow-artifacts:/7/abc/artifacts', 'metrics.json', Buffer.from('{}')),
    )
    expect(message).toBe(
      'MLflow PUT https://mlflow.example.com/api/2.0/mlflow-artifacts/artifacts/7/abc/artifacts/metrics.json: HTTP 403 permission denied: the MLflow user of mlflow-token needs EDIT on experiment 7; ask an MLflow admin to grant it (README: "MLflow permissions").',
    )
  })

  it('overload answers are transient: retried, then the call succeeds', async () => {
    const { client, sent } = scripted([
      {
        status: 400,
        data: JSON.stringify({
          error_code: 'BAD_REQUEST',
          message: '(sqlite3.OperationalError) database is locked [SQL: INSERT INTO runs ...]',
        }),
      },
      {
        status: 400,
        data: JSON.stringify({
          error_code: 'BAD_REQUEST',
          message:
            'QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00',
        }),
      },
      { status: 200, data: '{}' },
    ])
    await client.setTag('r', 'k', 'v')
    expect(sent).toHaveLength(3)
    expect(info).toHaveBeenCalledWith(
      expect.stringMatching(
        /^MLflow POST https:\/\/mlflow\.example\.com\/api\/2\.0\/mlflow\/runs\/set-tag: HTTP 400 server busy: database is locked \(sqlite's write lock\); retry 1 of 2 in \d+ ms$/,
      ),
    )
    expect(isOverloadAnswer(400, 'QueuePool limit of size 5 overflow 10 reached')).toBe(true)
    expect(isOverloadAnswer(400, 'RESOURCE_ALREADY_EXISTS')).toBe(false)
  })

  it('ending a run is the most persistent call: three times the tries', async () => {
    const busy = { status: 503, data: 'busy' }
    const { client, sent } = scripted([busy, busy, busy, busy, busy, { status: 200, data: '{}' }])
    await client.updateRun('r', 'FAILED')
    expect(sent).toHaveLength(6)
  })

  it('other answers keep the generic handling', () => {
    expect(
      classifyAnswer({ method: 'GET', path: '/x', status: 400, text: '{"error_code":"X"}' }),
    ).toBeUndefined()
    expect(printableUrl('https://u:p@h.example/p?k=1#f')).toBe('https://h.example/p?…')
  })
})

describe('the tracking URI', () => {
  it('the address copied from the browser: the part before # is used, and the log says so', () => {
    notice.mockClear()
    expect(
      parseServiceUrl(
        'mlflow-tracking-uri',
        'https://mlflow.example.com/#/experiments/3?searchFilter=x',
        'pass mlflow-token',
      ),
    ).toBe('https://mlflow.example.com')
    expect(notice).toHaveBeenCalledWith(
      "Input 'mlflow-tracking-uri': using https://mlflow.example.com, the part before '#' (the rest is a page of the web UI, not the server's address).",
    )
  })

  it('a query string: fails at once naming the input, and never prints it', () => {
    let message = ''
    try {
      parseServiceUrl(
        'mlflow-tracking-uri',
        'https://mlflow.example.com/?api_key=s3cr3t',
        'pass mlflow-username/mlflow-password or mlflow-token (as secrets) instead',
      )
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toBe(
      "Input 'mlflow-tracking-uri' has a query string (not shown: it may hold a key), which the server's API does not take: remove it and pass mlflow-username/mlflow-password or mlflow-token (as secrets) instead.",
    )
    expect(redactUrl('not a url?key=s3cr3t')).toBe('not a url?…')
    expect(redactUrl('http://u:p?w@host/x?k=1')).toBe('http://***@host/x?…')
  })
})

describe('server capabilities', () => {
  it('reads releases', () => {
    expect(parseRelease('2.9.2')).toEqual({ major: 2, minor: 9 })
    expect(parseRelease('3.17.2\n')).toEqual({ major: 3, minor: 17 })
    expect(parseRelease('<html>')).toBeUndefined()
    expect(releaseBefore('2.8.1', '2.9')).toBe(true)
    expect(releaseBefore('2.10.0', '2.9')).toBe(false)
  })

  it('GET /version decides: 2.x has no logged models, 3.x has', async () => {
    const two = scripted([{ status: 200, data: '2.9.2' }])
    expect(await detectCapabilities(two.client, '1')).toEqual({
      version: '2.9.2',
      loggedModels: false,
    })
    expect(two.sent.map((s) => s.url)).toEqual([`${BASE}/version`])
    // MLflow answers /version as text/html: read by its body, not taken for a page.
    const three = scripted([
      { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, data: '3.17.2' },
    ])
    expect(await detectCapabilities(three.client, '1')).toEqual({
      version: '3.17.2',
      loggedModels: true,
    })
  })

  it('without /version, a 404 on the logged-model search means MLflow 2', async () => {
    const { client, sent } = scripted([
      { status: 404, data: '' },
      { status: 404, headers: { 'content-type': 'text/html' }, data: LOGIN_PAGE },
    ])
    expect(await detectCapabilities(client, '1')).toEqual({ loggedModels: false })
    expect(sent.map((s) => s.url)).toEqual([
      `${BASE}/version`,
      `${BASE}/api/2.0/mlflow/logged-models/search`,
    ])
  })
})
