/**
 * Integration: the artifact stage against a real blob store (Azurite from node_modules) behind the project's
 * Twirp artifact service (__tests__/stack/artifact-service.ts). The test downloads what was uploaded through
 * the service's own ListArtifacts + GetSignedArtifactURL, unzips it with the system's `unzip` (not the zip
 * library the upload used) and compares bytes with the source files.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ConfigurationError } from '../src/errors.js'
import { uploadReportArtifact } from '../src/publish/artifact-upload.js'
import { writeScanReport } from '../src/publish/report-text.js'
import type { ScanResult } from '../src/trivy/findings.js'
import { startArtifactService, type ArtifactService } from './stack/artifact-service.js'

const FIXTURE_SARIF = path.resolve('__tests__/fixtures/code-scanning/trivy-small.sarif')

let tmp: string
let service: ArtifactService
let workDir: string
let files: string[]
const savedEnv = { ...process.env }

function listAllFiles(dir: string): string[] {
  const out: string[] = []
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...listAllFiles(full))
    else out.push(full)
  }
  return out
}

function readOutputs(): Record<string, string> {
  const text = fs.readFileSync(process.env.GITHUB_OUTPUT!, 'utf8')
  const outputs: Record<string, string> = {}
  // core.setOutput writes name<<delimiter\nvalue\ndelimiter
  const re = /^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm
  for (const m of text.matchAll(re)) outputs[m[1]] = m[3]
  return outputs
}

async function downloadArtifact(
  name: string,
): Promise<{ zip: Buffer; listed: Record<string, unknown> }> {
  const list = await service.twirp<{ artifacts: Record<string, unknown>[] }>('ListArtifacts', {
    name_filter: name,
  })
  expect(list.status).toBe(200)
  expect(list.body.artifacts).toHaveLength(1)
  const signed = await service.twirp<{ signed_url: string }>('GetSignedArtifactURL', { name })
  expect(signed.status).toBe(200)
  const response = await fetch(signed.body.signed_url)
  expect(response.status).toBe(200)
  return { zip: Buffer.from(await response.arrayBuffer()), listed: list.body.artifacts[0] }
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlsecops-artifact-'))
  service = await startArtifactService(tmp)

  // The files the publish stage uploads, in the layout the pipeline writes them (RUNNER_TEMP/mlsecops/...).
  workDir = path.join(tmp, 'runner-temp', 'mlsecops')
  const scanDir = path.join(workDir, 'scan')
  const modelDir = path.join(workDir, 'model')
  fs.mkdirSync(scanDir, { recursive: true })
  fs.mkdirSync(modelDir, { recursive: true })
  const jsonReport = path.join(scanDir, 'trivy-report.json')
  const sarifReport = path.join(scanDir, 'trivy-report.sarif')
  fs.writeFileSync(
    jsonReport,
    JSON.stringify({ SchemaVersion: 2, ArtifactName: 'm:1', Results: [] }, null, 2),
  )
  fs.copyFileSync(FIXTURE_SARIF, sarifReport)
  const metrics = path.join(modelDir, 'metrics.json')
  fs.writeFileSync(
    metrics,
    JSON.stringify({ accuracy: 0.9667, trainSize: 120, testSize: 30 }, null, 2) + '\n',
  )
  const scan: ScanResult = {
    jsonReport,
    sarifReport,
    findings: [
      {
        scanner: 'vuln',
        id: 'CVE-2025-12345',
        severity: 'CRITICAL',
        title: 'libexample: heap overflow — ünïcödé',
        target: 'mlsecops-model:0123456 (debian 12.8)',
        pkgName: 'libexample1',
        installedVersion: '1.2.3-1',
        fixedVersion: '1.2.4-1',
        primaryUrl: 'https://avd.aquasec.com/nvd/cve-2025-12345',
      },
    ],
    counts: { CRITICAL: 1, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 },
    trivyVersion: '0.74.0',
  }
  const report = writeScanReport(path.join(workDir, 'report.md'), {
    scan,
    image: 'mlsecops-model:0123456',
  })
  // A binary file of 3 MiB of random bytes as well: byte-exactness must not depend on text.
  const blob = path.join(scanDir, 'random.bin')
  fs.writeFileSync(blob, crypto.randomBytes(3 * 1024 * 1024))
  files = [jsonReport, sarifReport, metrics, report, blob]

  fs.writeFileSync(path.join(tmp, 'github-output'), '')
  process.env.GITHUB_OUTPUT = path.join(tmp, 'github-output')
  process.env.ACTIONS_RUNTIME_TOKEN = service.runtimeToken
  process.env.ACTIONS_RESULTS_URL = service.resultsUrl
  process.env.GITHUB_WORKSPACE = tmp
  delete process.env.GITHUB_SERVER_URL
  delete process.env.GITHUB_RETENTION_DAYS
}, 120_000)

afterAll(async () => {
  process.env = savedEnv
  await service?.stop()
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

describe('uploadReportArtifact against Azurite + the Twirp artifact service', () => {
  it('uploads the reports; the downloaded zip unzips to byte-identical files', async () => {
    const started = Date.now()
    const result = await uploadReportArtifact({ name: 'mlsecops-report', files, retentionDays: 5 })
    console.log(`upload of ${files.length} files took ${Date.now() - started} ms`)
    if (result.status !== 'uploaded') throw new Error(`not uploaded: ${result.reason}`)
    expect(result.entries.sort()).toEqual(
      [
        'model/metrics.json',
        'report.md',
        'scan/random.bin',
        'scan/trivy-report.json',
        'scan/trivy-report.sarif',
      ].sort(),
    )

    // What the service recorded: finalized, with the retention the action asked for.
    const record = service.artifacts.find((a) => a.name === 'mlsecops-report')!
    expect(record.finalized).toBe(true)
    expect(record.id).toBe(result.id)
    const days = (Date.parse(record.expiresAt!) - Date.now()) / 86_400_000
    expect(days).toBeGreaterThan(4.9)
    expect(days).toBeLessThanOrEqual(5.01)
    expect(readOutputs()['artifact-id']).toBe(String(result.id))

    // Download through the service, as download-artifact would, and unzip with the system unzip.
    const { zip, listed } = await downloadArtifact('mlsecops-report')
    expect(listed.database_id).toBe(String(result.id))
    expect(`sha256:${crypto.createHash('sha256').update(zip).digest('hex')}`).toBe(listed.digest)
    expect(listed.digest).toBe(`sha256:${result.digest}`)
    const zipFile = path.join(tmp, 'download.zip')
    fs.writeFileSync(zipFile, zip)
    execFileSync('unzip', ['-tq', zipFile])
    const out = path.join(tmp, 'unzipped')
    execFileSync('unzip', ['-q', zipFile, '-d', out])
    const unpacked = listAllFiles(out).map((f) => path.relative(out, f).split(path.sep).join('/'))
    expect(unpacked.sort()).toEqual([...result.entries].sort())
    for (const entry of result.entries) {
      const original = fs.readFileSync(path.join(workDir, entry))
      const downloaded = fs.readFileSync(path.join(out, entry))
      expect(downloaded.equals(original)).toBe(true)
    }
  })

  it('a second artifact with the same name is a one-line ConfigurationError on artifact-name', async () => {
    const attempt = uploadReportArtifact({ name: 'mlsecops-report', files, retentionDays: 0 })
    await expect(attempt).rejects.toBeInstanceOf(ConfigurationError)
    await expect(
      uploadReportArtifact({ name: 'mlsecops-report', files, retentionDays: 0 }),
    ).rejects.toMatchObject({
      input: 'artifact-name',
      message: expect.stringMatching(
        /^An artifact named "mlsecops-report" already exists in this workflow run/,
      ),
    })
    const conflicts = service.calls.filter((c) => c.method === 'CreateArtifact' && c.status === 409)
    expect(conflicts.length).toBe(2)
  })

  it('retention-days 0 sends no expiry (the repository default applies)', async () => {
    const result = await uploadReportArtifact({
      name: 'mlsecops-report-default-retention',
      files: files.slice(0, 2),
      retentionDays: 0,
    })
    expect(result.status).toBe('uploaded')
    const record = service.artifacts.find((a) => a.name === 'mlsecops-report-default-retention')!
    expect(record.finalized).toBe(true)
    expect(record.expiresAt).toBeUndefined()
    const { zip } = await downloadArtifact('mlsecops-report-default-retention')
    const out = path.join(tmp, 'unzipped-2')
    const zipFile = path.join(tmp, 'download-2.zip')
    fs.writeFileSync(zipFile, zip)
    execFileSync('unzip', ['-q', zipFile, '-d', out])
    // Both files sit in scan/, which becomes the root.
    expect(
      listAllFiles(out)
        .map((f) => path.basename(f))
        .sort(),
    ).toEqual(['trivy-report.json', 'trivy-report.sarif'])
    for (const f of files.slice(0, 2)) {
      expect(fs.readFileSync(path.join(out, path.basename(f))).equals(fs.readFileSync(f))).toBe(
        true,
      )
    }
  })
})
