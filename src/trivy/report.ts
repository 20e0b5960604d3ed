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
  PkgIdentifier?: { PURL?: string }
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
  ExperimentalModifiedFindings?: TrivyModifiedFinding[] | null
}

/** Trivy's ModifiedFinding (--show-suppressed): a finding an ignore file or a VEX document suppressed. */
interface TrivyModifiedFinding {
  Type?: string
  Status?: string
  Statement?: string
  Source?: string
  Finding?: unknown
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

function vulnerabilityFinding(v: TrivyVulnerability, target: string): Finding {
  return {
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
    purl: v.PkgIdentifier?.PURL || undefined,
  }
}

function secretFinding(s: TrivySecret, target: string): Finding {
  return {
    scanner: 'secret',
    id: s.RuleID ?? 'secret',
    severity: toSeverity(s.Severity),
    title: s.Title || s.Category || s.RuleID || 'secret',
    target,
    startLine: s.StartLine,
  }
}

function misconfigurationFinding(m: TrivyMisconfiguration, target: string): Finding {
  return {
    scanner: 'misconfig',
    id: m.ID || m.AVDID || 'misconfig',
    severity: toSeverity(m.Severity),
    title: m.Title || m.Message || m.ID || '',
    target,
    primaryUrl: m.PrimaryURL,
    startLine: m.CauseMetadata?.StartLine,
  }
}

function licenseFinding(l: TrivyLicense, target: string): Finding {
  return {
    scanner: 'license',
    id: l.Name ?? 'license',
    severity: toSeverity(l.Severity),
    title: `${l.Name ?? 'license'} (${l.Category ?? 'unknown category'})`,
    target: l.FilePath || target,
    pkgName: l.PkgName || undefined,
    primaryUrl: l.Link || undefined,
  }
}

/**
 * Every finding of the report, whatever the scanner: vulnerabilities, secrets, failed misconfiguration checks,
 * licenses. Suppressed findings (ignore file, VEX) are not here: Trivy moves them to ModifiedFindings.
 */
export function findingsFromReport(report: TrivyReport): Finding[] {
  const findings: Finding[] = []
  for (const result of report.Results ?? []) {
    const target = result.Target ?? ''
    for (const v of result.Vulnerabilities ?? []) findings.push(vulnerabilityFinding(v, target))
    for (const s of result.Secrets ?? []) findings.push(secretFinding(s, target))
    for (const m of result.Misconfigurations ?? []) {
      if (m.Status !== undefined && m.Status !== 'FAIL') continue
      findings.push(misconfigurationFinding(m, target))
    }
    for (const l of result.Licenses ?? []) findings.push(licenseFinding(l, target))
  }
  return findings
}

/** A finding Trivy suppressed (`--show-suppressed`), with what Trivy says about why. */
export interface TrivySuppressedFinding {
  finding: Finding
  /** ignored (ignore file), not_affected or fixed (VEX). */
  status: string
  statement: string
  /** The ignore file or VEX document, as Trivy names it. */
  source: string
}

/** The findings Trivy suppressed: Results[].ExperimentalModifiedFindings (Trivy 0.74 with --show-suppressed). */
export function suppressedFromReport(report: TrivyReport): TrivySuppressedFinding[] {
  const out: TrivySuppressedFinding[] = []
  for (const result of report.Results ?? []) {
    const target = result.Target ?? ''
    for (const m of result.ExperimentalModifiedFindings ?? []) {
      const raw = (m.Finding ?? {}) as Record<string, unknown>
      let finding: Finding
      switch (m.Type) {
        case 'vulnerability':
          finding = vulnerabilityFinding(raw as TrivyVulnerability, target)
          break
        case 'secret':
          finding = secretFinding(raw as TrivySecret, target)
          break
        case 'misconfiguration':
          if ((raw as TrivyMisconfiguration).Status === 'PASS') continue
          finding = misconfigurationFinding(raw as TrivyMisconfiguration, target)
          break
        case 'license':
          finding = licenseFinding(raw as TrivyLicense, target)
          break
        default:
          throw new ScannerError(
            `Trivy's report has a suppressed finding of an unknown type '${String(m.Type)}'.`,
          )
      }
      out.push({
        finding,
        status: m.Status ?? '',
        statement: m.Statement ?? '',
        source: m.Source ?? '',
      })
    }
  }
  return out
}

/** Trivy's status for a vulnerability without a fix: affected, will_not_fix, fix_deferred, end_of_life... */
export function isUnfixed(finding: Finding): boolean {
  if (finding.scanner !== 'vuln') return false
  if (finding.status) return finding.status !== 'fixed'
  return !finding.fixedVersion
}
