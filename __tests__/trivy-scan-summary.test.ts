import { describe, expect, it } from '@jest/globals'
import { renderBuildSection } from '../src/docker/build-summary.js'
import { evaluateSeverityGate } from '../src/gate.js'
import type { Finding, ScanResult } from '../src/trivy/findings.js'
import { countBySeverity } from '../src/trivy/report.js'
import { renderScanSection } from '../src/trivy/scan-summary.js'

const findings: Finding[] = [
  {
    scanner: 'vuln',
    id: 'CVE-2099-1002',
    severity: 'HIGH',
    title: 'openssl | pipes',
    target: 'img (debian 12)',
    pkgName: 'libssl3',
    installedVersion: '3.0.20-1~deb12u2',
    fixedVersion: '3.0.21-1~deb12u1',
    status: 'fixed',
    primaryUrl: 'https://avd.aquasec.com/nvd/cve-2099-1002',
  },
  {
    scanner: 'vuln',
    id: 'CVE-2099-1004',
    severity: 'MEDIUM',
    title: 'tar',
    target: 'img',
    pkgName: 'tar',
    installedVersion: '1.34',
    fixedVersion: '',
    status: 'affected',
  },
  {
    scanner: 'secret',
    id: 'private-key',
    severity: 'HIGH',
    title: 'Asymmetric Private Key',
    target: '/app/key.pem',
  },
]

function scan(list: Finding[]): ScanResult {
  return {
    jsonReport: '/r/trivy-report.json',
    sarifReport: '/r/trivy-report.sarif',
    findings: list,
    counts: countBySeverity(list),
    trivyVersion: '0.74.0',
    dbUpdatedAt: '2026-11-20T06:00:00Z',
    image: 'iris:abc1234',
    scanners: ['vuln', 'secret'],
  }
}

describe('renderScanSection', () => {
  it('shows the counts and the verdict, and leaves the findings list to the publish stage', () => {
    const gate = evaluateSeverityGate(findings, { failOnSeverity: 'HIGH', ignoreUnfixed: true })
    const md = renderScanSection(scan(findings), gate)
    expect(md).toContain('### Image scan')
    expect(md).toContain(
      'Trivy 0.74.0 (DB updated 2026-11-20T06:00:00Z) scanned `iris:abc1234` for vuln, secret.',
    )
    expect(md).toContain('| Critical | High | Medium | Low | Unknown | Severity gate |')
    expect(md).toContain('| 0 | 2 | 1 | 0 | 0 | **failed**: 2 finding(s) at or above HIGH |')
    expect(md).toContain('1 unfixed vulnerabilities left out of the gate (ignore-unfixed).')
    expect(md).not.toContain('CVE-2099-1002')
  })

  it('passed, off, server mode, and no findings', () => {
    const passed = renderScanSection(
      scan([]),
      evaluateSeverityGate([], { failOnSeverity: 'LOW', ignoreUnfixed: false }),
    )
    expect(passed).toContain('passed (fail-on-severity LOW)')
    const off = renderScanSection(
      { ...scan(findings), server: 'http://trivy:4954', dbUpdatedAt: undefined },
      evaluateSeverityGate(findings, { failOnSeverity: undefined, ignoreUnfixed: false }),
    )
    expect(off).toContain('off (fail-on-severity none)')
    expect(off).toContain('(server http://trivy:4954)')
  })
})

describe('renderBuildSection', () => {
  it('shows the image, its id and our labels only', () => {
    const md = renderBuildSection({
      image: 'iris:abc1234',
      imageId: `sha256:${'b'.repeat(64)}`,
      labels: {
        'io.mlsecops.model-version': '3',
        'org.opencontainers.image.revision': 'abc',
        maintainer: 'base image',
      },
      requestedLabels: {},
      durationMs: 12_345,
    })
    expect(md).toContain('| `iris:abc1234` | `sha256:bbbb')
    expect(md).toContain('| 12.3 s |')
    expect(md).toContain('| `io.mlsecops.model-version` | 3 |')
    expect(md).not.toContain('maintainer')
  })
})
