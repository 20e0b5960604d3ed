/**
 * Unit: the human-readable report that goes into the artifact. The rendering of a fixed input is kept as a
 * fixture (__tests__/fixtures/artifact/report.md, checked by eye); set MLSECOPS_UPDATE_FIXTURES=1 to rewrite it.
 */
import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { compareFindings, renderScanReport, writeScanReport } from '../src/publish/report-text.js'
import type { Metrics } from '../src/train/metrics.js'
import type { Finding, ScanResult } from '../src/trivy/findings.js'

const FIXTURE = path.resolve('__tests__/fixtures/artifact/report.md')

const metrics: Metrics = {
  accuracy: 0.9666667,
  precisionMacro: 0.969697,
  recallMacro: 0.966667,
  f1Macro: 0.966583,
  trainSize: 120,
  testSize: 30,
  perClass: [],
  confusionMatrix: [],
  classLabels: ['setosa', 'versicolor', 'virginica'],
}

const findings: Finding[] = [
  {
    scanner: 'vuln',
    id: 'CVE-2024-11111',
    severity: 'LOW',
    title: 'coreutils: minor information leak',
    target: 'mlsecops-model:0123456 (debian 12.8)',
    pkgName: 'coreutils',
    installedVersion: '9.1-1',
    primaryUrl: 'https://avd.aquasec.com/nvd/cve-2024-11111',
  },
  {
    scanner: 'vuln',
    id: 'CVE-2025-22222',
    severity: 'CRITICAL',
    title: 'libother: no fix yet',
    target: 'mlsecops-model:0123456 (debian 12.8)',
    pkgName: 'libother0',
    installedVersion: '2.0-1',
    fixedVersion: '',
  },
  {
    scanner: 'vuln',
    id: 'CVE-2025-12345',
    severity: 'CRITICAL',
    title: 'libexample: heap overflow | in the parser',
    target: 'mlsecops-model:0123456 (debian 12.8)',
    pkgName: 'libexample1',
    installedVersion: '1.2.3-1',
    fixedVersion: '1.2.4-1',
    primaryUrl: 'https://avd.aquasec.com/nvd/cve-2025-12345',
  },
  {
    scanner: 'misconfig',
    id: 'DS002',
    severity: 'HIGH',
    title: "Image user should not be 'root'",
    target: 'Dockerfile',
    primaryUrl: 'https://avd.aquasec.com/misconfig/ds002',
  },
  {
    scanner: 'secret',
    id: 'aws-access-key-id',
    severity: 'CRITICAL',
    title: 'AWS Access Key ID',
    target: '/app/.env',
  },
]

const scan: ScanResult = {
  jsonReport: '/runner/temp/mlsecops/scan/trivy-report.json',
  sarifReport: '/runner/temp/mlsecops/scan/trivy-report.sarif',
  findings,
  counts: { CRITICAL: 3, HIGH: 1, MEDIUM: 0, LOW: 1, UNKNOWN: 0 },
  trivyVersion: '0.74.0',
  dbUpdatedAt: '2026-11-25T06:12:40Z',
}

const input = {
  metrics,
  scan,
  image: 'mlsecops-model:0123456',
  imageId: 'sha256:5d41402abc4b2a76b9719d911017c592ae3dd6ddbc1f8bca1e8e6a4d4f1b6c1e',
  repository: 'octo-org/model-repo',
  sha: 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3',
  runUrl: 'https://github.com/octo-org/model-repo/actions/runs/42',
  modelName: 'iris-classifier',
  modelVersion: '3',
  generatedAt: '2026-11-25T20:00:00.000Z',
}

describe('renderScanReport', () => {
  it('renders the fixed input exactly as the kept fixture', () => {
    const text = renderScanReport(input)
    if (process.env.MLSECOPS_UPDATE_FIXTURES === '1') {
      fs.mkdirSync(path.dirname(FIXTURE), { recursive: true })
      fs.writeFileSync(FIXTURE, text)
    }
    expect(text).toBe(fs.readFileSync(FIXTURE, 'utf8'))
  })

  it('lists every finding, most severe first and fixable first, with pipes escaped', () => {
    const text = renderScanReport(input)
    const ids = [...findings].sort(compareFindings).map((f) => f.id)
    expect(ids).toEqual([
      'CVE-2025-12345',
      'aws-access-key-id',
      'CVE-2025-22222',
      'DS002',
      'CVE-2024-11111',
    ])
    const rows = text
      .split('\n')
      .filter(
        (l) => /^\| (CRITICAL|HIGH|MEDIUM|LOW|UNKNOWN) \| \S/.test(l) && l.split('|').length > 8,
      )
    expect(rows.map((r) => r.split(' | ')[1])).toEqual(ids)
    expect(text).toContain('heap overflow \\| in the parser')
    expect(text).toContain('| CVE-2025-22222 | vuln |')
    expect(text).toMatch(/\| libother0 \| 2\.0-1 \| no fix \|/)
  })

  it('says so when the image was not scanned, or when nothing was found', () => {
    expect(renderScanReport({ metrics, generatedAt: 'x' })).toContain('The image was not scanned.')
    const clean = renderScanReport({
      scan: {
        ...scan,
        findings: [],
        counts: { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 },
      },
    })
    expect(clean).toContain('No findings.')
    expect(clean).not.toContain('## Findings')
  })

  it('writeScanReport creates the directory and returns the path', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlsecops-report-'))
    try {
      const file = writeScanReport(path.join(dir, 'a', 'report.md'), input)
      expect(fs.readFileSync(file, 'utf8')).toBe(renderScanReport(input))
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
