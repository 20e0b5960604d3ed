/**
 * Reads Trivy's JSON report (SchemaVersion 2) into findings. Pure: no I/O.
 */
import { ScannerError } from '../errors.js'
import { SEVERITIES, type Severity } from './findings.js'
import type { Finding, SeverityCounts } from './findings.js'

interface TrivyVulnerability {
  VulnerabilityID?: string
  PkgName?: string
  InstalledVersion?: string
  FixedVersion?: string
  Status?: string
  Severity?: string
  Title?: string
  PrimaryURL?: string
}

interface TrivySecret {
  RuleID?: string
  Category?: string
  Severity?: string
  Title?: string
  StartLine?: number
}

interface TrivyMisconfiguration {
  ID?: string
  AVDID?: string
  Title?: string
  Message?: string
  Severity?: string
  Status?: string
  PrimaryURL?: string
  CauseMetadata?: { StartLine?: number }
}

interface TrivyLicense {
  Name?: string
  Severity?: string
  PkgName?: string
  FilePath?: string
  Category?: string
  Link?: string
}

interface TrivyResult {
  Target?: string
  Class?: string
  Type?: string
  Vulnerabilities?: TrivyVulnerability[] | null
  Secrets?: TrivySecret[] | null
  Misconfigurations?: TrivyMisconfiguration[] | null
  Licenses?: TrivyLicense[] | null
}

export interface TrivyReport {
  SchemaVersion?: number
  ArtifactName?: string
  Trivy?: { Version?: string }
  Results?: TrivyResult[] | null
}

export function toSeverity(value: string | undefined): Severity {
  const v = (value ?? '').toUpperCase()
  return (SEVERITIES as readonly string[]).includes(v) ? (v as Severity) : 'UNKNOWN'
}

export function emptyCounts(): SeverityCounts {
  return { UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 }
}

export function countBySeverity(findings: readonly Finding[]): SeverityCounts {
  const counts = emptyCounts()
  for (const f of findings) counts[f.severity] += 1
  return counts
}

/** Parses the report text; a report that is not Trivy's JSON is a scanner error, never an empty pass. */
export function parseTrivyReport(text: string, file = 'the JSON report'): TrivyReport {
  let report: unknown
  try {
    report = JSON.parse(text)
  } catch (error) {
    throw new ScannerError(`Trivy's ${file} is not valid JSON: ${(error as Error).message}`)
  }
  if (typeof report !== 'object' || report === null || Array.isArray(report)) {
    throw new ScannerError(`Trivy's ${file} is not a JSON object.`)
  }
  const r = report as TrivyReport
  if (r.SchemaVersion !== 2) {
    throw new ScannerError(
      `Trivy's ${file} has SchemaVersion ${String(r.SchemaVersion)}; this action reads version 2.`,
    )
  }
  if (r.Results !== undefined && r.Results !== null && !Array.isArray(r.Results)) {
    throw new ScannerError(`Trivy's ${file} has a Results field that is not a list.`)
  }
  return r
}

/**
 * Every finding of the report, whatever the scanner: vulnerabilities, secrets, failed misconfiguration checks,
 * licenses. Ignore-file entries are already gone (Trivy applies --ignorefile); nothing else is dropped here.
 */
export function findingsFromReport(report: TrivyReport): Finding[] {
  const findings: Finding[] = []
  for (const result of report.Results ?? []) {
    const target = result.Target ?? ''
    for (const v of result.Vulnerabilities ?? []) {
      findings.push({
        scanner: 'vuln',
        id: v.VulnerabilityID ?? 'unknown',
        severity: toSeverity(v.Severity),
        title: v.Title || v.VulnerabilityID || '',
        target,
        pkgName: v.PkgName,
        installedVersion: v.InstalledVersion,
        fixedVersion: v.FixedVersion ?? '',
        status: v.Status,
        primaryUrl: v.PrimaryURL,
      })
    }
    for (const s of result.Secrets ?? []) {
      findings.push({
        scanner: 'secret',
        id: s.RuleID ?? 'secret',
        severity: toSeverity(s.Severity),
        title: s.Title || s.Category || s.RuleID || 'secret',
        target,
        startLine: s.StartLine,
      })
    }
    for (const m of result.Misconfigurations ?? []) {
      if (m.Status !== undefined && m.Status !== 'FAIL') continue
      findings.push({
        scanner: 'misconfig',
        id: m.ID || m.AVDID || 'misconfig',
        severity: toSeverity(m.Severity),
        title: m.Title || m.Message || m.ID || '',
        target,
        primaryUrl: m.PrimaryURL,
        startLine: m.CauseMetadata?.StartLine,
      })
    }
    for (const l of result.Licenses ?? []) {
      findings.push({
        scanner: 'license',
        id: l.Name ?? 'license',
        severity: toSeverity(l.Severity),
        title: `${l.Name ?? 'license'} (${l.Category ?? 'unknown category'})`,
        target: l.FilePath || target,
        pkgName: l.PkgName || undefined,
        primaryUrl: l.Link || undefined,
      })
    }
  }
  return findings
}

/** Trivy's status for a vulnerability without a fix: affected, will_not_fix, fix_deferred, end_of_life... */
export function isUnfixed(finding: Finding): boolean {
  if (finding.scanner !== 'vuln') return false
  if (finding.status) return finding.status !== 'fixed'
  return !finding.fixedVersion
}
