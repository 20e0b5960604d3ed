import * as core from '@actions/core'
import * as io from '@actions/io'
import * as tc from '@actions/tool-cache'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { runCommand } from '../exec.js'
import { ScannerError, errorMessage } from '../errors.js'
import { restoreTrivyBinary, saveTrivyBinary } from './binary-cache.js'
import {
  DEFAULT_TRIVY_DOWNLOAD_URL,
  TRIVY_ARCHIVE_SHA256,
  TRUST_RELEASE_CHECKSUMS,
  checksumFor,
  parseTrivyVersion,
  trivyReleaseAsset,
} from './release.js'

export interface TrivyBinary {
  path: string
  version: string
  /** Where it came from: PATH, the tool cache, the Actions cache (verified), or a verified download just now. */
  origin: 'path' | 'tool-cache' | 'actions-cache' | 'download'
}

export interface LocateOptions {
  /** Restore the verified release from the Actions cache before downloading, and save it after (input cache). */
  cache?: boolean
  /** Input trivy-checksum: '' (the action's pins), a SHA-256, or 'release-checksums'. */
  checksum?: string
}

/** The version a trivy binary reports, or undefined when it does not run. */
export async function trivyVersionOf(binary: string): Promise<string | undefined> {
  try {
    const result = await runCommand(binary, ['--version'], {
      silent: true,
      tool: 'trivy',
      timeoutMs: 60_000,
    })
    return result.exitCode === 0 ? parseTrivyVersion(result.stdout) : undefined
  } catch {
    return undefined
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** @actions/tool-cache needs RUNNER_TOOL_CACHE and RUNNER_TEMP; outside a runner, give it directories. */
function ensureToolCacheEnvironment(runnerTemp: string): void {
  if (!process.env.RUNNER_TEMP) process.env.RUNNER_TEMP = runnerTemp
  if (!process.env.RUNNER_TOOL_CACHE) {
    process.env.RUNNER_TOOL_CACHE = path.join(process.env.RUNNER_TEMP, 'tool-cache')
  }
}

async function download(url: string, what: string, version: string): Promise<string> {
  try {
    return await tc.downloadTool(url)
  } catch (error) {
    throw new ScannerError(
      `Trivy ${version} is not on PATH and its ${what} could not be downloaded from ${url}: ${errorMessage(error)}. Put trivy ${version} on PATH, set trivy-version to the one installed, or allow the download.`,
    )
  }
}

/** Where the expected SHA-256 of a release archive comes from, for messages. */
interface ExpectedChecksum {
  sha256: string
  source: string
}

/** The SHA-256 pinned for this runner's archive of `version`: the user's (trivy-checksum), else the action's. */
export function pinnedArchiveSha256(version: string, checksum = ''): string | undefined {
  if (/^[a-f0-9]{64}$/.test(checksum)) return checksum
  return TRIVY_ARCHIVE_SHA256[trivyReleaseAsset(version, process.platform, process.arch).archive]
}

/**
 * The SHA-256 the archive must have: the user's pin (input trivy-checksum), else the pin the action carries
 * for this archive, else - only with the explicit opt-in - the release's own checksums file. Without any of
 * them the download is refused before it starts.
 */
async function expectedChecksum(
  asset: ReturnType<typeof trivyReleaseAsset>,
  version: string,
  checksum: string,
): Promise<ExpectedChecksum> {
  if (/^[a-f0-9]{64}$/.test(checksum)) {
    return { sha256: checksum, source: `the trivy-checksum input (${checksum})` }
  }
  const pinned = TRIVY_ARCHIVE_SHA256[asset.archive]
  if (pinned) {
    return {
      sha256: pinned,
      source: `the SHA-256 the action pins for ${asset.archive} (${pinned})`,
    }
  }
  if (checksum !== TRUST_RELEASE_CHECKSUMS) {
    throw new ScannerError(
      `The action pins no SHA-256 for ${asset.archive} (it pins Trivy 0.74.0): set trivy-checksum to the archive's SHA-256 from a source you trust, or to ${TRUST_RELEASE_CHECKSUMS} to trust the release's own checksums file, or put trivy ${version} on PATH.`,
    )
  }
  const checksumsFile = await download(asset.checksumsUrl, 'checksums file', version)
  const listed = checksumFor(fs.readFileSync(checksumsFile, 'utf8'), asset.archive)
  fs.rmSync(checksumsFile, { force: true })
  if (!listed) {
    throw new ScannerError(
      `The checksums file ${asset.checksumsUrl} lists no ${asset.archive}; refusing to install Trivy ${version} unverified.`,
    )
  }
  return {
    sha256: listed,
    source: `the release's checksums file ${asset.checksums} (${listed}, trivy-checksum: ${TRUST_RELEASE_CHECKSUMS})`,
  }
}

/**
 * Downloads the release archive of `version`, checks its SHA-256 against the pin (see expectedChecksum) before
 * anything is extracted or run, and adds it to the tool cache. A mismatch is refused. Returns the binary in the
 * tool cache and the archive's verified SHA-256.
 */
export async function downloadTrivy(
  version: string,
  checksum = '',
  baseUrl: string = process.env.MLSECOPS_TRIVY_DOWNLOAD_URL || DEFAULT_TRIVY_DOWNLOAD_URL,
): Promise<{ binary: string; archiveSha256: string }> {
  const asset = trivyReleaseAsset(version, process.platform, process.arch, baseUrl)
  const expected = await expectedChecksum(asset, version, checksum)
  core.info(`Downloading Trivy ${version}: ${asset.archiveUrl}`)
  const archive = await download(asset.archiveUrl, 'release archive', version)
  const actual = await sha256File(archive)
  if (actual !== expected.sha256) {
    fs.rmSync(archive, { force: true })
    throw new ScannerError(
      `The SHA-256 of ${asset.archive} downloaded from ${asset.archiveUrl} is ${actual}, not ${expected.source}; refusing to extract or run it.`,
    )
  }
  core.info(`SHA-256 of ${asset.archive} verified against ${expected.source}`)
  const extracted =
    asset.format === 'zip' ? await tc.extractZip(archive) : await tc.extractTar(archive)
  fs.rmSync(archive, { force: true })
  if (!fs.existsSync(path.join(extracted, asset.binary))) {
    throw new ScannerError(`The Trivy release archive ${asset.archive} holds no ${asset.binary}.`)
  }
  const cached = await tc.cacheDir(extracted, 'trivy', version)
  fs.rmSync(extracted, { recursive: true, force: true })
  return { binary: path.join(cached, asset.binary), archiveSha256: actual }
}

/**
 * Finds Trivy `version`: `trivy` on PATH when it reports that version, else the runner's tool cache, else a
 * verified release from the Actions cache (options.cache), else a verified download of the release (then saved
 * to the Actions cache). Throws ScannerError when none works.
 */
export async function locateOrInstallTrivy(
  version: string,
  runnerTemp: string,
  options: LocateOptions = {},
): Promise<TrivyBinary> {
  const onPath = await io.which('trivy', false)
  if (onPath) {
    const found = await trivyVersionOf(onPath)
    if (found === version) return { path: onPath, version, origin: 'path' }
    core.info(
      `trivy on PATH (${onPath}) is ${found ?? 'not runnable'}, not ${version}: using the release instead.`,
    )
  }
  ensureToolCacheEnvironment(runnerTemp)
  const cachedDir = tc.find('trivy', version)
  const binaryName = process.platform === 'win32' ? 'trivy.exe' : 'trivy'
  if (cachedDir && fs.existsSync(path.join(cachedDir, binaryName))) {
    const cachedBinary = path.join(cachedDir, binaryName)
    if ((await trivyVersionOf(cachedBinary)) === version) {
      return { path: cachedBinary, version, origin: 'tool-cache' }
    }
  }
  const pinned = pinnedArchiveSha256(version, options.checksum)
  if (options.cache) {
    // A cached release counts only when it was verified against the same pin.
    const staged = await restoreTrivyBinary(version, runnerTemp, binaryName, pinned)
    if (staged) {
      const restoredDir = await tc.cacheDir(staged, 'trivy', version)
      fs.rmSync(staged, { recursive: true, force: true })
      const restored = path.join(restoredDir, binaryName)
      if ((await trivyVersionOf(restored)) === version) {
        return { path: restored, version, origin: 'actions-cache' }
      }
      core.warning(`The cached Trivy does not report version ${version}: downloading it again.`)
    }
  }
  const downloaded = await downloadTrivy(version, options.checksum ?? '')
  const reported = await trivyVersionOf(downloaded.binary)
  if (reported !== version) {
    throw new ScannerError(
      `The downloaded Trivy reports version ${reported ?? 'nothing'} instead of ${version}.`,
    )
  }
  if (options.cache) {
    await saveTrivyBinary(
      version,
      runnerTemp,
      path.dirname(downloaded.binary),
      downloaded.archiveSha256,
      pinned,
    )
  }
  return { path: downloaded.binary, version, origin: 'download' }
}
