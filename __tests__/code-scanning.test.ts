/**
 * Unit: code-scanning decisions (forks, Dependabot, 403), the category, the SARIF checks, and the one GitHub
 * HTTP client (retries, error lines without the token, the poll's bounded backoff), with a scripted transport
 * injected through the options: no network.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as core from '../__fixtures__/core.js'
import { fakeClock } from './support/fake-clock.js'

jest.unstable_mockModule('@actions/core', () => core)
const { notice, warning, info, debug, setOutput, setSecret } = core
const { getRunContext } = await import('../src/context.js')
const { HttpError, ScannerError } = await import('../src/errors.js')
const { GitHubApiClient } = await import('../src/publish/github-api-client.js')
const { TransportError } = await import('../src/http/transport.js')
type Transport = import('../src/http/transport.js').Transport
type TransportResponse = import('../src/http/transport.js').TransportResponse
const {
  applyCategory,
  automationId,
  codeScanningSkipReason,
  pollProcessingStatus,
  readSarifFile,
  uploadSarifToCodeScanning,
} = await import('../src/publish/code-scanning.js')

const FIXTURE = path.resolve('__tests__/fixtures/code-scanning/trivy-small.sarif')
const TOKEN = 'ghs_unitTestToken00000000000000000000000'
const SHA = 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3'

let tmp: string
let fetchMock: jest.Mock<Transport['send']>
const transport: Transport = { send: (request) => fetchMock(request) }

function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): TransportResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(body)),
  }
}

function context(extra: Record<string, string> = {}): ReturnType<typeof getRunContext> {
  return getRunContext({
    GITHUB_API_URL: 'https://api.github.example/api/v3',
    GITHUB_REPOSITORY: 'octo-org/model-repo',
    GITHUB_SHA: SHA,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_ACTOR: 'octocat',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_WORKSPACE: tmp,
    ...extra,
  })
}

function writeEvent(name: string, payload: unknown): string {
  const file = path.join(tmp, name)
  fs.writeFileSync(file, JSON.stringify(payload))
  return file
}

const noSleep = async (): Promise<void> => {}

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlsecops-cs-unit-'))
  fetchMock = jest.fn<Transport['send']>(async () => {
    throw new Error('unexpected request')
  })
})

afterEach(() => {
  jest.restoreAllMocks()
  for (const fn of [notice, warning, info, debug, setOutput, setSecret]) fn.mockReset()
  fs.rmSync(tmp, { recursive: true, force: true })
})

describe('codeScanningSkipReason', () => {
  const pr = (head: unknown, base = { full_name: 'octo-org/model-repo' }): unknown => ({
    pull_request: { head: { repo: head }, base: { repo: base } },
  })

  it('skips a pull request whose head repository differs from the base', () => {
    const eventPath = writeEvent('e.json', pr({ full_name: 'someone/model-repo' }))
    expect(
      codeScanningSkipReason(
        context({ GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: eventPath }),
      ),
    ).toMatch(/comes from a fork \(someone\/model-repo\)/)
  })

  it('skips a pull request from a deleted fork (head.repo null)', () => {
    const eventPath = writeEvent('e.json', pr(null))
    expect(
      codeScanningSkipReason(
        context({ GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: eventPath }),
      ),
    ).toMatch(/a deleted repository/)
  })

  it('does not skip a pull request inside the repository, or pull_request_target from a fork', () => {
    const same = writeEvent('same.json', pr({ full_name: 'Octo-Org/Model-Repo' }))
    expect(
      codeScanningSkipReason(
        context({ GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: same }),
      ),
    ).toBeUndefined()
    const fork = writeEvent('fork.json', pr({ full_name: 'someone/model-repo' }))
    expect(
      codeScanningSkipReason(
        context({ GITHUB_EVENT_NAME: 'pull_request_target', GITHUB_EVENT_PATH: fork }),
      ),
    ).toBeUndefined()
    expect(
      codeScanningSkipReason(context({ GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: fork })),
    ).toBeUndefined()
  })

  it('skips Dependabot runs', () => {
    expect(codeScanningSkipReason(context({ GITHUB_ACTOR: 'dependabot[bot]' }))).toMatch(
      /Dependabot/,
    )
  })

  it('an unreadable event file is not a reason to skip', () => {
    expect(
      codeScanningSkipReason(
        context({
          GITHUB_EVENT_NAME: 'pull_request',
          GITHUB_EVENT_PATH: path.join(tmp, 'missing.json'),
        }),
      ),
    ).toBeUndefined()
  })
})

describe('category and SARIF checks', () => {
  it('writes the category into automationDetails.id with the trailing slash GitHub reads as a category', () => {
    expect(automationId('mlsecops')).toBe('mlsecops/')
    expect(automationId('image/nightly/')).toBe('image/nightly/')
    const sarif = readSarifFile(FIXTURE)
    const out = applyCategory(sarif, 'mlsecops')
    expect(out.runs[0].automationDetails).toEqual({ id: 'mlsecops/' })
    expect(sarif.runs[0].automationDetails).toBeUndefined()
  })

  it('gives a second run of the same tool its own category', () => {
    const run = readSarifFile(FIXTURE).runs[0]
    const other = { ...run, tool: { driver: { name: 'Other' } } }
    const out = applyCategory({ version: '2.1.0', runs: [run, run, other] }, 'mlsecops')
    expect(out.runs.map((r) => r.automationDetails?.id)).toEqual([
      'mlsecops/',
      'mlsecops/run-2/',
      'mlsecops/',
    ])
  })

  it('refuses what is not SARIF 2.1.0 with a ScannerError naming the file', () => {
    const bad = path.join(tmp, 'bad.sarif')
    fs.writeFileSync(bad, JSON.stringify({ version: '2.0.0', runs: [] }))
    expect(() => readSarifFile(bad)).toThrow(ScannerError)
    expect(() => readSarifFile(bad)).toThrow(`The SARIF report ${bad} is not a SARIF 2.1.0 log`)
    fs.writeFileSync(bad, '{ not json')
    expect(() => readSarifFile(bad)).toThrow(/is not JSON/)
    expect(() => readSarifFile(path.join(tmp, 'missing.sarif'))).toThrow(
      /Could not read the SARIF report/,
    )
  })
})

describe('GitHubApiClient', () => {
  it('retries 5xx with backoff, then returns the answer', async () => {
    fetchMock
      .mockResolvedValueOnce(json(502, { message: 'Bad Gateway' }))
      .mockResolvedValueOnce(json(503, { message: 'Unavailable' }, { 'Retry-After': '2' }))
      .mockResolvedValueOnce(json(202, { id: 'abc' }))
    const sleeps: number[] = []
    const client = new GitHubApiClient({
      apiUrl: 'https://api.github.com',
      token: TOKEN,
      transport,
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 1,
    })
    const response = await client.request<{ id: string }>('POST', '/x', { a: 1 })
    expect(response).toEqual({ status: 202, body: { id: 'abc' } })
    expect(sleeps).toEqual([1000, 2000])
    expect(setSecret).toHaveBeenCalledWith(TOKEN)
    const [request] = fetchMock.mock.calls[0]
    expect(request.url).toBe('https://api.github.com/x')
    expect(request.headers.Authorization).toBe(`Bearer ${TOKEN}`)
  })

  it('turns an error answer into one HttpError line with neither token nor URL credentials', async () => {
    fetchMock.mockResolvedValue(
      json(422, { message: 'Invalid request.\n\nFor properties/ref', errors: ['ref is invalid'] }),
    )
    const client = new GitHubApiClient({
      apiUrl: 'https://user:hunter2@ghe.example/api/v3/',
      token: TOKEN,
      transport,
      sleep: noSleep,
    })
    expect(client.apiUrl).toBe('https://ghe.example/api/v3')
    const error = (await client
      .request('POST', '/repos/o/r/code-scanning/sarifs', {})
      .catch((e) => e)) as InstanceType<typeof HttpError>
    expect(error).toBeInstanceOf(HttpError)
    expect(error.status).toBe(422)
    expect(error.message).toBe(
      'GitHub API POST https://ghe.example/api/v3/repos/o/r/code-scanning/sarifs: HTTP 422 Invalid request. For properties/ref; ref is invalid.',
    )
    expect(fetchMock).toHaveBeenCalledTimes(1)
    expect(fetchMock.mock.calls[0][0].url).toBe(
      'https://ghe.example/api/v3/repos/o/r/code-scanning/sarifs',
    )
    expect(error.message).not.toContain(TOKEN)
    expect(error.message).not.toContain('hunter2')
  })

  it('names the host when it cannot be reached, after the bounded retries', async () => {
    fetchMock.mockRejectedValue(
      new TransportError('ECONNREFUSED', 'connection refused (is the server up?)'),
    )
    const client = new GitHubApiClient({
      apiUrl: 'https://api.github.com',
      token: TOKEN,
      transport,
      sleep: noSleep,
      attempts: 3,
    })
    await expect(client.request('GET', '/x')).rejects.toThrow(
      'GitHub API GET https://api.github.com/x: connection refused (is the server up?) (gave up after 3 tries)',
    )
    expect(fetchMock).toHaveBeenCalledTimes(3)
  })
})

describe('pollProcessingStatus', () => {
  it('doubles the delay up to the cap and gives up at the time budget', async () => {
    fetchMock.mockImplementation(async () => json(200, { processing_status: 'pending' }))
    const clock = fakeClock()
    const client = new GitHubApiClient({
      apiUrl: 'https://api.github.com',
      token: TOKEN,
      transport,
      clock,
    })
    const result = await pollProcessingStatus(client, '/s', {
      timeoutMs: 60_000,
      initialDelayMs: 1000,
      maxDelayMs: 15_000,
    })
    expect(result.processingStatus).toBe('pending')
    expect(clock.sleeps).toEqual([1000, 2000, 4000, 8000, 15_000, 15_000, 15_000])
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(60_000)
  })

  it('waits through 404s and returns complete with the analyses URL', async () => {
    fetchMock
      .mockResolvedValueOnce(json(404, { message: 'Not Found' }))
      .mockResolvedValueOnce(json(200, { processing_status: 'pending' }))
      .mockResolvedValueOnce(
        json(200, { processing_status: 'complete', analyses_url: 'https://a/u' }),
      )
    const client = new GitHubApiClient({
      apiUrl: 'https://api.github.com',
      token: TOKEN,
      transport,
      sleep: noSleep,
    })
    await expect(
      pollProcessingStatus(client, '/s', {
        timeoutMs: 60_000,
        initialDelayMs: 10,
        maxDelayMs: 10,
      }),
    ).resolves.toEqual({ processingStatus: 'complete', errors: [], analysesUrl: 'https://a/u' })
  })
})

describe('uploadSarifToCodeScanning decisions', () => {
  const options = {
    sarifFile: FIXTURE,
    category: 'mlsecops',
    token: TOKEN,
    sleep: noSleep,
    transport,
  }

  it('is skipped with a notice without a token or outside a workflow, before any request', async () => {
    await expect(
      uploadSarifToCodeScanning({ ...options, token: '' }, context()),
    ).resolves.toMatchObject({
      status: 'skipped',
      reason: 'no github-token was given',
    })
    await expect(
      uploadSarifToCodeScanning(options, getRunContext({ GITHUB_WORKSPACE: tmp })),
    ).resolves.toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/not running in a GitHub workflow/),
    })
    expect(notice).toHaveBeenCalledTimes(2)
    expect(fetchMock).not.toHaveBeenCalled()
  })

  it('is skipped for Dependabot before any request', async () => {
    const result = await uploadSarifToCodeScanning(
      options,
      context({ GITHUB_ACTOR: 'dependabot[bot]' }),
    )
    expect(result.status).toBe('skipped')
    expect(fetchMock).not.toHaveBeenCalled()
    expect(String(notice.mock.calls[0][0])).toMatch(/^Code scanning upload skipped: .*Dependabot/)
  })

  it('a 403 "Resource not accessible by integration" is a notice, not a failure, and no output', async () => {
    fetchMock.mockResolvedValue(
      json(403, { message: 'Resource not accessible by integration', status: '403' }),
    )
    const result = await uploadSarifToCodeScanning(options, context())
    expect(result).toMatchObject({ status: 'skipped' })
    expect(String(notice.mock.calls[0][0])).toContain('security-events: write')
    expect(setOutput).not.toHaveBeenCalled()
  })

  it('any other 403 fails with its message (e.g. code scanning not enabled)', async () => {
    fetchMock.mockResolvedValue(
      json(403, {
        message: 'Advanced Security must be enabled for this repository to use code scanning.',
      }),
    )
    await expect(uploadSarifToCodeScanning(options, context())).rejects.toThrow(
      'GitHub API POST https://api.github.example/api/v3/repos/octo-org/model-repo/code-scanning/sarifs: HTTP 403 Advanced Security must be enabled for this repository to use code scanning.',
    )
  })

  it('refuses a short SHA or a ref that is not a full reference', async () => {
    await expect(
      uploadSarifToCodeScanning(options, context({ GITHUB_SHA: 'abc123' })),
    ).rejects.toThrow('GITHUB_SHA "abc123" is not a 40-character commit SHA')
    await expect(
      uploadSarifToCodeScanning(options, context({ GITHUB_REF: 'main' })),
    ).rejects.toThrow('GITHUB_REF "main" is not a full Git reference (refs/...)')
  })

  it('sets sarif-id and warns about what was dropped to fit the limits', async () => {
    fetchMock
      .mockResolvedValueOnce(json(202, { id: 'upload-1', url: 'https://x/upload-1' }))
      .mockResolvedValueOnce(json(200, { processing_status: 'complete' }))
    const result = await uploadSarifToCodeScanning(
      {
        ...options,
        limits: {
          maxGzipBytes: 10 * 1024 * 1024,
          maxRuns: 20,
          maxResultsPerRun: 2,
          maxLocationsPerResult: 1000,
        },
      },
      context(),
    )
    expect(result).toMatchObject({
      status: 'uploaded',
      sarifId: 'upload-1',
      processingStatus: 'complete',
    })
    expect(setOutput).toHaveBeenCalledWith('sarif-id', 'upload-1')
    expect(warning).toHaveBeenCalledWith(
      'A SARIF run ("Trivy") has 3 results, GitHub takes at most 2 per run: dropped 1, lowest severity first (LOW 1)',
    )
  })
})
