import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { runCommand } from '../exec.js'
import { ScannerError, errorMessage, oneLine } from '../errors.js'
import { parseDuration } from '../inputs.js'
import type { Scanner } from './findings.js'
import {
  dbCacheKeys,
  dbDirectory,
  hasDb,
  readDbMetadata,
  restoreDbCache,
  saveDbCache,
} from './db-cache.js'
import {
  attributeSuppressed,
  exceptionsView,
  writeTrivyExceptionFiles,
  type Exceptions,
} from './exceptions.js'
import type { ScanResult } from './findings.js'
import { inspectImage } from '../docker/build-image.js'
import {
  cacheServiceAvailable,
  layerCacheKeys,
  restoreLayerCache,
  saveLayerCache,
  type LayerCacheKeys,
} from './scan-cache.js'
import { locateOrInstallTrivy } from './install.js'
import {
  countBySeverity,
  findingsFromReport,
  parseTrivyReport,
  suppressedFromReport,
} from './report.js'
import { trivyConvertToSarifArgs, trivyDownloadDbArgs, trivyImageScanArgs } from './scan-args.js'

export const JSON_REPORT_NAME = 'trivy-report.json'
export const SARIF_REPORT_NAME = 'trivy-report.sarif'

export interface ScanOptions {
  image: string
  /** Where the reports go (created when missing): <RUNNER_TEMP>/mlsecops/reports. */
  reportsDir: string
  runnerTemp: string
  trivyVersion: string
  /** Input trivy-checksum: '' (the action's pins), a SHA-256, or 'release-checksums'. */
  trivyChecksum?: string
  scanners: Scanner[]
  cacheDir: string
  /** The ignore files and VEX documents, read and checked (loadExceptions); undefined for none. */
  exceptions?: Exceptions
  skipDbUpdate: boolean
  dbRepositories: string[]
  /** Trivy server URL, or '' to scan with the local DB. */
  server: string
  timeout: string
  /**
   * Keep the DB, the layer-analysis cache, the checks bundle and the verified Trivy release between workflow
   * runs with the Actions cache (input cache). Absent: true, like the input.
   */
  cache?: boolean
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
  timeout: string,
): Promise<{ tail: string[]; stderr: string }> {
  let result
  try {
    // Trivy stops itself at --timeout; the wrapper's deadline (2 minutes later) catches a Trivy that hangs.
    const timeoutMs = (parseDuration(timeout) ?? 10 * 60 * 1000) + 2 * 60 * 1000
    result = await runCommand(binary, args, { cwd, tailLines: 15, tool: 'trivy', timeoutMs })
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
  const restoredKey =
    options.cache !== false ? await restoreDbCache(options.cacheDir, keys) : undefined
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
    options.timeout,
  )
  const after = readDbMetadata(options.cacheDir)?.DownloadedAt
  if (!hasDb(options.cacheDir)) {
    throw new ScannerError(
      `Trivy reported success but left no vulnerability DB in ${dbDirectory(options.cacheDir)}.`,
    )
  }
  if (options.cache !== false && after !== before && restoredKey !== keys.primary)
    await saveDbCache(options.cacheDir, keys.primary)
}

/** Restores the layer cache under the image's keys; a Docker or cache problem only costs the reuse. */
async function restoreLayers(
  image: string,
  trivyVersion: string,
  cacheDir: string,
): Promise<{ keys: LayerCacheKeys; restoredKey?: string } | undefined> {
  let layers: string[]
  try {
    layers = (await inspectImage(image)).layers
  } catch (error) {
    core.warning(`The Trivy layer cache is not used: ${errorMessage(error)}`)
    return undefined
  }
  const keys = layerCacheKeys(trivyVersion, layers)
  return { keys, restoredKey: await restoreLayerCache(cacheDir, keys) }
}

/**
 * Scans the local image once with Trivy to JSON, derives the SARIF from that JSON, and reads the findings.
 * Anything that goes wrong is a ScannerError: a broken scanner never counts as a pass.
 */
/** Fresh report paths: a stale report from an earlier run must never pass for this one. */
function freshReportPaths(options: ScanOptions): { jsonReport: string; sarifReport: string } {
  fs.mkdirSync(options.reportsDir, { recursive: true })
  fs.mkdirSync(options.cacheDir, { recursive: true })
  const jsonReport = path.join(options.reportsDir, JSON_REPORT_NAME)
  const sarifReport = path.join(options.reportsDir, SARIF_REPORT_NAME)
  fs.rmSync(jsonReport, { force: true })
  fs.rmSync(sarifReport, { force: true })
  return { jsonReport, sarifReport }
}

/** The SARIF report from the one JSON report (`trivy convert`, no second scan), checked readable. */
async function convertToSarif(
  trivyPath: string,
  jsonReport: string,
  sarifReport: string,
  cwd: string,
  timeout: string,
): Promise<void> {
  await runTrivy(
    trivyPath,
    trivyConvertToSarifArgs(jsonReport, sarifReport),
    cwd,
    'the conversion of the JSON report to SARIF',
    timeout,
  )
  try {
    JSON.parse(fs.readFileSync(sarifReport, 'utf8'))
  } catch (error) {
    throw new ScannerError(
      `Trivy's SARIF report ${sarifReport} is unreadable: ${errorMessage(error)}`,
    )
  }
}

export async function scanImage(options: ScanOptions): Promise<ScanResult> {
  const { jsonReport, sarifReport } = freshReportPaths(options)
  // Trivy reads trivy.yaml and .trivyignore from its working directory: run it where only our files are.
  const cwd = options.reportsDir

  const trivy = await locateOrInstallTrivy(options.trivyVersion, options.runnerTemp, {
    cache: options.cache !== false,
    checksum: options.trivyChecksum ?? '',
  })
  core.info(`Trivy ${trivy.version} (${trivy.origin}): ${trivy.path}`)

  // The layer analysis of earlier runs (in client/server mode the server keeps it), whatever the DB settings.
  const layerCache =
    options.cache !== false && !options.server && cacheServiceAvailable()
      ? await restoreLayers(options.image, trivy.version, options.cacheDir)
      : undefined

  const usesLocalDb = options.scanners.includes('vuln') && !options.server
  if (usesLocalDb) await prepareDb(trivy.path, options, cwd)

  // One YAML ignore file for Trivy (--ignorefile takes one), each entry naming its source; VEX as given.
  const exceptionFiles =
    options.exceptions && writeTrivyExceptionFiles(options.exceptions, path.join(cwd, 'exceptions'))

  const started = Date.now()
  const scanArgs = trivyImageScanArgs({
    image: options.image,
    jsonReport,
    scanners: options.scanners,
    cacheDir: options.cacheDir,
    timeout: options.timeout,
    ignoreFile: exceptionFiles?.ignoreFile ?? '',
    vexFiles: exceptionFiles?.vexFiles,
    server: options.server,
    offline: options.skipDbUpdate,
    listAllPackages: options.listAllPackages,
  })
  // Step debug logging (RUNNER_DEBUG) shows Trivy's own debug lines, e.g. which layers it analysed afresh.
  if (core.isDebug()) scanArgs.splice(1, 0, '--debug')
  const what = `the scan of ${options.image}`
  const scanRun = await runTrivy(trivy.path, scanArgs, cwd, what, options.timeout)
  const durationMs = Date.now() - started
  // Saved at once, before the report is read and the gate decides: a failing gate still leaves the cache.
  if (layerCache) await saveLayerCache(options.cacheDir, layerCache.keys, layerCache.restoredKey)
  for (const line of trivyErrorLines(scanRun.stderr))
    core.warning(`Trivy reported an error: ${line}`)
  if (!fs.existsSync(jsonReport)) {
    throw new ScannerError(`Trivy finished but wrote no JSON report at ${jsonReport}.`)
  }
  const report = parseTrivyReport(fs.readFileSync(jsonReport, 'utf8'), JSON_REPORT_NAME)
  const findings = findingsFromReport(report)
  const suppressed = attributeSuppressed(
    suppressedFromReport(report),
    options.exceptions,
    exceptionFiles,
  )
  if (suppressed.length > 0)
    core.info(
      `${suppressed.length} finding(s) suppressed by exceptions (out of the counts and the gate, listed in the reports).`,
    )
  await convertToSarif(trivy.path, jsonReport, sarifReport, cwd, options.timeout)

  const ex = options.exceptions
  return {
    jsonReport,
    sarifReport,
    findings,
    suppressed,
    exceptions:
      ex && ex.ignoreFiles.length + ex.vexFiles.length > 0 ? exceptionsView(ex) : undefined,
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
