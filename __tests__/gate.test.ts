import { describe, expect, it } from '@jest/globals'
import { evaluateSeverityGate, meetsThreshold } from '../src/gate.js'
import { SEVERITIES, type Severity } from '../src/trivy/findings.js'
import type { Finding } from '../src/trivy/findings.js'

function vuln(id: string, severity: Severity, fixedVersion = '1.1', status?: string): Finding {
  return {
    scanner: 'vuln',
    id,
    severity,
    title: id,
    target: 'img (debian 12)',
    pkgName: 'pkg',
    installedVersion: '1.0',
    fixedVersion,
    status: status ?? (fixedVersion ? 'fixed' : 'affected'),
  }
}

const findings: Finding[] = [
  vuln('CVE-1', 'CRITICAL'),
  vuln('CVE-2', 'HIGH'),
  vuln('CVE-3', 'MEDIUM', ''),
  vuln('CVE-4', 'LOW'),
  vuln('CVE-5', 'UNKNOWN'),
  {
    scanner: 'secret',
    id: 'private-key',
    severity: 'HIGH',
    title: 'Asymmetric Private Key',
    target: '/app/key.pem',
  },
  {
    scanner: 'misconfig',
    id: 'DS-0002',
    severity: 'HIGH',
    title: "Image user should not be 'root'",
    target: 'Dockerfile',
  },
]

describe('meetsThreshold', () => {
  it('orders UNKNOWN < LOW < MEDIUM < HIGH < CRITICAL', () => {
    for (const [i, s] of SEVERITIES.entries()) {
      for (const [j, t] of SEVERITIES.entries()) expect(meetsThreshold(s, t)).toBe(i >= j)
    }
  })
})

describe('evaluateSeverityGate', () => {
  it.each([
    ['CRITICAL', ['CVE-1']],
    ['HIGH', ['CVE-1', 'CVE-2', 'private-key', 'DS-0002']],
    ['MEDIUM', ['CVE-1', 'CVE-2', 'CVE-3', 'private-key', 'DS-0002']],
    ['LOW', ['CVE-1', 'CVE-2', 'CVE-3', 'CVE-4', 'private-key', 'DS-0002']],
    ['UNKNOWN', ['CVE-1', 'CVE-2', 'CVE-3', 'CVE-4', 'CVE-5', 'private-key', 'DS-0002']],
  ] as [Severity, string[]][])(
    'fail-on-severity %s trips the findings at or above it',
    (threshold, ids) => {
      const d = evaluateSeverityGate(findings, { failOnSeverity: threshold, ignoreUnfixed: false })
      expect(d.passed).toBe(false)
      expect(d.tripped.map((f) => f.id).sort()).toEqual([...ids].sort())
      expect(d.considered).toBe(findings.length)
      expect(d.message).toContain(`fail-on-severity ${threshold}`)
    },
  )

  it('passes when every finding is below the threshold', () => {
    const low = [vuln('CVE-4', 'LOW'), vuln('CVE-5', 'UNKNOWN')]
    const d = evaluateSeverityGate(low, { failOnSeverity: 'MEDIUM', ignoreUnfixed: false })
    expect(d).toMatchObject({ passed: true, tripped: [], considered: 2 })
    expect(d.message).toBeUndefined()
  })

  it('passes on no findings, and is off for none', () => {
    expect(
      evaluateSeverityGate([], { failOnSeverity: 'UNKNOWN', ignoreUnfixed: false }).passed,
    ).toBe(true)
    const off = evaluateSeverityGate(findings, { failOnSeverity: undefined, ignoreUnfixed: false })
    expect(off).toMatchObject({ passed: true, failOnSeverity: undefined, tripped: [] })
  })

  it('ignore-unfixed leaves out vulnerabilities whose status is not fixed, and nothing else', () => {
    const mixed: Finding[] = [
      vuln('CVE-A', 'HIGH', '', 'affected'),
      vuln('CVE-B', 'HIGH', '', 'will_not_fix'),
      vuln('CVE-C', 'HIGH', '', 'fix_deferred'),
      vuln('CVE-D', 'HIGH', '', 'end_of_life'),
      vuln('CVE-E', 'HIGH', '2.0', 'fixed'),
      { ...vuln('CVE-F', 'HIGH', ''), status: undefined }, // no status: decided by the fixed version
      {
        scanner: 'secret',
        id: 'aws-access-key-id',
        severity: 'CRITICAL',
        title: 'AWS',
        target: '/app/.env',
      },
      {
        scanner: 'misconfig',
        id: 'DS-0002',
        severity: 'HIGH',
        title: 'root',
        target: 'Dockerfile',
      },
    ]
    const d = evaluateSeverityGate(mixed, { failOnSeverity: 'HIGH', ignoreUnfixed: true })
    expect(d.tripped.map((f) => f.id)).toEqual(['CVE-E', 'aws-access-key-id', 'DS-0002'])
    expect(d.ignoredUnfixed).toBe(5)
    expect(d.considered).toBe(3)
    expect(d.message).toContain('(unfixed vulnerabilities left out)')
  })

  it('ignore-unfixed can turn a failure into a pass', () => {
    const only = [vuln('CVE-3', 'MEDIUM', '')]
    expect(
      evaluateSeverityGate(only, { failOnSeverity: 'MEDIUM', ignoreUnfixed: false }).passed,
    ).toBe(false)
    expect(
      evaluateSeverityGate(only, { failOnSeverity: 'MEDIUM', ignoreUnfixed: true }).passed,
    ).toBe(true)
  })

  it('says how many per severity, highest first, with at most five ids', () => {
    const many = [
      ...Array.from({ length: 6 }, (_, i) => vuln(`CVE-H${i}`, 'HIGH')),
      vuln('CVE-C0', 'CRITICAL'),
    ]
    const d = evaluateSeverityGate(many, { failOnSeverity: 'HIGH', ignoreUnfixed: false })
    expect(d.message).toBe(
      'The image scan found 7 finding(s) at or above fail-on-severity HIGH: 1 CRITICAL, 6 HIGH (CVE-C0, CVE-H0, CVE-H1, CVE-H2, CVE-H3, and 2 more).',
    )
    expect(d.message).not.toMatch(/\n/)
  })

  it('does not change its input', () => {
    const copy = JSON.parse(JSON.stringify(findings)) as Finding[]
    evaluateSeverityGate(findings, { failOnSeverity: 'LOW', ignoreUnfixed: true })
    expect(findings).toEqual(copy)
  })
})
