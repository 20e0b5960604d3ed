import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { runCommand } from '../docker/command.js'
import { ScannerError, errorMessage, oneLine } from '../errors.js'
import type { Scanner } from '../inputs.js'
import {
  dbCacheKeys,
  dbDirectory,
  hasDb,
  readDbMetadata,
  restoreDbCache,
  saveDbCache,
} from './db-cache.js'
import type { ScanResult } from './findings.js'
import { locateOrInstallTrivy } from './install.js'
import { countBySeverity, findingsFromReport, parseTrivyReport } from './report.js'
import { trivyConvertToSarifArgs, trivyDownloadDbArgs, trivyImageScanArgs } from './scan-args.js'

export const JSON_REPORT_NAME = 'trivy-report.json'
export const SARIF_REPORT_NAME = 'trivy-report.sarif'

export interface ScanOptions {
  image: string
  /** Where the reports go (created when missing): <RUNNER_TEMP>/mlsecops/reports. */
  reportsDir: string
  runnerTemp: string
  trivyVersion: string
  scanners: Scanner[]
  cacheDir: string
  /** Absolute path, or '' for none. */
  ignoreFile: string
  skipDbUpdate: boolean
  dbRepositories: string[]
  /** Trivy server URL, or '' to scan with the local DB. */
  server: string
  timeout: string
  /** List every package in the JSON report, not only vulnerable ones (the SBOM is converted from it). */
  listAllPackages?: boolean
}

/**
 * Trivy logs some failures as ERROR and still exits 0 (e.g. an image-config Dockerfile it cannot parse, so the
 * config misconfiguration checks did not run). Those lines become warnings; the benign fallback to the checks
 * embedded in the binary (offline) does not.
 */
export function trivyErrorLines(stderr: string): string[] {
  return stderr
    .split(/\r?\n/)
    .filter((line) => /\tERROR\t/.test(line) && !/Falling back to embedded checks/.test(line))
    .map((line) => line.replace(/^\S+\tERROR\t/, '').trim())
}

async function runTrivy(
  binary: string,
  args: string[],
  cwd: string,
  what: string,
): Promise<{ tail: string[]; stderr: string }> {
  let result
  try {
    result = await runCommand(binary, args, { cwd, tailLines: 15 })
  } catch (error) {
    throw new ScannerError(`Could not run Trivy (${binary}) for ${what}: ${errorMessage(error)}`)
  }
  if (result.exitCode !== 0) {
    // No exit code: the process was ended by a signal (SIGKILL, the OOM killer).
    const how =
      typeof result.exitCode === 'number'
        ? `failed (exit ${result.exitCode})`
        : 'was killed (no exit code: ended by a signal such as SIGKILL or the out-of-memory killer)'
    const tail = oneLine(result.tail.join(' | '))
    throw new ScannerError(`Trivy ${how} during ${what}${tail ? `: ${tail}` : ''}`)
  }
  return { tail: result.tail, stderr: result.stderr }
}

/**
 * Makes sure the vulnerability DB is in the cache: restored from @actions/cache, then refreshed by Trivy
 * (`--download-db-only`) unless skip-db-update is set; a fresh download is saved to the cache at once.
 */
async function prepareDb(binary: string, options: ScanOptions, cwd: string): Promise<void> {
  const keys = dbCacheKeys()
  const restoredKey = await restoreDbCache(options.cacheDir, keys)
  if (options.skipDbUpdate) {
    if (!hasDb(options.cacheDir)) {
      throw new ScannerError(
        `trivy-skip-db-update is true but there is no vulnerability DB in ${dbDirectory(options.cacheDir)} (trivy.db and metadata.json): set trivy-skip-db-update to false, point trivy-cache-dir at a cache that holds the DB, or use trivy-server.`,
      )
    }
    core.info('Using the vulnerability DB in the cache (trivy-skip-db-update).')
    return
  }
  const before = readDbMetadata(options.cacheDir)?.DownloadedAt
  await runTrivy(
    binary,
    trivyDownloadDbArgs({
      cacheDir: options.cacheDir,
      timeout: options.timeout,
      dbRepositories: options.dbRepositories,
    }),
    cwd,
    'the vulnerability DB download (use trivy-db-repository for a mirror, or trivy-skip-db-update with a cached DB)',
  )
  const after = readDbMetadata(options.cacheDir)?.DownloadedAt
  if (!hasDb(options.cacheDir)) {
    throw new ScannerError(
      `Trivy reported success but left no vulnerability DB in ${dbDirectory(options.cacheDir)}.`,
    )
  }
  if (after !== before && restoredKey !== keys.primary)
    await saveDbCache(options.cacheDir, keys.primary)
}

/**
 * Scans the local image once with Trivy to JSON, derives the SARIF from that JSON, and reads the findings.
 * Anything that goes wrong is a ScannerError: a broken scanner never counts as a pass.
 */
export async function scanImage(options: ScanOptions): Promise<ScanResult> {
  fs.mkdirSync(options.reportsDir, { recursive: true })
  fs.mkdirSync(options.cacheDir, { recursive: true })
  const jsonReport = path.join(options.reportsDir, JSON_REPORT_NAME)
  const sarifReport = path.join(options.reportsDir, SARIF_REPORT_NAME)
  // A stale report from an earlier run must never pass for this one.
  fs.rmSync(jsonReport, { force: true })
  fs.rmSync(sarifReport, { force: true })
  // Trivy reads trivy.yaml and .trivyignore from its working directory: run it where only our files are.
  const cwd = options.reportsDir

  const trivy = await locateOrInstallTrivy(options.trivyVersion, options.runnerTemp)
  core.info(`Trivy ${trivy.version} (${trivy.origin}): ${trivy.path}`)

  const usesLocalDb = options.scanners.includes('vuln') && !options.server
  if (usesLocalDb) await prepareDb(trivy.path, options, cwd)

  const started = Date.now()
  const scanRun = await runTrivy(
    trivy.path,
    trivyImageScanArgs({
      image: options.image,
      jsonReport,
      scanners: options.scanners,
      cacheDir: options.cacheDir,
      timeout: options.timeout,
      ignoreFile: options.ignoreFile,
      server: options.server,
      offline: options.skipDbUpdate,
      listAllPackages: options.listAllPackages,
    }),
    cwd,
    `the scan of ${options.image}`,
  )
  const durationMs = Date.now() - started
  for (const line of trivyErrorLines(scanRun.stderr))
    core.warning(`Trivy reported an error: ${line}`)
  if (!fs.existsSync(jsonReport)) {
    throw new ScannerError(`Trivy finished but wrote no JSON report at ${jsonReport}.`)
  }
  const report = parseTrivyReport(fs.readFileSync(jsonReport, 'utf8'), JSON_REPORT_NAME)
  const findings = findingsFromReport(report)

  await runTrivy(
    trivy.path,
    trivyConvertToSarifArgs(jsonReport, sarifReport),
    cwd,
    'the conversion of the JSON report to SARIF',
  )
  try {
    JSON.parse(fs.readFileSync(sarifReport, 'utf8'))
  } catch (error) {
    throw new ScannerError(
      `Trivy's SARIF report ${sarifReport} is unreadable: ${errorMessage(error)}`,
    )
  }

  return {
    jsonReport,
    sarifReport,
    findings,
    counts: countBySeverity(findings),
    trivyVersion: report.Trivy?.Version || trivy.version,
    dbUpdatedAt: usesLocalDb ? readDbMetadata(options.cacheDir)?.UpdatedAt : undefined,
    image: options.image,
    server: options.server || undefined,
    scanners: options.scanners,
    durationMs,
    trivyPath: trivy.path,
  }
}
