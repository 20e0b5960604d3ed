/** Trivy's severities, lowest first (the gate's order). */
export const SEVERITIES = ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const
export type Severity = (typeof SEVERITIES)[number]
/** Trivy's scanners the action can run. */
export const SCANNERS = ['vuln', 'secret', 'misconfig', 'license'] as const
export type Scanner = (typeof SCANNERS)[number]

/**
 * One finding of the scan, whatever the scanner, normalized from Trivy's JSON report.
 * (The build/scan stage fills these; publish and the gate read them.)
 */
export interface Finding {
  scanner: Scanner
  /** CVE id, secret rule id, or misconfiguration id (e.g. DS002). */
  id: string
  severity: Severity
  title: string
  /** Trivy's target: the OS, a file path in the image, the Dockerfile... */
  target: string
  pkgName?: string
  installedVersion?: string
  /** Empty or absent: no fix released. */
  fixedVersion?: string
  primaryUrl?: string
  /** Vulnerabilities: Trivy's status (fixed, affected, will_not_fix, fix_deferred, end_of_life, ...). */
  status?: string
  /** Secrets and misconfigurations: the line in the target, when Trivy gives one. */
  startLine?: number
  /** Vulnerabilities: the package URL Trivy gives the package (what `purls` and VEX products match). */
  purl?: string
}

/** How a suppressed finding was suppressed, and by what. */
export interface Suppression {
  /** ignore-file: an entry of an ignore file; vex: a VEX statement. */
  by: 'ignore-file' | 'vex'
  /** Trivy's status: ignored (ignore file), not_affected or fixed (VEX). */
  status: string
  /** The reason as written: the entry's statement, or the VEX justification and statement ('' when none). */
  reason: string
  /** Where the exception is: `file:line` of the ignore-file entry, or the VEX file. */
  source: string
  /** When the exception stops suppressing (YYYY-MM-DD or an ISO time); '' when never. */
  until: string
}

/** A finding an exception suppressed: out of the counts and the gate, listed with why. */
export interface SuppressedFinding extends Finding {
  suppression: Suppression
}

/** An ignore-file entry, as the reports name it. */
export interface ExceptionEntryView {
  kind: string
  id: string
  source: string
  statement: string
  until: string
}

/** The exceptions the scan used, for the reports. */
export interface ExceptionsView {
  /** Ignore files and VEX documents read (workspace-relative). */
  ignoreFiles: string[]
  vexFiles: string[]
  /** Entries read in all, and those that still suppress. */
  entries: number
  live: number
  /** Entries past their expiry: they suppressed nothing. */
  expired: ExceptionEntryView[]
  /** Live entries that expire within ignore-expiry-warning-days. */
  expiringSoon: ExceptionEntryView[]
}

export type SeverityCounts = Record<Severity, number>

/** What the scan stage returns. */
export interface ScanResult {
  jsonReport: string
  sarifReport: string
  /** All findings after the exceptions (the gate applies ignore-unfixed itself). */
  findings: Finding[]
  /** What the ignore files and VEX documents suppressed (not in findings, counts or the gate). */
  suppressed?: SuppressedFinding[]
  /** The exceptions the scan used (undefined: none given or found). */
  exceptions?: ExceptionsView
  counts: SeverityCounts
  trivyVersion: string
  /** The vulnerability DB's UpdatedAt, when known. */
  dbUpdatedAt?: string
  /** The image scanned. */
  image?: string
  /** Trivy server URL when the scan ran in client/server mode. */
  server?: string
  scanners?: Scanner[]
  /** Wall time of the scan command. */
  durationMs?: number
  /** The trivy binary that scanned (for `trivy convert` of the same report: SBOM, cosign predicate). */
  trivyPath?: string
}
