/**
 * Runs the action in-process through run(), as the runner would: INPUT_* and GITHUB_* variables, output and
 * summary files, build and uploads off unless the inputs say otherwise. Captures everything @actions/core writes
 * to stdout, and puts the environment back afterwards.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { run } from '../../src/main.js'
import { readOutputFile } from './action-process.js'

export interface InProcessResult {
  outputs: Record<string, string>
  stdout: string
  summary: string
  failed: boolean
}

export async function runActionInProcess(options: {
  /** The workspace, and where the per-run directories and the summary file go. */
  tmp: string
  sha: string
  inputs: Record<string, string>
  env?: Record<string, string>
}): Promise<InProcessResult> {
  const { tmp } = options
  const dir = fs.mkdtempSync(path.join(tmp, 'action-'))
  const saved = { ...process.env }
  for (const key of Object.keys(process.env)) {
    if (key.startsWith('INPUT_') || key.startsWith('GITHUB_') || key.startsWith('MLFLOW_'))
      delete process.env[key]
  }
  const outputFile = path.join(dir, 'output.txt')
  // One summary file for every run: @actions/core's summary caches the path it saw first.
  const summaryFile = path.join(tmp, 'summary.md')
  fs.writeFileSync(outputFile, '')
  fs.writeFileSync(summaryFile, '')
  Object.assign(process.env, {
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_WORKSPACE: tmp,
    GITHUB_REPOSITORY: 'acme/iris',
    GITHUB_SHA: options.sha,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_ACTOR: 'octocat',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKFLOW: 'train',
    GITHUB_JOB: 'model',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_SERVER_URL: 'https://github.com',
    RUNNER_TEMP: dir,
    INPUT_BUILD: 'false',
    'INPUT_UPLOAD-ARTIFACT': 'false',
    'INPUT_UPLOAD-SARIF': 'false',
    ...options.env,
  })
  for (const [name, value] of Object.entries(options.inputs))
    process.env[`INPUT_${name.toUpperCase()}`] = value
  const chunks: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string | Uint8Array): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))
    return true
  }) as typeof process.stdout.write
  const exitCode = process.exitCode
  try {
    await run()
  } finally {
    process.stdout.write = write
  }
  const failed = process.exitCode === 1
  process.exitCode = exitCode
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
  Object.assign(process.env, saved)
  return {
    outputs: readOutputFile(outputFile),
    stdout: chunks.join(''),
    summary: fs.readFileSync(summaryFile, 'utf8'),
    failed,
  }
}
