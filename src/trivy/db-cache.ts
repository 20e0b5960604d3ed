import * as cache from '@actions/cache'
import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { errorMessage } from '../errors.js'

/**
 * Keeps Trivy's vulnerability DB between workflow runs with @actions/cache, under a daily key. Every cache
 * operation degrades to a debug line or a warning: no cache service (a local run) or a cache error never fails
 * the job.
 */

const KEY_PREFIX = 'mlsecops-trivy-db-'

export interface DbCacheKeys {
  primary: string
  restore: string[]
}

/** One key per UTC day; an older day's DB is restored as a fallback (Trivy refreshes it when it is stale). */
export function dbCacheKeys(now: Date = new Date()): DbCacheKeys {
  return { primary: `${KEY_PREFIX}${now.toISOString().slice(0, 10)}`, restore: [KEY_PREFIX] }
}

export function dbDirectory(cacheDir: string): string {
  return path.join(cacheDir, 'db')
}

export interface DbMetadata {
  Version?: number
  UpdatedAt?: string
  NextUpdate?: string
  DownloadedAt?: string
}

/** <cache>/db/metadata.json, or undefined when there is no DB. */
export function readDbMetadata(cacheDir: string): DbMetadata | undefined {
  const file = path.join(dbDirectory(cacheDir), 'metadata.json')
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as DbMetadata
  } catch {
    return undefined
  }
}

/** A DB Trivy can scan with: trivy.db and metadata.json both present. */
export function hasDb(cacheDir: string): boolean {
  const dir = dbDirectory(cacheDir)
  return fs.existsSync(path.join(dir, 'trivy.db')) && fs.existsSync(path.join(dir, 'metadata.json'))
}

function cacheServiceAvailable(): boolean {
  try {
    return cache.isFeatureAvailable()
  } catch {
    return false
  }
}

/** Restores the DB; returns the key that matched, or undefined. */
export async function restoreDbCache(
  cacheDir: string,
  keys: DbCacheKeys,
): Promise<string | undefined> {
  if (!cacheServiceAvailable()) {
    core.debug(
      'No GitHub cache service (ACTIONS_CACHE_URL / ACTIONS_RESULTS_URL unset): the Trivy DB is not restored.',
    )
    return undefined
  }
  try {
    const matched = await cache.restoreCache([dbDirectory(cacheDir)], keys.primary, keys.restore)
    core.info(matched ? `Trivy DB restored from cache ${matched}` : 'No cached Trivy DB yet')
    return matched
  } catch (error) {
    core.warning(`Could not restore the Trivy DB from the cache: ${errorMessage(error)}`)
    return undefined
  }
}

/** Saves the DB under the day's key (right after a download, so a failing gate still leaves the cache). */
export async function saveDbCache(cacheDir: string, key: string): Promise<void> {
  if (!cacheServiceAvailable()) {
    core.debug(
      'No GitHub cache service (ACTIONS_CACHE_URL / ACTIONS_RESULTS_URL unset): the Trivy DB is not saved.',
    )
    return
  }
  try {
    await cache.saveCache([dbDirectory(cacheDir)], key)
    core.info(`Trivy DB saved to cache ${key}`)
  } catch (error) {
    if ((error as Error).name === 'ReserveCacheError') {
      core.info(`Trivy DB cache ${key} already exists: ${errorMessage(error)}`)
    } else {
      core.warning(`Could not save the Trivy DB to the cache: ${errorMessage(error)}`)
    }
  }
}
