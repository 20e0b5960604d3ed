import * as cache from '@actions/cache'
import * as core from '@actions/core'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { errorMessage } from '../errors.js'
import { cacheServiceAvailable } from './scan-cache.js'

/**
 * Keeps the verified Trivy release (the extracted archive) between workflow runs with @actions/cache, so a fresh
 * runner does not download it again. The entry is restored into a staging directory in RUNNER_TEMP, never
 * straight into the tool cache: only when every file's SHA-256 matches the manifest written when the release
 * was verified (and the manifest names this version, platform and archive checksum) is it copied into the tool
 * cache; anything else is deleted and the release is downloaded and verified as usual.
 */

const KEY_PREFIX = 'mlsecops-trivy-binary-'
export const MANIFEST_NAME = '.mlsecops-trivy-manifest.json'

export interface BinaryManifest {
  version: string
  platform: string
  arch: string
  /** SHA-256 of the release archive the files came from (verified against the checksums when downloaded). */
  archiveSha256: string
  /** SHA-256 of every file, by path relative to the directory (forward slashes). */
  files: Record<string, string>
}

/**
 * `mlsecops-trivy-binary-<version>-<os>-<arch>-<archive sha256 prefix>`. With a pinned checksum the key names
 * it, so a changed pin never restores the old files; without one, `checksums-file` (verified at download).
 */
export function binaryCacheKey(
  version: string,
  platform: string = process.platform,
  arch: string = process.arch,
  pinnedArchiveSha256?: string,
): string {
  const pin = pinnedArchiveSha256
    ? pinnedArchiveSha256.toLowerCase().slice(0, 16)
    : 'checksums-file'
  return `${KEY_PREFIX}${version}-${platform}-${arch}-${pin}`
}

/** Where the entry is restored and saved from: the same path on every runner of a kind (RUNNER_TEMP). */
export function binaryStagingDir(runnerTemp: string): string {
  return path.join(runnerTemp, 'mlsecops-trivy-binary')
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

/** SHA-256 of every regular file under `dir` except the manifest; symlinks and other kinds are refused. */
export function fileDigests(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (sub: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name
      if (rel === MANIFEST_NAME) continue
      if (entry.isDirectory()) walk(rel)
      else if (entry.isFile()) out[rel] = sha256(path.join(dir, rel))
      else throw new Error(`${rel} is neither a file nor a directory`)
    }
  }
  walk('')
  return out
}

/**
 * Why the staged files cannot be used, or undefined when they are exactly what the manifest lists and the
 * manifest fits the wanted release. Pure apart from reading the directory.
 */
export function stagedBinaryProblem(
  dir: string,
  wanted: { version: string; platform: string; arch: string; binary: string; pinned?: string },
): string | undefined {
  let manifest: BinaryManifest
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_NAME), 'utf8')) as BinaryManifest
  } catch {
    return 'no readable manifest'
  }
  if (
    manifest.version !== wanted.version ||
    manifest.platform !== wanted.platform ||
    manifest.arch !== wanted.arch
  ) {
    return `the manifest is for ${manifest.version} ${manifest.platform}/${manifest.arch}`
  }
  if (wanted.pinned && manifest.archiveSha256 !== wanted.pinned.toLowerCase()) {
    return `the manifest's archive checksum ${manifest.archiveSha256} is not the pinned ${wanted.pinned}`
  }
  if (!manifest.files || typeof manifest.files[wanted.binary] !== 'string') {
    return `the manifest lists no ${wanted.binary}`
  }
  let actual: Record<string, string>
  try {
    actual = fileDigests(dir)
  } catch (error) {
    return errorMessage(error)
  }
  const names = new Set([...Object.keys(actual), ...Object.keys(manifest.files)])
  for (const name of names) {
    if (actual[name] !== manifest.files[name]) {
      return actual[name] === undefined
        ? `${name} is missing`
        : manifest.files[name] === undefined
          ? `${name} is not in the manifest`
          : `the SHA-256 of ${name} is ${actual[name]}, the manifest says ${manifest.files[name]}`
    }
  }
  return undefined
}

/**
 * Restores the cached release into the staging directory and verifies it. Returns the staging directory when
 * it can go into the tool cache, else undefined (and nothing is left behind).
 */
export async function restoreTrivyBinary(
  version: string,
  runnerTemp: string,
  binary: string,
  pinned?: string,
): Promise<string | undefined> {
  if (!cacheServiceAvailable()) {
    core.debug('No GitHub cache service: the Trivy release is not restored from the cache.')
    return undefined
  }
  const staging = binaryStagingDir(runnerTemp)
  fs.rmSync(staging, { recursive: true, force: true })
  const key = binaryCacheKey(version, process.platform, process.arch, pinned)
  let matched: string | undefined
  try {
    matched = await cache.restoreCache([staging], key)
  } catch (error) {
    core.warning(`Could not restore Trivy ${version} from the cache: ${errorMessage(error)}`)
  }
  if (!matched) {
    fs.rmSync(staging, { recursive: true, force: true })
    return undefined
  }
  const problem = stagedBinaryProblem(staging, {
    version,
    platform: process.platform,
    arch: process.arch,
    binary,
    pinned,
  })
  if (problem) {
    core.warning(
      `The cached Trivy ${version} (${matched}) failed verification (${problem}): downloading it again.`,
    )
    fs.rmSync(staging, { recursive: true, force: true })
    return undefined
  }
  fs.rmSync(path.join(staging, MANIFEST_NAME))
  core.info(`Trivy ${version} restored from the cache (${matched}); every file's SHA-256 verified.`)
  return staging
}

/**
 * Saves a verified, extracted release (e.g. its tool-cache directory) with a manifest of its files. Copies it to
 * the staging directory first, so the cache entry's path is the same on every runner.
 */
export async function saveTrivyBinary(
  version: string,
  runnerTemp: string,
  releaseDir: string,
  archiveSha256: string,
  pinned?: string,
): Promise<void> {
  if (!cacheServiceAvailable()) {
    core.debug('No GitHub cache service: the Trivy release is not saved to the cache.')
    return
  }
  const staging = binaryStagingDir(runnerTemp)
  const key = binaryCacheKey(version, process.platform, process.arch, pinned)
  try {
    fs.rmSync(staging, { recursive: true, force: true })
    fs.cpSync(releaseDir, staging, { recursive: true })
    const manifest: BinaryManifest = {
      version,
      platform: process.platform,
      arch: process.arch,
      archiveSha256: archiveSha256.toLowerCase(),
      files: fileDigests(staging),
    }
    fs.writeFileSync(path.join(staging, MANIFEST_NAME), JSON.stringify(manifest, null, 2))
    const id = await cache.saveCache([staging], key)
    if (id !== -1) core.info(`Trivy ${version} saved to the cache (${key})`)
  } catch (error) {
    if ((error as Error).name === 'ReserveCacheError') {
      core.info(`Trivy ${version} is already in the cache (${key}): ${errorMessage(error)}`)
    } else {
      core.warning(`Could not save Trivy ${version} to the cache: ${errorMessage(error)}`)
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true })
  }
}
