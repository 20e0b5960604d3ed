import type { SeverityGateDecision } from '../gate.js'
import { SEVERITIES } from '../inputs.js'
import { markdownTable } from '../summary.js'
import type { Finding, ScanResult } from './findings.js'

const MAX_ROWS = 50

function findingRow(f: Finding): string[] {
  const pkg = f.pkgName
    ? `${f.pkgName} ${f.installedVersion ?? ''}${f.fixedVersion ? ` → ${f.fixedVersion}` : ''}`
    : ''
  const id = f.primaryUrl ? `[${f.id}](${f.primaryUrl})` : f.id
  return [f.severity, f.scanner, id, pkg.trim(), f.target, f.title]
}

/** The scan part of the job summary: counts per severity, the gate's verdict, and the findings. */
export function renderScanSection(scan: ScanResult, gate: SeverityGateDecision): string {
  const ordered = [...SEVERITIES].reverse()
  const findings = [...scan.findings].sort(
    (a, b) => ordered.indexOf(a.severity) - ordered.indexOf(b.severity) || a.id.localeCompare(b.id),
  )
  const verdict =
    gate.failOnSeverity === undefined
      ? 'off (fail-on-severity none)'
      : gate.passed
        ? `passed (fail-on-severity ${gate.failOnSeverity})`
        : `**failed**: ${gate.tripped.length} finding(s) at or above ${gate.failOnSeverity}`
  const source = scan.server
    ? `server ${scan.server}`
    : `DB updated ${scan.dbUpdatedAt ?? 'unknown'}`
  const parts = [
    '### Image scan',
    `Trivy ${scan.trivyVersion} (${source}) scanned \`${scan.image ?? ''}\`${scan.scanners ? ` for ${scan.scanners.join(', ')}` : ''}.`,
    '',
    markdownTable(
      [...ordered.map((s) => s.charAt(0) + s.slice(1).toLowerCase()), 'Severity gate'],
      [[...ordered.map((s) => scan.counts[s]), verdict]],
    ),
  ]
  if (gate.ignoredUnfixed > 0) {
    parts.push(
      '',
      `${gate.ignoredUnfixed} unfixed vulnerabilities left out of the gate (ignore-unfixed).`,
    )
  }
  if (findings.length > 0) {
    parts.push(
      '',
      `<details><summary>Findings (${findings.length}${findings.length > MAX_ROWS ? `, first ${MAX_ROWS}` : ''})</summary>`,
      '',
      markdownTable(
        ['Severity', 'Scanner', 'Id', 'Package', 'Target', 'Title'],
        findings.slice(0, MAX_ROWS).map(findingRow),
      ),
      '',
      '</details>',
    )
  }
  return parts.join('\n')
}
