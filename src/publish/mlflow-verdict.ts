import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { HttpError, errorMessage } from '../errors.js'
import { SEVERITIES, type Severity } from '../trivy/findings.js'
import type { Tag } from '../mlflow/client.js'
import type { Registration } from '../mlflow/registration.js'
import type { ScanResult } from '../trivy/findings.js'

/**
 * The verdict, written back to MLflow: the scan reports as run artifacts, tags on the model version saying
 * what the scan found and what the gates decided, and the alias moved to the version only when every gate
 * passed.
 */

/** Run artifact folder holding the scan reports. */
export const SCAN_ARTIFACT_PATH = 'scan'
/** MLflow's limit for a tag value. */
const TAG_VALUE_LIMIT = 5000

/** passed / failed: the scan ran and the severity gate said so; not-scanned: no scan ran. */
export type ScanStatus = 'passed' | 'failed' | 'not-scanned'

export interface VerdictInput {
  scan?: ScanResult
  /** The severity gate's result; undefined when no scan ran. */
  severityGatePassed?: boolean
  /** fail-on-severity (undefined: none). */
  failOnSeverity?: Severity
  /** Every gate (accuracy and severity) passed. */
  gatePassed: boolean
  /** Why the gates failed (empty when they passed). */
  gateFailures: string[]
  image?: string
  imageId?: string
  /** The pushed image by digest (`repo@sha256:...`), when it was pushed. */
  imageRef?: string
  /** SHA-256 of the SBOM, when one was written. */
  sbomSha256?: string
  /** cyclonedx or spdx-json, when an SBOM was written. */
  sbomFormat?: string
  /** How the pushed image was signed (key, kms, keyless), when it was. */
  signature?: string
}

export function scanStatus(input: Pick<VerdictInput, 'scan' | 'severityGatePassed'>): ScanStatus {
  if (!input.scan) return 'not-scanned'
  return input.severityGatePassed === false ? 'failed' : 'passed'
}

/** The model-version tags of the verdict (pure). Empty values are left out. */
export function verdictTags(input: VerdictInput): Tag[] {
  const scan = input.scan
  const tags: Tag[] = [{ key: 'scan_status', value: scanStatus(input) }]
  if (scan) {
    for (const severity of [...SEVERITIES].reverse()) {
      tags.push({ key: `scan_${severity.toLowerCase()}`, value: String(scan.counts[severity]) })
    }
    const suppressed = scan.suppressed ?? []
    tags.push(
      { key: 'scan_suppressed', value: String(suppressed.length) },
      { key: 'scan_suppressed_ids', value: [...new Set(suppressed.map((f) => f.id))].join(',') },
      { key: 'scan_fail_on_severity', value: input.failOnSeverity ?? 'none' },
      { key: 'trivy_version', value: scan.trivyVersion },
      { key: 'trivy_db_updated_at', value: scan.dbUpdatedAt ?? '' },
      { key: 'trivy_server', value: scan.server ?? '' },
    )
  }
  tags.push(
    { key: 'image', value: input.image ?? '' },
    { key: 'image_id', value: input.imageId ?? '' },
    { key: 'image_digest', value: input.imageRef ?? '' },
    { key: 'image_signature', value: input.signature ?? '' },
    { key: 'sbom_format', value: input.sbomFormat ?? '' },
    { key: 'sbom_sha256', value: input.sbomSha256 ?? '' },
    { key: 'gate', value: input.gatePassed ? 'passed' : 'failed' },
    { key: 'gate_reason', value: input.gateFailures.join(' ') },
  )
  return tags
    .filter((t) => t.value !== '')
    .map((t) => ({ key: t.key, value: t.value.slice(0, TAG_VALUE_LIMIT) }))
}

/** Starts the exceptions part of the model version's description. */
const EXCEPTIONS_HEADING = 'Scan exceptions:'
/** Kept well under what MLflow stores for a description. */
const DESCRIPTION_LIMIT = 5000

/**
 * The scan's exceptions for the model version's description (pure): every suppressed finding with why, by
 * what and until when, and the ignore entries that expired. '' when the scan used no exception.
 */
export function exceptionsDescription(input: Pick<VerdictInput, 'scan'>): string {
  const scan = input.scan
  const suppressed = scan?.suppressed ?? []
  if (!scan || (!scan.exceptions && suppressed.length === 0)) return ''
  const lines = [
    `${EXCEPTIONS_HEADING} ${suppressed.length} finding(s) suppressed, out of the counts and the gate.`,
  ]
  for (const f of suppressed) {
    const s = f.suppression
    const what = [f.id, f.pkgName ? `in ${f.pkgName}` : f.target, f.severity].join(' ')
    const until = s.until ? `, until ${s.until}` : ''
    lines.push(
      `- ${what}: ${s.reason || 'no statement'} (${s.by === 'vex' ? 'VEX ' : ''}${s.source}${until})`,
    )
  }
  for (const e of scan.exceptions?.expired ?? [])
    lines.push(`- expired, suppresses nothing: ${e.id} (${e.source}, expired ${e.until})`)
  return lines.join('\n')
}

/**
 * The verdict as the version's description, where the MLflow UI shows it first (the tags sit in a small
 * scrolled box below): the registration's own line, then scan status and counts, Trivy and its DB, the gate and
 * why, the image. Markdown, as the UI renders it (pure).
 */
export function verdictDescription(input: VerdictInput, base = ''): string {
  const scan = input.scan
  const lines: string[] = []
  if (base) lines.push(base, '')
  lines.push(
    `**Gate: ${input.gatePassed ? 'passed' : 'failed'}**${input.gateFailures.length ? `: ${input.gateFailures.join(' ')}` : '.'}`,
  )
  if (scan) {
    const counts = [...SEVERITIES]
      .reverse()
      .map((s) => `${s} ${scan.counts[s]}`)
      .join(', ')
    lines.push(
      '',
      `**Scan: ${scanStatus(input)}** (${counts}; fail-on-severity ${input.failOnSeverity ?? 'none'}).`,
      '',
      `Trivy ${scan.trivyVersion}${scan.dbUpdatedAt ? `, vulnerability DB of ${scan.dbUpdatedAt}` : ''}${scan.server ? `, server ${scan.server}` : ''}.`,
    )
  } else {
    lines.push('', '**Scan: not-scanned** (no image was scanned).')
  }
  if (input.image || input.imageId) {
    lines.push(
      '',
      `Image ${[input.image, input.imageId && `(${input.imageId})`].filter(Boolean).join(' ')}.`,
    )
  }
  const exceptions = exceptionsDescription(input)
  if (exceptions) lines.push('', exceptions)
  return lines.join('\n').slice(0, DESCRIPTION_LIMIT)
}

export interface VerdictRecord {
  /** Run artifact paths written (scan/trivy-report.json, ...). */
  artifacts: string[]
  tags: Tag[]
  /** The alias, when it was set on the new version. */
  aliasSet?: string
  /** Where the alias points now when it was not moved (undefined: nowhere, or unknown). */
  aliasVersion?: string
}

export interface RecordVerdictOptions {
  verdict: VerdictInput
  /** Files to log as run artifacts under scan/ (the reports); missing files are skipped. */
  reportFiles: string[]
  /** model-alias; set only when `promote` is true. Empty: no alias. */
  alias: string
  /** Every gate passed and nothing else failed: move the alias to the new version. */
  promote: boolean
}

/** The version an alias points at, or undefined when the alias does not exist. */
export async function aliasVersion(
  registration: Registration,
  alias: string,
): Promise<string | undefined> {
  try {
    const r = await registration.client.request<{ model_version?: { version?: string } }>(
      'GET',
      '/api/2.0/mlflow/registered-models/alias',
      { query: { name: registration.modelName, alias } },
    )
    return r.model_version?.version
  } catch (error) {
    if (error instanceof HttpError && error.code === 'RESOURCE_DOES_NOT_EXIST') return undefined
    throw error
  }
}

/**
 * Writes the verdict to MLflow: the reports as run artifacts under scan/, the verdict tags on the model
 * version, then the alias when `promote` (a failed gate leaves the alias where it was). Throws on any MLflow
 * error: the record is part of the job's result.
 */
export async function recordVerdict(
  registration: Registration,
  options: RecordVerdictOptions,
): Promise<VerdictRecord> {
  verdictStarted.add(registration)
  const { client, modelName, modelVersion } = registration
  const artifacts: string[] = []
  for (const file of options.reportFiles) {
    if (!fs.existsSync(file)) continue
    const target = `${SCAN_ARTIFACT_PATH}/${path.basename(file)}`
    await client.uploadArtifact(registration.artifactUri, target, fs.readFileSync(file))
    artifacts.push(target)
  }
  if (artifacts.length > 0)
    core.info(`Logged ${artifacts.join(', ')} to MLflow run ${registration.runId}`)

  const tags = verdictTags(options.verdict)
  await client.setModelVersionTags(modelName, modelVersion, tags)
  await client.updateModelVersionDescription(
    modelName,
    modelVersion,
    verdictDescription(options.verdict, registration.versionDescription),
  )
  core.info(
    `Tagged ${modelName} version ${modelVersion}: ${tags
      .filter((t) => t.key !== 'gate_reason')
      .map((t) => `${t.key}=${t.value}`)
      .join(', ')}`,
  )

  const record: VerdictRecord = { artifacts, tags }
  if (!options.alias) return record
  if (options.promote) {
    await client.setAlias(modelName, options.alias, modelVersion)
    core.info(`Alias '${options.alias}' now points at ${modelName} version ${modelVersion}`)
    record.aliasSet = options.alias
  } else {
    try {
      record.aliasVersion = await aliasVersion(registration, options.alias)
    } catch (error) {
      // Only read to say where the alias stayed; not worth failing the job for.
      core.debug(`Could not read alias '${options.alias}': ${errorMessage(error)}`)
    }
    core.info(
      `Alias '${options.alias}' not moved: ${record.aliasVersion ? `it stays on version ${record.aliasVersion}` : 'it points at no version'}`,
    )
  }
  return record
}

/** Registrations whose gate verdict is being (or was) written: a later failure does not overwrite it. */
const verdictStarted = new WeakSet<Registration>()

/**
 * The failure reporter of a registration: a job that failed before its verdict (an image build that broke
 * after registration) still leaves one on the version (not scanned, gate failed, why); then the run ends FAILED.
 */
export async function reportFailureToMlflow(
  registration: Registration,
  message: string,
): Promise<void> {
  if (!verdictStarted.has(registration)) {
    try {
      await recordFailureVerdict(registration, message)
    } catch (error) {
      core.warning(`Could not record the failure on the model version: ${errorMessage(error)}`)
    }
  }
  await registration.fail(message)
}

/**
 * The verdict of a job that failed before its gate ran (an image build that broke after registration): the
 * version still says it was not scanned, that the gate failed and why. No alias is moved.
 */
export async function recordFailureVerdict(
  registration: Registration,
  reason: string,
): Promise<void> {
  const verdict: VerdictInput = { gatePassed: false, gateFailures: [reason] }
  const { client, modelName, modelVersion } = registration
  await client.setModelVersionTags(modelName, modelVersion, verdictTags(verdict))
  await client.updateModelVersionDescription(
    modelName,
    modelVersion,
    verdictDescription(verdict, registration.versionDescription),
  )
  core.info(`Tagged ${modelName} version ${modelVersion}: scan_status=not-scanned, gate=failed`)
}
