/**
 * Pure argument building for the trivy commands. No I/O here: unit-tested on its own.
 */
import type { Scanner } from './findings.js'

/** Flags that keep Trivy from phoning home (update notices, telemetry). Always passed. */
export const QUIET_NETWORK_FLAGS = ['--skip-version-check', '--disable-telemetry'] as const

export interface TrivyScanArgsOptions {
  image: string
  jsonReport: string
  scanners: Scanner[]
  cacheDir: string
  timeout: string
  /** Absolute path of the (merged, YAML) ignore file, or '' for none. */
  ignoreFile: string
  /** VEX documents (absolute paths). */
  vexFiles?: string[]
  /** Trivy server URL (client/server mode), or '' to scan with the local DB. */
  server: string
  /**
   * true: scan fully offline with what is in the cache (no DB, Java DB or checks-bundle download). The action
   * downloads the DB itself before the scan (see trivyDownloadDbArgs), so the scan always skips the DB update.
   */
  offline: boolean
  /** --list-all-pkgs: every package in the JSON report (an SBOM is converted from it), not only vulnerable ones. */
  listAllPackages?: boolean
}

/** The image-config scanners that match the chosen scanners (the config is where USER root shows up). */
export function imageConfigScanners(scanners: Scanner[]): string[] {
  return scanners.filter((s) => s === 'misconfig' || s === 'secret')
}

/** `trivy image` on a local image, Docker as the image source, one JSON report. */
export function trivyImageScanArgs(options: TrivyScanArgsOptions): string[] {
  const args = [
    'image',
    '--image-src',
    'docker',
    '--format',
    'json',
    '--output',
    options.jsonReport,
    '--scanners',
    options.scanners.join(','),
  ]
  const configScanners = imageConfigScanners(options.scanners)
  if (configScanners.length > 0) args.push('--image-config-scanners', configScanners.join(','))
  args.push('--cache-dir', options.cacheDir, '--timeout', options.timeout, '--no-progress')
  if (options.ignoreFile) args.push('--ignorefile', options.ignoreFile)
  for (const vex of options.vexFiles ?? []) args.push('--vex', vex)
  // Suppressed findings stay in the JSON report (Results[].ExperimentalModifiedFindings), with why.
  args.push('--show-suppressed')
  if (options.listAllPackages) args.push('--list-all-pkgs')
  if (options.server) {
    args.push('--server', options.server)
  } else {
    args.push('--skip-db-update')
  }
  if (options.offline) args.push('--skip-java-db-update', '--skip-check-update')
  args.push(...QUIET_NETWORK_FLAGS, options.image)
  return args
}

export interface TrivyDownloadDbArgsOptions {
  cacheDir: string
  timeout: string
  dbRepositories: string[]
}

/** Downloads (or refreshes) the vulnerability DB into the cache without scanning. */
export function trivyDownloadDbArgs(options: TrivyDownloadDbArgsOptions): string[] {
  const args = [
    'image',
    '--download-db-only',
    '--cache-dir',
    options.cacheDir,
    '--timeout',
    options.timeout,
    '--no-progress',
  ]
  if (options.dbRepositories.length > 0) {
    args.push('--db-repository', options.dbRepositories.join(','))
  }
  args.push(...QUIET_NETWORK_FLAGS)
  return args
}

/** SARIF from the JSON report, without a second scan. SARIF keeps every severity. */
export function trivyConvertToSarifArgs(jsonReport: string, sarifReport: string): string[] {
  return ['convert', '--format', 'sarif', '--output', sarifReport, jsonReport]
}
