import * as core from '@actions/core'
import { HttpError, errorMessage } from '../errors.js'
import type { MlflowClient } from './client.js'

/**
 * What the MLflow server offers, found once per run (not guessed): its release from `GET /version` (plain
 * text, answered by every release from 2.9 on), and whether it has MLflow 3's logged-model API. When the
 * release is unknown (a managed server that hides /version), a read of `logged-models/search` decides: a 404
 * means MLflow 2.
 *
 * MLflow 2 path: the version's source is the run's own `model` artifact folder, as MLflow 2's Python client
 * registers `runs:/<run>/model`. MLflow 3 path: a LoggedModel holds the files; the version's source is
 * `models:/<model_id>`. Aliases (2.3+), dataset inputs (2.4+) and version tags exist on every supported release.
 */

/** The oldest release the action registers against (checked by `npm run compat`). */
export const OLDEST_SUPPORTED = '2.9'

export interface ServerCapabilities {
  /** The server's release ('2.9.2'), or undefined when it does not say. */
  version?: string
  /** MLflow 3's LoggedModel API (`logged-models`, `runs/outputs`). */
  loggedModels: boolean
}

/** The major.minor of a release text; undefined when it is not one. */
export function parseRelease(text: string): { major: number; minor: number } | undefined {
  const match = /^\s*v?(\d+)\.(\d+)(?:[.\w+-]*)\s*$/.exec(text)
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : undefined
}

/** Whether a release is older than another ('2.9.2' < '2.10'). */
export function releaseBefore(version: string, than: string): boolean {
  const a = parseRelease(version)
  const b = parseRelease(than)
  if (!a || !b) return false
  return a.major !== b.major ? a.major < b.major : a.minor < b.minor
}

/** Learns the server's capabilities: /version first, a logged-model read when the release is unknown. */
export async function detectCapabilities(
  client: MlflowClient,
  experimentId: string,
): Promise<ServerCapabilities> {
  let version: string | undefined
  try {
    const text = await client.request<string>('GET', '/version', { text: true, attempts: 2 })
    if (parseRelease(text)) version = text.trim()
  } catch (error) {
    // A managed server may hide /version; the logged-model read below decides.
    core.debug(`MLflow GET /version: ${errorMessage(error)}`)
  }
  if (version) {
    const release = parseRelease(version)!
    if (releaseBefore(version, OLDEST_SUPPORTED)) {
      core.warning(
        `MLflow server ${version} is older than ${OLDEST_SUPPORTED}, the oldest release this action is checked against; registration may fail.`,
      )
    }
    const capabilities = { version, loggedModels: release.major >= 3 }
    core.info(describeCapabilities(capabilities))
    return capabilities
  }
  let loggedModels = true
  try {
    await client.searchLoggedModels([experimentId], '')
  } catch (error) {
    if (!(error instanceof HttpError && (error.status === 404 || error.status === 405))) throw error
    loggedModels = false
  }
  const capabilities = { loggedModels }
  core.info(describeCapabilities(capabilities))
  return capabilities
}

export function describeCapabilities(c: ServerCapabilities): string {
  const release = c.version ? `MLflow server ${c.version}` : 'MLflow server (release not given)'
  return c.loggedModels
    ? `${release}: logged models (MLflow 3); the version's source is models:/<model_id>`
    : `${release}: no logged-model API (MLflow 2); the version's source is the run's model folder`
}
