import * as cache from '@actions/cache'
import * as core from '@actions/core'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { errorMessage } from '../errors.js'

/**
 * Keeps Trivy's layer-analysis cache (<cache>/fanal) and its checks bundle (<cache>/policy) between workflow
 * runs with @actions/cache, so a fresh runner analyses only the layers it has not seen.
 *
 * Why reuse is safe: Trivy keys every entry of fanal.db by a hash of the layer's diff id together with its
 * analyzer versions and scan options, so an entry is only ever read back for the same layer content; a new base
 * image just misses. The cache key adds the Trivy version and the image's layer digests (exact hit: nothing to
 * analyse), the restore key the Trivy version alone (a changed image still reuses its unchanged layers). The
 * checks bundle carries its own download time and Trivy refreshes it by its own rules, as without the cache.
 * Every cache operation degrades to a debug line or a warning; a cache problem never fails the job.
 */

const KEY_PREFIX = 'mlsecops-trivy-layers-'
/** A restored layer cache larger than this is dropped before the scan, so it cannot grow without bound. */
export const MAX_LAYER_CACHE_BYTES = 200 * 1024 * 1024

export interface LayerCacheKeys {
  primary: string
  restore: string[]
}

/** `mlsecops-trivy-layers-<version>-<os>-<arch>-<sha256 of the layer digests>`, restore key without the hash. */
export function layerCacheKeys(
  trivyVersion: string,
  layers: readonly string[],
  platform: string = process.platform,
  arch: string = process.arch,
): LayerCacheKeys {
  const prefix = `${KEY_PREFIX}${trivyVersion}-${platform}-${arch}-`
  const digest = createHash('sha256').update(layers.join('\n')).digest('hex').slice(0, 32)
  return { primary: `${prefix}${digest}`, restore: [prefix] }
}

/** The directories kept: the layer-analysis cache and the checks bundle. */
export function layerCachePaths(cacheDir: string): string[] {
  return [path.join(cacheDir, 'fanal'), path.join(cacheDir, 'policy')]
}

/** Total size of the regular files under `dir` (0 when it does not exist). */
export function directorySize(dir: string): number {
  let total = 0
  let entries: fs.Dirent[]
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true })
  } catch {
    return 0
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) total += directorySize(full)
    else if (entry.isFile()) total += fs.statSync(full).size
  }
  return total
}

export function cacheServiceAvailable(): boolean {
  try {
    return cache.isFeatureAvailable()
  } catch {
    return false
  }
}

/** Restores the layer cache; returns the key that matched, or undefined. */
export async function restoreLayerCache(
  cacheDir: string,
  keys: LayerCacheKeys,
): Promise<string | undefined> {
  if (!cacheServiceAvailable()) {
    core.debug('No GitHub cache service: the Trivy layer cache is not restored.')
    return undefined
  }
  let matched: string | undefined
  try {
    matched = await cache.restoreCache(layerCachePaths(cacheDir), keys.primary, keys.restore)
  } catch (error) {
    core.warning(`Could not restore the Trivy layer cache: ${errorMessage(error)}`)
    return undefined
  }
  if (!matched) {
    core.info('No cached Trivy layer analysis yet: every layer is analysed.')
    return undefined
  }
  const fanal = layerCachePaths(cacheDir)[0]
  const size = directorySize(fanal)
  if (size > MAX_LAYER_CACHE_BYTES) {
    core.info(
      `The restored Trivy layer cache is ${size} bytes (over ${MAX_LAYER_CACHE_BYTES}): dropped, every layer is analysed again.`,
    )
    fs.rmSync(fanal, { recursive: true, force: true })
    return undefined
  }
  core.info(
    matched === keys.primary
      ? `Trivy layer cache restored (${matched}, ${size} bytes): every layer of this image was analysed before.`
      : `Trivy layer cache restored from ${matched} (${size} bytes): layers seen before are not analysed again.`,
  )
  return matched
}

/** Saves the layer cache under the image's key, unless that exact key was restored (it is then unchanged). */
export async function saveLayerCache(
  cacheDir: string,
  keys: LayerCacheKeys,
  restoredKey: string | undefined,
): Promise<void> {
  if (restoredKey === keys.primary) return
  if (!cacheServiceAvailable()) {
    core.debug('No GitHub cache service: the Trivy layer cache is not saved.')
    return
  }
  const paths = layerCachePaths(cacheDir).filter((p) => fs.existsSync(p))
  if (paths.length === 0) return
  try {
    // The same path list as the restore: @actions/cache versions an entry by its paths.
    const id = await cache.saveCache(layerCachePaths(cacheDir), keys.primary)
    // -1: @actions/cache logged why (e.g. another job saved this key first).
    if (id !== -1) core.info(`Trivy layer cache saved to ${keys.primary}`)
  } catch (error) {
    if ((error as Error).name === 'ReserveCacheError') {
      core.info(`Trivy layer cache ${keys.primary} already exists: ${errorMessage(error)}`)
    } else {
      core.warning(`Could not save the Trivy layer cache: ${errorMessage(error)}`)
    }
  }
}
