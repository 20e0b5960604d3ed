import * as core from '@actions/core'
import axios, { type AxiosInstance, type AxiosResponse } from 'axios'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as https from 'node:https'
import * as path from 'node:path'
import { HttpError, oneLine } from '../errors.js'

/** Basic auth (username and password) or a bearer token, from the mlflow-* inputs or MLFLOW_TRACKING_*. */
export interface MlflowAuth {
  username?: string
  password?: string
  token?: string
}

/**
 * The one client of the MLflow REST API. Every request goes through request(): it adds auth, applies the
 * timeout, retries what is safe to retry (network errors, 408, 429, 5xx) with exponential backoff and jitter
 * (honouring Retry-After), and turns every answer into a result or one typed HttpError. Error messages carry
 * the method, the API path, the status, MLflow's error_code and message; never a header, never credentials.
 */

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts: number
  /** Delay before the first retry; doubles each time, with jitter. */
  baseDelayMs: number
  /** Cap for one delay, Retry-After included. */
  maxDelayMs: number
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 30000 }

export interface MlflowClientOptions {
  /** Tracking server URL; a path prefix (reverse proxy) is kept. */
  trackingUri: string
  auth?: MlflowAuth
  /** Per-request timeout for API calls. */
  timeoutMs?: number
  /** Per-request timeout for artifact uploads. */
  uploadTimeoutMs?: number
  retry?: Partial<RetryOptions>
  /** For tests: how to wait between tries. */
  sleep?: (ms: number) => Promise<void>
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

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504])
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_BAD_RESPONSE',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
])

/** A try that failed; `retryable` says whether another try may succeed. */
class Attempt extends Error {
  constructor(
    readonly error: HttpError,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(error.message)
  }
}

/** Retry-After in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined
  const text = value.trim()
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000)
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** Exponential backoff with full jitter in [delay/2, delay]; Retry-After wins when larger. Capped. */
export function backoffDelay(
  retry: number,
  options: RetryOptions,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1))
  const jittered = exponential / 2 + random() * (exponential / 2)
  const delay = retryAfterMs !== undefined ? Math.max(retryAfterMs, jittered) : jittered
  return Math.round(Math.min(options.maxDelayMs, delay))
}

/** MLflow's error text: JSON {error_code, message} or plain text (auth failures); one short line. */
export function describeErrorBody(body: string): { code?: string; message: string } {
  const text = body.trim()
  try {
    const json = JSON.parse(text) as { error_code?: unknown; message?: unknown }
    if (json && typeof json === 'object') {
      const code = typeof json.error_code === 'string' ? json.error_code : undefined
      const message = typeof json.message === 'string' ? json.message : ''
      return { code, message: shorten(oneLine(message)) }
    }
  } catch {
    // plain text
  }
  const plain = text.startsWith('<') ? text.replace(/<[^>]*>/g, ' ') : text
  return { message: shorten(oneLine(plain)) }
}

function shorten(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
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
  private readonly http: AxiosInstance
  private readonly retry: RetryOptions
  private readonly sleep: (ms: number) => Promise<void>
  private readonly uploadTimeoutMs: number

  constructor(options: MlflowClientOptions) {
    this.baseUrl = options.trackingUri.trim().replace(/\/+$/, '')
    this.retry = { ...DEFAULT_RETRY, ...options.retry }
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)))
    this.uploadTimeoutMs = options.uploadTimeoutMs ?? 300000
    const headers: Record<string, string> = { 'User-Agent': 'mlsecops-action' }
    const auth = options.auth ?? {}
    if (auth.token) {
      core.setSecret(auth.token)
      headers.Authorization = `Bearer ${auth.token}`
    } else if (auth.username && auth.password) {
      core.setSecret(auth.password)
      const encoded = Buffer.from(`${auth.username}:${auth.password}`).toString('base64')
      core.setSecret(encoded)
      headers.Authorization = `Basic ${encoded}`
    }
    this.http = axios.create({
      baseURL: this.baseUrl,
      timeout: options.timeoutMs ?? 30000,
      headers,
      // One place decides what a status means; bodies are read as text and parsed there.
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      maxRedirects: 0,
      maxBodyLength: Infinity,
      maxContentLength: Infinity,
      proxy: false,
      // No idle keep-alive sockets: servers such as uvicorn close them after 5 s, and a request sent on a
      // socket the server is closing fails with ECONNRESET.
      httpAgent: new http.Agent({ keepAlive: false }),
      httpsAgent: new https.Agent({ keepAlive: false }),
    })
  }

  /** Sends one request with the bounded retries; returns the parsed JSON answer. */
  async request<T>(method: string, apiPath: string, options: RequestOptions = {}): Promise<T> {
    const what = `${method} ${apiPath}`
    let last: Attempt | undefined
    for (let attempt = 1; attempt <= this.retry.attempts; attempt++) {
      if (attempt > 1 && last) {
        const delay = backoffDelay(attempt - 1, this.retry, last.retryAfterMs)
        core.info(
          `MLflow ${what}: ${last.error.message.replace(/^MLflow [A-Z]+ \S+: /, '')}; retry ${attempt - 1} of ${this.retry.attempts - 1} in ${delay} ms`,
        )
        await this.sleep(delay)
        if (options.lookup) {
          this.retriedCreates += 1
          const found = await options.lookup()
          if (found !== undefined) {
            core.info(`MLflow ${what}: the earlier try had succeeded; not sending it again`)
            return found as T
          }
        }
      }
      try {
        return await this.send<T>(method, apiPath, options, what)
      } catch (error) {
        if (!(error instanceof Attempt)) throw error
        last = error
        if (!error.retryable) throw error.error
      }
    }
    const final = last!.error
    throw new HttpError(
      final.service,
      final.status,
      final.code,
      `${final.message} (gave up after ${this.retry.attempts} tries)`,
    )
  }

  private async send<T>(
    method: string,
    apiPath: string,
    options: RequestOptions,
    what: string,
  ): Promise<T> {
    let response: AxiosResponse<string>
    try {
      response = await this.http.request<string>({
        method,
        url: apiPath,
        params: options.query,
        data:
          options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
        headers: {
          'Content-Type': options.raw ? 'application/octet-stream' : 'application/json',
        },
        timeout: options.timeoutMs,
      })
    } catch (error) {
      throw this.networkFailure(error, what)
    }
    return this.handleResponse<T>(response, what)
  }

  /** The one response handler: 2xx -> parsed JSON; anything else -> an Attempt holding a typed HttpError. */
  private handleResponse<T>(response: AxiosResponse<string>, what: string): T {
    const status = response.status
    const body = typeof response.data === 'string' ? response.data : ''
    if (status >= 200 && status < 300) {
      if (body.trim() === '') return {} as T
      try {
        return JSON.parse(body) as T
      } catch {
        // A cut-off answer: the request may or may not have been applied; retry (creates look first).
        throw new Attempt(
          new HttpError(
            'MLflow',
            status,
            undefined,
            `MLflow ${what}: HTTP ${status} with an unreadable (cut-off?) JSON body`,
          ),
          true,
        )
      }
    }
    const { code, message } = describeErrorBody(body)
    let hint = ''
    if (status === 401) hint = ' Check mlflow-username/mlflow-password or mlflow-token.'
    if (status === 403) hint = ' The MLflow user lacks permission for this.'
    const detail = (
      [code, message].filter((s) => s).join(': ') ||
      response.statusText ||
      'no details'
    ).replace(/[.\s]+$/, '')
    const error = new HttpError(
      'MLflow',
      status,
      code,
      `MLflow ${what}: HTTP ${status} ${detail}.${hint}`,
    )
    throw new Attempt(
      error,
      RETRYABLE_STATUS.has(status),
      parseRetryAfter(response.headers?.['retry-after']),
    )
  }

  private networkFailure(error: unknown, what: string): Attempt {
    const e = error as { code?: string; message?: string; cause?: { code?: string } }
    const code = e.code ?? e.cause?.code
    const reason =
      code === 'ECONNABORTED' || code === 'ETIMEDOUT' || /timeout/i.test(e.message ?? '')
        ? 'timed out'
        : code === 'ECONNREFUSED'
          ? 'connection refused (is the server up?)'
          : code
            ? `network error ${code}`
            : `network error`
    return new Attempt(
      new HttpError('MLflow', undefined, code, `MLflow ${what}: ${reason} at ${this.baseUrl}`),
      code === undefined ||
        NETWORK_CODES.has(code) ||
        /timeout|socket hang up|aborted|premature/i.test(e.message ?? ''),
    )
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
    })
  }

  /** Soft-deletes a run (lifecycle_stage deleted). */
  async deleteRun(runId: string): Promise<void> {
    await this.api('POST', 'runs/delete', { body: { run_id: runId } })
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.api('POST', 'runs/set-tag', { body: { run_id: runId, key, value } })
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
