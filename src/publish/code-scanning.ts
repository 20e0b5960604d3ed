import * as core from '@actions/core'
import * as fs from 'node:fs'
import { pathToFileURL } from 'node:url'
import type { RunContext } from '../context.js'
import { HttpError, ScannerError, errorMessage } from '../errors.js'
import { pollUntil, type Clock } from '../http/retry.js'
import type { Transport } from '../http/transport.js'
import { GitHubApiClient } from './github-api-client.js'
import { addPartialFingerprints, relativizeImageLocations } from './sarif-fingerprints.js'
import {
  GITHUB_SARIF_LIMITS,
  fitSarifToLimits,
  type FittedSarif,
  type SarifFitReport,
  type SarifLimits,
  type SarifLog,
} from './sarif-limits.js'

/** Sending the SARIF report to GitHub code scanning (REST: POST /repos/{owner}/{repo}/code-scanning/sarifs). */

export interface CodeScanningOptions {
  /** The SARIF 2.1.0 file to send (the scan stage's sarifReport). */
  sarifFile: string
  /** sarif-category: written into every run's automationDetails.id. */
  category: string
  /** The scanned image (its name without tag goes into the fingerprints); default: Trivy's run.properties.imageName. */
  image?: string
  /** github-token. Empty: skipped with a notice. */
  token: string
  /** tool_name of the upload; default: the first run's tool.driver.name. */
  toolName?: string
  /** Directory the analysis ran in (checkout_uri); default: the workspace. */
  checkoutPath?: string
  /** How long to wait for GitHub to process the upload (default 120 s; 0: do not wait). */
  pollTimeoutMs?: number
  /** First delay between status polls (default 1 s), doubled each time up to pollMaxDelayMs (default 15 s). */
  pollInitialDelayMs?: number
  pollMaxDelayMs?: number
  /** Default: GitHub's documented limits. */
  limits?: SarifLimits
  /** Injected for tests: retries and polls sleep through this. */
  sleep?: (ms: number) => Promise<void>
  /** Tries per HTTP request (default 3). */
  attempts?: number
  /** Injected for tests: the transport and the clock of the GitHub client (and of the poll). */
  transport?: Transport
  clock?: Clock
}

export type ProcessingStatus = 'complete' | 'failed' | 'pending'

export type CodeScanningResult =
  | { status: 'skipped'; reason: string }
  | {
      status: 'uploaded'
      sarifId: string
      /** The API URL of the upload's status. */
      url: string
      processingStatus: ProcessingStatus
      /** analyses_url once processed, when GitHub gives one. */
      analysesUrl?: string
      /** What was left out to fit GitHub's limits. */
      fit: SarifFitReport
    }

/** GitHub's message when the token lacks security-events: write (forks, Dependabot, missing permission). */
export const NOT_ACCESSIBLE = 'Resource not accessible by integration'

const PR_EVENTS = new Set(['pull_request', 'pull_request_review', 'pull_request_review_comment'])

interface PullRequestEvent {
  pull_request?: {
    head?: { repo?: { full_name?: string; id?: number } | null }
    base?: { repo?: { full_name?: string; id?: number } | null }
  }
}

/**
 * Why this run cannot upload to code scanning, or undefined when it can: a pull request from a fork and a run
 * started by Dependabot both get a read-only token. (pull_request_target runs with the base repository's
 * token, so it is not a fork case.)
 */
export function codeScanningSkipReason(context: RunContext): string | undefined {
  if (context.actor === 'dependabot[bot]') {
    return 'the run was started by Dependabot, whose token cannot write code-scanning results'
  }
  if (PR_EVENTS.has(context.eventName) && context.eventPath) {
    let event: PullRequestEvent
    try {
      event = JSON.parse(fs.readFileSync(context.eventPath, 'utf8')) as PullRequestEvent
    } catch (error) {
      core.debug(`Could not read the event payload ${context.eventPath}: ${errorMessage(error)}`)
      return undefined
    }
    const pr = event.pull_request
    if (!pr) return undefined
    const head = pr.head?.repo
    const base = pr.base?.repo
    const headName = head?.full_name?.toLowerCase()
    const baseName = base?.full_name?.toLowerCase()
    if (head === null || (headName && baseName && headName !== baseName)) {
      return `the pull request comes from a fork (${head?.full_name ?? 'a deleted repository'}), whose token cannot write code-scanning results`
    }
  }
  return undefined
}

/** The automationDetails.id for a category: GitHub reads the part up to the last "/" as the category. */
export function automationId(category: string): string {
  return category.endsWith('/') ? category : `${category}/`
}

/**
 * Writes the category into every run. Runs of the same tool need distinct categories (GitHub rejects an upload
 * with two runs of one tool in one category), so the second and later runs of a tool get "/run-N" added.
 */
export function applyCategory(sarif: SarifLog, category: string): SarifLog {
  const base = automationId(category).replace(/\/$/, '')
  const seen = new Map<string, number>()
  return {
    ...sarif,
    runs: sarif.runs.map((run) => {
      const tool = run.tool?.driver?.name ?? ''
      const n = (seen.get(tool) ?? 0) + 1
      seen.set(tool, n)
      const id = n === 1 ? `${base}/` : `${base}/run-${n}/`
      return { ...run, automationDetails: { ...(run.automationDetails ?? {}), id } }
    }),
  }
}

export function readSarifFile(file: string): SarifLog {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (error) {
    throw new ScannerError(`Could not read the SARIF report ${file}: ${errorMessage(error)}`)
  }
  let sarif: unknown
  try {
    sarif = JSON.parse(text)
  } catch (error) {
    throw new ScannerError(`The SARIF report ${file} is not JSON: ${errorMessage(error)}`)
  }
  const log = sarif as Partial<SarifLog> | null
  if (!log || typeof log !== 'object' || log.version !== '2.1.0' || !Array.isArray(log.runs)) {
    throw new ScannerError(
      `The SARIF report ${file} is not a SARIF 2.1.0 log (it needs "version": "2.1.0" and a "runs" array)`,
    )
  }
  for (const [i, run] of log.runs.entries()) {
    if (!run || typeof run !== 'object' || !run.tool || typeof run.tool.driver !== 'object') {
      throw new ScannerError(`The SARIF report ${file} has a run (${i}) without tool.driver`)
    }
  }
  return log as SarifLog
}

function skipped(reason: string): CodeScanningResult {
  core.notice(`Code scanning upload skipped: ${reason}.`)
  return { status: 'skipped', reason }
}

interface UploadResponse {
  id?: string
  url?: string
}

interface StatusResponse {
  processing_status?: string
  analyses_url?: string | null
  errors?: string[] | null
}

/** Why no upload happens here (no token, not in a workflow, a fork, Dependabot), or undefined to go on. */
function uploadSkipReason(options: CodeScanningOptions, context: RunContext): string | undefined {
  if (!options.token) return 'no github-token was given'
  if (!context.repository || !context.sha || !context.ref) {
    return 'not running in a GitHub workflow (GITHUB_REPOSITORY, GITHUB_SHA or GITHUB_REF is not set)'
  }
  const reason = codeScanningSkipReason(context)
  if (reason) return reason
  if (!/^[0-9a-f]{40}$/.test(context.sha)) {
    throw new Error(`GITHUB_SHA "${context.sha}" is not a 40-character commit SHA`)
  }
  if (!context.ref.startsWith('refs/')) {
    throw new Error(`GITHUB_REF "${context.ref}" is not a full Git reference (refs/...)`)
  }
  return undefined
}

/** The SARIF as GitHub will take it: category, image-relative locations, fingerprints, within the limits. */
function prepareSarif(options: CodeScanningOptions): FittedSarif {
  // Fingerprints before fitting, so that what the limits drop does not renumber equal findings.
  const sarif = addPartialFingerprints(
    relativizeImageLocations(
      applyCategory(readSarifFile(options.sarifFile), options.category),
      options.image,
    ),
    options.image,
  )
  const fitted = fitSarifToLimits(sarif, options.limits ?? GITHUB_SARIF_LIMITS)
  for (const message of fitted.report.messages) core.warning(message)
  return fitted
}

/** POSTs the upload; a 403 "Resource not accessible by integration" is a skip, not a failure. */
async function postSarif(
  client: GitHubApiClient,
  repoPath: string,
  body: Record<string, string>,
): Promise<{ sarifId: string; url?: string } | CodeScanningResult> {
  let upload: UploadResponse
  try {
    upload = (await client.request<UploadResponse>('POST', repoPath, body)).body ?? {}
  } catch (error) {
    if (
      error instanceof HttpError &&
      error.status === 403 &&
      error.message.includes(NOT_ACCESSIBLE)
    ) {
      return skipped(
        `GitHub answered 403 "${NOT_ACCESSIBLE}": the token cannot write code-scanning results (a pull request from a fork, a Dependabot run, or a job without "permissions: security-events: write")`,
      )
    }
    throw error
  }
  if (typeof upload.id !== 'string' || upload.id === '') {
    throw new HttpError(
      'GitHub API',
      202,
      'bad_response',
      `POST ${repoPath} answered without an upload id`,
    )
  }
  return { sarifId: upload.id, url: upload.url }
}

/**
 * The code-scanning stage: sends the SARIF report to GitHub and waits (bounded) until GitHub has processed it.
 * Sets the output `sarif-id` as soon as GitHub accepted the upload.
 * Never fails for a fork, Dependabot or a 403 "Resource not accessible by integration": those end with a
 * notice and a skipped result. Throws HttpError for other API errors and when GitHub's processing failed.
 */
export async function uploadSarifToCodeScanning(
  options: CodeScanningOptions,
  context: RunContext,
): Promise<CodeScanningResult> {
  const reason = uploadSkipReason(options, context)
  if (reason) return skipped(reason)
  const fitted = prepareSarif(options)
  const client = new GitHubApiClient({
    apiUrl: context.apiUrl,
    token: options.token,
    sleep: options.sleep,
    attempts: options.attempts,
    transport: options.transport,
    clock: options.clock,
  })
  const repoPath = `/repos/${context.repository
    .split('/')
    .map((p) => encodeURIComponent(p))
    .join('/')}/code-scanning/sarifs`
  const toolName = options.toolName ?? fitted.sarif.runs[0]?.tool.driver.name
  const body: Record<string, string> = {
    commit_sha: context.sha,
    ref: context.ref,
    sarif: fitted.gzipped.toString('base64'),
    checkout_uri: pathToFileURL(options.checkoutPath ?? context.workspace).href,
  }
  if (toolName) body.tool_name = toolName

  core.info(
    `Uploading ${fitted.report.resultsAfter} results (${fitted.report.gzipBytes} bytes gzipped) to code scanning for ${context.ref} at ${context.sha}, category ${automationId(options.category)}`,
  )
  const upload = await postSarif(client, repoPath, body)
  if ('status' in upload) return upload
  const { sarifId } = upload
  core.setOutput('sarif-id', sarifId)
  core.info(`Code scanning accepted the SARIF upload ${sarifId}`)

  const status = await pollProcessingStatus(client, `${repoPath}/${encodeURIComponent(sarifId)}`, {
    timeoutMs: options.pollTimeoutMs ?? 120_000,
    initialDelayMs: options.pollInitialDelayMs ?? 1000,
    maxDelayMs: options.pollMaxDelayMs ?? 15_000,
  })
  reportProcessing(sarifId, status)
  return {
    status: 'uploaded',
    sarifId,
    url: upload.url ?? `${client.apiUrl}${repoPath}/${sarifId}`,
    processingStatus: status.processingStatus,
    analysesUrl: status.analysesUrl,
    fit: fitted.report,
  }
}

/** Processing failed: an HttpError. Still pending when the poll stopped: a warning. */
function reportProcessing(sarifId: string, status: ProcessingResult): void {
  if (status.processingStatus === 'failed') {
    throw new HttpError(
      'GitHub API',
      200,
      'processing_failed',
      `Code scanning could not process SARIF upload ${sarifId}: ${status.errors.join('; ') || 'no reason given'}`,
    )
  }
  if (status.processingStatus === 'pending') {
    core.warning(
      `Code scanning had not finished processing SARIF upload ${sarifId} when the action stopped waiting; the results appear in the Security tab once it has.`,
    )
  } else {
    core.info(`Code scanning processed SARIF upload ${sarifId}`)
  }
}

interface ProcessingResult {
  processingStatus: ProcessingStatus
  errors: string[]
  analysesUrl?: string
}

interface PollOptions {
  timeoutMs: number
  initialDelayMs: number
  maxDelayMs: number
}

/**
 * Polls the upload's status until complete or failed, with a delay doubling from initialDelayMs up to
 * maxDelayMs, for at most timeoutMs on the client's clock. A 404 right after the upload means "not yet visible".
 */
export async function pollProcessingStatus(
  client: GitHubApiClient,
  statusPath: string,
  options: PollOptions,
): Promise<ProcessingResult> {
  const done = await pollUntil(
    async (elapsed): Promise<ProcessingResult | undefined> => {
      const response = await client.request<StatusResponse>('GET', statusPath, undefined, [404])
      if (response.status === 404) {
        core.debug(`SARIF upload status not yet available (404) after ${elapsed} ms`)
        return undefined
      }
      const status = response.body?.processing_status
      core.debug(`SARIF processing status after ${elapsed} ms: ${status}`)
      if (status !== 'complete' && status !== 'failed') return undefined
      return {
        processingStatus: status,
        errors: (response.body?.errors ?? []).map(String),
        analysesUrl: response.body?.analyses_url ?? undefined,
      }
    },
    { ...options, clock: client.clock },
  )
  return done ?? { processingStatus: 'pending', errors: [] }
}
