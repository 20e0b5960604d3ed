/**
 * Unit: the artifact stage's decisions with the upload client replaced (no network): local runs and GHES are
 * skipped with a notice, the duplicate-name conflict becomes one ConfigurationError line, retention 0 sends
 * no retention, paths inside the artifact are relative to the deepest common directory.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as core from '../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { notice, warning, info, setOutput } = core
const { ConfigurationError } = await import('../src/errors.js')
const { artifactSkipReason, commonDirectory, uploadReportArtifact } =
  await import('../src/publish/artifact-upload.js')
type Uploader = import('../src/publish/artifact-upload.js').ArtifactUploader

const RUNNER_ENV = {
  ACTIONS_RUNTIME_TOKEN: 'x.y.z',
  ACTIONS_RESULTS_URL: 'https://results.example/',
}
let tmp: string
let files: string[]

function uploader(impl: Uploader['uploadArtifact']): Uploader & { calls: unknown[][] } {
  const calls: unknown[][] = []
  return {
    calls,
    uploadArtifact: async (...args) => {
      calls.push(args)
      return impl(...args)
    },
  }
}

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlsecops-artifact-unit-'))
  fs.mkdirSync(path.join(tmp, 'scan'))
  fs.mkdirSync(path.join(tmp, 'model'))
  files = [path.join(tmp, 'scan', 'trivy.json'), path.join(tmp, 'model', 'metrics.json')]
  for (const f of files) fs.writeFileSync(f, '{}')
})

afterEach(() => {
  for (const fn of [notice, warning, info, setOutput]) fn.mockReset()
  fs.rmSync(tmp, { recursive: true, force: true })
})

describe('artifactSkipReason', () => {
  it('skips a local run without the runtime token or results URL', () => {
    expect(artifactSkipReason({})).toMatch(/not running on a GitHub Actions runner/)
    expect(artifactSkipReason({ ACTIONS_RUNTIME_TOKEN: 't' })).toMatch(/ACTIONS_RESULTS_URL/)
  })
  it('skips GitHub Enterprise Server, not github.com or GHE.com', () => {
    expect(
      artifactSkipReason({ ...RUNNER_ENV, GITHUB_SERVER_URL: 'https://ghes.corp.example' }),
    ).toMatch(/GitHub Enterprise Server \(ghes.corp.example\)/)
    expect(
      artifactSkipReason({ ...RUNNER_ENV, GITHUB_SERVER_URL: 'https://github.com' }),
    ).toBeUndefined()
    expect(
      artifactSkipReason({ ...RUNNER_ENV, GITHUB_SERVER_URL: 'https://octo.ghe.com' }),
    ).toBeUndefined()
    expect(artifactSkipReason(RUNNER_ENV)).toBeUndefined()
  })
})

describe('commonDirectory', () => {
  it('is the deepest directory holding every file', () => {
    expect(commonDirectory(['/a/b/c/x.json', '/a/b/d/y.json'])).toBe('/a/b')
    expect(commonDirectory(['/a/b/c/x.json'])).toBe('/a/b/c')
    expect(commonDirectory(['/a/x', '/b/y'])).toBe('/')
  })
})

describe('uploadReportArtifact', () => {
  it('uploads with paths relative to the common directory and sets artifact-id', async () => {
    const client = uploader(async () => ({ id: 42, size: 100, digest: 'abc' }))
    const result = await uploadReportArtifact(
      { name: 'mlsecops-report', files, retentionDays: 7 },
      RUNNER_ENV,
      client,
    )
    expect(result).toEqual({
      status: 'uploaded',
      id: 42,
      name: 'mlsecops-report',
      size: 100,
      digest: 'abc',
      entries: ['scan/trivy.json', 'model/metrics.json'],
    })
    expect(client.calls).toEqual([['mlsecops-report', files, tmp, { retentionDays: 7 }]])
    expect(setOutput).toHaveBeenCalledWith('artifact-id', '42')
  })

  it('retention-days 0 leaves retention to the repository', async () => {
    const client = uploader(async () => ({ id: 1 }))
    await uploadReportArtifact({ name: 'r', files, retentionDays: 0 }, RUNNER_ENV, client)
    expect(client.calls[0][3]).toEqual({ retentionDays: undefined })
  })

  it('a local run only prints a notice and sets no output', async () => {
    const client = uploader(async () => ({ id: 1 }))
    const result = await uploadReportArtifact({ name: 'r', files, retentionDays: 0 }, {}, client)
    expect(result.status).toBe('skipped')
    expect(client.calls).toEqual([])
    expect(String(notice.mock.calls[0][0])).toMatch(
      /^Artifact upload skipped: not running on a GitHub Actions runner/,
    )
    expect(setOutput).not.toHaveBeenCalled()
  })

  it("the service's 409 for a taken name is a ConfigurationError on artifact-name", async () => {
    const client = uploader(async () => {
      throw new Error(
        'Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: an artifact with this name already exists on the workflow run',
      )
    })
    const error = (await uploadReportArtifact(
      { name: 'mlsecops-report', files, retentionDays: 0 },
      RUNNER_ENV,
      client,
    ).catch((e: unknown) => e)) as InstanceType<typeof ConfigurationError>
    expect(error).toBeInstanceOf(ConfigurationError)
    expect(error.input).toBe('artifact-name')
    expect(error.message).not.toMatch(/\n/)
    expect(error.message).toMatch(
      /^An artifact named "mlsecops-report" already exists in this workflow run/,
    )
  })

  it('other upload failures keep their reason, on one line', async () => {
    const client = uploader(async () => {
      throw new Error(
        'Unable to make request: ECONNRESET\nIf you are using self-hosted runners, ...',
      )
    })
    await expect(
      uploadReportArtifact({ name: 'r', files, retentionDays: 0 }, RUNNER_ENV, client),
    ).rejects.toThrow(
      'Artifact upload of "r" failed: Unable to make request: ECONNRESET If you are using self-hosted runners, ...',
    )
  })

  it('leaves out missing files with a warning, and skips when none is left', async () => {
    const client = uploader(async () => ({ id: 5 }))
    const missing = path.join(tmp, 'scan', 'absent.sarif')
    const result = await uploadReportArtifact(
      { name: 'r', files: [...files, missing], retentionDays: 0 },
      RUNNER_ENV,
      client,
    )
    expect(result.status).toBe('uploaded')
    expect(warning).toHaveBeenCalledWith(`Not in the artifact, not a file: ${missing}`)
    const none = await uploadReportArtifact(
      { name: 'r', files: [missing], retentionDays: 0 },
      RUNNER_ENV,
      client,
    )
    expect(none).toEqual({ status: 'skipped', reason: 'none of the report files exists' })
  })
})
