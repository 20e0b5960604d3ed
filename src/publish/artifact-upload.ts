import * as core from '@actions/core'
import { DefaultArtifactClient } from '@actions/artifact'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ConfigurationError, errorMessage, oneLine } from '../errors.js'

/** Uploading the reports as one workflow artifact with @actions/artifact. */

export interface ArtifactUploadOptions {
  /** artifact-name. */
  name: string
  /** Files to put in the artifact (JSON and SARIF reports, metrics, the readable report). */
  files: string[]
  /**
   * The directory the paths inside the artifact are relative to; default: the deepest directory holding
   * every file.
   */
  rootDirectory?: string
  /** retention-days; 0: the repository's default. */
  retentionDays: number
}

export type ArtifactUploadResult =
  | { status: 'skipped'; reason: string }
  | {
      status: 'uploaded'
      id: number
      name: string
      /** Bytes of the zip. */
      size?: number
      /** sha256 of the zip, as @actions/artifact computed it. */
      digest?: string
      /** Paths inside the artifact. */
      entries: string[]
    }

/** The upload-artifact client as used here (a seam for tests). */
export interface ArtifactUploader {
  uploadArtifact(
    name: string,
    files: string[],
    rootDirectory: string,
    options?: { retentionDays?: number },
  ): Promise<{ id?: number; size?: number; digest?: string }>
}

/** The deepest directory that contains every one of `files`. */
export function commonDirectory(files: string[]): string {
  const dirs = files.map((f) => path.resolve(path.dirname(f)).split(path.sep))
  const first = dirs[0] ?? [path.sep]
  let n = first.length
  for (const d of dirs.slice(1)) {
    let i = 0
    while (i < n && i < d.length && d[i] === first[i]) i++
    n = i
  }
  return first.slice(0, n).join(path.sep) || path.sep
}

/**
 * Why the artifact cannot be uploaded here, or undefined when it can: the artifact service needs the runtime
 * token and results URL the runner gives to actions, and @actions/artifact does not work on GitHub Enterprise
 * Server.
 */
export function artifactSkipReason(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!env.ACTIONS_RUNTIME_TOKEN || !env.ACTIONS_RESULTS_URL) {
    return 'not running on a GitHub Actions runner (ACTIONS_RUNTIME_TOKEN or ACTIONS_RESULTS_URL is not set)'
  }
  const server = env.GITHUB_SERVER_URL
  if (server) {
    let host = ''
    try {
      host = new URL(server).hostname.toLowerCase()
    } catch {
      // an unparsable server URL is left for the client to judge
    }
    if (
      host &&
      host !== 'github.com' &&
      !host.endsWith('.ghe.com') &&
      !host.endsWith('.localhost')
    ) {
      return `GitHub Enterprise Server (${host}) does not support the artifact service of @actions/artifact v2+`
    }
  }
  return undefined
}

function isDuplicateName(message: string): boolean {
  return /\(409\)|already exists/i.test(message)
}

/**
 * The artifact stage: uploads `files` as artifact `name`. Sets the output `artifact-id`.
 * Outside a runner (no ACTIONS_RUNTIME_TOKEN / ACTIONS_RESULTS_URL) it only prints a notice.
 * A name already used in this workflow run is a ConfigurationError on artifact-name.
 */
export async function uploadReportArtifact(
  options: ArtifactUploadOptions,
  env: NodeJS.ProcessEnv = process.env,
  client: ArtifactUploader = new DefaultArtifactClient(),
): Promise<ArtifactUploadResult> {
  const reason = artifactSkipReason(env)
  if (reason) {
    core.notice(`Artifact upload skipped: ${reason}. The reports stay on disk.`)
    return { status: 'skipped', reason }
  }
  const files: string[] = []
  for (const file of options.files) {
    const absolute = path.resolve(file)
    if (fs.existsSync(absolute) && fs.statSync(absolute).isFile()) files.push(absolute)
    else core.warning(`Not in the artifact, not a file: ${file}`)
  }
  if (files.length === 0) {
    const why = 'none of the report files exists'
    core.notice(`Artifact upload skipped: ${why}.`)
    return { status: 'skipped', reason: why }
  }
  const root = path.resolve(options.rootDirectory ?? commonDirectory(files))
  const entries = files.map((f) => path.relative(root, f).split(path.sep).join('/'))
  const retentionDays = options.retentionDays > 0 ? options.retentionDays : undefined

  core.info(
    `Uploading artifact ${options.name} (${entries.join(', ')}), retention ${retentionDays ? `${retentionDays} days` : "the repository's default"}`,
  )
  let uploaded: { id?: number; size?: number; digest?: string }
  try {
    uploaded = await client.uploadArtifact(options.name, files, root, { retentionDays })
  } catch (error) {
    const message = errorMessage(error)
    if (isDuplicateName(message)) {
      throw new ConfigurationError(
        'artifact-name',
        `An artifact named "${options.name}" already exists in this workflow run (another job, matrix leg or step uploaded one); give artifact-name a name unique to this job, e.g. mlsecops-report-\${{ matrix.name }}`,
      )
    }
    throw new Error(`Artifact upload of "${options.name}" failed: ${oneLine(message)}`)
  }
  if (uploaded.id === undefined) {
    throw new Error(`Artifact upload of "${options.name}" returned no artifact id`)
  }
  core.setOutput('artifact-id', String(uploaded.id))
  core.info(
    `Uploaded artifact ${options.name} with id ${uploaded.id} (${uploaded.size ?? '?'} bytes)`,
  )
  return {
    status: 'uploaded',
    id: uploaded.id,
    name: options.name,
    size: uploaded.size,
    digest: uploaded.digest,
    entries,
  }
}
