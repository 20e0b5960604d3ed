import * as core from '@actions/core'
import * as io from '@actions/io'
import * as tc from '@actions/tool-cache'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { runCommand } from '../exec.js'
import { CommandError, errorMessage } from '../errors.js'
import { sha256File } from '../trivy/install.js'
import { checksumFor } from '../trivy/release.js'
import { DEFAULT_COSIGN_DOWNLOAD_URL, cosignReleaseAsset, parseCosignVersion } from './release.js'

/**
 * Finds cosign like Trivy: on PATH when it reports the pinned version, else the runner's tool cache, else the
 * release binary, downloaded and checked against the release's SHA-256 before it is ever run.
 */

export interface CosignBinary {
  path: string
  version: string
  origin: 'path' | 'tool-cache' | 'download'
}

/** The version a cosign binary reports, or undefined when it does not run. */
export async function cosignVersionOf(binary: string): Promise<string | undefined> {
  try {
    const result = await runCommand(binary, ['version'], { silent: true })
    return result.exitCode === 0 ? parseCosignVersion(result.stdout + result.stderr) : undefined
  } catch {
    return undefined
  }
}

async function download(url: string, what: string, version: string): Promise<string> {
  try {
    return await tc.downloadTool(url)
  } catch (error) {
    throw new CommandError(
      `cosign ${version} is not on PATH and its ${what} could not be downloaded from ${url}: ${errorMessage(error)}. Put cosign ${version} on PATH or set cosign-version to the one installed.`,
    )
  }
}

/** Downloads the release binary of `version`, verifies its SHA-256, and adds it to the tool cache. */
export async function downloadCosign(
  version: string,
  baseUrl: string = process.env.MLSECOPS_COSIGN_DOWNLOAD_URL || DEFAULT_COSIGN_DOWNLOAD_URL,
): Promise<string> {
  const asset = cosignReleaseAsset(version, process.platform, process.arch, baseUrl)
  core.info(`Downloading cosign ${version}: ${asset.binaryUrl}`)
  const checksumsFile = await download(asset.checksumsUrl, 'checksums file', version)
  const expected = checksumFor(fs.readFileSync(checksumsFile, 'utf8'), asset.binary)
  fs.rmSync(checksumsFile, { force: true })
  if (!expected) {
    throw new CommandError(
      `The checksums file ${asset.checksumsUrl} lists no ${asset.binary}; refusing to install cosign ${version} unverified.`,
    )
  }
  const file = await download(asset.binaryUrl, 'release binary', version)
  const actual = await sha256File(file)
  if (actual !== expected) {
    fs.rmSync(file, { force: true })
    throw new CommandError(
      `The SHA-256 of ${asset.binary} is ${actual} but the release's checksums file says ${expected}; refusing to run it.`,
    )
  }
  core.info(`SHA-256 of ${asset.binary} verified: ${actual}`)
  const name = process.platform === 'win32' ? 'cosign.exe' : 'cosign'
  const cached = await tc.cacheFile(file, name, 'cosign', version)
  fs.rmSync(file, { force: true })
  const binary = path.join(cached, name)
  fs.chmodSync(binary, 0o755)
  return binary
}

/** Finds or installs cosign `version`; throws CommandError when none works. */
export async function locateOrInstallCosign(
  version: string,
  runnerTemp: string,
): Promise<CosignBinary> {
  const onPath = await io.which('cosign', false)
  if (onPath) {
    const found = await cosignVersionOf(onPath)
    if (found === version) return { path: onPath, version, origin: 'path' }
    core.info(
      `cosign on PATH (${onPath}) is ${found ?? 'not runnable'}, not ${version}: using the release instead.`,
    )
  }
  if (!process.env.RUNNER_TEMP) process.env.RUNNER_TEMP = runnerTemp
  if (!process.env.RUNNER_TOOL_CACHE) {
    process.env.RUNNER_TOOL_CACHE = path.join(process.env.RUNNER_TEMP, 'tool-cache')
  }
  const cachedDir = tc.find('cosign', version)
  const name = process.platform === 'win32' ? 'cosign.exe' : 'cosign'
  if (cachedDir && fs.existsSync(path.join(cachedDir, name))) {
    const cachedBinary = path.join(cachedDir, name)
    if ((await cosignVersionOf(cachedBinary)) === version) {
      return { path: cachedBinary, version, origin: 'tool-cache' }
    }
  }
  const downloaded = await downloadCosign(version)
  const reported = await cosignVersionOf(downloaded)
  if (reported !== version) {
    throw new CommandError(
      `The downloaded cosign reports version ${reported ?? 'nothing'} instead of ${version}.`,
    )
  }
  return { path: downloaded, version, origin: 'download' }
}
