import type { SeverityGateDecision } from '../gate.js'
import { SEVERITIES } from './findings.js'
import { code, join, strong, table } from '../render/markdown.js'
import type { ScanResult } from './findings.js'

/**
 * The scan part of the job summary: what scanned what, the counts per severity and the severity gate's verdict.
 * The findings themselves are listed by the publish stage's findings section (within the summary's budget).
 */
export function renderScanSection(scan: ScanResult, gate: SeverityGateDecision): string {
  const ordered = [...SEVERITIES].reverse()
  const verdict =
    gate.failOnSeverity === undefined
      ? 'off (fail-on-severity none)'
      : gate.passed
        ? `passed (fail-on-severity ${gate.failOnSeverity})`
        : join(
            strong('failed'),
            `: ${gate.tripped.length} finding(s) at or above ${gate.failOnSeverity}`,
          )
  const source = scan.server
    ? `server ${scan.server}`
    : `DB updated ${scan.dbUpdatedAt ?? 'unknown'}`
  const parts = [
    '### Image scan',
    join(
      `Trivy ${scan.trivyVersion} (${source}) scanned `,
      code(scan.image ?? ''),
      scan.scanners ? ` for ${scan.scanners.join(', ')}.` : '.',
    ).text,
    '',
    table(
      [...ordered.map((s) => s.charAt(0) + s.slice(1).toLowerCase()), 'Severity gate'],
      [[...ordered.map((s) => scan.counts[s]), verdict]],
    ),
  ]
  const suppressed = scan.suppressed?.length ?? 0
  if (suppressed > 0) {
    parts.push(
      '',
      `${suppressed} finding(s) suppressed by exceptions (ignore files, VEX): out of these counts and the gate, listed under Suppressed.`,
    )
  }
  if (gate.ignoredUnfixed > 0) {
    parts.push(
      '',
      `${gate.ignoredUnfixed} unfixed vulnerabilities left out of the gate (ignore-unfixed).`,
    )
  }
  return parts.join('\n')
}
