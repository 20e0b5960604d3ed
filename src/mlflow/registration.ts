import * as core from '@actions/core'
import { randomUUID } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { RunContext } from '../context.js'
import { HttpError, errorMessage } from '../errors.js'
import { pollUntil } from '../http/retry.js'
import type { TrainResult } from '../train/train-stage.js'
import {
  MlflowClient,
  type DatasetInput,
  type MlflowAuth,
  type Experiment,
  type Metric,
  type ModelVersion,
  type RetryOptions,
  type Tag,
} from './client.js'
import { detectCapabilities, type ServerCapabilities } from './capabilities.js'
import { MLMODEL_FILE, renderMlmodel } from './mlmodel.js'

/** Tag that makes this try's run, logged model and version findable again (look before creating twice). */
export const TOKEN_TAG = 'mlsecops.token'
/** Tag holding the failure when the run ends FAILED. */
export const ERROR_TAG = 'mlsecops.error'
/** Run artifact folder holding the model directory. */
export const MODEL_ARTIFACT_PATH = 'model'
/** MLflow's limit for a tag value. */
const TAG_VALUE_LIMIT = 8000

export interface RegisterOptions {
  trackingUri: string
  auth: MlflowAuth
  experimentName: string
  modelName: string
  train: TrainResult
  context: RunContext
  /** Retry tuning (tests shorten the backoff; the defaults are the client's). */
  retry?: Partial<RetryOptions>
  timeoutMs?: number
  /** How often and how long to wait for the new version to become READY. */
  pollIntervalMs?: number
  readyTimeoutMs?: number
}

/** What the register stage made, and what later stages (publish) need to add to it. */
export interface Registration {
  client: MlflowClient
  trackingUri: string
  experimentId: string
  experimentName: string
  runId: string
  runName: string
  /** The run's artifact root (`mlflow-artifacts:/...`), for client.logArtifacts. */
  artifactUri: string
  /** The MLflow 3 LoggedModel holding model.onnx + MLmodel; empty on MLflow 2 (the run's model/ folder). */
  modelId: string
  /** What the server offers (release, logged models). */
  capabilities: ServerCapabilities
  /** The description the version was created with (the verdict is added to it). */
  versionDescription: string
  modelName: string
  modelVersion: string
  /** `models:/<name>/<version>` */
  modelUri: string
  /** Links into the MLflow UI. */
  runUrl: string
  versionUrl: string
  /** Ends the run FINISHED (call when the whole pipeline succeeded). */
  finish(): Promise<void>
  /** Ends the run FAILED with the message as the mlsecops.error tag. */
  fail(message: string): Promise<void>
}

/** MLflow metric keys allow letters, digits, _ - . / and space. */
export function metricKey(text: string): string {
  return text.replace(/[^A-Za-z0-9_\-./ ]/g, '_')
}

/** Classes whose metrics are logged one by one; all of them are in metrics.json (an artifact). */
export const PER_CLASS_METRICS_LIMIT = 100
const CLASS_KEY_LENGTH = 60

/**
 * One MLflow-safe key part per class label, unique: characters MLflow refuses (and '/', which it reads as a
 * path) become '_', long labels are cut, and a key that was changed or would repeat another gets the class's
 * position (`a__1`, `a__2` for labels `a!` and `a?`). The real labels stay in metrics.json.
 */
export function classMetricKeys(labels: readonly string[]): string[] {
  const plain = labels.map((l) => l.replace(/[^A-Za-z0-9_\-. ]/g, '_').slice(0, CLASS_KEY_LENGTH))
  // Class labels are distinct, so the ones that are already legal keys keep them.
  const kept = plain.map((k, i) => k === labels[i] && k.trim() !== '')
  const used = new Set(plain.filter((_k, i) => kept[i]))
  return plain.map((k, i) => {
    if (kept[i]) return k
    let key = `${k}_${i}`
    while (used.has(key)) key = `${key}_${i}`
    used.add(key)
    return key
  })
}

function short(sha: string): string {
  return sha.slice(0, 7)
}

function nonEmpty(tags: Tag[]): Tag[] {
  return tags
    .filter((t) => t.value !== '')
    .map((t) => ({ key: t.key, value: t.value.slice(0, TAG_VALUE_LIMIT) }))
}

/** The run's tags: MLflow's system tags for source and git, and the workflow run. */
export function runTags(context: RunContext, runName: string, token: string): Tag[] {
  const user = context.actor || safeUserName()
  return nonEmpty([
    { key: 'mlflow.runName', value: runName },
    { key: 'mlflow.user', value: user },
    {
      key: 'mlflow.source.name',
      value: context.runUrl || context.repositoryUrl || 'mlsecops-action',
    },
    { key: 'mlflow.source.type', value: 'JOB' },
    { key: 'mlflow.source.git.commit', value: context.sha },
    { key: 'mlflow.source.git.branch', value: context.branch },
    { key: 'mlflow.source.git.repoURL', value: context.repositoryUrl },
    { key: 'github.workflow_run_url', value: context.runUrl },
    { key: 'github.repository', value: context.repository },
    { key: 'github.workflow', value: context.workflow },
    { key: 'github.job', value: context.job },
    { key: 'github.event_name', value: context.eventName },
    { key: 'github.ref', value: context.ref },
    { key: 'github.run_id', value: context.runId },
    { key: 'github.run_attempt', value: context.runAttempt },
    { key: TOKEN_TAG, value: token },
  ])
}

function safeUserName(): string {
  try {
    return os.userInfo().username
  } catch {
    return 'mlsecops-action'
  }
}

/** The run tags a logged model carries too (user, source, git), as mlflow.<flavor>.log_model sets them. */
const LOGGED_MODEL_TAG_KEYS = new Set([
  'mlflow.user',
  'mlflow.source.name',
  'mlflow.source.type',
  'mlflow.source.git.commit',
  'mlflow.source.git.branch',
  'mlflow.source.git.repoURL',
  'github.workflow_run_url',
  'github.repository',
])

/** Params: the training settings, split and dataset, as the train stage reports them. */
export function runParams(train: TrainResult): Tag[] {
  return Object.entries(train.params).map(([key, value]) => ({ key, value: String(value) }))
}

/** Metrics: every holdout metric, per class too. */
export function runMetrics(train: TrainResult, timestamp: number): Metric[] {
  const m = train.metrics
  const keys = classMetricKeys(m.perClass.map((c) => c.label))
  const metric = (key: string, value: number): Metric => ({
    key: metricKey(key),
    value,
    timestamp,
    step: 0,
  })
  return [
    metric('accuracy', m.accuracy),
    metric('precision_macro', m.precisionMacro),
    metric('recall_macro', m.recallMacro),
    metric('f1_macro', m.f1Macro),
    metric('train_size', m.trainSize),
    metric('test_size', m.testSize),
    // Per class up to PER_CLASS_METRICS_LIMIT classes (thousands of classes would be thousands of requests).
    ...m.perClass
      .slice(0, PER_CLASS_METRICS_LIMIT)
      .flatMap((c, i) => [
        metric(`precision.${keys[i]}`, c.precision),
        metric(`recall.${keys[i]}`, c.recall),
        metric(`f1.${keys[i]}`, c.f1),
        metric(`support.${keys[i]}`, c.support),
      ]),
  ]
}

/** The dataset as an MLflow dataset input (name, digest, source, schema, profile). */
export function datasetInput(train: TrainResult): DatasetInput {
  const d = train.dataset
  const builtin = d.source.startsWith('builtin:')
  const schema = {
    mlflow_colspec: [
      ...d.featureNames.map((name) => ({ type: 'double', name })),
      { type: 'string', name: d.targetColumn },
    ],
  }
  return {
    tags: [{ key: 'mlflow.data.context', value: 'training' }],
    dataset: {
      name: d.name,
      // MLflow keeps digests short (36 characters at most); the full sha256 is in the profile and params.
      digest: d.digest.slice(0, 16),
      source_type: builtin ? 'code' : 'local',
      source: JSON.stringify(builtin ? { uri: d.source } : { uri: `file://${d.source}` }),
      schema: JSON.stringify(schema),
      profile: JSON.stringify({
        num_rows: d.rows,
        num_features: d.featureNames.length,
        target: d.targetColumn,
        sha256: d.digest,
      }),
    },
  }
}

async function getOrCreateExperiment(client: MlflowClient, name: string): Promise<Experiment> {
  let experiment = await client.getExperimentByName(name)
  if (!experiment) {
    try {
      await client.createExperiment(name)
    } catch (error) {
      // Another job created it between our look and our create.
      if (!(error instanceof HttpError && error.code === 'RESOURCE_ALREADY_EXISTS')) throw error
    }
    experiment = await client.getExperimentByName(name)
    if (!experiment)
      throw new HttpError(
        'MLflow',
        undefined,
        undefined,
        `MLflow experiment '${name}' was created but cannot be read back`,
      )
    core.info(`Created MLflow experiment '${name}' (${experiment.experiment_id})`)
  }
  if (experiment.lifecycle_stage === 'deleted') {
    core.info(`MLflow experiment '${name}' (${experiment.experiment_id}) was deleted; restoring it`)
    try {
      await client.restoreExperiment(experiment.experiment_id)
    } catch (error) {
      // Another job restored it first: fine when it is active now.
      const again = await client.getExperimentByName(name)
      if (again?.lifecycle_stage !== 'active') throw error
    }
    experiment = { ...experiment, lifecycle_stage: 'active' }
  }
  return experiment
}

/**
 * Polls a new model version until READY, at a constant interval on the client's clock (the one poll loop);
 * FAILED_REGISTRATION and the timeout end it with one line.
 */
export async function waitUntilReady(
  client: MlflowClient,
  version: ModelVersion,
  intervalMs: number,
  timeoutMs: number,
): Promise<ModelVersion> {
  const failed = (v: ModelVersion): HttpError =>
    new HttpError(
      'MLflow',
      undefined,
      'FAILED_REGISTRATION',
      `MLflow could not register ${v.name} version ${v.version}: ${v.status_message || 'FAILED_REGISTRATION'}`,
    )
  if (version.status === 'READY') return version
  if (version.status === 'FAILED_REGISTRATION') throw failed(version)
  let current = version
  const ready = await pollUntil(
    async () => {
      current = await client.getModelVersion(current.name, current.version)
      if (current.status === 'FAILED_REGISTRATION') throw failed(current)
      return current.status === 'READY' ? current : undefined
    },
    { timeoutMs, initialDelayMs: intervalMs, maxDelayMs: intervalMs, clock: client.clock },
  )
  if (ready) return ready
  throw new HttpError(
    'MLflow',
    undefined,
    current.status,
    `MLflow model ${current.name} version ${current.version} is still ${current.status} after ${Math.round(timeoutMs / 1000)} s`,
  )
}

/**
 * The register stage: experiment (created or restored), the server's capabilities, a run with
 * tags/params/metrics/dataset and its reports, the model files (MLflow 3: a LoggedModel with the metrics linked
 * to it, source `models:/<model_id>`; MLflow 2: the run's model/ folder, source `<artifact_uri>/model`), a
 * registered model and a new version, waited on until READY. The run stays RUNNING: the caller ends it with
 * finish() or fail(). When this stage itself fails after the run exists, the logged model it made is withdrawn
 * and the run is marked FAILED before the error is thrown on.
 */
/** One registration's run, and what this try made (for removing late duplicates and withdrawing). */
interface RunHandle {
  client: MlflowClient
  experimentId: string
  runId: string
  modelName: string
  /** This try's token: every create carries it, so a late duplicate is recognised. */
  token: string
  capabilities: ServerCapabilities
  made: { modelId?: string; modelReady?: boolean; version?: string }
}

function tokenFilter(token: string): string {
  return `tags.\`${TOKEN_TAG}\` = '${token}'`
}

function hasToken(token: string, tags?: Tag[]): boolean {
  return tags?.some((t) => t.key === TOKEN_TAG && t.value === token) ?? false
}

/**
 * Anything else carrying this try's token comes from a create that was retried while the first one was still
 * queued at the server and landed late: ended, tagged and deleted.
 */
async function removeLateDuplicates(h: RunHandle): Promise<void> {
  const { client, experimentId, runId } = h
  if (client.retriedCreates === 0) return
  try {
    for (const extra of await client.searchRuns([experimentId], tokenFilter(h.token), 10)) {
      const id = extra.info.run_id
      if (id === runId) continue
      const note = `Duplicate of run ${runId} (a retried create that reached MLflow late); deleted.`
      await client.setTag(id, ERROR_TAG, note)
      await client.updateRun(id, 'FAILED')
      await client.deleteRun(id)
      core.info(`MLflow run ${id}: ${note}`)
    }
    if (h.capabilities.loggedModels) {
      const models = await client.searchLoggedModels([experimentId], `source_run_id = '${runId}'`)
      for (const extra of models) {
        if (extra.info.model_id === h.made.modelId || !hasToken(h.token, extra.info.tags)) continue
        await client.deleteLoggedModel(extra.info.model_id)
        core.info(
          `Deleted logged model ${extra.info.model_id}: a duplicate that reached MLflow late`,
        )
      }
    }
    const versions = await client.searchModelVersions(
      `name = '${h.modelName}' and run_id = '${runId}'`,
    )
    for (const extra of versions) {
      if (extra.version === h.made.version || !hasToken(h.token, extra.tags)) continue
      await client.deleteModelVersion(extra.name, extra.version)
      core.info(
        `Deleted ${extra.name} version ${extra.version}: a duplicate that reached MLflow late`,
      )
    }
  } catch (error) {
    core.warning(`Could not check MLflow for duplicates of run ${runId}: ${errorMessage(error)}`)
  }
}

/** Ends the run (late duplicates removed first); the failure note is best effort, the status is not. */
async function endRun(
  h: RunHandle,
  status: 'FINISHED' | 'FAILED',
  message?: string,
): Promise<void> {
  await removeLateDuplicates(h)
  if (message !== undefined) {
    try {
      await h.client.setTag(h.runId, ERROR_TAG, message.slice(0, TAG_VALUE_LIMIT) || 'failed')
    } catch (error) {
      // The status matters more than the note: the run is ended below either way.
      core.warning(`Could not tag MLflow run ${h.runId} with its failure: ${errorMessage(error)}`)
    }
  }
  await h.client.updateRun(h.runId, status)
}

/** A registration that failed after the logged model was made: no orphan READY model is left. */
async function withdrawLoggedModel(h: RunHandle): Promise<void> {
  const { modelId, version } = h.made
  if (!modelId || version) return
  try {
    await h.client.deleteLoggedModel(modelId)
    core.info(`Deleted logged model ${modelId}: its registration failed`)
  } catch (error) {
    // Deleting needs MANAGE; marking it failed needs only EDIT.
    core.debug(`Could not delete logged model ${modelId}: ${errorMessage(error)}`)
    await h.client.finalizeLoggedModel(modelId, 'LOGGED_MODEL_UPLOAD_FAILED')
    core.info(`Marked logged model ${modelId} failed: its registration failed`)
  }
}

/** Params, dataset input, metrics.json and the confusion matrix (metrics on MLflow 2; see logModel). */
async function logRunData(h: RunHandle, train: TrainResult, artifactUri: string): Promise<void> {
  const m = train.metrics
  // On MLflow 3 the metrics are logged once the logged model exists, linked to it.
  await h.client.logBatch(h.runId, {
    params: runParams(train),
    metrics: h.capabilities.loggedModels ? [] : runMetrics(train, Date.now()),
  })
  await h.client.logInputs(h.runId, [datasetInput(train)])
  const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value, null, 2) + '\n')
  await h.client.uploadArtifact(artifactUri, 'metrics.json', json(m))
  const confusion = {
    labels: m.classLabels,
    rows: 'true class',
    columns: 'predicted class',
    matrix: m.confusionMatrix,
  }
  await h.client.uploadArtifact(artifactUri, 'confusion_matrix.json', json(confusion))
}

/**
 * The model files: on MLflow 3 a LoggedModel (stored once, its metrics linked to it), on MLflow 2 the run's
 * model/ folder. Returns the version's source and the model id ('' on MLflow 2).
 */
async function logModel(
  h: RunHandle,
  train: TrainResult,
  run: { artifactUri: string; tags: Tag[] },
): Promise<{ modelId: string; source: string }> {
  const { client, runId, experimentId, capabilities } = h
  if (!capabilities.loggedModels) {
    await logModelDirectory(client, run.artifactUri, train, {
      runId,
      artifactPath: MODEL_ARTIFACT_PATH,
      mlflowVersion: capabilities.version,
    })
    core.info(`Uploaded the model (${MODEL_ARTIFACT_PATH}/) and reports to ${run.artifactUri}`)
    return { modelId: '', source: `${run.artifactUri.replace(/\/+$/, '')}/${MODEL_ARTIFACT_PATH}` }
  }
  const model = await client.createLoggedModel(
    {
      experiment_id: experimentId,
      name: h.modelName,
      source_run_id: runId,
      model_type: 'onnx',
      tags: run.tags.filter((t) => LOGGED_MODEL_TAG_KEYS.has(t.key) || t.key === TOKEN_TAG),
      params: runParams(train),
    },
    async () => (await client.searchLoggedModels([experimentId], `source_run_id = '${runId}'`))[0],
  )
  const modelId = model.info.model_id
  h.made.modelId = modelId
  await client.logOutputs(runId, [modelId])
  await client.logBatch(runId, {
    metrics: runMetrics(train, Date.now()).map((metric) => ({ ...metric, model_id: modelId })),
  })
  await logModelDirectory(client, model.info.artifact_uri, train, {
    runId,
    modelId,
    mlflowVersion: capabilities.version,
  })
  await client.finalizeLoggedModel(modelId, 'LOGGED_MODEL_READY')
  h.made.modelReady = true
  core.info(`Logged model ${modelId} (model.onnx + MLmodel) and run ${runId}'s reports`)
  return { modelId, source: `models:/${modelId}` }
}

/** The new version of the registered model (created when missing), waited for until READY. */
async function registerVersion(
  h: RunHandle,
  options: RegisterOptions,
  model: { modelId: string; source: string; description: string },
): Promise<ModelVersion> {
  const { client, runId, token } = h
  const { train, context } = options
  await client.ensureRegisteredModel(options.modelName)
  const versionTags: Tag[] = nonEmpty([
    { key: 'git_commit', value: context.sha },
    { key: 'dataset_digest', value: train.dataset.digest },
    { key: 'accuracy', value: String(train.metrics.accuracy) },
    { key: 'run_url', value: context.runUrl },
    { key: TOKEN_TAG, value: token },
  ])
  const created = await client.createModelVersion(
    {
      name: options.modelName,
      source: model.source,
      run_id: runId,
      model_id: model.modelId || undefined,
      tags: versionTags,
      description: model.description,
    },
    async () => {
      const versions = await client.searchModelVersions(
        `name = '${options.modelName}' and run_id = '${runId}'`,
      )
      return versions.find((v) => hasToken(token, v.tags))
    },
  )
  h.made.version = created.version
  const version = await waitUntilReady(
    client,
    created,
    options.pollIntervalMs ?? 1000,
    options.readyTimeoutMs ?? 300000,
  )
  core.info(`Registered ${options.modelName} version ${version.version} (${version.status})`)
  return version
}

/** The experiment (made or restored when needed), what the server offers, and a new run carrying a token. */
async function startRun(
  options: RegisterOptions,
): Promise<{ h: RunHandle; runName: string; artifactUri: string; tags: Tag[] }> {
  const { context } = options
  const client = new MlflowClient({
    trackingUri: options.trackingUri,
    auth: options.auth,
    retry: options.retry,
    timeoutMs: options.timeoutMs,
  })
  const experiment = await getOrCreateExperiment(client, options.experimentName)
  const experimentId = experiment.experiment_id
  client.errorContext.experimentNames = { [experimentId]: options.experimentName }
  const capabilities = await detectCapabilities(client, experimentId)
  const token = randomUUID()
  const runName = context.runId
    ? `${options.modelName}-${context.runId}-${context.runAttempt}`
    : `${options.modelName}-${short(context.sha) || new Date().toISOString().replace(/[:.]/g, '-')}`
  const tags = runTags(context, runName, token)
  const run = await client.createRun(
    { experiment_id: experimentId, run_name: runName, start_time: Date.now(), tags },
    async () => (await client.searchRuns([experimentId], tokenFilter(token), 1))[0],
  )
  const runId = run.info.run_id
  client.errorContext.runExperiments = { [runId]: experimentId }
  core.info(`MLflow run ${runId} in experiment '${options.experimentName}' (${experimentId})`)
  const h: RunHandle = {
    client,
    experimentId,
    runId,
    modelName: options.modelName,
    token,
    capabilities,
    made: {},
  }
  return { h, runName, artifactUri: run.info.artifact_uri, tags }
}

export async function registerModel(options: RegisterOptions): Promise<Registration> {
  const { train, context } = options
  const { h, runName, artifactUri, tags } = await startRun(options)
  const { client, experimentId, runId, capabilities } = h
  const baseUrl = client.baseUrl
  let ended = false
  const end = async (status: 'FINISHED' | 'FAILED', message?: string): Promise<void> => {
    await endRun(h, status, message)
    ended = true
  }

  try {
    await logRunData(h, train, artifactUri)
    const model = await logModel(h, train, { artifactUri, tags })
    const description = `Trained on ${train.dataset.name} at ${short(context.sha) || 'a local checkout'}; holdout accuracy ${train.metrics.accuracy}.`
    const version = await registerVersion(h, options, { ...model, description })
    const name = encodeURIComponent(options.modelName)
    return {
      client,
      trackingUri: baseUrl,
      experimentId,
      experimentName: options.experimentName,
      runId,
      runName,
      artifactUri,
      modelId: model.modelId,
      capabilities,
      versionDescription: description,
      modelName: options.modelName,
      modelVersion: version.version,
      modelUri: `models:/${options.modelName}/${version.version}`,
      runUrl: `${baseUrl}/#/experiments/${experimentId}/runs/${runId}`,
      versionUrl: `${baseUrl}/#/models/${name}/versions/${version.version}`,
      finish: async () => {
        if (!ended) await end('FINISHED')
      },
      fail: (message: string) => end('FAILED', message),
    }
  } catch (error) {
    try {
      await withdrawLoggedModel(h)
    } catch (withdrawError) {
      core.warning(
        `Could not withdraw logged model ${h.made.modelId}: ${errorMessage(withdrawError)}`,
      )
    }
    try {
      await end('FAILED', errorMessage(error))
    } catch (markError) {
      core.warning(`Could not mark MLflow run ${runId} FAILED: ${errorMessage(markError)}`)
    }
    throw error
  }
}

/**
 * Uploads the model directory under an artifact URI (a logged model's root, or the run's model/ folder on
 * MLflow 2) with an MLmodel naming the run (and the model id), written for the server's release.
 */
async function logModelDirectory(
  client: MlflowClient,
  artifactUri: string,
  train: TrainResult,
  ids: { runId: string; modelId?: string; artifactPath?: string; mlflowVersion?: string },
): Promise<void> {
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'mlsecops-mlmodel-'))
  try {
    for (const name of fs.readdirSync(train.modelDir)) {
      const source = path.join(train.modelDir, name)
      if (fs.statSync(source).isFile()) fs.copyFileSync(source, path.join(staging, name))
    }
    fs.writeFileSync(
      path.join(staging, MLMODEL_FILE),
      renderMlmodel(train.model.file, { ...ids, createdAt: new Date() }),
    )
    await client.logArtifacts(artifactUri, staging, ids.artifactPath ?? '')
  } finally {
    fs.rmSync(staging, { recursive: true, force: true })
  }
}
