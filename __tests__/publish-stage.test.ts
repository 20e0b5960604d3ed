/**
 * The publish stage's order and error handling, with the two uploads replaced by recorders: the readable
 * report is written first, the artifact is uploaded before code scanning, an upload error is held (returned as
 * `failure`) instead of stopping the stage, and artifact-id / sarif-id are empty when nothing was uploaded.
 * (The uploads themselves are tested against real services in artifact-upload.itest.ts, code-scanning.itest.ts
 * and e2e.itest.ts.)
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { RunContext } from '../src/context.js'
import type { ArtifactUploadResult } from '../src/publish/artifact-upload.js'
import type { CodeScanningResult } from '../src/publish/code-scanning.js'
import type { ScanResult } from '../src/trivy/findings.js'
import * as core from '../__fixtures__/core.js'

const events: string[] = []
const outputs = new Map<string, string>()
core.setOutput.mockImplementation((name: string, value: unknown) => {
  outputs.set(name, String(value))
  events.push(`output:${name}=${String(value)}`)
})
jest.unstable_mockModule('@actions/core', () => core)

const uploadReportArtifact = jest.fn<(o: { files: string[] }) => Promise<ArtifactUploadResult>>()
const actualArtifact = await import('../src/publish/artifact-upload.js')
jest.unstable_mockModule('../src/publish/artifact-upload.js', () => ({
  ...actualArtifact,
  uploadReportArtifact,
}))
const uploadSarifToCodeScanning = jest.fn<() => Promise<CodeScanningResult>>()
const actualCodeScanning = await import('../src/publish/code-scanning.js')
jest.unstable_mockModule('../src/publish/code-scanning.js', () => ({
  ...actualCodeScanning,
  uploadSarifToCodeScanning,
}))
const { publishReports } = await import('../src/publish/publish-stage.js')
const { getRunContext } = await import('../src/context.js')

let tmp: string
let context: RunContext

const metrics = {
  accuracy: 0.9,
  precisionMacro: 0.9,
  recallMacro: 0.9,
  f1Macro: 0.9,
  trainSize: 120,
  testSize: 30,
  classLabels: ['a', 'b'],
  perClass: [],
  confusionMatrix: [],
} as unknown as Parameters<typeof publishReports>[0]['metrics']

function scan(): ScanResult {
  const dir = path.join(tmp, 'reports')
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'trivy-report.json'), '{}')
  fs.writeFileSync(path.join(dir, 'trivy-report.sarif'), '{}')
  return {
    jsonReport: path.join(dir, 'trivy-report.json'),
    sarifReport: path.join(dir, 'trivy-report.sarif'),
    findings: [],
    counts: { UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 },
    trivyVersion: '0.74.0',
  }
}

function options(overrides: Partial<Parameters<typeof publishReports>[0]> = {}) {
  return {
    workDir: tmp,
    context,
    metrics,
    metricsFile: path.join(tmp, 'model', 'metrics.json'),
    scan: scan(),
    image: 'm:1',
    imageId: `sha256:${'0'.repeat(64)}`,
    modelName: 'm',
    modelVersion: '1',
    uploadArtifact: true,
    artifactName: 'mlsecops-report',
    retentionDays: 0,
    uploadSarif: true,
    sarifCategory: 'mlsecops',
    githubToken: 't',
    ...overrides,
  }
}

const UPLOADED: ArtifactUploadResult = {
  status: 'uploaded',
  id: 7,
  name: 'mlsecops-report',
  entries: ['report.md'],
}

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'publish-stage-'))
  context = getRunContext({ GITHUB_REPOSITORY: 'o/r', GITHUB_WORKSPACE: tmp, RUNNER_TEMP: tmp })
  events.length = 0
  outputs.clear()
  uploadReportArtifact.mockReset()
  uploadSarifToCodeScanning.mockReset()
  uploadReportArtifact.mockImplementation(async (o) => {
    events.push(`artifact:${o.files.map((f) => path.relative(tmp, f)).join(',')}`)
    return UPLOADED
  })
})

afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe('publishReports', () => {
  it('writes report.md, uploads the artifact (reports, metrics, report.md), then code scanning', async () => {
    uploadSarifToCodeScanning.mockImplementation(async () => {
      events.push('code-scanning')
      return { status: 'skipped', reason: 'no runner' }
    })
    const result = await publishReports(options())
    expect(fs.readFileSync(result.reportFile, 'utf8')).toMatch(/^# mlsecops report/)
    expect(events).toEqual([
      'artifact:reports/trivy-report.json,reports/trivy-report.sarif,model/metrics.json,report.md',
      'code-scanning',
      'output:sarif-id=',
    ])
    expect(result.failure).toBeUndefined()
    expect(result.scanReports.map((f) => path.basename(f))).toEqual([
      'trivy-report.json',
      'trivy-report.sarif',
    ])
  })

  it('code scanning throws: the artifact is already uploaded, the error is held, sarif-id is empty', async () => {
    const boom = new Error('GitHub API: 500')
    uploadSarifToCodeScanning.mockRejectedValue(boom)
    const result = await publishReports(options())
    expect(result.artifact).toEqual(UPLOADED)
    expect(result.failure).toBe(boom)
    expect(result.codeScanning).toEqual({ status: 'error', message: 'GitHub API: 500' })
    expect(outputs.get('sarif-id')).toBe('')
  })

  it('the artifact throws: code scanning still runs, the first error is held, artifact-id is empty', async () => {
    const boom = new Error('Artifact upload failed')
    uploadReportArtifact.mockRejectedValue(boom)
    uploadSarifToCodeScanning.mockRejectedValue(new Error('second'))
    const result = await publishReports(options())
    expect(uploadSarifToCodeScanning).toHaveBeenCalledTimes(1)
    expect(result.failure).toBe(boom)
    expect(outputs.get('artifact-id')).toBe('')
    expect(outputs.get('sarif-id')).toBe('')
  })

  it('no scan: the artifact holds metrics and report.md, no code scanning', async () => {
    const result = await publishReports(options({ scan: undefined }))
    expect(events[0]).toBe('artifact:model/metrics.json,report.md')
    expect(uploadSarifToCodeScanning).not.toHaveBeenCalled()
    expect(result.codeScanning).toBeUndefined()
    expect(outputs.get('sarif-id')).toBe('')
  })

  it('upload-artifact and upload-sarif false: nothing uploaded, both ids empty', async () => {
    const result = await publishReports(options({ uploadArtifact: false, uploadSarif: false }))
    expect(uploadReportArtifact).not.toHaveBeenCalled()
    expect(uploadSarifToCodeScanning).not.toHaveBeenCalled()
    expect(result.artifact).toEqual({ status: 'off' })
    expect(result.codeScanning).toEqual({ status: 'off', reason: 'upload-sarif is false' })
    expect(outputs.get('artifact-id')).toBe('')
    expect(outputs.get('sarif-id')).toBe('')
  })
})
