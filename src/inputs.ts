import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ConfigurationError } from './errors.js'
import { SBOM_FORMATS, type SbomFormatInput } from './sbom/write-sbom.js'

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
  scan: 'true',
  'trivy-version': '0.74.0',
  scanners: 'vuln,secret,misconfig',
  'fail-on-severity': 'HIGH',
  'ignore-unfixed': 'false',
  trivyignore: '',
  'trivy-cache-dir': '',
  'trivy-skip-db-update': 'false',
  'trivy-db-repository': '',
  'trivy-server': '',
  'trivy-timeout': '10m',
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

export const SEVERITIES = ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const
export type Severity = (typeof SEVERITIES)[number]
export const SCANNERS = ['vuln', 'secret', 'misconfig', 'license'] as const
export type Scanner = (typeof SCANNERS)[number]

export interface MlflowAuth {
  username?: string
  password?: string
  token?: string
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
  scan: boolean
  trivyVersion: string
  scanners: Scanner[]
  /** undefined for `none`: the severity gate is off. */
  failOnSeverity: Severity | undefined
  ignoreUnfixed: boolean
  /** Absolute path, or '' when none is given and no .trivyignore exists. */
  trivyignore: string
  trivyCacheDir: string
  trivySkipDbUpdate: boolean
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

function fail(name: InputName, value: string, allowed: string): never {
  throw new ConfigurationError(name, `Input '${name}' is '${value}': ${allowed}.`)
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
  return text.replace(/\/+$/, '')
}

/**
 * Hides credentials in a URL-like text, for messages: everything between the scheme and the last '@'
 * (a password may hold '@' or '/', and a text without a scheme, 'user:pass@host', has no '//').
 */
export function redactUrl(text: string): string {
  const at = text.lastIndexOf('@')
  if (at < 0) return text
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(text)?.[0] ?? ''
  return `${scheme}***${text.slice(at)}`
}

/**
 * Docker image reference: [host[:port]/]path[:tag][@digest], lowercase path components, as the
 * distribution reference grammar allows.
 */
const IMAGE_REFERENCE =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?)\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/

export function isImageReference(value: string): boolean {
  return value.length <= 255 && IMAGE_REFERENCE.test(value)
}

/** Turns a repository or model name into something valid as a Docker repository path component. */
export function toImageRepository(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .replace(/[._-]{2,}/g, '-')
  return cleaned === '' ? 'mlsecops-model' : cleaned
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
 * The whole CSV is held in memory while it is parsed and trained on (measured: a 200 MB CSV of 5.2M rows
 * peaks at about 0.9 GB and takes 13 s), so an unbounded file could exhaust the runner: a file over the
 * limit fails at once, before it is read.
 * A missing file or a directory is left to the train stage, which says so.
 */
function checkDatasetSize(file: string, shown: string, maxMb: number): void {
  let size: number
  try {
    const stat = fs.statSync(file)
    if (!stat.isFile()) return
    size = stat.size
  } catch {
    return
  }
  if (size > maxMb * 1024 * 1024) {
    throw new ConfigurationError(
      'dataset',
      `Input 'dataset' is '${shown}', ${(size / 1024 / 1024).toFixed(1)} MB, over max-dataset-mb ${maxMb}: sample the data or raise max-dataset-mb (the CSV is held in memory while training).`,
    )
  }
}

/** Reads and validates every input once. Throws ConfigurationError naming the input, the value and the fix. */
export function getInputs(env: NodeJS.ProcessEnv = process.env): Inputs {
  const workspace = env.GITHUB_WORKSPACE || process.cwd()
  const repoName = (env.GITHUB_REPOSITORY ?? '').split('/')[1] ?? ''

  const datasetRaw = readInput('dataset').trim()
  const maxDatasetMb = parseNumber('max-dataset-mb', readInput('max-dataset-mb'), {
    min: 1,
    max: 4096,
    integer: true,
  })
  const maxDatasetBytes = maxDatasetMb * 1024 * 1024
  if (datasetRaw !== '')
    checkDatasetSize(resolvePath(workspace, datasetRaw), datasetRaw, maxDatasetMb)
  const testSize = parseNumber('test-size', readInput('test-size'), {
    min: 0,
    max: 1,
    minExclusive: true,
    maxExclusive: true,
  })
  const seed = parseNumber('seed', readInput('seed'), { min: 0, max: 2 ** 32 - 1, integer: true })
  const minAccuracy = parseNumber('min-accuracy', readInput('min-accuracy'), { min: 0, max: 1 })

  const mlflowTrackingUri = parseServiceUrl(
    'mlflow-tracking-uri',
    readInput('mlflow-tracking-uri') || env.MLFLOW_TRACKING_URI || '',
    'pass mlflow-username/mlflow-password or mlflow-token (as secrets) instead',
  )
  const mlflowExperiment = readInput('mlflow-experiment').trim()
  if (mlflowExperiment === '') fail('mlflow-experiment', '', 'give an experiment name')
  const mlflowAuth: MlflowAuth = {
    username: readInput('mlflow-username') || env.MLFLOW_TRACKING_USERNAME || undefined,
    password: readInput('mlflow-password') || env.MLFLOW_TRACKING_PASSWORD || undefined,
    token: readInput('mlflow-token') || env.MLFLOW_TRACKING_TOKEN || undefined,
  }
  for (const secret of [mlflowAuth.password, mlflowAuth.token]) if (secret) core.setSecret(secret)
  if (mlflowAuth.password && !mlflowAuth.username) {
    fail('mlflow-username', '', 'set it too when mlflow-password is set (basic auth needs both)')
  }

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

  const trivyVersion = readInput('trivy-version').trim().replace(/^v/, '')
  if (!/^\d+\.\d+\.\d+$/.test(trivyVersion))
    fail('trivy-version', trivyVersion, 'use a release such as 0.74.0')

  const trivyignoreRaw = readInput('trivyignore').trim()
  let trivyignore = ''
  if (trivyignoreRaw !== '') {
    trivyignore = resolvePath(workspace, trivyignoreRaw)
    if (!fs.existsSync(trivyignore))
      fail('trivyignore', trivyignoreRaw, 'the file does not exist; fix the path or leave it empty')
  } else if (fs.existsSync(path.join(workspace, '.trivyignore'))) {
    trivyignore = path.join(workspace, '.trivyignore')
  }

  const trivyTimeout = readInput('trivy-timeout').trim()
  if (!/^(\d+h)?(\d+m)?(\d+s)?$/.test(trivyTimeout) || trivyTimeout === '') {
    fail('trivy-timeout', trivyTimeout, 'use a duration such as 10m, 90s or 1h')
  }

  const artifactName = readInput('artifact-name').trim()
  if (artifactName === '' || ARTIFACT_NAME_FORBIDDEN.test(artifactName)) {
    fail('artifact-name', artifactName, 'give a name without " : < > | * ? \\ / or line breaks')
  }

  const sarifCategory = readInput('sarif-category').trim()
  if (sarifCategory === '') fail('sarif-category', '', 'give a category name')

  const githubToken = readInput('github-token') || env.GITHUB_TOKEN || ''
  if (githubToken) core.setSecret(githubToken)

  const promote = readPromoteInputs()
  if (
    promote.push &&
    !(parseBoolean('build', readInput('build')) && parseBoolean('scan', readInput('scan')))
  ) {
    throw new ConfigurationError(
      'push',
      "Input 'push' is true but build or scan is false: only the image that was built and scanned here is pushed.",
    )
  }

  const trivyCacheDir =
    readInput('trivy-cache-dir').trim() ||
    path.join(
      env.RUNNER_TOOL_CACHE || path.join(env.RUNNER_TEMP || '/tmp', 'tool-cache'),
      'mlsecops-trivy',
    )

  return {
    dataset: datasetRaw === '' ? '' : resolvePath(workspace, datasetRaw),
    maxDatasetBytes,
    targetColumn: readInput('target-column').trim(),
    testSize,
    seed,
    minAccuracy,
    mlflowTrackingUri,
    mlflowExperiment,
    mlflowAuth,
    modelName,
    modelAlias,
    build: parseBoolean('build', readInput('build')),
    dockerfile: resolvePath(workspace, readInput('dockerfile').trim() || 'Dockerfile'),
    context: resolvePath(workspace, readInput('context').trim() || '.'),
    image,
    buildArgs: parseBuildArgs(readInput('build-args')),
    scan: parseBoolean('scan', readInput('scan')),
    trivyVersion,
    scanners: parseScanners(readInput('scanners')),
    failOnSeverity: parseSeverity(readInput('fail-on-severity')),
    ignoreUnfixed: parseBoolean('ignore-unfixed', readInput('ignore-unfixed')),
    trivyignore,
    trivyCacheDir: resolvePath(workspace, trivyCacheDir),
    trivySkipDbUpdate: parseBoolean('trivy-skip-db-update', readInput('trivy-skip-db-update')),
    trivyDbRepositories: splitList(readInput('trivy-db-repository')),
    trivyServer: parseServiceUrl(
      'trivy-server',
      readInput('trivy-server'),
      'give the server URL alone',
    ),
    trivyTimeout,
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
    ...promote,
  }
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
