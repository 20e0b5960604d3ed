import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ScannerError } from '../src/errors.js'
import {
  countBySeverity,
  findingsFromReport,
  isUnfixed,
  parseTrivyReport,
  toSeverity,
} from '../src/trivy/report.js'

// A real Trivy 0.74.0 report (test DB): the root-user fixture image, with the secret result of the private-key
// fixture appended and the package list dropped. Misconfigurations include two passes (--include-non-failures).
const fixture = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '__fixtures__',
  'trivy',
  'report.json',
)
const text = fs.readFileSync(fixture, 'utf8')

describe('parseTrivyReport + findingsFromReport on a real report', () => {
  const findings = findingsFromReport(parseTrivyReport(text))

  it('reads vulnerabilities with package, versions and status', () => {
    const vulns = findings.filter((f) => f.scanner === 'vuln')
    expect(vulns).toHaveLength(7)
    expect(vulns.find((f) => f.pkgName === 'zlib1g')).toMatchObject({
      id: 'CVE-2099-1001',
      severity: 'CRITICAL',
      installedVersion: '1:1.2.13.dfsg-1',
      fixedVersion: '1:1.2.13.dfsg-1+deb12u1',
      status: 'fixed',
      target: 'fx-root (debian 12.15)',
    })
    const tar = vulns.find((f) => f.pkgName === 'tar')
    expect(tar).toMatchObject({ id: 'CVE-2099-1004', fixedVersion: '', status: 'affected' })
    expect(isUnfixed(tar!)).toBe(true)
  })

  it('reads failed misconfigurations only', () => {
    const misconfigs = findings.filter((f) => f.scanner === 'misconfig')
    expect(misconfigs.map((f) => f.id).sort()).toEqual(['DS-0002', 'DS-0026'])
    expect(misconfigs.find((f) => f.id === 'DS-0002')).toMatchObject({
      severity: 'HIGH',
      title: "Image user should not be 'root'",
      target: 'fx-root', // the image config, rebuilt as a Dockerfile
      primaryUrl: 'https://avd.aquasec.com/misconfig/ds-0002',
    })
  })

  it('reads secrets without their content', () => {
    const secret = findings.find((f) => f.scanner === 'secret')
    expect(secret).toEqual({
      scanner: 'secret',
      id: 'private-key',
      severity: 'HIGH',
      title: 'Asymmetric Private Key',
      target: '/app/deploy_key.pem',
      startLine: 2,
    })
  })

  it('counts by severity', () => {
    expect(countBySeverity(findings)).toEqual({
      CRITICAL: 1,
      HIGH: 5,
      MEDIUM: 1,
      LOW: 2,
      UNKNOWN: 1,
    })
  })
})

describe('parseTrivyReport refuses what is not a Trivy report (a scanner error, never a pass)', () => {
  it.each([
    ['', /not valid JSON/],
    ['{"SchemaVersion": 2, "Results": [', /not valid JSON/],
    ['[]', /not a JSON object/],
    ['null', /not a JSON object/],
    ['{"Results": []}', /SchemaVersion undefined/],
    ['{"SchemaVersion": 1}', /SchemaVersion 1/],
    ['{"SchemaVersion": 2, "Results": {}}', /Results field that is not a list/],
  ])('%j', (body, message) => {
    expect(() => parseTrivyReport(body)).toThrow(ScannerError)
    expect(() => parseTrivyReport(body)).toThrow(message)
  })

  it('accepts a report with no results (nothing found)', () => {
    expect(findingsFromReport(parseTrivyReport('{"SchemaVersion": 2}'))).toEqual([])
    expect(findingsFromReport(parseTrivyReport('{"SchemaVersion": 2, "Results": null}'))).toEqual(
      [],
    )
  })
})

describe('findingsFromReport edge cases', () => {
  it('maps licenses, null lists and odd severities', () => {
    const findings = findingsFromReport({
      SchemaVersion: 2,
      Results: [
        {
          Target: 'OS Packages',
          Class: 'license',
          Licenses: [
            { Name: 'GPL-3.0', Severity: 'HIGH', PkgName: 'bash', Category: 'restricted' },
          ],
        },
        { Target: 'x', Vulnerabilities: null, Secrets: null, Misconfigurations: null },
        { Target: 'y', Vulnerabilities: [{ VulnerabilityID: 'CVE-9', Severity: 'negligible' }] },
      ],
    })
    expect(findings).toHaveLength(2)
    expect(findings[0]).toMatchObject({
      scanner: 'license',
      id: 'GPL-3.0',
      severity: 'HIGH',
      pkgName: 'bash',
    })
    expect(findings[1]).toMatchObject({
      scanner: 'vuln',
      id: 'CVE-9',
      severity: 'UNKNOWN',
      fixedVersion: '',
    })
  })

  it('toSeverity', () => {
    expect(toSeverity('critical')).toBe('CRITICAL')
    expect(toSeverity(undefined)).toBe('UNKNOWN')
  })
})
