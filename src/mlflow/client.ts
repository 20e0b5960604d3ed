import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { HttpError } from '../errors.js'
import { TimeBudget } from '../http/budget.js'
import {
  HttpClient,
  bodyExcerpt,
  type AnsweredRequest,
  type Classified,
  type HttpAnswer,
} from '../http/http-client.js'
import { DEFAULT_RETRY, systemClock, type Clock, type RetryPolicy } from '../http/retry.js'
import type { Transport } from '../http/transport.js'
import { classifyAnswer, forbiddenDetail, type ErrorContext } from './errors.js'

/** Basic auth (username and password) or a bearer token, from the mlflow-* inputs or MLFLOW_TRACKING_*. */
export interface MlflowAuth {
  username?: string
  password?: string
  token?: string
}

/**
 * The one client of the MLflow REST API. It speaks MLflow only: endpoints, auth, what MLflow's error bodies
 * mean, and the look-before-create layer for writes that must not happen twice. Transport, deadlines, size
 * cap, proxy, retries and the error shape are the shared HTTP client's (src/http/). All calls of one client
 * share one time budget (the MLflow calls of a job); ending a run is exempt, so a run is never left RUNNING
 * because the budget ran out.
 */

/** Retry tuning: tries in all, first delay, cap of one delay. */
export type RetryOptions = RetryPolicy
export { DEFAULT_RETRY }

/** The MLflow calls of one job may take this long in all (time inside calls, retry waits included). */
export const DEFAULT_BUDGET_MS = 20 * 60_000

/** The run tag holding the failure of a run ended FAILED (registration's ERROR_TAG); set exempt from the budget. */
export const RUN_ERROR_TAG = 'mlsecops.error'

export interface MlflowClientOptions {
  /** Tracking server URL; a path prefix (reverse proxy) is kept. */
  trackingUri: string
  auth?: MlflowAuth
  /** Per-request wall-clock deadline for API calls (headers and body); default 30 s. */
  timeoutMs?: number
  /** Per-request deadline for artifact uploads; default 300 s. */
  uploadTimeoutMs?: number
  retry?: Partial<RetryOptions>
  /** For tests: how to wait between tries (the clock's sleep otherwise). */
  sleep?: (ms: number) => Promise<void>
  /** For tests: the transport (default: the real one, proxy from the environment). */
  transport?: Transport
  clock?: Clock
  random?: () => number
  /** Overall budget of this client's calls; default 20 min. */
  budgetMs?: number
  /** Answers MLflow gives when overloaded that are worth another try (beyond 408, 429, 5xx). */
  isTransient?: (answer: HttpAnswer) => boolean
  /** MLflow's own reading of answers (sign-in pages, redirects, overload): see HttpClientOptions.classify. */
  classify?: (answer: AnsweredRequest) => Classified | undefined
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>
  body?: unknown
  /**
   * For requests that create something: called before each retry, after a try whose outcome is unknown
   * (the server may have created it before the answer was lost). Returns what the first try created, so the
   * create is not sent again; undefined sends it again.
   */
  lookup?: () => Promise<unknown>
  /** Raw body (artifact upload) instead of JSON. */
  raw?: Buffer
  timeoutMs?: number
  /** Sent even when the budget is spent (ending a run). */
  outsideBudget?: boolean
  /** Tries in all for this request (the client's default otherwise): ending a run tries longest. */
  attempts?: number
  /** Return the body as text (GET /version answers plain text). */
  text?: boolean
}

export interface Tag {
  key: string
  value: string
}

export interface Experiment {
  experiment_id: string
  name: string
  lifecycle_stage: string
  artifact_location?: string
}

export interface RunInfo {
  run_id: string
  experiment_id: string
  status: string
  artifact_uri: string
  lifecycle_stage: string
  run_name?: string
}

export interface Run {
  info: RunInfo
  data: { tags?: Tag[]; params?: Tag[]; metrics?: { key: string; value: number }[] }
  /** MLflow 3: the logged models the run produced (runs/outputs). */
  outputs?: { model_outputs?: { model_id: string; step?: number }[] }
}

export interface LoggedModel {
  info: {
    model_id: string
    experiment_id: string
    name: string
    artifact_uri: string
    status: string
    source_run_id?: string
    tags?: Tag[]
  }
}

export interface ModelVersion {
  name: string
  version: string
  status: string
  source: string
  run_id?: string
  status_message?: string
  description?: string
  tags?: Tag[]
}

export interface Metric {
  key: string
  value: number
  timestamp: number
  step: number
  /** MLflow 3: the logged model the metric belongs to (shown on the model's page). */
  model_id?: string
}

export interface DatasetInput {
  tags?: Tag[]
  dataset: {
    name: string
    digest: string
    source_type: string
    source: string
    schema?: string
    profile?: string
  }
}

/** MLflow's per-request limits of runs/log-batch. */
export const LOG_BATCH_LIMITS = { metrics: 1000, params: 100, tags: 100, total: 1000 }

/** MLflow's error text: JSON {error_code, message} or plain text (auth failures); one short line. */
export function describeErrorBody(body: string): { code?: string; message: string } {
  const text = body.trim()
  try {
    const json = JSON.parse(text) as { error_code?: unknown; message?: unknown }
    if (json && typeof json === 'object') {
      const code = typeof json.error_code === 'string' ? json.error_code : undefined
      const message = typeof json.message === 'string' ? json.message : ''
      return { code, message: bodyExcerpt(message) }
    }
  } catch {
    // plain text
  }
  return { message: bodyExcerpt(text) }
}

/** What to check after a 401 or 403. */
function authHint(status: number): string {
  if (status === 401) return 'Check mlflow-username/mlflow-password or mlflow-token.'
  if (status === 403) return 'The MLflow user lacks permission for this.'
  return ''
}

/** Paths of the artifact API for a run or logged-model artifact URI (`mlflow-artifacts:/...`). */
export function artifactApiPath(artifactUri: string, relativePath: string): string {
  const match = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(artifactUri)
  if (!match) {
    throw new HttpError(
      'MLflow',
      undefined,
      undefined,
      `MLflow gave the artifact location '${artifactUri}', which this action cannot upload to: start the server with --serve-artifacts (proxied artifacts, mlflow-artifacts:/).`,
    )
  }
  const parts = [...match[1].split('/'), ...relativePath.split(/[\\/]/)].filter((p) => p !== '')
  return `/api/2.0/mlflow-artifacts/artifacts/${parts.map(encodeURIComponent).join('/')}`
}

export class MlflowClient {
  readonly baseUrl: string
  /**
   * Creates retried after a try whose outcome was unknown. The look-up prevents a second create when the first
   * was applied in time, but not when the first was still queued (it lands after the retry): callers check
   * for late duplicates when this is above 0.
   */
  retriedCreates = 0
  /** The time budget all calls of this client share. */
  readonly budget: TimeBudget
  /** Names for the ids in a request, so a 403 says who needs what on which experiment or model. */
  readonly errorContext: ErrorContext
  private readonly retry: RetryOptions
  /** The clock requests wait on (and callers that poll MLflow). */
  readonly clock: Clock
  private readonly http: HttpClient
  private readonly uploadTimeoutMs: number

  constructor(options: MlflowClientOptions) {
    this.baseUrl = options.trackingUri.trim().replace(/\/+$/, '')
    this.uploadTimeoutMs = options.uploadTimeoutMs ?? 300000
    const headers: Record<string, string> = { 'User-Agent': 'mlsecops-action' }
    const auth = options.auth ?? {}
    this.errorContext = { user: auth.token ? undefined : auth.username || undefined }
    this.retry = { ...DEFAULT_RETRY, ...options.retry }
    if (auth.token) {
      core.setSecret(auth.token)
      headers.Authorization = `Bearer ${auth.token}`
    } else if (auth.username && auth.password) {
      core.setSecret(auth.password)
      const encoded = Buffer.from(`${auth.username}:${auth.password}`).toString('base64')
      core.setSecret(encoded)
      headers.Authorization = `Basic ${encoded}`
    }
    const base = options.clock ?? systemClock
    const clock = options.sleep ? { now: () => base.now(), sleep: options.sleep } : base
    this.clock = clock
    this.budget = new TimeBudget(options.budgetMs ?? DEFAULT_BUDGET_MS, 'MLflow', clock)
    this.http = new HttpClient({
      service: 'MLflow',
      baseUrl: this.baseUrl,
      headers,
      transport: options.transport,
      retry: options.retry,
      clock,
      random: options.random,
      timeoutMs: options.timeoutMs ?? 30000,
      budget: this.budget,
      isTransient: options.isTransient,
      // MLflow's own reading of sign-in pages, redirects and a busy server's answers (src/mlflow/errors.ts).
      classify: options.classify ?? classifyAnswer,
      describeError: describeErrorBody,
      hint: authHint,
    })
  }

  /** Sends one request with the bounded retries; returns the parsed JSON answer ({} when empty). */
  async request<T>(method: string, apiPath: string, options: RequestOptions = {}): Promise<T> {
    const lookup = options.lookup
    try {
      const result = await this.http.request<T>(method, apiPath, {
        query: options.query,
        json: options.raw ? undefined : options.body,
        raw: options.raw,
        timeoutMs: options.timeoutMs,
        outsideBudget: options.outsideBudget,
        attempts: options.attempts,
        text: options.text,
        lookup:
          lookup &&
          (() => {
            this.retriedCreates += 1
            return lookup()
          }),
      })
      return result.body ?? ({} as T)
    } catch (error) {
      if (!(error instanceof HttpError && error.status === 403)) throw error
      // Who needs which permission on what: the request's names make the 403 say it.
      const detail = forbiddenDetail(
        { method, path: apiPath, body: options.body, query: options.query },
        error.excerpt ?? '',
        this.errorContext,
      )
      throw new HttpError(
        error.service,
        403,
        error.code,
        `MLflow ${error.method ?? method} ${error.url ?? apiPath}: HTTP 403 ${detail}`,
        { method: error.method, url: error.url, excerpt: error.excerpt },
      )
    }
  }

  private api<T>(method: string, endpoint: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>(method, `/api/2.0/mlflow/${endpoint}`, options)
  }

  // --- experiments ---

  /** The experiment, deleted ones included; undefined when no experiment has this name. */
  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    try {
      const r = await this.api<{ experiment: Experiment }>('GET', 'experiments/get-by-name', {
        query: { experiment_name: name },
      })
      return r.experiment
    } catch (error) {
      if (error instanceof HttpError && error.code === 'RESOURCE_DOES_NOT_EXIST') return undefined
      throw error
    }
  }

  async createExperiment(name: string, tags: Tag[] = []): Promise<string> {
    const r = await this.api<{ experiment_id: string }>('POST', 'experiments/create', {
      body: { name, tags },
      lookup: async () => {
        const found = await this.getExperimentByName(name)
        return found ? { experiment_id: found.experiment_id } : undefined
      },
    })
    return r.experiment_id
  }

  async restoreExperiment(experimentId: string): Promise<void> {
    await this.api('POST', 'experiments/restore', { body: { experiment_id: experimentId } })
  }

  // --- runs ---

  async createRun(
    body: { experiment_id: string; run_name: string; start_time: number; tags: Tag[] },
    lookup?: () => Promise<Run | undefined>,
  ): Promise<Run> {
    const r = await this.api<{ run: Run }>('POST', 'runs/create', {
      body,
      lookup:
        lookup &&
        (async () => {
          const found = await lookup()
          return found && { run: found }
        }),
    })
    return r.run
  }

  async getRun(runId: string): Promise<Run> {
    return (await this.api<{ run: Run }>('GET', 'runs/get', { query: { run_id: runId } })).run
  }

  async searchRuns(experimentIds: string[], filter: string, maxResults = 10): Promise<Run[]> {
    const r = await this.api<{ runs?: Run[] }>('POST', 'runs/search', {
      body: {
        experiment_ids: experimentIds,
        filter,
        run_view_type: 'ALL',
        max_results: maxResults,
      },
    })
    return r.runs ?? []
  }

  async updateRun(
    runId: string,
    status: 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED',
  ): Promise<void> {
    await this.api('POST', 'runs/update', {
      body: { run_id: runId, status, end_time: status === 'RUNNING' ? undefined : Date.now() },
      // Ending the run goes out even when the budget is spent, with three times the tries of any other call:
      // a run is never left RUNNING by a busy server.
      outsideBudget: status !== 'RUNNING',
      attempts: status !== 'RUNNING' ? this.retry.attempts * 3 : undefined,
    })
  }

  /** Soft-deletes a run (lifecycle_stage deleted). */
  async deleteRun(runId: string): Promise<void> {
    await this.api('POST', 'runs/delete', { body: { run_id: runId } })
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.api('POST', 'runs/set-tag', {
      body: { run_id: runId, key, value },
      // The failure of a run being ended FAILED is part of ending it.
      outsideBudget: key === RUN_ERROR_TAG,
    })
  }

  /** Params, metrics and tags, split to MLflow's per-request limits. */
  async logBatch(
    runId: string,
    data: { params?: Tag[]; metrics?: Metric[]; tags?: Tag[] },
  ): Promise<void> {
    const params = [...(data.params ?? [])]
    const metrics = [...(data.metrics ?? [])]
    const tags = [...(data.tags ?? [])]
    while (params.length || metrics.length || tags.length) {
      const p = params.splice(0, LOG_BATCH_LIMITS.params)
      const t = tags.splice(0, LOG_BATCH_LIMITS.tags)
      const m = metrics.splice(0, LOG_BATCH_LIMITS.total - p.length - t.length)
      await this.api('POST', 'runs/log-batch', {
        body: { run_id: runId, params: p, metrics: m, tags: t },
      })
    }
  }

  async logInputs(runId: string, datasets: DatasetInput[]): Promise<void> {
    // The same dataset logged by several runs at once races on the dataset's row.
    await this.againAfterRace(() =>
      this.api('POST', 'runs/log-inputs', { body: { run_id: runId, datasets } }),
    )
  }

  async logOutputs(runId: string, modelIds: string[]): Promise<void> {
    await this.api('POST', 'runs/outputs', {
      body: { run_id: runId, models: modelIds.map((model_id) => ({ model_id, step: 0 })) },
      // Not idempotent: a second try after a lost answer fails with a unique-constraint error. Look first.
      lookup: async () => {
        const logged = new Set(
          ((await this.getRun(runId)).outputs?.model_outputs ?? []).map((m) => m.model_id),
        )
        return modelIds.every((id) => logged.has(id)) ? {} : undefined
      },
    })
  }

  // --- artifacts (proxied: mlflow server --serve-artifacts) ---

  /** Uploads one file under an artifact URI (a run's or a logged model's). */
  async uploadArtifact(artifactUri: string, relativePath: string, content: Buffer): Promise<void> {
    await this.request('PUT', artifactApiPath(artifactUri, relativePath), {
      raw: content,
      timeoutMs: this.uploadTimeoutMs,
    })
  }

  /**
   * Uploads every file of a local directory (recursively) under artifactPath of an artifact URI.
   * Returns the artifact paths written.
   */
  async logArtifacts(artifactUri: string, localDir: string, artifactPath = ''): Promise<string[]> {
    const written: string[] = []
    const walk = async (dir: string, rel: string): Promise<void> => {
      for (const entry of fs
        .readdirSync(dir, { withFileTypes: true })
        .sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const full = path.join(dir, entry.name)
        const relPath = rel ? `${rel}/${entry.name}` : entry.name
        if (entry.isDirectory()) await walk(full, relPath)
        else if (entry.isFile()) {
          const target = artifactPath ? `${artifactPath}/${relPath}` : relPath
          await this.uploadArtifact(artifactUri, target, fs.readFileSync(full))
          written.push(target)
        }
      }
    }
    await walk(localDir, '')
    return written
  }

  // --- logged models (MLflow 3) ---

  async createLoggedModel(
    body: {
      experiment_id: string
      name: string
      source_run_id: string
      model_type: string
      tags: Tag[]
      params: Tag[]
    },
    lookup?: () => Promise<LoggedModel | undefined>,
  ): Promise<LoggedModel> {
    const r = await this.api<{ model: LoggedModel }>('POST', 'logged-models', {
      body,
      lookup:
        lookup &&
        (async () => {
          const found = await lookup()
          return found && { model: found }
        }),
    })
    return r.model
  }

  async searchLoggedModels(experimentIds: string[], filter: string): Promise<LoggedModel[]> {
    const r = await this.api<{ models?: LoggedModel[] }>('POST', 'logged-models/search', {
      body: { experiment_ids: experimentIds, filter, max_results: 50 },
    })
    return r.models ?? []
  }

  async finalizeLoggedModel(
    modelId: string,
    status: 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED',
  ): Promise<void> {
    await this.api('PATCH', `logged-models/${encodeURIComponent(modelId)}`, {
      body: { model_id: modelId, status },
    })
  }

  async deleteLoggedModel(modelId: string): Promise<void> {
    await this.api('DELETE', `logged-models/${encodeURIComponent(modelId)}`)
  }

  // --- model registry ---

  /** Creates the registered model; one that already exists is fine. */
  async ensureRegisteredModel(name: string): Promise<void> {
    try {
      await this.api('POST', 'registered-models/create', {
        body: { name },
        lookup: async () => {
          try {
            return await this.api('GET', 'registered-models/get', { query: { name } })
          } catch {
            return undefined
          }
        },
      })
    } catch (error) {
      if (error instanceof HttpError && error.code === 'RESOURCE_ALREADY_EXISTS') return
      throw error
    }
  }

  async createModelVersion(
    body: {
      name: string
      source: string
      run_id: string
      model_id?: string
      tags: Tag[]
      description?: string
    },
    lookup?: () => Promise<ModelVersion | undefined>,
  ): Promise<ModelVersion> {
    const r = await this.api<{ model_version: ModelVersion }>('POST', 'model-versions/create', {
      body,
      lookup:
        lookup &&
        (async () => {
          const found = await lookup()
          return found && { model_version: found }
        }),
    })
    return r.model_version
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    const r = await this.api<{ model_version: ModelVersion }>('GET', 'model-versions/get', {
      query: { name, version },
    })
    return r.model_version
  }

  async searchModelVersions(filter: string): Promise<ModelVersion[]> {
    const r = await this.api<{ model_versions?: ModelVersion[] }>('GET', 'model-versions/search', {
      query: { filter, max_results: 200 },
    })
    return r.model_versions ?? []
  }

  async updateModelVersionDescription(
    name: string,
    version: string,
    description: string,
  ): Promise<void> {
    await this.api('PATCH', 'model-versions/update', { body: { name, version, description } })
  }

  async setModelVersionTags(name: string, version: string, tags: Tag[]): Promise<void> {
    for (const tag of tags) {
      await this.api('POST', 'model-versions/set-tag', {
        body: { name, version, key: tag.key, value: tag.value },
      })
    }
  }

  async deleteModelVersion(name: string, version: string): Promise<void> {
    await this.api('DELETE', 'model-versions/delete', { body: { name, version } })
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    // A new alias set by two jobs at once: the loser's insert hits the unique constraint; again, it updates.
    await this.againAfterRace(() =>
      this.api('POST', 'registered-models/alias', { body: { name, alias, version } }),
    )
  }

  /**
   * Some MLflow writes look, then insert (a dataset shared by several runs, a new alias). Jobs doing the same
   * at once make the loser's insert fail on a unique constraint (HTTP 400, the database's message), and
   * nothing of its transaction is kept. Once the row exists the same call succeeds: one more try.
   */
  private async againAfterRace<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call()
    } catch (error) {
      const raced =
        error instanceof HttpError &&
        error.status === 400 &&
        /unique constraint|UniqueViolation|duplicate key/i.test(error.message)
      if (!raced) throw error
      core.info(
        `${error.message.slice(0, 120)}…: another job wrote it at the same time; trying again`,
      )
      return await call()
    }
  }
}
