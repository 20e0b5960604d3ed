import type { Scanner, Severity } from '../inputs.js'

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
}

export type SeverityCounts = Record<Severity, number>

/** What the scan stage returns. */
export interface ScanResult {
  jsonReport: string
  sarifReport: string
  /** All findings after the ignore file (the gate applies ignore-unfixed itself). */
  findings: Finding[]
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
