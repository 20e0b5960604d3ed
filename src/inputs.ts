import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ConfigurationError } from './errors.js'
import { isImageReference, toImageRepository } from './docker/image-reference.js'
import { quoteValue } from './log-text.js'
import type { MlflowAuth } from './mlflow/client.js'
import { SBOM_FORMATS, type SbomFormatInput } from './sbom/write-sbom.js'
import { SCANNERS, SEVERITIES, type Scanner, type Severity } from './trivy/findings.js'
import { openWorkspaceFile, realWorkspace, resolveWorkspacePath } from './workspace-paths.js'

/**
 * Every input of action.yml, with the same default action.yml declares. The runner fills these in before it
 * starts the action; when an INPUT_ variable is absent (the action run outside a workflow) the action applies
 * the same value itself. A unit test checks this table against action.yml.
 */
export const INPUT_DEFAULTS = {
  dataset: '',
  'max-dataset-mb': '100',
  'target-column': '',
  'test-size': '0.2',
  seed: '42',
  'min-accuracy': '0',
  'mlflow-tracking-uri': '',
  'mlflow-experiment': 'mlsecops',
  'mlflow-username': '',
  'mlflow-password': '',
  'mlflow-token': '',
  'model-name': '',
  'model-alias': 'candidate',
  build: 'true',
  dockerfile: 'Dockerfile',
  context: '.',
  image: '',
  'build-args': '',
  'build-timeout': '30m',
  scan: 'true',
  'trivy-version': '0.74.0',
  'trivy-checksum': '',
  scanners: 'vuln,secret,misconfig',
  'fail-on-severity': 'HIGH',
  'ignore-unfixed': 'false',
  trivyignores: '',
  trivyignore: '',
  vex: '',
  'ignore-expiry-warning-days': '14',
  'require-ignore-reason': 'false',
  'trivy-cache-dir': '',
  'trivy-skip-db-update': 'false',
  'trivy-db-repository': '',
  'trivy-server': '',
  'trivy-timeout': '10m',
  cache: 'true',
  'upload-artifact': 'true',
  'artifact-name': 'mlsecops-report',
  'retention-days': '0',
  'upload-sarif': 'true',
  'sarif-category': 'mlsecops',
  'github-token': '',
  push: 'false',
  'sbom-format': 'cyclonedx',
  'cosign-key': '',
  'cosign-password': '',
  'cosign-keyless': 'false',
  'cosign-version': '2.6.5',
  'cosign-tlog-upload': 'true',
} as const

export type InputName = keyof typeof INPUT_DEFAULTS

/** A file inside the workspace: its real path, and the name the user gave it (for messages and reports). */
export interface WorkspaceFile {
  path: string
  name: string
}

export interface Inputs {
  /** Absolute path of the CSV, or '' for the built-in Iris data. */
  dataset: string
  /** Largest dataset file accepted, in bytes (input max-dataset-mb). */
  maxDatasetBytes: number
  targetColumn: string
  testSize: number
  seed: number
  minAccuracy: number
  mlflowTrackingUri: string
  mlflowExperiment: string
  mlflowAuth: MlflowAuth
  /** As given; the default (repository name) is resolved here. */
  modelName: string
  modelAlias: string
  build: boolean
  /** Absolute paths. */
  dockerfile: string
  context: string
  image: string
  buildArgs: Record<string, string>
  /** Deadline of docker build, in milliseconds. */
  buildTimeoutMs: number
  scan: boolean
  trivyVersion: string
  /**
   * How a downloaded Trivy release is checked: a SHA-256 the user pinned, 'release-checksums' (trust the
   * release's own checksums file, opt-in), or '' (the pins the action carries; other versions are refused).
   */
  trivyChecksum: string
  scanners: Scanner[]
  /** undefined for `none`: the severity gate is off. */
  failOnSeverity: Severity | undefined
  ignoreUnfixed: boolean
  /** Ignore files (trivyignores, or the old trivyignore), else .trivyignore.yaml / .trivyignore when present. */
  trivyignores: WorkspaceFile[]
  /** VEX documents (OpenVEX, CSAF, CycloneDX VEX). */
  vex: WorkspaceFile[]
  ignoreExpiryWarningDays: number
  requireIgnoreReason: boolean
  trivyCacheDir: string
  trivySkipDbUpdate: boolean
  /** Keep Trivy's DB, layer cache, checks bundle and binary between workflow runs (Actions cache). */
  cache: boolean
  trivyDbRepositories: string[]
  trivyServer: string
  trivyTimeout: string
  uploadArtifact: boolean
  artifactName: string
  /** 0: the repository's default retention. */
  retentionDays: number
  uploadSarif: boolean
  sarifCategory: string
  githubToken: string
  /** Push the scanned image to its registry when every gate passed. */
  push: boolean
  sbomFormat: SbomFormatInput
  /** PEM private key or KMS URI; '' for none (a secret: masked here). */
  cosignKey: string
  cosignPassword: string
  cosignKeyless: boolean
  cosignVersion: string
  cosignTlogUpload: boolean
}

/** Reads one input, falling back to action.yml's default when the runner did not set it. */
export function readInput(name: InputName): string {
  const key = `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
  if (process.env[key] === undefined) return INPUT_DEFAULTS[name]
  return core.getInput(name)
}

/** A secret input exactly as given: leading and trailing spaces may be part of a password. */
export function readSecretInput(name: InputName): string {
  const key = `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
  if (process.env[key] === undefined) return INPUT_DEFAULTS[name]
  return core.getInput(name, { trimWhitespace: false })
}

function fail(name: InputName, value: string, allowed: string): never {
  throw new ConfigurationError(name, `Input '${name}' is ${quoteValue(value)}: ${allowed}.`)
}

/**
 * A one-line input (a name, a URL, a path): a line break or another control character in it is refused, so
 * the value can never turn into a second log line (a workflow command) or a second argument.
 */
export function singleLine(name: InputName, value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\u2028\u2029]/.test(value)) {
    fail(name, value, 'it holds a line break or another control character; give a single line')
  }
  return value
}

export function parseBoolean(name: InputName, value: string): boolean {
  const v = value.trim().toLowerCase()
  if (v === 'true') return true
  if (v === 'false') return false
  fail(name, value, 'use true or false')
}

export function parseNumber(
  name: InputName,
  value: string,
  opts: {
    min: number
    max: number
    minExclusive?: boolean
    maxExclusive?: boolean
    integer?: boolean
  },
): number {
  const text = value.trim()
  const n = text === '' ? NaN : Number(text)
  const lo = opts.minExclusive ? `(${opts.min}` : `[${opts.min}`
  const hi = opts.maxExclusive ? `${opts.max})` : `${opts.max}]`
  const kind = opts.integer ? 'a whole number' : 'a number'
  const allowed = `use ${kind} in ${lo}, ${hi}`
  if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n))) fail(name, value, allowed)
  if (n < opts.min || (opts.minExclusive && n === opts.min)) fail(name, value, allowed)
  if (n > opts.max || (opts.maxExclusive && n === opts.max)) fail(name, value, allowed)
  return n
}

export function parseSeverity(value: string): Severity | undefined {
  const v = value.trim().toUpperCase()
  if (v === 'NONE') return undefined
  if ((SEVERITIES as readonly string[]).includes(v)) return v as Severity
  fail('fail-on-severity', value, `use one of ${SEVERITIES.join(', ')} or none`)
}

export function parseScanners(value: string): Scanner[] {
  const list = splitList(value).map((s) => s.toLowerCase())
  if (list.length === 0)
    fail('scanners', value, `use a comma-separated list of ${SCANNERS.join(', ')}`)
  for (const s of list) {
    if (!(SCANNERS as readonly string[]).includes(s)) {
      fail(
        'scanners',
        value,
        `'${s}' is not a scanner; use a comma-separated list of ${SCANNERS.join(', ')}`,
      )
    }
  }
  return [...new Set(list)] as Scanner[]
}

export function parseBuildArgs(value: string): Record<string, string> {
  const args: Record<string, string> = {}
  const lines = value.split(/\r?\n/)
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim()
    if (line === '') continue
    const eq = line.indexOf('=')
    const key = eq > 0 ? line.slice(0, eq) : ''
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      // Only the part before '=' is shown: a value may be a secret. A line without '=' is shown cut short.
      const shown =
        eq >= 0 ? `${line.slice(0, eq)}=***` : line.length > 20 ? `${line.slice(0, 20)}…` : line
      throw new ConfigurationError(
        'build-args',
        `Input 'build-args' line ${n + 1} is '${shown}': each line must be KEY=VALUE with KEY made of letters, digits and _ (not starting with a digit).`,
      )
    }
    args[key] = line.slice(eq + 1)
  }
  return args
}

/**
 * A URL for an HTTP service: http(s) only, and no credentials inside it (they would end up in logs).
 */
export function parseServiceUrl(name: InputName, value: string, credentialsFix: string): string {
  const text = value.trim()
  if (text === '') return ''
  let url: URL
  try {
    url = new URL(text)
  } catch {
    fail(name, redactUrl(text), 'use an http:// or https:// URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    fail(name, redactUrl(text), 'use an http:// or https:// URL')
  }
  if (url.username || url.password) {
    throw new ConfigurationError(
      name,
      `Input '${name}' has credentials inside the URL: remove them and ${credentialsFix}.`,
    )
  }
  if (url.hash !== '') {
    // The address copied from the browser (https://host/#/experiments/3): the server is the part before '#'.
    const server = text.slice(0, text.indexOf('#')).replace(/\/+$/, '')
    core.notice(
      `Input '${name}': using ${server.split('?')[0]}, the part before '#' (the rest is a page of the web UI, not the server's address).`,
    )
    return parseServiceUrl(name, server, credentialsFix)
  }
  if (url.search !== '') {
    throw new ConfigurationError(
      name,
      `Input '${name}' has a query string (not shown: it may hold a key), which the server's API does not take: remove it and ${credentialsFix}.`,
    )
  }
  return text.replace(/\/+$/, '')
}

/**
 * Hides credentials in a URL-like text, for messages: everything between the scheme and the last '@'
 * (a password may hold '@' or '/', and a text without a scheme, 'user:pass@host', has no '//').
 */
export function redactUrl(text: string): string {
  const at = text.lastIndexOf('@')
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(text)?.[0] ?? ''
  const redacted = at < 0 ? text : `${scheme}***${text.slice(at)}`
  // A query string may hold a key: never shown.
  const query = redacted.indexOf('?')
  return query < 0 ? redacted : `${redacted.slice(0, query)}?…`
}

export function splitList(value: string): string[] {
  return value
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/
const ARTIFACT_NAME_FORBIDDEN = /["':<>|*?\\/\r\n]/

function resolvePath(workspace: string, p: string): string {
  return path.resolve(workspace, p)
}

/**
 * A file named by an input: resolved against the workspace, and after symlinks still inside it, and a
 * regular file (workspace-paths.ts); with the name the reports show (relative to the workspace).
 */
export function resolveWorkspaceFile(
  input: InputName,
  workspace: string,
  name: string,
): WorkspaceFile {
  const real = resolveWorkspacePath(input, singleLine(input, name), workspace, 'file')
  return {
    path: real,
    name: path.relative(realWorkspace(workspace), real).split(path.sep).join('/'),
  }
}

/**
 * trivyignores (newline or comma separated); the old single-file input trivyignore is the same list of one.
 * Neither given: .trivyignore.yaml and .trivyignore in the workspace, each when present.
 */
function parseTrivyignores(workspace: string): WorkspaceFile[] {
  const many = splitList(readInput('trivyignores'))
  const one = readInput('trivyignore').trim()
  if (many.length > 0 && one !== '') {
    throw new ConfigurationError(
      'trivyignore',
      `Inputs 'trivyignores' and 'trivyignore' are both set: list every file in trivyignores (trivyignore is its old one-file name).`,
    )
  }
  const names = many.length > 0 ? many : one !== '' ? [one] : []
  if (names.length > 0) {
    const input: InputName = many.length > 0 ? 'trivyignores' : 'trivyignore'
    return names.map((name) => resolveWorkspaceFile(input, workspace, name))
  }
  return ['.trivyignore.yaml', '.trivyignore']
    .filter((name) => fs.existsSync(path.join(workspace, name)))
    .map((name) => resolveWorkspaceFile('trivyignores', workspace, name))
}

/**
 * The dataset, confined to the workspace and opened as a regular file (see workspace-paths.ts). The whole CSV
 * is held in memory while it is parsed and trained on (measured: a 200 MB CSV of 5.2M rows peaks at about
 * 0.9 GB and takes 13 s), so an unbounded file could exhaust the runner: a file over the limit fails at once,
 * before it is read. Returns the real path.
 */
function resolveDataset(workspace: string, raw: string, maxMb: number): string {
  const real = resolveWorkspacePath('dataset', raw, workspace, 'file')
  const opened = openWorkspaceFile(
    'dataset',
    raw,
    real,
    maxMb * 1024 * 1024,
    (size) =>
      new ConfigurationError(
        'dataset',
        `Input 'dataset' is ${quoteValue(raw)}, ${(size / 1024 / 1024).toFixed(1)} MB, over max-dataset-mb ${maxMb}: sample the data or raise max-dataset-mb (the CSV is held in memory while training).`,
      ),
  )
  fs.closeSync(opened.fd)
  return real
}

const SHA256 = /^[a-f0-9]{64}$/

/** Input trivy-checksum: a SHA-256 (hex), 'release-checksums', or empty. */
export function parseTrivyChecksum(value: string): string {
  const v = value.trim().toLowerCase()
  if (v === '' || v === 'release-checksums' || SHA256.test(v)) return v
  fail(
    'trivy-checksum',
    value,
    "give the SHA-256 (64 hex digits) of the release archive for this runner, or 'release-checksums' to trust the release's own checksums file",
  )
}

/**
 * A Go-style duration (`10m`, `90s`, `1h30m`) in milliseconds, or undefined when it is not one (inputs
 * build-timeout and trivy-timeout use this form).
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim())
  if (!match || text.trim() === '') return undefined
  const [h, m, s] = [match[1], match[2], match[3]].map((v) => Number(v ?? 0))
  return ((h * 60 + m) * 60 + s) * 1000
}

export type TrainInputs = Pick<
  Inputs,
  'dataset' | 'maxDatasetBytes' | 'targetColumn' | 'testSize' | 'seed' | 'minAccuracy'
>

function readTrainInputs(workspace: string): TrainInputs {
  const datasetRaw = readInput('dataset').trim()
  const maxDatasetMb = parseNumber('max-dataset-mb', readInput('max-dataset-mb'), {
    min: 1,
    max: 4096,
    integer: true,
  })
  return {
    dataset:
      datasetRaw === ''
        ? ''
        : resolveDataset(workspace, singleLine('dataset', datasetRaw), maxDatasetMb),
    maxDatasetBytes: maxDatasetMb * 1024 * 1024,
    targetColumn: singleLine('target-column', readInput('target-column').trim()),
    testSize: parseNumber('test-size', readInput('test-size'), {
      min: 0,
      max: 1,
      minExclusive: true,
      maxExclusive: true,
    }),
    seed: parseNumber('seed', readInput('seed'), { min: 0, max: 2 ** 32 - 1, integer: true }),
    minAccuracy: parseNumber('min-accuracy', readInput('min-accuracy'), { min: 0, max: 1 }),
  }
}

export type MlflowInputs = Pick<Inputs, 'mlflowTrackingUri' | 'mlflowExperiment' | 'mlflowAuth'>

function readMlflowInputs(env: NodeJS.ProcessEnv): MlflowInputs {
  const mlflowTrackingUri = parseServiceUrl(
    'mlflow-tracking-uri',
    singleLine(
      'mlflow-tracking-uri',
      readInput('mlflow-tracking-uri') || env.MLFLOW_TRACKING_URI || '',
    ),
    'pass mlflow-username/mlflow-password or mlflow-token (as secrets) instead',
  )
  const mlflowExperiment = singleLine('mlflow-experiment', readInput('mlflow-experiment').trim())
  if (mlflowExperiment === '') fail('mlflow-experiment', '', 'give an experiment name')
  const mlflowAuth: MlflowAuth = {
    username: readInput('mlflow-username') || env.MLFLOW_TRACKING_USERNAME || undefined,
    password: readSecretInput('mlflow-password') || env.MLFLOW_TRACKING_PASSWORD || undefined,
    token: readSecretInput('mlflow-token') || env.MLFLOW_TRACKING_TOKEN || undefined,
  }
  for (const secret of [mlflowAuth.password, mlflowAuth.token]) if (secret) core.setSecret(secret)
  if (mlflowAuth.password && !mlflowAuth.username) {
    fail('mlflow-username', '', 'set it too when mlflow-password is set (basic auth needs both)')
  }
  return { mlflowTrackingUri, mlflowExperiment, mlflowAuth }
}

export type ModelInputs = Pick<Inputs, 'modelName' | 'modelAlias' | 'image'>

/** The registered model's name and alias, and the image named after it. */
function readModelInputs(env: NodeJS.ProcessEnv): ModelInputs {
  const repoName = (env.GITHUB_REPOSITORY ?? '').split('/')[1] ?? ''
  const modelName = readInput('model-name').trim() || repoName || 'mlsecops-model'
  if (!MODEL_NAME.test(modelName)) {
    fail(
      'model-name',
      modelName,
      'use letters, digits, ".", "_" and "-", starting with a letter or digit',
    )
  }
  const modelAlias = readInput('model-alias').trim()
  if (modelAlias !== '' && !/^[A-Za-z_][A-Za-z0-9_-]{0,255}$/.test(modelAlias)) {
    fail(
      'model-alias',
      modelAlias,
      'use letters, digits, "_" and "-", starting with a letter or "_", or leave it empty',
    )
  }
  if (/^v\d+$/i.test(modelAlias) || modelAlias.toLowerCase() === 'latest') {
    fail(
      'model-alias',
      modelAlias,
      'MLflow reserves "latest" and "v<number>"; choose another alias',
    )
  }
  const sha = env.GITHUB_SHA ?? ''
  const imageRaw = readInput('image').trim()
  const image = imageRaw || `${toImageRepository(modelName)}:${sha ? sha.slice(0, 7) : 'latest'}`
  if (!isImageReference(image)) {
    fail(
      'image',
      image,
      'use a Docker image reference such as name:tag or registry/name:tag (lowercase name)',
    )
  }
  return { modelName, modelAlias, image }
}

export type BuildInputs = Pick<
  Inputs,
  'build' | 'dockerfile' | 'context' | 'buildArgs' | 'buildTimeoutMs'
>

function readBuildInputs(workspace: string): BuildInputs {
  const build = parseBoolean('build', readInput('build'))
  const dockerfileRaw = singleLine('dockerfile', readInput('dockerfile').trim() || 'Dockerfile')
  const contextRaw = singleLine('context', readInput('context').trim() || '.')
  // Only a build reads them; with build false they may point anywhere (or nowhere).
  const context = build
    ? resolveWorkspacePath('context', contextRaw, workspace, 'directory', { missingOk: true })
    : resolvePath(workspace, contextRaw)
  const dockerfile = build
    ? resolveWorkspacePath('dockerfile', dockerfileRaw, workspace, 'file', { missingOk: true })
    : resolvePath(workspace, dockerfileRaw)
  const buildTimeoutText = readInput('build-timeout').trim()
  const buildTimeoutMs = parseDuration(buildTimeoutText)
  if (buildTimeoutMs === undefined || buildTimeoutMs <= 0)
    fail('build-timeout', buildTimeoutText, 'use a duration such as 30m, 90s or 1h')
  return {
    build,
    dockerfile,
    context,
    buildArgs: parseBuildArgs(readInput('build-args')),
    buildTimeoutMs,
  }
}

export type ExceptionInputs = Pick<
  Inputs,
  'trivyignores' | 'vex' | 'ignoreExpiryWarningDays' | 'requireIgnoreReason'
>

/** The exceptions: ignore files, VEX documents, and how expiry and reasons are checked. */
function readExceptionInputs(workspace: string): ExceptionInputs {
  return {
    trivyignores: parseTrivyignores(workspace),
    vex: splitList(readInput('vex')).map((name) => resolveWorkspaceFile('vex', workspace, name)),
    ignoreExpiryWarningDays: parseNumber(
      'ignore-expiry-warning-days',
      readInput('ignore-expiry-warning-days'),
      { min: 0, max: 3650, integer: true },
    ),
    requireIgnoreReason: parseBoolean('require-ignore-reason', readInput('require-ignore-reason')),
  }
}

export type ScanInputs = Pick<
  Inputs,
  | 'scan'
  | 'trivyVersion'
  | 'trivyChecksum'
  | 'scanners'
  | 'failOnSeverity'
  | 'ignoreUnfixed'
  | 'trivyCacheDir'
  | 'trivySkipDbUpdate'
  | 'cache'
  | 'trivyDbRepositories'
  | 'trivyServer'
  | 'trivyTimeout'
>

function readScanInputs(env: NodeJS.ProcessEnv, workspace: string): ScanInputs {
  const trivyVersion = readInput('trivy-version').trim().replace(/^v/, '')
  if (!/^\d+\.\d+\.\d+$/.test(trivyVersion))
    fail('trivy-version', trivyVersion, 'use a release such as 0.74.0')
  const trivyTimeout = readInput('trivy-timeout').trim()
  if (!/^(\d+h)?(\d+m)?(\d+s)?$/.test(trivyTimeout) || trivyTimeout === '') {
    fail('trivy-timeout', trivyTimeout, 'use a duration such as 10m, 90s or 1h')
  }
  const toolCache = env.RUNNER_TOOL_CACHE || path.join(env.RUNNER_TEMP || '/tmp', 'tool-cache')
  const trivyCacheDir =
    readInput('trivy-cache-dir').trim() || path.join(toolCache, 'mlsecops-trivy')
  return {
    scan: parseBoolean('scan', readInput('scan')),
    trivyVersion,
    trivyChecksum: parseTrivyChecksum(readInput('trivy-checksum')),
    scanners: parseScanners(readInput('scanners')),
    failOnSeverity: parseSeverity(readInput('fail-on-severity')),
    ignoreUnfixed: parseBoolean('ignore-unfixed', readInput('ignore-unfixed')),
    trivyCacheDir: resolvePath(workspace, trivyCacheDir),
    trivySkipDbUpdate: parseBoolean('trivy-skip-db-update', readInput('trivy-skip-db-update')),
    cache: parseBoolean('cache', readInput('cache')),
    trivyDbRepositories: splitList(readInput('trivy-db-repository')),
    trivyServer: parseServiceUrl(
      'trivy-server',
      singleLine('trivy-server', readInput('trivy-server')),
      'give the server URL alone',
    ),
    trivyTimeout,
  }
}

export type PublishInputs = Pick<
  Inputs,
  | 'uploadArtifact'
  | 'artifactName'
  | 'retentionDays'
  | 'uploadSarif'
  | 'sarifCategory'
  | 'githubToken'
>

function readPublishInputs(env: NodeJS.ProcessEnv): PublishInputs {
  const artifactName = readInput('artifact-name').trim()
  if (artifactName === '' || ARTIFACT_NAME_FORBIDDEN.test(artifactName)) {
    fail('artifact-name', artifactName, 'give a name without " : < > | * ? \\ / or line breaks')
  }
  const sarifCategory = singleLine('sarif-category', readInput('sarif-category').trim())
  if (sarifCategory === '') fail('sarif-category', '', 'give a category name')
  const githubToken = readSecretInput('github-token') || env.GITHUB_TOKEN || ''
  if (githubToken) core.setSecret(githubToken)
  return {
    uploadArtifact: parseBoolean('upload-artifact', readInput('upload-artifact')),
    artifactName,
    retentionDays: parseNumber('retention-days', readInput('retention-days'), {
      min: 0,
      max: 90,
      integer: true,
    }),
    uploadSarif: parseBoolean('upload-sarif', readInput('upload-sarif')),
    sarifCategory,
    githubToken,
  }
}

/**
 * Reads and validates every input once, one area at a time in the pipeline's order (train, MLflow, model and
 * image, build, exceptions, scan, publish, promote). Throws ConfigurationError naming the input, the value and
 * the fix.
 */
export function getInputs(env: NodeJS.ProcessEnv = process.env): Inputs {
  const workspace = env.GITHUB_WORKSPACE || process.cwd()
  const inputs: Inputs = {
    ...readTrainInputs(workspace),
    ...readMlflowInputs(env),
    ...readModelInputs(env),
    ...readBuildInputs(workspace),
    ...readExceptionInputs(workspace),
    ...readScanInputs(env, workspace),
    ...readPublishInputs(env),
    ...readPromoteInputs(),
  }
  if (inputs.push && !(inputs.build && inputs.scan)) {
    throw new ConfigurationError(
      'push',
      "Input 'push' is true but build or scan is false: only the image that was built and scanned here is pushed.",
    )
  }
  return inputs
}

/** Masks a secret in the log: the whole value and, for a multi-line one (a PEM key), each line. */
function maskSecret(value: string): void {
  if (!value) return
  core.setSecret(value)
  for (const line of value.split(/\r?\n/)) if (line.trim().length >= 8) core.setSecret(line.trim())
}

/** push, sbom-format and the cosign inputs: the promotion of the scanned image. */
function readPromoteInputs(): Pick<
  Inputs,
  | 'push'
  | 'sbomFormat'
  | 'cosignKey'
  | 'cosignPassword'
  | 'cosignKeyless'
  | 'cosignVersion'
  | 'cosignTlogUpload'
> {
  const cosignKey = readInput('cosign-key')
  const cosignPassword = readInput('cosign-password')
  maskSecret(cosignKey)
  maskSecret(cosignPassword)
  const push = parseBoolean('push', readInput('push'))
  const sbomFormat = readInput('sbom-format').trim().toLowerCase()
  if (!(SBOM_FORMATS as readonly string[]).includes(sbomFormat)) {
    fail('sbom-format', sbomFormat, `use one of ${SBOM_FORMATS.join(', ')}`)
  }
  const cosignKeyless = parseBoolean('cosign-keyless', readInput('cosign-keyless'))
  if (cosignKeyless && cosignKey.trim() !== '') {
    throw new ConfigurationError(
      'cosign-keyless',
      "Inputs 'cosign-key' and 'cosign-keyless' are both set: sign with a key or keyless, not both.",
    )
  }
  if ((cosignKeyless || cosignKey.trim() !== '') && !push) {
    throw new ConfigurationError(
      'push',
      "Input 'push' is false but a cosign signature is asked for: only a pushed image (its digest) can be signed; set push: true.",
    )
  }
  const cosignVersion = readInput('cosign-version').trim().replace(/^v/, '')
  if (!/^\d+\.\d+\.\d+$/.test(cosignVersion))
    fail('cosign-version', cosignVersion, 'use a release such as 2.6.5')
  return {
    push,
    sbomFormat: sbomFormat as SbomFormatInput,
    cosignKey,
    cosignPassword,
    cosignKeyless,
    cosignVersion,
    cosignTlogUpload: parseBoolean('cosign-tlog-upload', readInput('cosign-tlog-upload')),
  }
}
