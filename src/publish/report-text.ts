import * as fs from 'node:fs'
import * as path from 'node:path'
import { SEVERITIES, SCANNERS, type Severity } from '../trivy/findings.js'
import type { Metrics } from '../train/metrics.js'
import type { Finding, ScanResult } from '../trivy/findings.js'
import { escape, formatNumber as fixed, link, table } from '../render/markdown.js'

/**
 * The human-readable report that goes into the workflow artifact: a Markdown file that reads as plain text.
 * Unlike the job summary it lists every finding, so it has no size budget.
 */

export interface ReportInput {
  /** Holdout metrics of the trained model. */
  metrics?: Metrics
  /** The scan result; undefined when the scan was skipped. */
  scan?: ScanResult
  image?: string
  imageId?: string
  repository?: string
  sha?: string
  runUrl?: string
  modelName?: string
  modelVersion?: string
  /** ISO time written in the header; default: now. */
  generatedAt?: string
}

const SEVERITY_ORDER: Severity[] = [...SEVERITIES].reverse()

/** Most severe first; within a severity, findings with a fix first; then by id and target. */
export function compareFindings(a: Finding, b: Finding): number {
  const rank = (f: Finding): number => (SEVERITIES as readonly string[]).indexOf(f.severity)
  const fixable = (f: Finding): number => (f.fixedVersion ? 1 : 0)
  return (
    rank(b) - rank(a) ||
    fixable(b) - fixable(a) ||
    a.id.localeCompare(b.id) ||
    a.target.localeCompare(b.target) ||
    (a.pkgName ?? '').localeCompare(b.pkgName ?? '')
  )
}

function renderFacts(input: ReportInput): string[] {
  const model =
    input.modelName && input.modelVersion
      ? `${input.modelName} version ${input.modelVersion}`
      : input.modelName
  const facts: [string, string | undefined][] = [
    ['Generated', input.generatedAt ?? new Date().toISOString()],
    ['Repository', input.repository],
    ['Commit', input.sha],
    ['Workflow run', input.runUrl],
    ['Model', model],
    ['Image', input.image],
    ['Image id', input.imageId],
  ]
  return facts.flatMap(([label, value]) => (value ? [`- ${label}: ${escape(value)}`] : []))
}

function renderMetrics(m: Metrics): string[] {
  return [
    '## Model metrics (holdout)',
    '',
    table(
      ['Metric', 'Value'],
      [
        ['Accuracy', fixed(m.accuracy)],
        ['Precision (macro)', fixed(m.precisionMacro)],
        ['Recall (macro)', fixed(m.recallMacro)],
        ['F1 (macro)', fixed(m.f1Macro)],
        ['Training rows', m.trainSize],
        ['Holdout rows', m.testSize],
      ],
    ),
    '',
  ]
}

/** Counts per severity, then per scanner and severity. */
function renderCounts(scan: ScanResult): string[] {
  const db = scan.dbUpdatedAt ? `, vulnerability DB updated ${scan.dbUpdatedAt}` : ''
  const out = [
    escape(`Trivy ${scan.trivyVersion}${db}.`),
    `Reports: ${escape(path.basename(scan.jsonReport))} (Trivy JSON), ${escape(path.basename(scan.sarifReport))} (SARIF).`,
    '',
    table(
      ['Severity', 'Findings'],
      SEVERITY_ORDER.map((s) => [s, scan.counts[s] ?? 0]),
    ),
    '',
  ]
  const scanners = SCANNERS.filter((sc) => scan.findings.some((f) => f.scanner === sc))
  if (scanners.length > 0) {
    const count = (sc: string, s: string): number =>
      scan.findings.filter((f) => f.scanner === sc && f.severity === s).length
    out.push(
      table(
        ['Scanner', ...SEVERITY_ORDER],
        scanners.map((sc) => [sc, ...SEVERITY_ORDER.map((s) => count(sc, s))]),
      ),
      '',
    )
  }
  return out
}

/** Every finding, most severe first. */
function renderFindings(findings: Finding[]): string[] {
  return [
    `## Findings (${findings.length})`,
    '',
    table(
      ['Severity', 'Id', 'Scanner', 'Target', 'Package', 'Installed', 'Fixed in', 'Title', 'Link'],
      [...findings]
        .sort(compareFindings)
        .map((f) => [
          f.severity,
          f.id,
          f.scanner,
          f.target,
          f.pkgName,
          f.installedVersion,
          f.fixedVersion || (f.scanner === 'vuln' ? 'no fix' : ''),
          f.title,
          link(f.primaryUrl ?? '', f.primaryUrl),
        ]),
    ),
    '',
  ]
}

export function renderScanReport(input: ReportInput): string {
  const out: string[] = ['# mlsecops report', '', ...renderFacts(input), '']
  if (input.metrics) out.push(...renderMetrics(input.metrics))
  out.push('## Image scan', '')
  const scan = input.scan
  if (!scan) return [...out, 'The image was not scanned.', ''].join('\n')
  out.push(...renderCounts(scan))
  if (scan.findings.length === 0) out.push('No findings.', '')
  else out.push(...renderFindings(scan.findings))
  out.push(...renderExceptionsReport(scan))
  return out.join('\n')
}

/**
 * The exceptions part of report.md: every suppressed finding (id, package, severity, why, by which file and
 * entry or VEX statement, until when), then the ignore entries that expired (they suppressed nothing) and those
 * expiring soon.
 */
export function renderExceptionsReport(scan: ScanResult): string[] {
  const suppressed = scan.suppressed ?? []
  const ex = scan.exceptions
  if (!ex && suppressed.length === 0) return []
  const out: string[] = [`## Suppressed (${suppressed.length})`, '']
  if (ex) {
    const files = [
      ex.ignoreFiles.length > 0 ? `ignore files ${ex.ignoreFiles.join(', ')}` : 'no ignore file',
      ex.vexFiles.length > 0 ? `VEX ${ex.vexFiles.join(', ')}` : 'no VEX document',
    ]
    out.push(
      escape(
        `Exceptions from ${files.join('; ')}: ${ex.entries} ignore entries, ${ex.live} live, ${ex.expired.length} expired. Suppressed findings are out of the counts and the gate.`,
      ),
      '',
    )
  }
  if (suppressed.length === 0) {
    out.push('Nothing was suppressed.', '')
  } else {
    out.push(
      table(
        [
          'Severity',
          'Id',
          'Scanner',
          'Target',
          'Package',
          'Installed',
          'Why',
          'By',
          'Source',
          'Until',
        ],
        [...suppressed]
          .sort(compareFindings)
          .map((f) => [
            f.severity,
            f.id,
            f.scanner,
            f.startLine ? `${f.target}:${f.startLine}` : f.target,
            f.pkgName,
            f.installedVersion,
            f.suppression.reason || '(no statement)',
            f.suppression.by === 'vex' ? `VEX (${f.suppression.status})` : 'ignore file',
            f.suppression.source,
            f.suppression.until || (f.suppression.by === 'vex' ? '' : 'no expiry'),
          ]),
      ),
      '',
    )
  }
  if (ex && ex.expired.length > 0) {
    out.push(
      `### Expired exceptions (${ex.expired.length}): they suppress nothing`,
      '',
      table(
        ['Id', 'Kind', 'Source', 'Expired', 'Statement'],
        ex.expired.map((e) => [e.id, e.kind, e.source, e.until, e.statement]),
      ),
      '',
    )
  }
  if (ex && ex.expiringSoon.length > 0) {
    out.push(
      `### Exceptions expiring soon (${ex.expiringSoon.length})`,
      '',
      table(
        ['Id', 'Kind', 'Source', 'Expires', 'Statement'],
        ex.expiringSoon.map((e) => [e.id, e.kind, e.source, e.until, e.statement]),
      ),
      '',
    )
  }
  return out
}

/** Writes the report to `file` (creating its directory) and returns the path. */
export function writeScanReport(file: string, input: ReportInput): string {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, renderScanReport(input))
  return file
}
