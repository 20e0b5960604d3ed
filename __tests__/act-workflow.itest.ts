/**
 * Integration: a real runner reads the action. Every other whole-pipeline test starts `node dist/index.js` with
 * INPUT_ variables it writes itself; here nektos/act (built by scripts/stack/install.sh) runs the project's
 * workflow files __tests__/fixtures/workflows/pipeline-{pass,fail}.yml on the host
 * (`-P ubuntu-latest=-self-hosted`, no images): act reads action.yml, fills in its defaults and expressions
 * (`${{ github.token }}`), runs dist/index.js as the `node24` action `uses: ./`, and hands the outputs to the
 * later `if: always()` steps, which write them to a file the test reads. Checked: the outputs, the step outcome,
 * the job result (act's exit code and its "Job succeeded/failed" line), and MLflow's alias, against the local
 * MLflow, dockerd, and Trivy with the test DB. act gets only what it needs: a temp HOME, PATH with Trivy first,
 * the stack's addresses as `vars`, no cache server, no artifact server, no token, offline mode.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { docker, removeImages, uniqueName } from './stack/docker.js'
import {
  ACT_BINARY,
  MLSECOPS_ACT_VERSION,
  MLSECOPS_BASE_IMAGE,
  MLSECOPS_TRIVY_DIR,
  REPO_ROOT,
} from './stack/env.js'
import { startMlflowServer, type MlflowServer } from './stack/mlflow-server.js'
import { preparePipelineDirs, type PipelineDirs } from './stack/pipeline-stack.js'

const WORKFLOWS = path.join(REPO_ROOT, '__tests__', 'fixtures', 'workflows')

let dirs: PipelineDirs
let mlflow: MlflowServer
const images: string[] = []

interface ActRun {
  code: number | null
  log: string
  /** What the `if: always()` step wrote: the action step's outcome and its outputs. */
  result?: { outcome: string; outputs: Record<string, string> }
  image: string
}

/** Runs `act push -W <workflow>` in a fresh git repository with a temp HOME; resolves when act exits. */
async function runAct(kind: 'pass' | 'fail'): Promise<ActRun> {
  const dir = fs.mkdtempSync(path.join(dirs.tmp, `act-${kind}-`))
  const home = path.join(dir, 'home')
  const repo = path.join(dir, 'repo')
  fs.mkdirSync(home)
  fs.mkdirSync(path.join(repo, '.github', 'workflows'), { recursive: true })
  const workflow = path.join(repo, '.github', 'workflows', `pipeline-${kind}.yml`)
  fs.copyFileSync(path.join(WORKFLOWS, `pipeline-${kind}.yml`), workflow)
  // act takes the event's sha and ref from the repository it runs in.
  const git = (...args: string[]): void => {
    const r = spawnSync(
      'git',
      ['-c', 'user.name=act', '-c', 'user.email=act@example.com', ...args],
      {
        cwd: repo,
        encoding: 'utf8',
      },
    )
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`)
  }
  git('init', '-q', '-b', 'main')
  git('add', '.')
  git('commit', '-q', '-m', 'workflow')

  const image = `${uniqueName(`mlsecops-act-${kind}`)}:itest`
  images.push(image)
  const resultFile = path.join(dir, 'result.json')
  const vars = {
    SOURCE: REPO_ROOT,
    MLFLOW_TRACKING_URI: mlflow.url,
    BASE_IMAGE: MLSECOPS_BASE_IMAGE,
    IMAGE: image,
    TRIVY_CACHE_DIR: dirs.cacheDir,
    RESULT_FILE: resultFile,
  }
  const args = [
    'push',
    '-W',
    workflow,
    '-P',
    'ubuntu-latest=-self-hosted',
    '--action-offline-mode',
    '--no-cache-server',
    ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}=${v}`]),
  ]
  // Only what act and the steps need: no INPUT_/GITHUB_/ACTIONS_/MLFLOW_ variables of the test process.
  const env: Record<string, string> = {
    PATH: `${MLSECOPS_TRIVY_DIR}${path.delimiter}${process.env.PATH ?? ''}`,
    HOME: home,
    LANG: 'C.UTF-8',
  }
  if (process.env.DOCKER_HOST) env.DOCKER_HOST = process.env.DOCKER_HOST
  const child = spawn(ACT_BINARY, args, { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const chunks: Buffer[] = []
  child.stdout.on('data', (c: Buffer) => chunks.push(c))
  child.stderr.on('data', (c: Buffer) => chunks.push(c))
  const timer = setTimeout(() => child.kill('SIGKILL'), 540_000)
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  clearTimeout(timer)
  const log = Buffer.concat(chunks).toString('utf8')
  fs.writeFileSync(path.join(dir, 'act.log'), log)
  const result = fs.existsSync(resultFile)
    ? (JSON.parse(fs.readFileSync(resultFile, 'utf8')) as ActRun['result'])
    : undefined
  return { code, log, result, image }
}

/** The version MLflow's alias points at, or undefined when the model has no such alias. */
async function aliasVersion(model: string, alias: string): Promise<string | undefined> {
  const url = `${mlflow.url}/api/2.0/mlflow/registered-models/alias?name=${encodeURIComponent(model)}&alias=${alias}`
  const response = await fetch(url)
  if (response.status !== 200) return undefined
  return ((await response.json()) as { model_version: { version: string } }).model_version.version
}

function imageId(image: string): string {
  return docker(['image', 'inspect', '--format', '{{.Id}}', image]).trim()
}

beforeAll(async () => {
  if (!fs.existsSync(ACT_BINARY)) {
    throw new Error(`${ACT_BINARY} is missing: run scripts/stack/install.sh`)
  }
  const version = spawnSync(ACT_BINARY, ['--version'], { encoding: 'utf8' }).stdout
  expect(version).toContain(MLSECOPS_ACT_VERSION)
  dirs = preparePipelineDirs('mlsecops-act-', { updatedAt: '2026-11-20T06:00:00Z' })
  mlflow = await startMlflowServer()
})

afterAll(async () => {
  await mlflow?.stop()
  removeImages(...images)
  if (dirs && !process.env.MLSECOPS_KEEP_ACT) fs.rmSync(dirs.tmp, { recursive: true, force: true })
})

describe('act runs the workflow files with uses: ./', () => {
  it('pipeline-pass.yml: the job succeeds; later steps read every output; the alias moves', async () => {
    const run = await runAct('pass')
    const context = `act exit ${run.code}; log tail:\n${run.log.slice(-4000)}`
    expect({ code: run.code, context }).toMatchObject({ code: 0 })
    expect(run.log).toMatch(/Job succeeded/)
    expect(run.result?.outcome).toBe('success')
    const outputs = run.result!.outputs
    expect(outputs.gate).toBe('passed')
    expect(Number(outputs.accuracy)).toBeGreaterThanOrEqual(0.9)
    expect(outputs['model-version']).toBe('1')
    expect(outputs['model-uri']).toMatch(/^models:\/act-pipeline-pass\/1$|^models:\//)
    expect(outputs.image).toBe(run.image)
    expect(outputs['image-id']).toBe(imageId(run.image))
    // The test DB's advisories are found; fail-on-severity none lets them through.
    expect(Number(outputs.critical)).toBeGreaterThan(0)
    // action.yml's github-token default `${{ github.token }}` is empty under act: no upload, empty ids.
    expect(outputs['sarif-id']).toBe('')
    expect(outputs['artifact-id']).toBe('')
    expect(await aliasVersion('act-pipeline-pass', 'candidate')).toBe('1')
  })

  it('pipeline-fail.yml: the job fails at the gate, after every output reached the later steps', async () => {
    const run = await runAct('fail')
    const context = `act exit ${run.code}; log tail:\n${run.log.slice(-4000)}`
    expect({ failed: run.code !== 0, context }).toMatchObject({ failed: true })
    expect(run.log).toMatch(/Job failed/)
    expect(run.result?.outcome).toBe('failure')
    const outputs = run.result!.outputs
    expect(outputs.gate).toBe('failed')
    expect(Number(outputs.critical) + Number(outputs.high)).toBeGreaterThan(0)
    expect(outputs['model-version']).toBe('1')
    expect(outputs['image-id']).toBe(imageId(run.image))
    // The step after the failed one ran and saw gate=failed (its `test` passed).
    expect(run.log).toMatch(/Success - Main the gate output reaches a later step/)
    // No alias on a failed gate.
    expect(await aliasVersion('act-pipeline-fail', 'candidate')).toBeUndefined()
  })
})
