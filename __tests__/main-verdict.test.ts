/**
 * run()'s gate slot with the register stage replaced by a recorder (build and scan are the run harness's):
 * the verdict is written before the alias, the alias only when every gate passed, the run FINISHED only after
 * both, and a failure last. A verdict that cannot be written fails the job and leaves the run FAILED.
 * (The same flow against a real MLflow server: e2e.itest.ts.)
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import * as fs from 'node:fs'
import type { Tag } from '../src/mlflow/client.js'
import type { Registration, RegisterOptions } from '../src/mlflow/registration.js'
import type { ScanResult } from '../src/trivy/findings.js'

const calls: string[] = []
let failTags: Error | undefined
const setModelVersionTags = jest.fn(async (_n: string, _v: string, tags: Tag[]) => {
  if (failTags) throw failTags
  calls.push(`tags:${tags.map((t) => `${t.key}=${t.value}`).join(',')}`)
})
const setAlias = jest.fn(async (_n: string, alias: string, version: string) => {
  calls.push(`alias:${alias}=${version}`)
})
const uploadArtifact = jest.fn(async (_uri: string, target: string) => {
  calls.push(`artifact:${target}`)
})
const updateModelVersionDescription = jest.fn(async (_n: string, _v: string, text: string) => {
  calls.push(`description:${text}`)
})
const request = jest.fn(async () => ({ model_version: { version: '1' } }))
const registerModel = jest.fn(async (o: RegisterOptions): Promise<Registration> => ({
  client: {
    setModelVersionTags,
    setAlias,
    uploadArtifact,
    request,
    updateModelVersionDescription,
  } as never,
  trackingUri: 'http://mlflow.test',
  experimentId: '1',
  experimentName: 'mlsecops',
  runId: 'r'.repeat(32),
  runName: 'run',
  artifactUri: 'mlflow-artifacts:/1/r/artifacts',
  modelId: 'm-1',
  capabilities: { version: '3.17.2', loggedModels: true },
  versionDescription: 'Trained on iris.csv.',
  modelName: o.modelName,
  modelVersion: '2',
  modelUri: `models:/${o.modelName}/2`,
  runUrl: 'http://mlflow.test/#/experiments/1/runs/r',
  versionUrl: `http://mlflow.test/#/models/${o.modelName}/versions/2`,
  finish: async () => {
    calls.push('finish')
  },
  fail: async (message: string) => {
    calls.push(`fail:${message}`)
  },
}))
const actualRegistration = await import('../src/mlflow/registration.js')
jest.unstable_mockModule('../src/mlflow/registration.js', () => ({
  ...actualRegistration,
  registerModel,
}))
const { loadRunHarness } = await import('./support/run-harness.js')
const h = await loadRunHarness()

function critical(o: { reportsDir: string; trivyVersion: string; image: string }): ScanResult {
  return {
    jsonReport: `${o.reportsDir}/trivy-report.json`,
    sarifReport: `${o.reportsDir}/trivy-report.sarif`,
    findings: [
      {
        scanner: 'vuln',
        id: 'CVE-2099-1001',
        severity: 'CRITICAL',
        title: 'zlib',
        target: 'x (debian 12)',
        pkgName: 'zlib1g',
        installedVersion: '1',
        fixedVersion: '2',
      },
    ],
    counts: { UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 1 },
    trivyVersion: o.trivyVersion,
    image: o.image,
  }
}

beforeEach(() => {
  calls.length = 0
  failTags = undefined
  for (const mock of [
    setModelVersionTags,
    setAlias,
    uploadArtifact,
    request,
    registerModel,
    updateModelVersionDescription,
  ]) {
    mock.mockClear()
  }
})
afterEach(() => h.cleanup())

const MLFLOW = { 'mlflow-tracking-uri': 'http://mlflow.test' }

describe('run(): the verdict, the alias and the end of the run', () => {
  it('every gate passed: tags, then the alias, then the run FINISHED; green', async () => {
    h.prepare(MLFLOW)
    await h.run()
    expect(h.record.failed).toEqual([])
    expect(calls).toEqual([
      expect.stringMatching(/^tags:scan_status=passed,scan_critical=0,.*,gate=passed$/),
      expect.stringMatching(
        /^description:Trained on iris\.csv\.\n\n\*\*Gate: passed\*\*\.\n\n\*\*Scan: passed\*\* \(CRITICAL 0, HIGH 0, /,
      ),
      'alias:candidate=2',
      'finish',
    ])
    expect(h.record.outputs.get('gate')).toBe('passed')
    expect(h.record.outputs.get('artifact-id')).toBe('')
    expect(h.record.outputs.get('sarif-id')).toBe('')
  })

  it('the severity gate fails: tags say so, the alias is not moved, the run FAILED, the failure last', async () => {
    const paths = h.prepare(MLFLOW)
    h.scanImage.mockImplementationOnce(async (o) => critical(o))
    await h.run()
    expect(calls).toHaveLength(3)
    expect(calls[0]).toMatch(
      /^tags:scan_status=failed,scan_critical=1,.*,gate=failed,gate_reason=The image scan found 1/,
    )
    expect(calls[1]).toMatch(/^description:.*\*\*Gate: failed\*\*: The image scan found 1/s)
    expect(calls[2]).toMatch(
      /^fail:The image scan found 1 finding\(s\) at or above fail-on-severity HIGH/,
    )
    expect(setAlias).not.toHaveBeenCalled()
    expect(h.record.failed).toHaveLength(1)
    expect(h.record.events.at(-1)).toBe('failed')
    expect(h.record.events.indexOf('output:gate')).toBeLessThan(h.record.events.indexOf('failed'))
    const summary = fs.readFileSync(paths.summaryFile, 'utf8')
    expect(summary).toMatch(/### Verdict: failed/)
    expect(summary).toMatch(/alias `candidate` not moved \(stays on version 1\)/)
    expect(summary).toMatch(/### Findings/)
  })

  it('the accuracy gate fails: no alias either', async () => {
    h.prepare({ ...MLFLOW, 'min-accuracy': '0.99' })
    await h.run()
    expect(calls[0]).toMatch(/scan_status=passed,.*gate=failed,gate_reason=Model accuracy/)
    expect(setAlias).not.toHaveBeenCalled()
    expect(calls.at(-1)).toMatch(/^fail:Model accuracy/)
  })

  it('model-alias empty: the verdict without any alias', async () => {
    h.prepare({ ...MLFLOW, 'model-alias': '' })
    await h.run()
    expect(h.record.failed).toEqual([])
    expect(calls.map((c) => c.split(':')[0])).toEqual(['tags', 'description', 'finish'])
  })

  it('the image build fails after registration: the version still gets its verdict (not scanned, gate failed, why)', async () => {
    h.prepare(MLFLOW)
    h.buildImage.mockImplementationOnce(async () => {
      throw new Error('docker build failed: exit 1')
    })
    await h.run()
    expect(setAlias).not.toHaveBeenCalled()
    expect(calls).toEqual([
      'tags:scan_status=not-scanned,gate=failed,gate_reason=docker build failed: exit 1',
      'description:Trained on iris.csv.\n\n**Gate: failed**: docker build failed: exit 1\n\n**Scan: not-scanned** (no image was scanned).',
      'fail:docker build failed: exit 1',
    ])
    expect(h.record.failed).toEqual(['Error: docker build failed: exit 1'])
  })

  it('the verdict cannot be written: the job fails with that error, the run FAILED, no alias', async () => {
    const paths = h.prepare(MLFLOW)
    failTags = new Error('MLflow POST /api/2.0/mlflow/model-versions/set-tag: HTTP 500')
    await h.run()
    expect(setAlias).not.toHaveBeenCalled()
    expect(calls).toEqual(['fail:MLflow POST /api/2.0/mlflow/model-versions/set-tag: HTTP 500'])
    expect(h.record.failed).toEqual([
      'Error: MLflow POST /api/2.0/mlflow/model-versions/set-tag: HTTP 500',
    ])
    expect(h.record.outputs.get('gate')).toBe('passed')
    expect(fs.readFileSync(paths.summaryFile, 'utf8')).toMatch(
      /MLflow: \*\*the verdict could not be written\*\*/,
    )
  })
})
