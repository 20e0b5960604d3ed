/**
 * Integration: the code-scanning stage over real HTTP against __tests__/stack/code-scanning-server.ts, which
 * checks each request as GitHub documents it. The SARIF the server decoded is then checked independently with
 * Microsoft's SARIF Multitool (SARIF 2.1.0 schema + rules, and GitHub's ingestion rules GH1xxx/GH2xxx).
 */
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  jest,
} from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import { getRunContext, type RunContext } from '../src/context.js'
import { HttpError } from '../src/errors.js'
import { uploadSarifToCodeScanning } from '../src/publish/code-scanning.js'
import { FINGERPRINT_KEY } from '../src/publish/sarif-fingerprints.js'
import { startCodeScanningServer, type CodeScanningServer } from './stack/code-scanning-server.js'

const FIXTURE = path.resolve('__tests__/fixtures/code-scanning/trivy-small.sarif')
const TOKEN = 'ghs_integrationTestToken0123456789abcdef'
const SHA = 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3'

let tmp: string
let server: CodeScanningServer
let stdout: string[]
const savedEnv = { ...process.env }

/** The platform binary of @microsoft/sarif-multitool (its .bin wrapper runs through a shell). */
function multitoolBinary(): string {
  const require = createRequire(import.meta.url)
  const pkg = require.resolve(`@microsoft/sarif-multitool-${process.platform}/package.json`, {
    paths: [process.cwd()],
  })
  return path.join(path.dirname(pkg), 'Sarif.Multitool')
}

/** Runs `sarif-multitool validate` with the SARIF and GitHub rule sets; returns the error lines. */
function validateSarif(file: string): string[] {
  const out = path.join(tmp, `${path.basename(file)}.validation.sarif`)
  const text = execFileSync(
    multitoolBinary(),
    ['validate', file, '--output', out, '--log', 'ForceOverwrite', '--rule-kind', 'Gh;Sarif'],
    { encoding: 'utf8' },
  )
  const log = JSON.parse(fs.readFileSync(out, 'utf8')) as {
    runs: {
      results?: { level?: string; ruleId: string; message: { text?: string } }[]
      invocations?: { executionSuccessful: boolean }[]
    }[]
  }
  expect(log.runs[0].invocations?.[0]?.executionSuccessful).toBe(true)
  const errors = (log.runs[0].results ?? [])
    .filter((r) => (r.level ?? 'warning') === 'error')
    .map((r) => `${r.ruleId}: ${r.message.text ?? ''}`)
  return [...errors, ...text.split('\n').filter((l) => /: error /.test(l))]
}

function readOutputs(): Record<string, string> {
  const text = fs.readFileSync(process.env.GITHUB_OUTPUT!, 'utf8')
  const outputs: Record<string, string> = {}
  for (const m of text.matchAll(/^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[m[1]] = m[3]
  return outputs
}

function context(extra: Record<string, string> = {}): RunContext {
  return getRunContext({
    GITHUB_API_URL: server.apiUrl,
    GITHUB_SERVER_URL: 'https://github.example.com',
    GITHUB_REPOSITORY: 'octo-org/model-repo',
    GITHUB_SHA: SHA,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_ACTOR: 'octocat',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_WORKSPACE: path.join(tmp, 'workspace'),
    RUNNER_TEMP: tmp,
    ...extra,
  })
}

const fast = { pollInitialDelayMs: 20, pollMaxDelayMs: 100, pollTimeoutMs: 10_000 }

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlsecops-codescanning-'))
  fs.mkdirSync(path.join(tmp, 'workspace'))
  server = await startCodeScanningServer({ owner: 'octo-org', repo: 'model-repo', token: TOKEN })
})

afterAll(async () => {
  process.env = savedEnv
  await server?.stop()
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

beforeEach(() => {
  const output = path.join(tmp, `output-${Date.now()}-${Math.random()}`)
  fs.writeFileSync(output, '')
  process.env.GITHUB_OUTPUT = output
  Object.assign(server.behaviour, {
    upload: 'accept',
    notFoundPolls: 0,
    pendingPolls: 0,
    finalStatus: 'complete',
    processingErrors: [],
  })
  stdout = []
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk))
    return true
  })
})

afterEach(() => {
  jest.restoreAllMocks()
  // The token may only ever appear in the runner's mask command, never in a log line.
  const leaks = stdout.filter((l) => l.includes(TOKEN) && !l.startsWith('::add-mask::'))
  expect(leaks).toEqual([])
})

describe('uploadSarifToCodeScanning against the local code-scanning endpoint', () => {
  it('sends the documented request; the decoded SARIF carries the category and validates', async () => {
    server.behaviour.notFoundPolls = 1
    server.behaviour.pendingPolls = 2
    const result = await uploadSarifToCodeScanning(
      { sarifFile: FIXTURE, category: 'mlsecops', token: TOKEN, ...fast },
      context(),
    )
    if (result.status !== 'uploaded') throw new Error(`skipped: ${result.reason}`)
    expect(result.processingStatus).toBe('complete')
    expect(result.analysesUrl).toContain(`sarif_id=${result.sarifId}`)
    expect(readOutputs()['sarif-id']).toBe(result.sarifId)

    // Every request was accepted by the server's checks; the API base path (/api/v3) was honoured.
    expect(server.requests.filter((r) => r.problem && r.status !== 404)).toEqual([])
    const upload = server.uploads.at(-1)!
    expect(upload.id).toBe(result.sarifId)
    expect(upload.polls).toBe(4)
    expect(upload.fields).toEqual({
      commit_sha: SHA,
      ref: 'refs/heads/main',
      checkout_uri: pathToFileURL(path.join(tmp, 'workspace')).href,
      tool_name: 'Trivy',
    })
    expect(upload.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(upload.headers['x-github-api-version']).toBe('2022-11-28')
    expect(upload.headers.accept).toBe('application/vnd.github+json')

    // The SARIF is the fixture, with the category written into the run and a fingerprint into each result
    // (distinct findings, distinct fingerprints), nothing else changed.
    const fixture = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'))
    fixture.runs[0].automationDetails = { id: 'mlsecops/' }
    const received = JSON.parse(upload.sarifText) as {
      runs: { results: { partialFingerprints?: Record<string, string> }[] }[]
    }
    const prints = received.runs[0].results.map((r) => r.partialFingerprints?.[FINGERPRINT_KEY])
    for (const print of prints) expect(print).toMatch(/^[0-9a-f]{64}:1$/)
    expect(new Set(prints).size).toBe(fixture.runs[0].results.length)
    for (const r of received.runs[0].results) delete r.partialFingerprints
    expect(received).toEqual(fixture)

    const decoded = path.join(tmp, 'decoded.sarif')
    fs.writeFileSync(decoded, upload.sarifText)
    expect(validateSarif(decoded)).toEqual([])
  })

  it('the validator used above does catch what GitHub would refuse (control)', () => {
    const bad = path.join(tmp, 'bad.sarif')
    fs.writeFileSync(
      bad,
      JSON.stringify({
        version: '2.1.0',
        runs: [
          {
            tool: { driver: { name: 'X', rules: [{ id: 'R1' }] } },
            results: [{ ruleId: 'R1', message: { text: 'm' } }],
          },
        ],
      }),
    )
    const errors = validateSarif(bad)
    expect(errors.some((e) => e.startsWith('GH2012'))).toBe(true)
    expect(errors.some((e) => e.startsWith('GH1015'))).toBe(true)
  })

  it('a 403 "Resource not accessible by integration" ends with a notice and a skipped result', async () => {
    server.behaviour.upload = 'forbidden'
    const result = await uploadSarifToCodeScanning(
      { sarifFile: FIXTURE, category: 'mlsecops', token: TOKEN, ...fast },
      context(),
    )
    expect(result).toMatchObject({ status: 'skipped' })
    if (result.status === 'skipped')
      expect(result.reason).toContain('Resource not accessible by integration')
    expect(server.requests.at(-1)).toMatchObject({ method: 'POST', status: 403 })
    expect(stdout.some((l) => l.startsWith('::notice::Code scanning upload skipped'))).toBe(true)
    expect(readOutputs()['sarif-id']).toBeUndefined()
  })

  it('a pull request from a fork is skipped before any request, with a notice', async () => {
    const eventPath = path.join(tmp, 'fork-event.json')
    fs.writeFileSync(
      eventPath,
      JSON.stringify({
        action: 'opened',
        number: 7,
        pull_request: {
          number: 7,
          head: {
            ref: 'patch-1',
            sha: SHA,
            repo: { id: 2, full_name: 'someone/model-repo', fork: true },
          },
          base: { ref: 'main', repo: { id: 1, full_name: 'octo-org/model-repo', fork: false } },
        },
      }),
    )
    const before = server.requests.length
    const result = await uploadSarifToCodeScanning(
      { sarifFile: FIXTURE, category: 'mlsecops', token: TOKEN, ...fast },
      context({
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_REF: 'refs/pull/7/merge',
      }),
    )
    expect(result).toMatchObject({ status: 'skipped' })
    expect(server.requests.length).toBe(before)
    expect(stdout.some((l) => l.includes('::notice::') && l.includes('fork'))).toBe(true)
  })

  it('a pull request inside the repository uploads with refs/pull/N/merge', async () => {
    const eventPath = path.join(tmp, 'same-repo-event.json')
    fs.writeFileSync(
      eventPath,
      JSON.stringify({
        pull_request: {
          head: { repo: { full_name: 'octo-org/model-repo' } },
          base: { repo: { full_name: 'octo-org/model-repo' } },
        },
      }),
    )
    const result = await uploadSarifToCodeScanning(
      { sarifFile: FIXTURE, category: 'nightly/image', token: TOKEN, ...fast },
      context({
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_REF: 'refs/pull/8/merge',
      }),
    )
    expect(result.status).toBe('uploaded')
    const upload = server.uploads.at(-1)!
    expect(upload.fields.ref).toBe('refs/pull/8/merge')
    expect(
      (upload.sarif.runs[0] as { automationDetails: { id: string } }).automationDetails.id,
    ).toBe('nightly/image/')
  })

  it('processing that failed is an HttpError, after sarif-id was set', async () => {
    server.behaviour.finalStatus = 'failed'
    server.behaviour.processingErrors = ['locationFromSarifResult: expected artifact location']
    const attempt = uploadSarifToCodeScanning(
      { sarifFile: FIXTURE, category: 'mlsecops', token: TOKEN, ...fast },
      context(),
    )
    await expect(attempt).rejects.toBeInstanceOf(HttpError)
    await expect(attempt).rejects.toThrow(
      /^Code scanning could not process SARIF upload [0-9a-f-]{36}: locationFromSarifResult: expected artifact location$/,
    )
    expect(readOutputs()['sarif-id']).toBe(server.uploads.at(-1)!.id)
  })

  it('a wrong token fails with one HttpError line that holds neither token', async () => {
    const wrong = 'ghs_wrongTokenWrongToken000000000000000'
    const attempt = uploadSarifToCodeScanning(
      { sarifFile: FIXTURE, category: 'mlsecops', token: wrong, ...fast },
      context(),
    )
    const error = (await attempt.catch((e: unknown) => e)) as HttpError
    expect(error).toBeInstanceOf(HttpError)
    expect(error.status).toBe(401)
    expect(error.message).toBe(
      `GitHub API POST ${server.apiUrl}/repos/octo-org/model-repo/code-scanning/sarifs: HTTP 401 Bad credentials.`,
    )
    expect(error.message).not.toContain(wrong)
    expect(stdout.filter((l) => l.includes(wrong) && !l.startsWith('::add-mask::'))).toEqual([])
  })

  it('stops waiting after the poll budget and says so (bounded backoff)', async () => {
    server.behaviour.pendingPolls = 1_000
    const started = Date.now()
    const result = await uploadSarifToCodeScanning(
      {
        sarifFile: FIXTURE,
        category: 'mlsecops',
        token: TOKEN,
        pollInitialDelayMs: 20,
        pollMaxDelayMs: 80,
        pollTimeoutMs: 500,
      },
      context(),
    )
    const elapsed = Date.now() - started
    expect(result).toMatchObject({ status: 'uploaded', processingStatus: 'pending' })
    expect(elapsed).toBeLessThan(3000)
    // Waits of 20, 40, 80, 80... within 500 ms on the wall clock, the polls' own time included: at most 8
    // polls (20 + 40 + 80 * 5 + the 40 ms left, were the polls instant), fewer as each takes a few ms.
    const polls = server.uploads.at(-1)!.polls
    expect(polls).toBeGreaterThanOrEqual(5)
    expect(polls).toBeLessThanOrEqual(8)
    expect(
      stdout.some((l) => l.startsWith('::warning::Code scanning had not finished processing')),
    ).toBe(true)
  })
})
