/**
 * run() in-process with @actions/core recorded, and every way out to a process mocked: @actions/exec and
 * node:child_process throw if called, and the build and scan stages are replaced by recorders. Used by
 * main.test.ts and bad-input.test.ts. Call loadRunHarness() at the top level of a test file, before any
 * import of src/.
 */
import { afterAll, jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as core from '../../__fixtures__/core.js'
import type { BuildOptions, BuildResult } from '../../src/docker/build-image.js'
import type { ScanResult } from '../../src/trivy/findings.js'
import type { ScanOptions } from '../../src/trivy/scan-image.js'

export interface RunRecord {
  outputs: Map<string, string>
  failed: string[]
  /** Every core call that matters for ordering: 'output:<name>', 'failed', 'summary'. */
  events: string[]
  /** Commands anything tried to run (must stay empty for bad input). */
  commands: string[]
}

export interface RunHarness {
  run: () => Promise<void>
  record: RunRecord
  buildImage: jest.Mock<(o: BuildOptions) => Promise<BuildResult>>
  scanImage: jest.Mock<(o: ScanOptions) => Promise<ScanResult>>
  /** A clean environment (runner variables, temp workspace), then the given INPUT_ variables. */
  prepare: (inputs?: Record<string, string>, env?: Record<string, string>) => RunPaths
  /** Undo prepare(): environment restored, temp dirs removed. */
  cleanup: () => void
}

export interface RunPaths {
  workspace: string
  runnerTemp: string
  summaryFile: string
  outputFile: string
}

export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

export async function loadRunHarness(): Promise<RunHarness> {
  const record: RunRecord = { outputs: new Map(), failed: [], events: [], commands: [] }
  core.setOutput.mockImplementation((name: string, value: unknown) => {
    record.outputs.set(name, String(value))
    record.events.push(`output:${name}`)
  })
  core.setFailed.mockImplementation((message: string | Error) => {
    record.failed.push(String(message))
    record.events.push('failed')
  })
  jest.unstable_mockModule('@actions/core', () => core)

  const refuse =
    (what: string) =>
    (...args: unknown[]): never => {
      record.commands.push(`${what} ${JSON.stringify(args[0])}`)
      throw new Error(`test harness: ${what} called`)
    }
  const actualExec = await import('@actions/exec')
  jest.unstable_mockModule('@actions/exec', () => ({
    ...actualExec,
    exec: jest.fn(async (...args: unknown[]) => refuse('exec')(...args)),
    getExecOutput: jest.fn(async (...args: unknown[]) => refuse('getExecOutput')(...args)),
  }))
  const actualChild = await import('node:child_process')
  const childMock = {
    ...actualChild,
    spawn: jest.fn(refuse('spawn')),
    spawnSync: jest.fn(refuse('spawnSync')),
    exec: jest.fn(refuse('child_process.exec')),
    execSync: jest.fn(refuse('execSync')),
    execFile: jest.fn(refuse('execFile')),
    execFileSync: jest.fn(refuse('execFileSync')),
    fork: jest.fn(refuse('fork')),
  }
  jest.unstable_mockModule('node:child_process', () => ({ ...childMock, default: childMock }))
  jest.unstable_mockModule('child_process', () => ({ ...childMock, default: childMock }))

  const buildImage = jest.fn(async (o: BuildOptions): Promise<BuildResult> => {
    record.events.push('build')
    return {
      image: o.image,
      imageId: `sha256:${'0'.repeat(64)}`,
      labels: {},
      requestedLabels: {},
      durationMs: 1,
    }
  })
  const actualBuild = await import('../../src/docker/build-image.js')
  jest.unstable_mockModule('../../src/docker/build-image.js', () => ({
    ...actualBuild,
    buildImage,
  }))
  const scanImage = jest.fn(async (o: ScanOptions): Promise<ScanResult> => {
    record.events.push('scan')
    return {
      jsonReport: path.join(o.reportsDir, 'trivy-report.json'),
      sarifReport: path.join(o.reportsDir, 'trivy-report.sarif'),
      findings: [],
      counts: { UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 },
      trivyVersion: o.trivyVersion,
      image: o.image,
    }
  })
  const actualScan = await import('../../src/trivy/scan-image.js')
  jest.unstable_mockModule('../../src/trivy/scan-image.js', () => ({ ...actualScan, scanImage }))

  const { run } = await import('../../src/main.js')

  const saved = { ...process.env }
  const dirs: string[] = []
  // @actions/core's summary remembers the first GITHUB_STEP_SUMMARY it wrote to: one file for the whole
  // test file, emptied by prepare().
  const summaryRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'run-harness-summary-'))
  const summaryFile = path.join(summaryRoot, 'summary.md')
  afterAll(() => fs.rmSync(summaryRoot, { recursive: true, force: true }))
  const prepare = (
    inputs: Record<string, string> = {},
    env: Record<string, string> = {},
  ): RunPaths => {
    for (const key of Object.keys(process.env)) {
      if (/^(INPUT_|MLFLOW_|GITHUB_|RUNNER_|ACTIONS_)/.test(key)) delete process.env[key]
    }
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'run-harness-'))
    dirs.push(root)
    const paths: RunPaths = {
      workspace: path.join(root, 'workspace'),
      runnerTemp: path.join(root, 'runner-temp'),
      summaryFile,
      outputFile: path.join(root, 'output.txt'),
    }
    fs.mkdirSync(paths.workspace)
    fs.mkdirSync(paths.runnerTemp)
    fs.writeFileSync(paths.summaryFile, '')
    Object.assign(process.env, {
      GITHUB_WORKSPACE: paths.workspace,
      RUNNER_TEMP: paths.runnerTemp,
      RUNNER_TOOL_CACHE: path.join(root, 'tool-cache'),
      GITHUB_STEP_SUMMARY: paths.summaryFile,
      GITHUB_REPOSITORY: 'octo/iris-demo',
      GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
      ...env,
    })
    for (const [name, value] of Object.entries(inputs)) process.env[inputVariable(name)] = value
    record.outputs.clear()
    record.failed.length = 0
    record.events.length = 0
    record.commands.length = 0
    buildImage.mockClear()
    scanImage.mockClear()
    return paths
  }
  const cleanup = (): void => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
    Object.assign(process.env, saved)
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
  }
  return { run, record, buildImage, scanImage, prepare, cleanup }
}
