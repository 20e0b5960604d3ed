/**
 * The severity gate. Pure: findings + policy -> decision, no I/O.
 */
import { SEVERITIES, type Severity } from './trivy/findings.js'
import type { Finding } from './trivy/findings.js'
import { isUnfixed } from './trivy/report.js'

export interface SeverityGatePolicy {
  /** Lowest severity that fails; undefined (`none`) turns the gate off. */
  failOnSeverity: Severity | undefined
  /** Leave vulnerabilities without a fix (Trivy status other than `fixed`) out of the gate. */
  ignoreUnfixed: boolean
}

export interface SeverityGateDecision {
  passed: boolean
  failOnSeverity: Severity | undefined
  /** The findings at or above the threshold that made the gate fail (empty when it passed). */
  tripped: Finding[]
  /** Findings the gate looked at (after ignore-unfixed). */
  considered: number
  /** Vulnerabilities left out because they have no fix (ignore-unfixed). */
  ignoredUnfixed: number
  /** One line for the job log; set when the gate failed. */
  message?: string
}

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity)
}

/** True when `severity` is at or above `threshold`. */
export function meetsThreshold(severity: Severity, threshold: Severity): boolean {
  return severityRank(severity) >= severityRank(threshold)
}

function describe(tripped: Finding[]): string {
  const bySeverity = new Map<Severity, number>()
  for (const f of tripped) bySeverity.set(f.severity, (bySeverity.get(f.severity) ?? 0) + 1)
  const counts = [...SEVERITIES]
    .reverse()
    .filter((s) => bySeverity.has(s))
    .map((s) => `${bySeverity.get(s)} ${s}`)
    .join(', ')
  const ordered = [...tripped].sort(
    (a, b) => severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id),
  )
  const ids = [...new Set(ordered.map((f) => f.id))]
  const shown = ids.slice(0, 5).join(', ') + (ids.length > 5 ? `, and ${ids.length - 5} more` : '')
  return `${counts} (${shown})`
}

/** Decides whether the scan findings fail the job. */
export function evaluateSeverityGate(
  findings: readonly Finding[],
  policy: SeverityGatePolicy,
): SeverityGateDecision {
  const considered = policy.ignoreUnfixed ? findings.filter((f) => !isUnfixed(f)) : [...findings]
  const ignoredUnfixed = findings.length - considered.length
  const threshold = policy.failOnSeverity
  if (threshold === undefined) {
    return {
      passed: true,
      failOnSeverity: undefined,
      tripped: [],
      considered: considered.length,
      ignoredUnfixed,
    }
  }
  const tripped = considered.filter((f) => meetsThreshold(f.severity, threshold))
  if (tripped.length === 0) {
    return {
      passed: true,
      failOnSeverity: threshold,
      tripped,
      considered: considered.length,
      ignoredUnfixed,
    }
  }
  const unfixedNote = policy.ignoreUnfixed ? ' (unfixed vulnerabilities left out)' : ''
  return {
    passed: false,
    failOnSeverity: threshold,
    tripped,
    considered: considered.length,
    ignoredUnfixed,
    message: `The image scan found ${tripped.length} finding(s) at or above fail-on-severity ${threshold}${unfixedNote}: ${describe(tripped)}.`,
  }
}
