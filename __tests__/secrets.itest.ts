// Integration: no secret leaks. The whole action (`node dist/index.js`: train, register, build, scan, publish,
// gate) runs against the real local stack with secrets set: an MLflow server with basic auth whose admin
// password was changed (mlflow-username/mlflow-password), a GitHub token (github-token, checked by the
// code-scanning endpoint), and an MLflow token (mlflow-token) — used where it is the only credential, and
// set but failing against the basic-auth server where it wins over the password. Then every place the action
// writes is searched for every secret, raw and in the encodings it travels in (base64 Basic header, URL
// encoding): stdout and stderr line by line (the `::add-mask::` lines are the only allowed place), the job
// summary, the outputs file, every file under RUNNER_TEMP (reports, model directory), the artifact downloaded
// from Azurite and unzipped with the system's unzip, the SARIF the code-scanning endpoint received, the image
// labels (docker inspect), MLflow's runs, params, tags and versions read by MLflow's Python client, and
// the MLflow artifact store on disk. Expected: 0 hits.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {
  recordRobustness,
  runActionProcess,
  type ActionProcessResult,
} from './stack/action-process.js'
import { type ArtifactService } from './stack/artifact-service.js'
import { type CodeScanningServer } from './stack/code-scanning-server.js'
import { removeImages } from './stack/docker.js'
import { MLSECOPS_BASE_IMAGE, REPO_ROOT } from './stack/env.js'
import { readWithMlflowPython, requestOnce, type MlflowServer } from './stack/mlflow-server.js'
import {
  preparePipelineDirs,
  startPipelineServices,
  type PipelineServices,
} from './stack/pipeline-stack.js'

jest.setTimeout(900_000)

const OWNER = 'octo'
const REPO = 'secrets'
const ADMIN = 'admin'
// Secrets with characters that encodings change (+, /, =, @; no % for the auth .ini).
const PASSWORD = `Pw+/${crypto.randomBytes(12).toString('base64')}@x`
const MLFLOW_TOKEN = `mlflow_tok_${crypto.randomBytes(16).toString('hex')}`
const GITHUB_TOKEN = `ghs_${crypto.randomBytes(18).toString('hex')}`

let tmp: string
let workspace: string
let cacheDir: string
let mlflow: MlflowServer
let artifacts: ArtifactService
let codeScanning: CodeScanningServer
let services: PipelineServices
const images: string[] = []
const hits: string[] = []
let runs = 0
let completed = 0
let failedCleanly = 0

/** Every form a secret may take on the way out. */
function forms(secret: string): string[] {
  return [
    ...new Set([
      secret,
      encodeURIComponent(secret),
      Buffer.from(secret).toString('base64'),
      Buffer.from(`${ADMIN}:${secret}`).toString('base64'),
      JSON.stringify(secret).slice(1, -1),
    ]),
  ]
}

const SECRETS: Record<string, string> = {
  'mlflow-password': PASSWORD,
  'mlflow-token': MLFLOW_TOKEN,
  'github-token': GITHUB_TOKEN,
}

/** Records every secret form found in text; returns how many. */
function search(where: string, text: string, record = true): number {
  let found = 0
  for (const [name, secret] of Object.entries(SECRETS)) {
    for (const form of forms(secret)) {
      if (text.includes(form)) {
        found += 1
        if (record) hits.push(`${name} in ${where}`)
      }
    }
  }
  return found
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
}

function searchFiles(label: string, dir: string): number {
  let n = 0
  for (const file of filesUnder(dir))
    n += search(`${label}/${path.relative(dir, file)}`, fs.readFileSync(file, 'latin1'))
  return n
}

/** Searches everything one run wrote; expects the masks for the secrets it was given. */
async function searchRun(name: string, run: ActionProcessResult, given: string[]): Promise<number> {
  let n = 0
  const lines = [...run.stdout.split('\n'), ...run.stderr.split('\n')]
  const masks = lines.filter((l) => l.startsWith('::add-mask::'))
  for (const secret of given) expect(masks).toContain(`::add-mask::${secret}`)
  for (const [i, line] of lines.entries())
    if (!line.startsWith('::add-mask::')) n += search(`${name} log line ${i + 1}`, line)
  n += search(`${name} summary`, run.summary)
  n += search(`${name} outputs file`, fs.readFileSync(path.join(run.dir, 'github-output'), 'utf8'))
  n += searchFiles(`${name} RUNNER_TEMP`, run.runnerTemp)
  const artifact = artifacts.artifacts.find((a) => String(a.id) === run.outputs['artifact-id'])
  if (artifact) {
    const signed = await artifacts.twirp<{ signed_url: string }>('GetSignedArtifactURL', {
      name: artifact.name,
    })
    const response = await fetch(signed.body.signed_url)
    const dir = fs.mkdtempSync(path.join(tmp, `artifact-${name}-`))
    const zip = path.join(dir, 'artifact.zip')
    fs.writeFileSync(zip, Buffer.from(await response.arrayBuffer()))
    execFileSync('unzip', ['-q', zip, '-d', path.join(dir, 'files')])
    expect(filesUnder(path.join(dir, 'files')).length).toBeGreaterThan(0)
    n += search(`${name} artifact zip`, fs.readFileSync(zip, 'latin1'))
    n += searchFiles(`${name} artifact`, path.join(dir, 'files'))
  }
  const upload = codeScanning.uploads.find((u) => u.id === run.outputs['sarif-id'])
  if (upload) n += search(`${name} SARIF upload`, upload.sarifText + JSON.stringify(upload.fields))
  if (run.outputs.image) {
    n += search(
      `${name} image labels`,
      execFileSync('docker', ['image', 'inspect', run.outputs.image], { encoding: 'utf8' }),
    )
  }
  return n
}

function inputsFor(extra: Record<string, string>): Record<string, string> {
  return {
    dataset: 'model/iris.csv',
    'mlflow-tracking-uri': mlflow.url,
    'mlflow-username': ADMIN,
    'mlflow-password': PASSWORD,
    'github-token': GITHUB_TOKEN,
    'trivy-cache-dir': cacheDir,
    'trivy-skip-db-update': 'true',
    'build-args': `BASE_IMAGE=${MLSECOPS_BASE_IMAGE}`,
    ...extra,
  }
}

async function runCase(name: string, inputs: Record<string, string>): Promise<ActionProcessResult> {
  const result = await runActionProcess({
    tmp,
    name,
    workspace,
    repository: `${OWNER}/${REPO}`,
    inputs,
    env: services.env(),
  })
  if (result.outputs.image) images.push(result.outputs.image)
  runs += 1
  if (result.code === 0) completed += 1
  else {
    const errors = result.stdout.split('\n').filter((l) => l.startsWith('::error'))
    if (errors.length >= 1 && errors.every((l) => !l.includes('%0A'))) failedCleanly += 1
  }
  return result
}

beforeAll(async () => {
  ;({ tmp, workspace, cacheDir } = preparePipelineDirs('secrets-itest-'))
  // The dataset is a path input: it must be inside the workspace.
  fs.copyFileSync(
    path.join(REPO_ROOT, 'model', 'iris.csv'),
    path.join(workspace, 'model', 'iris.csv'),
  )
  services = await startPipelineServices(tmp, {
    owner: OWNER,
    repo: REPO,
    token: GITHUB_TOKEN,
    mlflow: { basicAuth: { adminUsername: ADMIN, adminPassword: PASSWORD } },
  })
  ;({ mlflow, artifacts, codeScanning } = services)
}, 300_000)

afterAll(async () => {
  await services?.stop()
  removeImages(...images)
  recordRobustness({
    kind: 'secrets',
    runs,
    completed,
    failedCleanly,
    faultsInjected: 0,
    duplicates: 0,
    runningLeft: 0,
    secretsFound: hits.length,
  })
  if (hits.length > 0) console.log(`secret hits:\n${hits.join('\n')}`)
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

describe('no secret in any log, summary, output, report, artifact or MLflow record', () => {
  it('the password (basic auth, admin password changed) is really required: the default one is refused', async () => {
    const refused = await requestOnce(
      `${mlflow.url}/api/2.0/mlflow/experiments/search?max_results=1`,
      {
        headers: { Authorization: `Basic ${Buffer.from('admin:password1234').toString('base64')}` },
      },
    )
    expect(refused.status).toBe(401)
    // The search is live: each secret is found raw, in a Basic header and URL-encoded.
    const basic = `Authorization: Basic ${Buffer.from(`${ADMIN}:${PASSWORD}`).toString('base64')}`
    expect(search('control', basic, false)).toBeGreaterThanOrEqual(1)
    expect(
      search('control', `?token=${encodeURIComponent(MLFLOW_TOKEN)}`, false),
    ).toBeGreaterThanOrEqual(1)
    expect(search('control', `${GITHUB_TOKEN} ${PASSWORD}`, false)).toBeGreaterThanOrEqual(2)
  })

  it('a passing and a failing pipeline with the password and the GitHub token: 0 hits', async () => {
    const passing = await runCase(
      'passing',
      inputsFor({ 'fail-on-severity': 'none', 'artifact-name': 'secrets-passing' }),
    )
    expect(passing.code).toBe(0)
    expect(passing.outputs.gate).toBe('passed')
    expect(passing.outputs['artifact-id']).toMatch(/^\d+$/)
    expect(passing.outputs['sarif-id']).toBeTruthy()
    const failing = await runCase(
      'failing',
      inputsFor({ 'fail-on-severity': 'HIGH', 'artifact-name': 'secrets-failing' }),
    )
    expect(failing.code).toBe(1)
    expect(failing.outputs.gate).toBe('failed')
    expect(await searchRun('passing', passing, [PASSWORD, GITHUB_TOKEN])).toBe(0)
    expect(await searchRun('failing', failing, [PASSWORD, GITHUB_TOKEN])).toBe(0)

    // MLflow's stored records, read with its Python client as the admin; and its artifact store on disk.
    const stored = readWithMlflowPython(
      mlflow.url,
      { experiment: 'mlsecops', run_id: passing.outputs['run-id'], model_name: 'secrets' },
      { MLFLOW_TRACKING_USERNAME: ADMIN, MLFLOW_TRACKING_PASSWORD: PASSWORD },
    ) as { runs: unknown[]; versions: unknown[] }
    expect(stored.runs).toHaveLength(2)
    expect(stored.versions).toHaveLength(2)
    expect(search('MLflow runs, params, tags, versions', JSON.stringify(stored))).toBe(0)
    expect(searchFiles('MLflow artifact store', path.join(mlflow.dir, 'artifacts'))).toBe(0)
  })

  it('mlflow-token set with the password: the token wins, the server refuses it, one clean line, 0 hits', async () => {
    const run = await runCase(
      'token-refused',
      inputsFor({ 'mlflow-token': MLFLOW_TOKEN, 'artifact-name': 'secrets-token' }),
    )
    expect(run.code).toBe(1)
    const errors = run.stdout.split('\n').filter((l) => l.startsWith('::error'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/HTTP 401/)
    expect(await searchRun('token-refused', run, [PASSWORD, MLFLOW_TOKEN, GITHUB_TOKEN])).toBe(0)
  })

  it('mlflow-token set but unused (no tracking URI): masked anyway, 0 hits', async () => {
    const run = await runCase('token-unused', {
      dataset: 'model/iris.csv',
      'mlflow-tracking-uri': '',
      'mlflow-token': MLFLOW_TOKEN,
      'github-token': GITHUB_TOKEN,
      build: 'false',
      'upload-artifact': 'false',
      'upload-sarif': 'false',
    })
    expect(run.code).toBe(0)
    expect(await searchRun('token-unused', run, [MLFLOW_TOKEN, GITHUB_TOKEN])).toBe(0)
    expect(hits).toEqual([])
  })
})
