/**
 * Runs the bundled action (`node dist/index.js`) as a separate process, the way the runner starts it: every
 * input from action.yml's defaults, overridden by the test's inputs, GITHUB_* variables, an output file and a
 * step-summary file in a fresh directory. Nothing of the test process's INPUT_/GITHUB_/RUNNER_/ACTIONS_/MLFLOW_
 * variables leaks in. Used by the robustness tests (concurrency, secrets, fail-closed).
 */
import { spawn } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parse as parseYaml } from 'yaml'
import { REPO_ROOT } from './env.js'

/** The bundle under test; MLSECOPS_DIST points at another build (e.g. a fresh one outside dist/). */
export const DIST = process.env.MLSECOPS_DIST || path.join(REPO_ROOT, 'dist', 'index.js')

export interface ActionProcessResult {
  code: number | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  /** The run's own directory: output and summary files, runner temp. */
  dir: string
  runnerTemp: string
  sha: string
  runId: string
  elapsedMs: number
}

export interface ActionProcessOptions {
  /** A directory to create the run's directory in. */
  tmp: string
  /** Label for the run's directory. */
  name: string
  inputs: Record<string, string>
  /** Extra environment (wins over everything else). */
  env?: Record<string, string>
  /** GITHUB_WORKSPACE and the working directory (default: the run's directory). */
  workspace?: string
  repository?: string
  runId?: string
  /** Kill the process after this long (default 10 min). */
  timeoutMs?: number
}

/** action.yml's inputs with their defaults, as the runner fills them in. */
export function actionDefaults(): Record<string, string> {
  const action = parseYaml(fs.readFileSync(path.join(REPO_ROOT, 'action.yml'), 'utf8')) as {
    inputs: Record<string, { default?: string }>
  }
  return Object.fromEntries(
    Object.entries(action.inputs).map(([name, spec]) => [name, String(spec.default ?? '')]),
  )
}

/** Parses a GITHUB_OUTPUT file (name<<delimiter ... delimiter). */
export function readOutputFile(file: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : []
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i])
    if (!m) continue
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i])
    out[m[1]] = value.join('\n')
  }
  return out
}

export function requireDist(): void {
  if (!fs.existsSync(DIST)) throw new Error(`${DIST} is missing: run npm run build`)
}

/** Starts `node dist/index.js` and resolves when it has exited. */
export async function runActionProcess(
  options: ActionProcessOptions,
): Promise<ActionProcessResult> {
  const dir = fs.mkdtempSync(path.join(options.tmp, `${options.name}-`))
  const runnerTemp = path.join(dir, 'runner-temp')
  fs.mkdirSync(runnerTemp)
  const outputFile = path.join(dir, 'github-output')
  const summaryFile = path.join(dir, 'step-summary.md')
  fs.writeFileSync(outputFile, '')
  fs.writeFileSync(summaryFile, '')
  const sha = crypto.randomBytes(20).toString('hex')
  const runId = options.runId ?? String(1000 + crypto.randomInt(1e9))
  const workspace = options.workspace ?? dir

  const base: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue
    if (/^(INPUT_|GITHUB_|RUNNER_|ACTIONS_|MLFLOW_)/.test(key)) continue
    base[key] = value
  }
  const inputs = { ...actionDefaults(), ...options.inputs }
  const inputEnv = Object.fromEntries(
    Object.entries(inputs).map(([k, v]) => [`INPUT_${k.replace(/ /g, '_').toUpperCase()}`, v]),
  )
  const repository = options.repository ?? 'octo/robustness'
  const env: Record<string, string> = {
    ...base,
    ...inputEnv,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_WORKSPACE: workspace,
    GITHUB_REPOSITORY: repository,
    GITHUB_REPOSITORY_OWNER: repository.split('/')[0],
    GITHUB_SHA: sha,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_ACTOR: 'octocat',
    GITHUB_WORKFLOW: 'mlsecops',
    GITHUB_JOB: 'model',
    GITHUB_RUN_ID: runId,
    GITHUB_RUN_ATTEMPT: '1',
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: path.join(dir, 'tool-cache'),
    ...options.env,
  }
  const started = Date.now()
  const child = spawn(process.execPath, [DIST], {
    cwd: workspace,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000)
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  clearTimeout(timer)
  fs.writeFileSync(path.join(dir, 'stdout.log'), stdout)
  fs.writeFileSync(path.join(dir, 'stderr.log'), stderr)
  return {
    code,
    stdout,
    stderr,
    outputs: readOutputFile(outputFile),
    summary: fs.readFileSync(summaryFile, 'utf8'),
    dir,
    runnerTemp,
    sha,
    runId,
    elapsedMs: Date.now() - started,
  }
}

/** The workflow-command lines a run printed, without the ::add-mask:: ones. */
export function visibleLines(text: string): string[] {
  return text.split('\n').filter((l) => !l.startsWith('::add-mask::'))
}

/** Appends one JSON record to $MLSECOPS_ROBUSTNESS_OUT (read by scripts/robustness.sh), if set. */
export function recordRobustness(record: Record<string, unknown>): void {
  const file = process.env.MLSECOPS_ROBUSTNESS_OUT
  if (!file) return
  fs.appendFileSync(file, JSON.stringify(record) + '\n')
}
