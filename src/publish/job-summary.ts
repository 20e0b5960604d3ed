import { SCANNERS, SEVERITIES } from '../trivy/findings.js'
import type { SeverityGateDecision } from '../gate.js'
import type { Finding, ScanResult } from '../trivy/findings.js'
import type { ArtifactUploadResult } from './artifact-upload.js'
import type { CodeScanningResult } from './code-scanning.js'
import type { VerdictRecord } from './mlflow-verdict.js'
import { compareFindings } from './report-text.js'
import {
  byteLength as bytes,
  code,
  join,
  link,
  strong,
  tableRow as row,
  type Cell,
} from '../render/markdown.js'

/**
 * The publish parts of the job summary: findings by scanner and severity, the top findings with links, and
 * the verdict (every gate, why, and where the results went). Everything here is pure Markdown rendering with
 * a byte budget: GitHub refuses a step summary over 1 MiB.
 */

/** GitHub's limit for one step's summary. */
export const JOB_SUMMARY_LIMIT_BYTES = 1024 * 1024
/** Findings shown in the open; the rest go into a collapsed block. */
export const TOP_FINDINGS = 10

const ORDER = [...SEVERITIES].reverse()

function header(cells: Cell[]): string {
  return [row(cells), row(cells.map(() => '---'))].join('\n')
}

function title(severity: string): string {
  return severity.charAt(0) + severity.slice(1).toLowerCase()
}

/** The id, linked to its advisory when Trivy gave an http(s) URL. */
function findingLink(f: Finding): Cell {
  return link(f.id, f.primaryUrl)
}

function fixText(f: Finding): string {
  if (f.fixedVersion) return f.fixedVersion
  return f.scanner === 'vuln' ? 'no fix' : ''
}

const FINDING_HEADER = header([
  'Severity',
  'Id',
  'Scanner',
  'Package',
  'Installed',
  'Fixed in',
  'Target',
  'Title',
])

export function findingRow(f: Finding): string {
  const where = f.startLine ? `${f.target}:${f.startLine}` : f.target
  return row([
    f.severity,
    findingLink(f),
    f.scanner,
    f.pkgName,
    f.installedVersion,
    fixText(f),
    where,
    f.title,
  ])
}

/** Counts by scanner (rows) and severity (columns), with totals. */
export function renderScannerTable(scan: ScanResult): string {
  const scanners = SCANNERS.filter(
    (sc) => scan.scanners?.includes(sc) || scan.findings.some((f) => f.scanner === sc),
  )
  const count = (sc: string | undefined, s: string): number =>
    scan.findings.filter((f) => (sc === undefined || f.scanner === sc) && f.severity === s).length
  const lines = [header(['Scanner', ...ORDER.map(title), 'Total'])]
  for (const sc of scanners) {
    const counts = ORDER.map((s) => count(sc, s))
    lines.push(row([sc, ...counts, counts.reduce((a, b) => a + b, 0)]))
  }
  const totals = ORDER.map((s) => count(undefined, s))
  lines.push(row([strong('Total'), ...totals.map((n) => strong(n)), strong(scan.findings.length)]))
  return lines.join('\n')
}

export interface FindingsSectionOptions {
  /** Bytes the section may take (the summary's remaining budget). */
  budgetBytes: number
  /** Where every finding can be read when the list is cut (e.g. the artifact's report.md). */
  fullReportHint?: string
}

/**
 * The findings part: a scanner x severity table, the top findings (most severe first, those with a fix first
 * within a severity, each linked to its advisory), and the rest collapsed. Rows stop when the byte budget is
 * spent, with a note saying how many were left out and where to read them.
 */
export function renderFindingsSection(scan: ScanResult, options: FindingsSectionOptions): string {
  const head = ['### Findings', '', renderScannerTable(scan)].join('\n')
  if (scan.findings.length === 0) return `${head}\n\nNo findings.`
  const findings = [...scan.findings].sort(compareFindings)
  const hint = options.fullReportHint ?? `the JSON report`
  const note = (left: number): string =>
    `\n\n_${left} more finding(s) not shown: GitHub limits the job summary to 1 MiB. Every finding is in ${hint}._`
  const fixedParts = [
    head,
    '',
    `**Top findings** (most severe first; those with a fix first):`,
    '',
    FINDING_HEADER,
  ].join('\n')
  const detailsOpen = `\n\n<details><summary>The other ${Math.max(findings.length - TOP_FINDINGS, 0)} findings</summary>\n\n${FINDING_HEADER}`
  const detailsClose = '\n\n</details>'
  // Room kept for the note and the closing tag, whatever happens.
  const reserve = bytes(note(findings.length)) + bytes(detailsOpen) + bytes(detailsClose)
  let used = bytes(fixedParts) + reserve
  let out = fixedParts
  let shown = 0
  for (const f of findings.slice(0, TOP_FINDINGS)) {
    const line = `\n${findingRow(f)}`
    if (used + bytes(line) > options.budgetBytes) break
    out += line
    used += bytes(line)
    shown++
  }
  if (shown === TOP_FINDINGS && findings.length > TOP_FINDINGS) {
    out += detailsOpen
    for (const f of findings.slice(TOP_FINDINGS)) {
      const line = `\n${findingRow(f)}`
      if (used + bytes(line) > options.budgetBytes) break
      out += line
      used += bytes(line)
      shown++
    }
    if (shown < findings.length) out += note(findings.length - shown)
    out += detailsClose
  } else if (shown < findings.length) {
    out += note(findings.length - shown)
  }
  return out
}

export interface VerdictSectionInput {
  accuracy: number
  minAccuracy: number
  /** undefined: no scan ran. */
  scan?: ScanResult
  severityGate?: SeverityGateDecision
  /** Every gate passed. */
  gatePassed: boolean
  artifact?: ArtifactUploadResult | { status: 'off' } | { status: 'error'; message: string }
  codeScanning?:
    CodeScanningResult | { status: 'off'; reason: string } | { status: 'error'; message: string }
  mlflow?: {
    modelName: string
    modelVersion: string
    versionUrl: string
    runUrl: string
    alias: string
    /** What was written; undefined when writing it failed. */
    record?: VerdictRecord
    error?: string
  }
}

function severityGateWhy(
  scan: ScanResult | undefined,
  gate: SeverityGateDecision | undefined,
): [Cell, Cell] {
  if (!scan || !gate) return ['not scanned', 'build or scan is false']
  if (gate.failOnSeverity === undefined) return ['off', 'fail-on-severity is none']
  const below = gate.considered
  const unfixed =
    gate.ignoredUnfixed > 0 ? `; ${gate.ignoredUnfixed} unfixed left out (ignore-unfixed)` : ''
  if (gate.passed) {
    return ['passed', `no finding at or above ${gate.failOnSeverity} (${below} below it${unfixed})`]
  }
  return [
    strong('failed'),
    gate.message ?? `${gate.tripped.length} finding(s) at or above ${gate.failOnSeverity}`,
  ]
}

function artifactLine(a: VerdictSectionInput['artifact']): Cell {
  if (!a || a.status === 'off') return 'Artifact: not uploaded (upload-artifact is false).'
  if (a.status === 'error') return join('Artifact: ', strong('upload failed'), ': ', a.message)
  if (a.status === 'skipped') return `Artifact: skipped, ${a.reason}.`
  const entries = a.entries.flatMap((e, i) => [i > 0 ? ', ' : '', code(e)])
  return join('Artifact: ', code(a.name), ` (id ${a.id}): `, ...entries, '.')
}

function codeScanningLine(c: VerdictSectionInput['codeScanning']): Cell {
  if (!c) return 'Code scanning: nothing to upload (no scan ran).'
  if (c.status === 'off') return `Code scanning: not uploaded (${c.reason}).`
  if (c.status === 'error') return join('Code scanning: ', strong('upload failed'), ': ', c.message)
  if (c.status === 'skipped') return `Code scanning: skipped, ${c.reason}.`
  const left = c.fit.resultsBefore - c.fit.resultsAfter
  const dropped = left > 0 ? `; ${left} low-severity results left out to fit GitHub's limits` : ''
  return join(
    'Code scanning: SARIF upload ',
    code(c.sarifId),
    ` (processing ${c.processingStatus}${dropped}).`,
  )
}

function mlflowLine(m: VerdictSectionInput['mlflow']): Cell {
  if (!m) return 'MLflow: no verdict recorded (register was skipped).'
  const version = link(`${m.modelName} version ${m.modelVersion}`, m.versionUrl)
  if (!m.record) {
    const why = m.error ?? 'unknown error'
    return join('MLflow: ', strong('the verdict could not be written'), ' to ', version, ': ', why)
  }
  const tags = m.record.tags
    .filter((t) => ['scan_status', 'gate'].includes(t.key))
    .flatMap((t, i) => [i > 0 ? ', ' : '', code(`${t.key}=${t.value}`)])
  const artifacts =
    m.record.artifacts.length > 0
      ? join('; reports logged to the ', link('run', m.runUrl), ' under ', code('scan/'))
      : ''
  let alias: Cell = ''
  if (m.alias) {
    const where = m.record.aliasVersion
      ? `stays on version ${m.record.aliasVersion}`
      : 'no version has it'
    alias = m.record.aliasSet
      ? join('; alias ', code(m.alias), ` now points at version ${m.modelVersion}`)
      : join('; alias ', code(m.alias), ` not moved (${where})`)
  }
  const more = ` and ${m.record.tags.length - 2} more`
  return join('MLflow: ', version, ' tagged ', ...tags, more, artifacts, alias, '.')
}

/** The verdict: one row per gate with the reason, then where the results went. */
export function renderVerdictSection(input: VerdictSectionInput): string {
  const accuracyPassed = input.accuracy >= input.minAccuracy
  const [scanResult, scanWhy] = severityGateWhy(input.scan, input.severityGate)
  const gateName =
    input.severityGate?.failOnSeverity !== undefined
      ? `Image scan (fail-on-severity ${input.severityGate.failOnSeverity})`
      : 'Image scan'
  const comparison = accuracyPassed ? '≥' : '<'
  return [
    `### Verdict: ${input.gatePassed ? 'passed' : 'failed'}`,
    '',
    header(['Gate', 'Result', 'Why']),
    row([
      'Model accuracy',
      accuracyPassed ? 'passed' : strong('failed'),
      `holdout accuracy ${input.accuracy} ${comparison} min-accuracy ${input.minAccuracy}`,
    ]),
    row([gateName, scanResult, scanWhy]),
    '',
    join('- ', mlflowLine(input.mlflow)).text,
    join('- ', artifactLine(input.artifact)).text,
    join('- ', codeScanningLine(input.codeScanning)).text,
  ].join('\n')
}

/**
 * The safety net for the whole summary: when it is over `limitBytes`, cut it at a line boundary, close any
 * <details> left open, and say so. (Sections budget themselves; this catches what they cannot, e.g. a dataset
 * with thousands of classes.)
 */
export function fitJobSummary(markdown: string, limitBytes = JOB_SUMMARY_LIMIT_BYTES): string {
  if (bytes(markdown) <= limitBytes) return markdown
  const note = '\n\n_The rest of this summary was cut: GitHub limits the job summary to 1 MiB._\n'
  const closing = '\n\n</details>'
  let budget = limitBytes - bytes(note) - 64
  const lines = markdown.split('\n')
  const kept: string[] = []
  let open = 0
  for (const line of lines) {
    const cost = bytes(line) + 1
    if (cost + open * bytes(closing) > budget) break
    budget -= cost
    kept.push(line)
    open += (line.match(/<details>/g) ?? []).length - (line.match(/<\/details>/g) ?? []).length
  }
  return kept.join('\n') + closing.repeat(Math.max(open, 0)) + note
}

/** Suppressed findings listed in the job summary at most; report.md lists every one. */
export const SUPPRESSED_ROWS = 200

/**
 * The exceptions part of the job summary: suppressed findings counted by severity and by what suppressed them,
 * the list collapsed, and the ignore entries that expired (they suppress nothing) or expire soon.
 * Empty when no exception was given and nothing was suppressed.
 */
/** One line listing ignore entries: each id with its source and date. */
function exceptionList(
  title: string,
  lead: string,
  entries: readonly { id: string; source: string; until: string }[],
  dateWord: string,
): string {
  const items = entries.flatMap((e, i) => [
    i > 0 ? ', ' : '',
    code(e.id),
    ` (${e.source}, ${dateWord} ${e.until})`,
  ])
  return join(strong(title), lead, ...items, '.').text
}

export function renderSuppressedSection(scan: ScanResult): string {
  const suppressed = [...(scan.suppressed ?? [])].sort(compareFindings)
  const ex = scan.exceptions
  if (!ex && suppressed.length === 0) return ''
  const count = (s: string, by: string): number =>
    suppressed.filter((f) => f.severity === s && f.suppression.by === by).length
  const parts = [
    `### Suppressed: ${suppressed.length}`,
    '',
    'Out of the counts and the gate; each was accepted by an ignore-file entry or a VEX statement.',
    '',
    header(['By', ...ORDER.map(title), 'Total']),
    ...(['ignore-file', 'vex'] as const).map((by) => {
      const counts = ORDER.map((s) => count(s, by))
      return row([
        by === 'vex' ? 'VEX' : 'ignore file',
        ...counts,
        counts.reduce((a, b) => a + b, 0),
      ])
    }),
  ]
  if (suppressed.length > 0) {
    parts.push(
      '',
      `<details><summary>The ${suppressed.length} suppressed finding(s)</summary>`, // a count: no data
      '',
      header(['Severity', 'Id', 'Package', 'Target', 'Why', 'Source', 'Until']),
      ...suppressed
        .slice(0, SUPPRESSED_ROWS)
        .map((f) =>
          row([
            f.severity,
            findingLink(f),
            f.pkgName,
            f.startLine ? `${f.target}:${f.startLine}` : f.target,
            f.suppression.reason || '(no statement)',
            f.suppression.by === 'vex'
              ? `VEX ${f.suppression.source} (${f.suppression.status})`
              : f.suppression.source,
            f.suppression.until || (f.suppression.by === 'vex' ? '' : 'no expiry'),
          ]),
        ),
    )
    if (suppressed.length > SUPPRESSED_ROWS)
      parts.push('', `_${suppressed.length - SUPPRESSED_ROWS} more in report.md._`)
    parts.push('', '</details>')
  }
  if (ex && ex.expired.length > 0) {
    parts.push(
      '',
      exceptionList(
        `Expired exceptions (${ex.expired.length})`,
        ', they suppress nothing: ',
        ex.expired,
        'expired',
      ),
    )
  }
  if (ex && ex.expiringSoon.length > 0) {
    parts.push(
      '',
      exceptionList(`Expiring soon (${ex.expiringSoon.length})`, ': ', ex.expiringSoon, 'until'),
    )
  }
  return parts.join('\n')
}
