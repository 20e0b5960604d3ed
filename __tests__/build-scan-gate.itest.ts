/**
 * Integration: the whole action's run() (train -> build -> scan -> gate) on the real engine and the real Trivy
 * with the test DB, the way a runner starts it (INPUT_* variables, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY). It checks
 * the outputs a workflow would read and how the job fails: a tripped gate after both reports exist, a passing
 * threshold above the findings, and a broken scanner as a ScannerError rather than a pass.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { run } from '../src/main.js'
import {
  copyExampleContext,
  docker,
  removeImages,
  requireDocker,
  uniqueName,
} from './stack/docker.js'
import { MLSECOPS_BASE_IMAGE, MLSECOPS_TRIVY_DIR, TRIVY_BINARY } from './stack/env.js'
import { expectedVulnerabilities, writeTrivyTestDb } from './stack/trivy-test-db.js'

const savedEnv = { ...process.env }
let tmp: string
let workspace: string
let cacheDir: string
const image = `${uniqueName('mlsecops-itest-run')}:abc1234`
/** Every image id a run built: each run re-tags the image, so earlier ones would be left dangling. */
const builtIds = new Set<string>()

interface RunOutcome {
  outputs: Record<string, string>
  errors: string[]
  summary: string
}

/** GITHUB_OUTPUT holds `name<<delimiter\nvalue\ndelimiter` blocks. */
function readOutputs(file: string): Record<string, string> {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
  const outputs: Record<string, string> = {}
  const re = /^([^\n<]+)<<(\S+)\n([\s\S]*?)\n?\2$/gm
  for (let m = re.exec(text); m; m = re.exec(text)) outputs[m[1]] = m[3]
  return outputs
}

async function runAction(inputs: Record<string, string>, name: string): Promise<RunOutcome> {
  const dir = fs.mkdtempSync(path.join(tmp, `${name}-`))
  const outputFile = path.join(dir, 'output')
  const summaryFile = path.join(dir, 'summary.md')
  fs.writeFileSync(outputFile, '')
  fs.writeFileSync(summaryFile, '')
  for (const key of Object.keys(process.env)) if (key.startsWith('INPUT_')) delete process.env[key]
  Object.assign(process.env, {
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: path.join(dir, 'runner-temp'),
  })
  fs.mkdirSync(process.env.RUNNER_TEMP as string)
  const base: Record<string, string> = {
    'build-args': `BASE_IMAGE=${MLSECOPS_BASE_IMAGE}`,
    image,
    scanners: 'vuln',
    'trivy-cache-dir': cacheDir,
    'trivy-skip-db-update': 'true',
    'upload-artifact': 'false',
    'upload-sarif': 'false',
  }
  for (const [k, v] of Object.entries({ ...base, ...inputs })) {
    process.env[`INPUT_${k.toUpperCase()}`] = v
  }
  const errors: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  const spy = jest
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
      for (const line of text.split('\n'))
        if (line.startsWith('::error')) errors.push(line.replace(/^::error[^:]*::/, ''))
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest)
    })
  try {
    await run()
  } finally {
    spy.mockRestore()
    process.exitCode = 0
  }
  const outputs = readOutputs(outputFile)
  if (outputs['image-id']) builtIds.add(outputs['image-id'])
  return { outputs, errors, summary: fs.readFileSync(summaryFile, 'utf8') }
}

beforeAll(() => {
  requireDocker()
  if (!fs.existsSync(TRIVY_BINARY))
    throw new Error(`${TRIVY_BINARY} is missing: run scripts/stack/install.sh`)
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlsecops-run-'))
  workspace = copyExampleContext(path.join(tmp, 'workspace'))
  // The workspace's .trivyignore is picked up by default (input trivyignore empty).
  fs.writeFileSync(
    path.join(workspace, '.trivyignore'),
    '# zlib: accepted risk for this test\nCVE-2099-1001\n',
  )
  cacheDir = path.join(tmp, 'trivy-cache')
  writeTrivyTestDb(cacheDir)
  Object.assign(process.env, {
    PATH: `${MLSECOPS_TRIVY_DIR}${path.delimiter}${process.env.PATH ?? ''}`,
    GITHUB_WORKSPACE: workspace,
    GITHUB_REPOSITORY: 'example/iris',
    GITHUB_SHA: 'abc1234def5678abc1234def5678abc1234def56',
    GITHUB_SERVER_URL: 'https://github.com',
    RUNNER_TOOL_CACHE: path.join(tmp, 'tool-cache'),
  })
  delete process.env.MLFLOW_TRACKING_URI
  delete process.env.ACTIONS_CACHE_URL
  delete process.env.ACTIONS_RESULTS_URL
})

afterEach(() => {
  for (const key of Object.keys(process.env)) if (key.startsWith('INPUT_')) delete process.env[key]
})

afterAll(() => {
  process.env = { ...savedEnv }
  removeImages(image, ...builtIds)
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

describe('run(): build, scan and gate', () => {
  it('fails the job on fail-on-severity HIGH, after the outputs, both reports and the summary exist', async () => {
    const expected = expectedVulnerabilities(MLSECOPS_BASE_IMAGE).filter(
      (e) => e.id !== 'CVE-2099-1001',
    )
    const { outputs, errors, summary } = await runAction({ 'fail-on-severity': 'HIGH' }, 'high')

    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(
      /^The image scan found \d+ finding\(s\) at or above fail-on-severity HIGH/,
    )
    expect(outputs.gate).toBe('failed')
    expect(outputs.image).toBe(image)
    expect(outputs['image-id']).toBe(
      docker(['image', 'inspect', '--format', '{{.Id}}', image]).trim(),
    )
    expect(fs.existsSync(outputs['json-report'])).toBe(true)
    expect(fs.existsSync(outputs['sarif-report'])).toBe(true)
    // The step's own work directory: <RUNNER_TEMP>/mlsecops/<step>-<random>/reports.
    expect(path.dirname(path.dirname(outputs['json-report']))).toBe(
      path.dirname(outputs['model-dir']),
    )
    expect(path.dirname(outputs['json-report'])).toMatch(
      new RegExp(
        `^${path.join(process.env.RUNNER_TEMP as string, 'mlsecops')}/[^/]+-[A-Za-z0-9]{6}/reports$`,
      ),
    )
    const count = (s: string) => String(expected.filter((e) => e.severity === s).length)
    expect(outputs.critical).toBe('0') // the workspace's .trivyignore took the only CRITICAL out
    expect(outputs.high).toBe(count('HIGH'))
    expect(outputs.medium).toBe(count('MEDIUM'))
    expect(outputs.low).toBe(count('LOW'))
    expect(outputs.unknown).toBe(count('UNKNOWN'))
    expect(summary).toContain('### Image scan')
    expect(summary).toContain('### Image\n')
    // The image carries the commit that built it.
    const labels = JSON.parse(
      docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', image]),
    ) as Record<string, string>
    expect(labels['org.opencontainers.image.revision']).toBe(process.env.GITHUB_SHA)
    expect(labels['org.opencontainers.image.source']).toBe('https://github.com/example/iris')
  })

  it('passes with fail-on-severity above every finding left', async () => {
    const { outputs, errors } = await runAction({ 'fail-on-severity': 'CRITICAL' }, 'critical')
    expect(errors).toEqual([])
    expect(outputs.gate).toBe('passed')
    expect(Number(outputs.high)).toBeGreaterThan(0)
  })

  it('ignore-unfixed keeps the unfixed MEDIUM finding out of the gate but in the counts', async () => {
    const { outputs, errors } = await runAction(
      { 'fail-on-severity': 'MEDIUM', 'ignore-unfixed': 'true' },
      'unfixed',
    )
    // Only the fixed HIGH findings trip a MEDIUM gate: the unfixed MEDIUM one (tar) is left out of it.
    expect(outputs.gate).toBe('failed')
    expect(Number(outputs.medium)).toBe(1)
    expect(errors[0]).toBe(
      `The image scan found ${outputs.high} finding(s) at or above fail-on-severity MEDIUM (unfixed vulnerabilities left out): ${outputs.high} HIGH (CVE-2099-1002, CVE-2099-1003).`,
    )
  })

  it('a scanner without its DB fails the job as a ScannerError, never as a pass', async () => {
    const { outputs, errors } = await runAction(
      { 'fail-on-severity': 'none', 'trivy-cache-dir': path.join(tmp, 'no-db-cache') },
      'no-db',
    )
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(
      /^ScannerError: trivy-skip-db-update is true but there is no vulnerability DB/,
    )
    expect(outputs.gate).toBeUndefined()
    expect(outputs.image).toBe(image) // the build's outputs were set before the scan broke
  })
})
