/**
 * The publish parts of the job summary (findings by scanner, top findings, verdict) and the verdict tags:
 * rendering from fixed inputs, the 1 MiB budget on a generated list of 200,000 findings, the safety net for a
 * whole summary that is too long, and a fixture of the rendered sections.
 */
import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { evaluateSeverityGate } from '../src/gate.js'
import { SEVERITIES, type Severity } from '../src/trivy/findings.js'
import {
  JOB_SUMMARY_LIMIT_BYTES,
  TOP_FINDINGS,
  fitJobSummary,
  renderFindingsSection,
  renderScannerTable,
  renderVerdictSection,
} from '../src/publish/job-summary.js'
import { scanStatus, verdictTags } from '../src/publish/mlflow-verdict.js'
import type { Finding, ScanResult } from '../src/trivy/findings.js'
import { countBySeverity } from '../src/trivy/report.js'

const FIXTURE = path.resolve('__tests__/fixtures/summary/publish-sections.md')

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

function scanOf(findings: Finding[]): ScanResult {
  return {
    jsonReport: '/tmp/r/trivy-report.json',
    sarifReport: '/tmp/r/trivy-report.sarif',
    findings,
    counts: countBySeverity(findings),
    trivyVersion: '0.74.0',
    dbUpdatedAt: '2026-11-20T06:00:00Z',
    image: 'iris-demo:0123456',
    scanners: ['vuln', 'secret', 'misconfig'],
  }
}

const SMALL: Finding[] = [
  {
    scanner: 'vuln',
    id: 'CVE-2099-1004',
    severity: 'MEDIUM',
    title: 'tar: test advisory without a fix',
    target: 'iris-demo:0123456 (debian 12.12)',
    pkgName: 'tar',
    installedVersion: '1.34+dfsg-1.2+deb12u1',
    fixedVersion: '',
    status: 'affected',
    primaryUrl: 'https://avd.aquasec.com/nvd/cve-2099-1004',
  },
  {
    scanner: 'vuln',
    id: 'CVE-2099-1003',
    severity: 'HIGH',
    title: 'nodejs: <script>alert(1)</script> | a pipe',
    target: 'iris-demo:0123456 (debian 12.12)',
    pkgName: 'nodejs',
    installedVersion: '18.20.4+dfsg-1~deb12u2',
    fixedVersion: '',
    status: 'affected',
    primaryUrl: 'https://avd.aquasec.com/nvd/cve-2099-1003',
  },
  {
    scanner: 'vuln',
    id: 'CVE-2099-1002',
    severity: 'HIGH',
    title: 'openssl: fixed in a later update',
    target: 'iris-demo:0123456 (debian 12.12)',
    pkgName: 'libssl3',
    installedVersion: '3.0.20-1~deb12u2',
    fixedVersion: '3.0.21-1~deb12u1',
    status: 'fixed',
    primaryUrl: 'https://avd.aquasec.com/nvd/cve-2099-1002',
  },
  {
    scanner: 'secret',
    id: 'private-key',
    severity: 'HIGH',
    title: 'Asymmetric Private Key',
    target: '/app/deploy_key.pem',
    startLine: 1,
  },
  {
    scanner: 'misconfig',
    id: 'DS002',
    severity: 'HIGH',
    title: 'Image user should not be root',
    target: 'Dockerfile',
    primaryUrl: 'javascript:alert(1)',
  },
]

function generated(n: number): Finding[] {
  const out: Finding[] = []
  for (let i = 0; i < n; i++) {
    const severity = SEVERITIES[i % SEVERITIES.length] as Severity
    out.push({
      scanner: i % 7 === 0 ? 'misconfig' : 'vuln',
      id: `CVE-2099-${String(i).padStart(6, '0')}`,
      severity,
      title: `generated advisory number ${i} with a long enough title to make rows realistic — ünïcödé`,
      target: `image:tag (debian 12.12)`,
      pkgName: `lib${i % 300}`,
      installedVersion: `1.${i % 10}.0-1`,
      fixedVersion: i % 3 === 0 ? '' : `1.${i % 10}.1-1`,
      primaryUrl: `https://avd.aquasec.com/nvd/cve-2099-${i}`,
    })
  }
  return out
}

function verdictFor(findings: Finding[], failOn: Severity | undefined, alias: 'set' | 'kept') {
  const scan = scanOf(findings)
  const gate = evaluateSeverityGate(findings, { failOnSeverity: failOn, ignoreUnfixed: false })
  return renderVerdictSection({
    accuracy: 0.966667,
    minAccuracy: 0.9,
    scan,
    severityGate: gate,
    gatePassed: gate.passed,
    artifact: {
      status: 'uploaded',
      id: 1000,
      name: 'mlsecops-report',
      entries: ['reports/trivy-report.json', 'report.md'],
    },
    codeScanning: { status: 'skipped', reason: 'the pull request comes from a fork (someone/x)' },
    mlflow: {
      modelName: 'iris-demo',
      modelVersion: '3',
      versionUrl: 'http://127.0.0.1:5000/#/models/iris-demo/versions/3',
      runUrl: 'http://127.0.0.1:5000/#/experiments/1/runs/abc',
      alias: 'candidate',
      record: {
        artifacts: ['scan/trivy-report.json'],
        tags: verdictTags({
          scan,
          severityGatePassed: gate.passed,
          failOnSeverity: failOn,
          gatePassed: gate.passed,
          gateFailures: gate.message ? [gate.message] : [],
        }),
        ...(alias === 'set' ? { aliasSet: 'candidate' } : { aliasVersion: '2' }),
      },
    },
  })
}

describe('findings section', () => {
  it('counts by scanner and severity, with totals', () => {
    const table = renderScannerTable(scanOf(SMALL))
    expect(table.split('\n')).toEqual([
      '| Scanner | Critical | High | Medium | Low | Unknown | Total |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      '| vuln | 0 | 2 | 1 | 0 | 0 | 3 |',
      '| secret | 0 | 1 | 0 | 0 | 0 | 1 |',
      '| misconfig | 0 | 1 | 0 | 0 | 0 | 1 |',
      '| **Total** | **0** | **4** | **1** | **0** | **0** | **5** |',
    ])
  })

  it('lists the most severe first, fixable first within a severity; links only http(s); no HTML from titles', () => {
    const text = renderFindingsSection(scanOf(SMALL), { budgetBytes: JOB_SUMMARY_LIMIT_BYTES })
    const rows = text.split('\n').filter((l) => /^\| (HIGH|MEDIUM) /.test(l))
    expect(rows[0]).toContain('[CVE-2099-1002](https://avd.aquasec.com/nvd/cve-2099-1002)')
    expect(rows[0]).toContain('| 3.0.21-1\\~deb12u1 |')
    expect(rows.at(-1)).toContain('CVE-2099-1004')
    expect(rows.at(-1)).toContain('| no fix |')
    expect(text).not.toContain('<script>')
    expect(text).toContain('&lt;script&gt;alert(1)&lt;/script&gt; \\| a pipe')
    expect(text).not.toContain('javascript:')
    expect(text).toContain('| /app/deploy_key.pem:1 |')
    expect(text).not.toContain('<details>') // five findings: all in the open
  })

  it('200,000 generated findings: the section stays within its budget, says how many were left out', () => {
    const findings = generated(200_000)
    const budget = JOB_SUMMARY_LIMIT_BYTES - 100_000
    const started = Date.now()
    const text = renderFindingsSection(scanOf(findings), {
      budgetBytes: budget,
      fullReportHint: 'report.md in the artifact',
    })
    const ms = Date.now() - started
    expect(bytes(text)).toBeLessThanOrEqual(budget)
    expect(bytes(text)).toBeGreaterThan(budget - 2_000) // the budget is used, not wasted
    const shown = text.split('\n').filter((l) => /^\| [A-Z]+ \| \[CVE-/.test(l)).length
    expect(shown).toBeGreaterThan(TOP_FINDINGS)
    const note =
      /_(\d+) more finding\(s\) not shown: GitHub limits the job summary to 1 MiB\. Every finding is in report\.md in the artifact\._/.exec(
        text,
      )
    expect(note).not.toBeNull()
    expect(Number(note![1]) + shown).toBe(findings.length)
    // The collapsed block is closed after the note.
    expect(text.trimEnd().endsWith('</details>')).toBe(true)
    expect((text.match(/<details>/g) ?? []).length).toBe(1)
    // Every CRITICAL comes before every LOW among the rows shown.
    const severities = text
      .split('\n')
      .filter((l) => /^\| [A-Z]+ \| \[CVE-/.test(l))
      .map((l) => l.split(' | ')[0].slice(2))
    expect(severities[0]).toBe('CRITICAL')
    expect(ms).toBeLessThan(20_000)
  })

  it('a budget too small for the top findings: fewer rows and the note, no collapsed block', () => {
    const text = renderFindingsSection(scanOf(generated(50)), { budgetBytes: 2_500 })
    expect(bytes(text)).toBeLessThanOrEqual(2_500)
    expect(text).toMatch(/_\d+ more finding\(s\) not shown/)
    expect(text).not.toContain('<details>')
  })

  it('no findings: the table and a line', () => {
    const text = renderFindingsSection(scanOf([]), { budgetBytes: 10_000 })
    expect(text).toMatch(/\*\*Total\*\* \| \*\*0\*\*/)
    expect(text.endsWith('No findings.')).toBe(true)
  })
})

describe('verdict section', () => {
  it('a failed severity gate: the reason, the alias kept, the skip line', () => {
    const text = verdictFor(SMALL, 'HIGH', 'kept')
    expect(text).toMatch(/^### Verdict: failed/)
    expect(text).toContain(
      '| Model accuracy | passed | holdout accuracy 0.966667 ≥ min-accuracy 0.9 |',
    )
    expect(text).toMatch(
      /\| Image scan \(fail-on-severity HIGH\) \| \*\*failed\*\* \| The image scan found 4 finding\(s\)/,
    )
    expect(text).toContain('alias `candidate` not moved (stays on version 2)')
    expect(text).toContain(
      'Code scanning: skipped, the pull request comes from a fork (someone/x).',
    )
  })

  it('the gate off: passed, says why', () => {
    const text = verdictFor(SMALL, undefined, 'set')
    expect(text).toMatch(/^### Verdict: passed/)
    expect(text).toContain('| Image scan | off | fail-on-severity is none |')
    expect(text).toContain('alias `candidate` now points at version 3')
  })

  it('not scanned, register skipped, artifact off', () => {
    const text = renderVerdictSection({
      accuracy: 0.5,
      minAccuracy: 0.9,
      gatePassed: false,
      artifact: { status: 'off' },
    })
    expect(text).toContain(
      '| Model accuracy | **failed** | holdout accuracy 0.5 &lt; min-accuracy 0.9 |',
    )
    expect(text).toContain('| Image scan | not scanned | build or scan is false |')
    expect(text).toContain('MLflow: no verdict recorded (register was skipped).')
    expect(text).toContain('Artifact: not uploaded (upload-artifact is false).')
    expect(text).toContain('Code scanning: nothing to upload (no scan ran).')
  })

  it('matches the fixture (checked by eye)', () => {
    const scan = scanOf(SMALL)
    const rendered = [
      renderFindingsSection(scan, { budgetBytes: JOB_SUMMARY_LIMIT_BYTES }),
      verdictFor(SMALL, 'HIGH', 'kept'),
    ].join('\n\n')
    if (process.env.MLSECOPS_UPDATE_FIXTURES === '1') fs.writeFileSync(FIXTURE, rendered + '\n')
    expect(rendered + '\n').toBe(fs.readFileSync(FIXTURE, 'utf8'))
  })
})

describe('fitJobSummary (the safety net for the whole summary)', () => {
  it('leaves a summary under the limit untouched', () => {
    expect(fitJobSummary('## a\n\nb')).toBe('## a\n\nb')
  })

  it('cuts a 5 MiB summary at a line under 1 MiB, closes open <details>, says so', () => {
    const rows = Array.from({ length: 60_000 }, (_, i) => `| class-${i} | ${'x'.repeat(80)} |`)
    const markdown = [
      '## mlsecops',
      '<details><summary>Confusion</summary>',
      '',
      ...rows,
      '',
      '</details>',
      '### Verdict: passed',
    ].join('\n')
    expect(bytes(markdown)).toBeGreaterThan(5 * 1024 * 1024)
    const fitted = fitJobSummary(markdown)
    expect(bytes(fitted)).toBeLessThanOrEqual(JOB_SUMMARY_LIMIT_BYTES)
    expect(fitted).toMatch(
      /<\/details>\n\n_The rest of this summary was cut: GitHub limits the job summary to 1 MiB\._\n$/,
    )
    const body = fitted.split('\n').filter((l) => l.startsWith('| class-'))
    expect(body.every((l) => l.endsWith('|'))).toBe(true)
  })
})

describe('verdict tags', () => {
  it('scan status, counts per severity, Trivy and DB, image, gate and its reason', () => {
    const scan = scanOf(SMALL)
    const tags = Object.fromEntries(
      verdictTags({
        scan,
        severityGatePassed: false,
        failOnSeverity: 'HIGH',
        gatePassed: false,
        gateFailures: ['Model accuracy 0.5 is below min-accuracy 0.9.', 'The image scan found 4.'],
        image: 'iris-demo:0123456',
        imageId: `sha256:${'a'.repeat(64)}`,
      }).map((t) => [t.key, t.value]),
    )
    expect(tags).toEqual({
      scan_status: 'failed',
      scan_critical: '0',
      scan_high: '4',
      scan_medium: '1',
      scan_low: '0',
      scan_unknown: '0',
      scan_suppressed: '0',
      scan_fail_on_severity: 'HIGH',
      trivy_version: '0.74.0',
      trivy_db_updated_at: '2026-11-20T06:00:00Z',
      image: 'iris-demo:0123456',
      image_id: `sha256:${'a'.repeat(64)}`,
      gate: 'failed',
      gate_reason: 'Model accuracy 0.5 is below min-accuracy 0.9. The image scan found 4.',
    })
  })

  it('no scan: not-scanned and only what is known; the gate passed: no reason tag', () => {
    const tags = verdictTags({ gatePassed: true, gateFailures: [] })
    expect(tags).toEqual([
      { key: 'scan_status', value: 'not-scanned' },
      { key: 'gate', value: 'passed' },
    ])
    expect(scanStatus({ scan: scanOf([]), severityGatePassed: true })).toBe('passed')
  })

  it('a long reason is cut to fit an MLflow tag value', () => {
    const tags = verdictTags({ gatePassed: false, gateFailures: ['x'.repeat(20_000)] })
    expect(tags.find((t) => t.key === 'gate_reason')!.value.length).toBe(5000)
  })
})
