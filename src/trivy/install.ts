import * as core from '@actions/core'
import * as io from '@actions/io'
import * as tc from '@actions/tool-cache'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { runCommand } from '../exec.js'
import { ScannerError, errorMessage } from '../errors.js'
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
  /** Where it came from: PATH, the tool cache, or a verified download just now. */
  origin: 'path' | 'tool-cache' | 'download'
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
  if (pinned)
    return {
      sha256: pinned,
      source: `the SHA-256 the action pins for ${asset.archive} (${pinned})`,
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
 * anything is extracted or run, and adds it to the tool cache. A mismatch is refused.
 */
export async function downloadTrivy(
  version: string,
  checksum = '',
  baseUrl: string = process.env.MLSECOPS_TRIVY_DOWNLOAD_URL || DEFAULT_TRIVY_DOWNLOAD_URL,
): Promise<string> {
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
  return path.join(cached, asset.binary)
}

/**
 * Finds Trivy `version`: `trivy` on PATH when it reports that version, else the runner's tool cache, else a
 * verified download of the release. Throws ScannerError when none works.
 */
export async function locateOrInstallTrivy(
  version: string,
  runnerTemp: string,
  checksum = '',
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
  const downloaded = await downloadTrivy(version, checksum)
  const reported = await trivyVersionOf(downloaded)
  if (reported !== version) {
    throw new ScannerError(
      `The downloaded Trivy reports version ${reported ?? 'nothing'} instead of ${version}.`,
    )
  }
  return { path: downloaded, version, origin: 'download' }
}
