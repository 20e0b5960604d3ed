import { afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parse as parseYaml } from 'yaml'
import * as core from '../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { setSecret } = core
const { ConfigurationError } = await import('../src/errors.js')
const { INPUT_DEFAULTS, getInputs, redactUrl } = await import('../src/inputs.js')
const { isImageReference, toImageRepository } = await import('../src/docker/image-reference.js')
type InputName = keyof typeof INPUT_DEFAULTS

const ROOT = process.cwd()
interface ActionYml {
  inputs: Record<string, { description?: string; default?: unknown }>
}
const actionYml = parseYaml(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as ActionYml

const saved = { ...process.env }
let workspace: string

/** A clean environment: no INPUT_ variables, no MLflow or GitHub variables, a temp workspace. */
function resetEnv(extra: Record<string, string> = {}): void {
  for (const key of Object.keys(process.env)) {
    if (key.startsWith('INPUT_') || key.startsWith('MLFLOW_') || key.startsWith('GITHUB_')) {
      delete process.env[key]
    }
  }
  process.env.GITHUB_WORKSPACE = workspace
  Object.assign(process.env, extra)
}

function inputKey(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

function withInputs(inputs: Record<string, string>): void {
  for (const [k, v] of Object.entries(inputs)) process.env[inputKey(k)] = v
}

/** Runs getInputs and returns its ConfigurationError, checking it is one line. */
function failure(): InstanceType<typeof ConfigurationError> {
  try {
    getInputs()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError)
    const e = error as InstanceType<typeof ConfigurationError>
    expect(e.message).not.toMatch(/[\r\n]/)
    return e
  }
  throw new Error('getInputs() accepted a bad value')
}

beforeAll(() => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'inputs-'))
})
afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
  Object.assign(process.env, saved)
  setSecret.mockClear()
})

describe('INPUT_DEFAULTS against action.yml', () => {
  test('declares exactly the inputs of action.yml', () => {
    expect(Object.keys(INPUT_DEFAULTS).sort()).toEqual(Object.keys(actionYml.inputs).sort())
  })

  test.each(Object.keys(actionYml.inputs))('%s: same default as action.yml', (name) => {
    const declared = actionYml.inputs[name].default
    expect(typeof declared).toBe('string')
    const ours = INPUT_DEFAULTS[name as InputName]
    if (/^\$\{\{.*\}\}$/.test(String(declared))) {
      // An expression (github-token: ${{ github.token }}) cannot be evaluated outside a workflow: the action
      // uses '' and falls back to the environment (GITHUB_TOKEN).
      expect(ours).toBe('')
    } else {
      expect(ours).toBe(declared)
    }
  })
})

describe('getInputs with no INPUT_ variables (outside a workflow)', () => {
  test('applies the defaults of action.yml', () => {
    resetEnv({ GITHUB_REPOSITORY: 'octo/iris-demo', GITHUB_SHA: 'abcdef0123456789' })
    const i = getInputs()
    expect(i).toMatchObject({
      dataset: '',
      maxDatasetBytes: 100 * 1024 * 1024,
      targetColumn: '',
      testSize: 0.2,
      seed: 42,
      minAccuracy: 0,
      mlflowTrackingUri: '',
      mlflowExperiment: 'mlsecops',
      mlflowAuth: { username: undefined, password: undefined, token: undefined },
      modelName: 'iris-demo',
      modelAlias: 'candidate',
      build: true,
      dockerfile: path.join(workspace, 'Dockerfile'),
      context: workspace,
      image: 'iris-demo:abcdef0',
      buildArgs: {},
      scan: true,
      trivyVersion: '0.74.0',
      scanners: ['vuln', 'secret', 'misconfig'],
      failOnSeverity: 'HIGH',
      ignoreUnfixed: false,
      trivyignores: [],
      vex: [],
      ignoreExpiryWarningDays: 14,
      requireIgnoreReason: false,
      trivySkipDbUpdate: false,
      trivyDbRepositories: [],
      trivyServer: '',
      trivyTimeout: '10m',
      uploadArtifact: true,
      artifactName: 'mlsecops-report',
      retentionDays: 0,
      uploadSarif: true,
      sarifCategory: 'mlsecops',
      githubToken: '',
    })
  })

  test('each default given explicitly as INPUT_ variables gives the same Inputs', () => {
    resetEnv({ GITHUB_REPOSITORY: 'octo/iris-demo', GITHUB_SHA: 'abcdef0123456789' })
    const implicit = getInputs()
    withInputs(INPUT_DEFAULTS)
    expect(getInputs()).toEqual(implicit)
  })

  test('without a repository: model-name mlsecops-model, image mlsecops-model:latest', () => {
    resetEnv()
    const i = getInputs()
    expect(i.modelName).toBe('mlsecops-model')
    expect(i.image).toBe('mlsecops-model:latest')
  })

  test('MLflow settings fall back to the MLFLOW_TRACKING_* environment; secrets are masked', () => {
    resetEnv({
      MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000/',
      MLFLOW_TRACKING_USERNAME: 'alice',
      MLFLOW_TRACKING_PASSWORD: 's3cret-pw',
      MLFLOW_TRACKING_TOKEN: 'tok-123',
      GITHUB_TOKEN: 'ghs_abc',
    })
    const i = getInputs()
    expect(i.mlflowTrackingUri).toBe('http://127.0.0.1:5000')
    expect(i.mlflowAuth).toEqual({ username: 'alice', password: 's3cret-pw', token: 'tok-123' })
    expect(i.githubToken).toBe('ghs_abc')
    const masked = setSecret.mock.calls.map((c) => c[0])
    expect(masked).toEqual(expect.arrayContaining(['s3cret-pw', 'tok-123', 'ghs_abc']))
  })

  test('inputs win over the environment', () => {
    resetEnv({ MLFLOW_TRACKING_URI: 'http://env:5000' })
    withInputs({ 'mlflow-tracking-uri': 'https://mlflow.example.com' })
    expect(getInputs().mlflowTrackingUri).toBe('https://mlflow.example.com')
  })
})

describe('getInputs parses good values', () => {
  test.each<[Record<string, string>, Record<string, unknown>]>([
    [{ 'test-size': ' 0.25 ' }, { testSize: 0.25 }],
    [{ seed: '0' }, { seed: 0 }],
    [{ seed: '4294967295' }, { seed: 4294967295 }],
    [{ 'min-accuracy': '1' }, { minAccuracy: 1 }],
    [{ 'fail-on-severity': 'critical' }, { failOnSeverity: 'CRITICAL' }],
    [{ 'fail-on-severity': 'none' }, { failOnSeverity: undefined }],
    [{ scanners: 'vuln, secret,vuln' }, { scanners: ['vuln', 'secret'] }],
    [
      { build: 'False', scan: 'TRUE' },
      { build: false, scan: true },
    ],
    [{ 'build-args': 'A=1\n\nB_2=x=y\r\nC=' }, { buildArgs: { A: '1', B_2: 'x=y', C: '' } }],
    [{ image: 'ghcr.io/octo/model:1.2.3' }, { image: 'ghcr.io/octo/model:1.2.3' }],
    [
      { image: 'localhost:5000/m@sha256:' + 'a'.repeat(64) },
      { image: 'localhost:5000/m@sha256:' + 'a'.repeat(64) },
    ],
    [{ 'model-alias': '' }, { modelAlias: '' }],
    [{ 'model-alias': 'champion-2' }, { modelAlias: 'champion-2' }],
    [{ 'retention-days': '90' }, { retentionDays: 90 }],
    [{ 'trivy-version': 'v0.74.1' }, { trivyVersion: '0.74.1' }],
    [
      { 'trivy-db-repository': 'a.example/db, b.example/db' },
      { trivyDbRepositories: ['a.example/db', 'b.example/db'] },
    ],
    [{ 'trivy-timeout': '1h30m' }, { trivyTimeout: '1h30m' }],
    [
      { 'trivy-server': 'https://trivy.internal:4954/' },
      { trivyServer: 'https://trivy.internal:4954' },
    ],
    [{ 'max-dataset-mb': '1' }, { maxDatasetBytes: 1024 * 1024 }],
  ])('%j', (given, expected) => {
    resetEnv()
    withInputs(given)
    const i = getInputs()
    expect(i).toMatchObject(expected)
  })

  test('dataset and paths are resolved against the workspace', () => {
    resetEnv()
    fs.mkdirSync(path.join(workspace, 'data'), { recursive: true })
    fs.mkdirSync(path.join(workspace, 'docker'), { recursive: true })
    fs.writeFileSync(path.join(workspace, 'data/x.csv'), 'x,label\n')
    withInputs({ dataset: 'data/x.csv', dockerfile: 'docker/Dockerfile', context: 'docker' })
    expect(getInputs()).toMatchObject({
      dataset: path.join(workspace, 'data/x.csv'),
      dockerfile: path.join(workspace, 'docker/Dockerfile'),
      context: path.join(workspace, 'docker'),
    })
  })

  test('trivyignores lists several files; the old trivyignore is a list of one; both set is an error', () => {
    resetEnv()
    const real = fs.realpathSync(workspace)
    fs.mkdirSync(path.join(workspace, 'sec'), { recursive: true })
    for (const f of ['a.yaml', 'sec/b', 'v.json']) fs.writeFileSync(path.join(workspace, f), '')
    try {
      withInputs({ trivyignores: 'a.yaml\nsec/b', vex: 'v.json' })
      expect(getInputs()).toMatchObject({
        trivyignores: [
          { path: path.join(real, 'a.yaml'), name: 'a.yaml' },
          { path: path.join(real, 'sec/b'), name: 'sec/b' },
        ],
        vex: [{ path: path.join(real, 'v.json'), name: 'v.json' }],
      })
      resetEnv()
      withInputs({ trivyignore: 'sec/b' })
      expect(getInputs().trivyignores).toEqual([{ path: path.join(real, 'sec/b'), name: 'sec/b' }])
      resetEnv()
      withInputs({ trivyignore: 'sec/b', trivyignores: 'a.yaml' })
      expect(() => getInputs()).toThrow(/'trivyignores' and 'trivyignore' are both set/)
    } finally {
      for (const f of ['a.yaml', 'sec', 'v.json'])
        fs.rmSync(path.join(workspace, f), { recursive: true, force: true })
    }
  })

  test('.trivyignore.yaml and .trivyignore are both read when present and nothing is named', () => {
    resetEnv()
    fs.writeFileSync(path.join(workspace, '.trivyignore.yaml'), '')
    fs.writeFileSync(path.join(workspace, '.trivyignore'), '')
    try {
      expect(getInputs().trivyignores.map((f) => f.name)).toEqual([
        '.trivyignore.yaml',
        '.trivyignore',
      ])
    } finally {
      fs.rmSync(path.join(workspace, '.trivyignore.yaml'))
      fs.rmSync(path.join(workspace, '.trivyignore'))
    }
  })

  test('a .trivyignore in the workspace is used when trivyignores is empty', () => {
    resetEnv()
    fs.writeFileSync(path.join(workspace, '.trivyignore'), 'CVE-2020-0001\n')
    try {
      expect(getInputs().trivyignores).toEqual([
        { path: path.join(fs.realpathSync(workspace), '.trivyignore'), name: '.trivyignore' },
      ])
    } finally {
      fs.rmSync(path.join(workspace, '.trivyignore'))
    }
  })
})

/**
 * Every bad value: one line that names the input (as `Input '<name>'`), shows the value, and says what is
 * allowed. `shows` is the text the message must contain (the value, or a safe form of it).
 */
const BAD: [string, string, string | RegExp, RegExp][] = [
  ['test-size', '0', "'0'", /\(0, 1\)/],
  ['test-size', '1', "'1'", /\(0, 1\)/],
  ['test-size', '-0.1', "'-0.1'", /\(0, 1\)/],
  ['test-size', 'abc', "'abc'", /a number in \(0, 1\)/],
  ['test-size', '', "''", /a number/],
  ['seed', '-1', "'-1'", /whole number in \[0, 4294967295\]/],
  ['seed', '1.5', "'1.5'", /whole number/],
  ['seed', '4294967296', "'4294967296'", /whole number/],
  ['min-accuracy', '2', "'2'", /\[0, 1\]/],
  ['min-accuracy', '-0.5', "'-0.5'", /\[0, 1\]/],
  ['min-accuracy', 'NaN', "'NaN'", /\[0, 1\]/],
  ['max-dataset-mb', '0', "'0'", /whole number in \[1, 4096\]/],
  ['fail-on-severity', 'SEVERE', "'SEVERE'", /UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL or none/],
  ['fail-on-severity', '', "''", /or none/],
  ['scanners', 'vuln,foo', "'foo' is not a scanner", /vuln, secret, misconfig, license/],
  ['scanners', ' , ', "','", /comma-separated list/],
  ['image', 'x;rm -rf /', "'x;rm -rf /'", /Docker image reference/],
  ['image', '$(id)', "'$(id)'", /Docker image reference/],
  ['image', '`id`', "'`id`'", /Docker image reference/],
  ['image', 'a b', "'a b'", /Docker image reference/],
  ['image', 'MyModel:1', "'MyModel:1'", /lowercase/],
  ['image', 'model:tag|sh', "'model:tag|sh'", /Docker image reference/],
  ['image', 'model:1 && curl x', "'model:1 && curl x'", /Docker image reference/],
  ['build-args', 'NOEQUALS', "'NOEQUALS'", /KEY=VALUE/],
  ['build-args', 'A=1\n=2', 'line 2', /KEY=VALUE/],
  ['build-args', '1A=x', "'1A=***'", /KEY=VALUE/],
  ['mlflow-tracking-uri', 'not a url', "'not a url'", /http:\/\/ or https:\/\//],
  ['mlflow-tracking-uri', 'ftp://x', "'ftp://x'", /http:\/\/ or https:\/\//],
  ['mlflow-tracking-uri', 'http://user:pass@host', /credentials inside the URL/, /mlflow-token/],
  ['mlflow-tracking-uri', 'ftp://user:pass@host', "'ftp://***@host'", /http:\/\//],
  ['mlflow-tracking-uri', 'user:pass@host', "'***@host'", /http:\/\//],
  ['trivy-server', 'not a url', "'not a url'", /http:\/\/ or https:\/\//],
  ['trivy-server', 'ftp://x', "'ftp://x'", /http:\/\/ or https:\/\//],
  ['trivy-server', 'http://user:pass@host', /credentials inside the URL/, /server URL alone/],
  ['model-alias', 'latest', "'latest'", /reserves/],
  ['model-alias', 'v3', "'v3'", /reserves/],
  ['model-alias', 'has space', "'has space'", /letters, digits/],
  ['model-name', '-bad', "'-bad'", /starting with a letter or digit/],
  ['model-name', 'a/b', "'a/b'", /letters, digits/],
  ['retention-days', '91', "'91'", /\[0, 90\]/],
  ['retention-days', '-1', "'-1'", /\[0, 90\]/],
  ['artifact-name', 'a/b', "'a/b'", /without/],
  ['artifact-name', '', "''", /give a name/],
  ['build', 'yes', "'yes'", /true or false/],
  ['scan', '1', "'1'", /true or false/],
  ['ignore-unfixed', 'on', "'on'", /true or false/],
  ['trivy-skip-db-update', 'y', "'y'", /true or false/],
  ['upload-artifact', 'no', "'no'", /true or false/],
  ['upload-sarif', 'yes', "'yes'", /true or false/],
  ['trivy-version', 'latest', "'latest'", /0\.74\.0/],
  ['trivy-timeout', '10 minutes', "'10 minutes'", /10m, 90s or 1h/],
  ['trivyignore', 'missing.ignore', "'missing.ignore'", /does not exist/],
  ['trivyignores', 'missing.yaml', "'missing.yaml'", /does not exist/],
  ['trivyignores', '../outside.yaml', "'../outside.yaml'", /does not exist|inside the workspace/],
  ['vex', 'missing.json', "'missing.json'", /does not exist/],
  ['ignore-expiry-warning-days', '-1', "'-1'", /whole number in \[0, 3650\]/],
  ['require-ignore-reason', 'yes', "'yes'", /true or false/],
  ['mlflow-experiment', '', "''", /experiment name/],
  ['sarif-category', '', "''", /category/],
]

describe('getInputs rejects bad values with one line naming the input, the value and what is allowed', () => {
  test.each(BAD)('%s = %j', (name, value, shows, allowed) => {
    resetEnv()
    withInputs({ [name]: value })
    const e = failure()
    expect(e.input).toBe(name)
    expect(e.message).toContain(`Input '${name}'`)
    if (typeof shows === 'string') expect(e.message).toContain(shows)
    else expect(e.message).toMatch(shows)
    expect(e.message).toMatch(allowed)
    expect(e.stack ?? '').toContain(e.message) // a normal Error: run() prints only the message
  })

  test('no password or secret part of a URL ever appears in a message', () => {
    for (const [name, value] of [
      ['mlflow-tracking-uri', 'http://user:hunter2@host'],
      ['mlflow-tracking-uri', 'https://u:hunter2@h:5000/path'],
      ['mlflow-tracking-uri', 'ftp://u:hunter2@host'],
      ['mlflow-tracking-uri', 'u:hunter2@host'],
      ['mlflow-tracking-uri', 'http://u:hun@ter2@host'],
      ['mlflow-tracking-uri', 'http://u:hunter2@ho st'],
      ['trivy-server', 'http://u:hunter2@host'],
      ['trivy-server', 'ws://u:hunter2@host'],
    ]) {
      resetEnv()
      withInputs({ [name]: value })
      const e = failure()
      expect(e.message).not.toMatch(/hunter2|ter2|hun@/)
    }
  })

  test('credentials in MLFLOW_TRACKING_URI are refused without echoing them', () => {
    resetEnv({ MLFLOW_TRACKING_URI: 'https://bob:topsecret@mlflow.example.com' })
    const e = failure()
    expect(e.input).toBe('mlflow-tracking-uri')
    expect(e.message).not.toContain('topsecret')
  })

  test('a build-args value is never echoed', () => {
    resetEnv()
    withInputs({ 'build-args': 'GOOD=1\nbad key=supersecret' })
    const e = failure()
    expect(e.message).not.toContain('supersecret')
    expect(e.message).toContain('line 2')
  })

  test('mlflow-password without a username', () => {
    resetEnv()
    withInputs({ 'mlflow-password': 'pw-xyz' })
    const e = failure()
    expect(e.input).toBe('mlflow-username')
    expect(e.message).not.toContain('pw-xyz')
    expect(setSecret).toHaveBeenCalledWith('pw-xyz')
  })

  test('a dataset file over max-dataset-mb fails before anything reads it', () => {
    resetEnv()
    const file = path.join(workspace, 'big.csv')
    fs.writeFileSync(file, Buffer.alloc(2 * 1024 * 1024 + 10, 0x31))
    try {
      withInputs({ dataset: 'big.csv', 'max-dataset-mb': '2' })
      const e = failure()
      expect(e.input).toBe('dataset')
      expect(e.message).toMatch(/'big\.csv', 2\.0 MB, over max-dataset-mb 2/)
      withInputs({ 'max-dataset-mb': '3' })
      expect(getInputs().dataset).toBe(file)
    } finally {
      fs.rmSync(file)
    }
  })
})

describe('helpers', () => {
  test('redactUrl hides everything before the last @', () => {
    expect(redactUrl('http://a:b@h/x')).toBe('http://***@h/x')
    expect(redactUrl('a:b@c@h')).toBe('***@h')
    expect(redactUrl('http://h/x')).toBe('http://h/x')
  })

  test.each([
    ['model', true],
    ['model:latest', true],
    ['registry.example.com:5000/team/model:v1.0', true],
    ['a__b/c-d.e:tag', true],
    ['Model', false],
    ['model:', false],
    ['-model', false],
    ['model;id', false],
    ['', false],
  ])('isImageReference(%j) = %p', (ref, ok) => {
    expect(isImageReference(ref)).toBe(ok)
  })

  test('toImageRepository makes a valid repository from any name', () => {
    for (const name of ['My_Repo', '--x--', 'a..b', '', '$(id)', 'Ünïcode']) {
      expect(isImageReference(`${toImageRepository(name)}:1`)).toBe(true)
    }
  })
})
