/**
 * End to end: the whole action as the runner starts it (`node dist/index.js`), with every input filled from
 * action.yml's defaults and then overridden the way a workflow would, against the real local stack: an MLflow
 * server, dockerd, Trivy with the test DB, Azurite behind the Twirp artifact service, and the code-scanning
 * endpoint. Independent checks: the artifact is downloaded through the service and unzipped with the system's
 * `unzip`; the SARIF the endpoint received is validated with the SARIF Multitool and ajv; MLflow is read back
 * with MLflow's own Python client; the run's artifacts are read from the server's artifact store on disk.
 *
 * dist/ must be fresh (`npm run build`): the lead's test script rebuilds it before the tests.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { runActionProcess, visibleLines, type ActionProcessResult } from './stack/action-process.js'
import { type ArtifactService } from './stack/artifact-service.js'
import { type CodeScanningServer } from './stack/code-scanning-server.js'
import { removeImages } from './stack/docker.js'
import { MLSECOPS_BASE_IMAGE, REPO_ROOT } from './stack/env.js'
import { readWithMlflowPython, type MlflowServer } from './stack/mlflow-server.js'
import {
  preparePipelineDirs,
  startPipelineServices,
  type PipelineServices,
} from './stack/pipeline-stack.js'
import { multitoolValidate, schemaValidate } from './stack/sarif.js'

jest.setTimeout(900_000)

const OWNER = 'octo'
const REPO = 'iris-e2e'
const MODEL = REPO // model-name defaults to the repository name
const TOKEN = `ghs_${crypto.randomBytes(18).toString('hex')}`
const DB_UPDATED_AT = '2026-11-20T06:00:00Z'
const SUMMARY_FIXTURE = path.join(REPO_ROOT, '__tests__', 'fixtures', 'summary', 'e2e-failing.md')

let tmp: string
let workspace: string
let cacheDir: string
let services: PipelineServices
let mlflow: MlflowServer
let artifacts: ArtifactService
let codeScanning: CodeScanningServer
const images: string[] = []

type ActionRun = ActionProcessResult

/** Runs `node dist/index.js` with a runner's environment; inputs override action.yml's defaults. */
async function runAction(
  name: string,
  inputs: Record<string, string>,
  env: Record<string, string> = {},
): Promise<ActionRun> {
  const run = await runActionProcess({
    tmp,
    name,
    inputs,
    workspace,
    repository: `${OWNER}/${REPO}`,
    runId: String(1000 + Math.floor(Math.random() * 1e6)),
    env: {
      ...services.env(),
      RUNNER_TOOL_CACHE: path.join(tmp, 'tool-cache'),
      ...env,
    },
  })
  images.push(`${MODEL}:${run.sha.slice(0, 7)}`)
  return run
}

/** Downloads artifact `name` through the service and unzips it with the system's unzip. */
async function downloadArtifact(name: string): Promise<string> {
  const signed = await artifacts.twirp<{ signed_url: string }>('GetSignedArtifactURL', { name })
  expect(signed.status).toBe(200)
  const response = await fetch(signed.body.signed_url)
  expect(response.status).toBe(200)
  const dir = fs.mkdtempSync(path.join(tmp, `download-${name}-`))
  const zip = path.join(dir, 'artifact.zip')
  fs.writeFileSync(zip, Buffer.from(await response.arrayBuffer()))
  execFileSync('unzip', ['-q', zip, '-d', path.join(dir, 'files')])
  return path.join(dir, 'files')
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

/** Every report file the action wrote is in the artifact, byte for byte. */
async function expectArtifactMatches(run: ActionRun, artifactName: string): Promise<void> {
  const id = run.outputs['artifact-id']
  expect(id).toMatch(/^\d+$/)
  const record = artifacts.artifacts.find((a) => String(a.id) === id)
  expect(record?.name).toBe(artifactName)
  expect(record?.finalized).toBe(true)
  const files = await downloadArtifact(artifactName)
  // Each step's own work directory: <RUNNER_TEMP>/mlsecops/<step>-<random>, the parent of model-dir.
  const workDir = path.dirname(run.outputs['model-dir'])
  const expected: [string, string][] = [
    ['reports/trivy-report.json', run.outputs['json-report']],
    ['reports/trivy-report.sarif', run.outputs['sarif-report']],
    ['model/metrics.json', path.join(run.outputs['model-dir'], 'metrics.json')],
    ['report.md', path.join(workDir, 'report.md')],
  ]
  for (const [entry, source] of expected) {
    expect(fs.existsSync(path.join(files, entry))).toBe(true)
    expect(sha256(path.join(files, entry))).toBe(sha256(source))
  }
}

/** The upload the endpoint received for this run: documented fields, and a SARIF that validates. */
function expectCodeScanningUpload(run: ActionRun): void {
  const upload = codeScanning.uploads.find((u) => u.id === run.outputs['sarif-id'])
  expect(upload).toBeDefined()
  expect(upload!.fields.commit_sha).toBe(run.sha)
  expect(upload!.fields.ref).toBe('refs/heads/main')
  expect(upload!.fields.checkout_uri).toBe(`file://${workspace}`)
  expect(upload!.fields.tool_name).toBe('Trivy')
  expect(upload!.headers.authorization).toBe(`Bearer ${TOKEN}`)
  const file = path.join(tmp, `received-${upload!.id}.sarif`)
  fs.writeFileSync(file, upload!.sarifText)
  expect(schemaValidate(upload!.sarif)).toEqual([])
  const errors = multitoolValidate(file, tmp).filter((v) => v.level === 'error')
  expect(errors).toEqual([])
  const runs = upload!.sarif.runs as { automationDetails?: { id?: string }; results?: unknown[] }[]
  expect(runs[0].automationDetails?.id).toBe('mlsecops/')
  // Same results as the report on disk (nothing had to be dropped for GitHub's limits).
  const local = JSON.parse(fs.readFileSync(run.outputs['sarif-report'], 'utf8')) as {
    runs: { results?: unknown[] }[]
  }
  expect(runs[0].results?.length).toBe(local.runs[0].results?.length)
}

interface MlflowView {
  run: { status: string; tags: Record<string, string>; artifacts: string[] }
  versions: { version: string; run_id: string; tags: Record<string, string> }[]
  aliases: Record<string, string>
}

function readMlflow(runId: string): MlflowView {
  return readWithMlflowPython(mlflow.url, {
    experiment: 'mlsecops',
    run_id: runId,
    model_name: MODEL,
  }) as unknown as MlflowView
}

/** The version's verdict tags agree with the action's outputs; the reports are run artifacts. */
function expectVerdict(run: ActionRun, view: MlflowView, status: 'passed' | 'failed'): void {
  const version = view.versions.find((v) => v.version === run.outputs['model-version'])!
  expect(version.run_id).toBe(run.outputs['run-id'])
  const tags = version.tags
  expect(tags.scan_status).toBe(status)
  expect(tags.gate).toBe(status)
  for (const s of ['critical', 'high', 'medium', 'low', 'unknown']) {
    expect(tags[`scan_${s}`]).toBe(run.outputs[s])
  }
  expect(tags.trivy_version).toBe('0.74.0')
  expect(tags.trivy_db_updated_at).toBe(DB_UPDATED_AT)
  expect(tags.image).toBe(run.outputs.image)
  expect(tags.image_id).toBe(run.outputs['image-id'])
  expect(tags.image_id).toMatch(/^sha256:[0-9a-f]{64}$/)
  if (status === 'failed') expect(tags.gate_reason).toMatch(/fail-on-severity HIGH/)
  else expect(tags.gate_reason).toBeUndefined()
  expect(view.run.artifacts).toEqual(
    expect.arrayContaining(['scan/trivy-report.json', 'scan/trivy-report.sarif']),
  )
  // Byte for byte, read from the server's artifact store on disk.
  const stored = execFileSync(
    'find',
    [
      path.join(mlflow.dir, 'artifacts'),
      '-path',
      `*/${run.outputs['run-id']}/artifacts/scan/trivy-report.json`,
    ],
    {
      encoding: 'utf8',
    },
  ).trim()
  expect(stored).not.toBe('')
  expect(sha256(stored)).toBe(sha256(run.outputs['json-report']))
}

/** Replaces what changes from run to run (ids, hashes, ports, times) in the job summary. */
export function normalizeSummary(text: string): string {
  return (
    text
      .replace(/http:\/\/127\.0\.0\.1:\d+/g, 'http://127.0.0.1:PORT')
      .replace(/sha256:[0-9a-f]{64}/g, 'sha256:IMAGE_ID')
      .replace(/\b[0-9a-f]{40}\b/g, 'GIT_SHA')
      .replace(/\b[0-9a-f]{32}\b/g, 'RUN_ID')
      .replace(/\bm-[0-9a-f]{32}\b/g, 'MODEL_ID')
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID')
      .replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\b/g, 'TIMESTAMP')
      .replace(/:[0-9a-f]{7}\b/g, ':SHORT_SHA')
      .replace(/\b[0-9a-f]{7}\b/g, 'SHORT_SHA')
      .replace(/iris-e2e-\d+-1\b/g, 'iris-e2e-RUN-1')
      .replace(/\/actions\/runs\/\d+/g, '/actions/runs/RUN')
      .replace(/\| \d+\.\d s \|/g, '| N.N s |')
      .replace(/^\*\*Time per stage:\*\*.*$/m, '**Time per stage:** TIMES')
      .replace(/id \d+\)/g, 'id N)')
      // The base image's Debian point release comes from debootstrap at install time.
      .replace(/\(debian 12\.\d+\)/g, '(debian 12.x)')
  )
}

beforeAll(async () => {
  ;({ tmp, workspace, cacheDir } = preparePipelineDirs('mlsecops-e2e-', {
    updatedAt: DB_UPDATED_AT,
    repositoryCopy: true,
  }))
  services = await startPipelineServices(tmp, { owner: OWNER, repo: REPO, token: TOKEN })
  ;({ mlflow, artifacts, codeScanning } = services)
}, 300_000)

afterAll(async () => {
  await services?.stop()
  removeImages(...images)
  if (tmp && !process.env.MLSECOPS_KEEP_E2E) fs.rmSync(tmp, { recursive: true, force: true })
})

/** The inputs every case sets, on top of action.yml's defaults. */
function stackInputs(extra: Record<string, string>): Record<string, string> {
  return {
    'mlflow-tracking-uri': mlflow.url,
    'github-token': TOKEN,
    'trivy-cache-dir': cacheDir,
    'trivy-skip-db-update': 'true',
    'build-args': `BASE_IMAGE=${MLSECOPS_BASE_IMAGE}`,
    ...extra,
  }
}

describe('node dist/index.js against the local stack', () => {
  let passing: ActionRun
  let failing: ActionRun

  it('passes every gate (fail-on-severity none): green, artifact, SARIF, verdict tags, alias on the version', async () => {
    const started = Date.now()
    passing = await runAction(
      'passing',
      stackInputs({ 'fail-on-severity': 'none', 'artifact-name': 'mlsecops-report-passing' }),
    )
    console.log(`passing case: ${Date.now() - started} ms`)
    expect({ code: passing.code, stderr: passing.stderr }).toEqual({ code: 0, stderr: '' })
    expect(passing.stdout).not.toMatch(/^::error::/m)
    const o = passing.outputs
    expect(o.gate).toBe('passed')
    expect(o['model-version']).toBe('1')
    expect(o['model-uri']).toBe(`models:/${MODEL}/1`)
    expect(Number(o.critical)).toBeGreaterThan(0) // the test DB's CRITICAL advisory is there...
    expect(o['sarif-id']).toMatch(/^[0-9a-f-]{36}$/) // ...and the gate was off.

    await expectArtifactMatches(passing, 'mlsecops-report-passing')
    expectCodeScanningUpload(passing)

    const view = readMlflow(o['run-id'])
    expect(view.run.status).toBe('FINISHED')
    expectVerdict(passing, view, 'passed')
    expect(view.aliases).toEqual({ candidate: '1' })

    expect(passing.summary).toMatch(/### Verdict: passed/)
    expect(passing.summary).toMatch(/alias `candidate` now points at version 1/)
    expect(passing.summary).not.toContain(TOKEN)
    // The only place the token may appear is the mask command that hides it in the runner's log.
    expect(visibleLines(passing.stdout).join('\n')).not.toContain(TOKEN)
  })

  it('fails on severity (fail-on-severity HIGH): non-zero after the reports, artifact, SARIF, tags and summary are written; the alias stays', async () => {
    failing = await runAction(
      'failing',
      stackInputs({ 'artifact-name': 'mlsecops-report-failing' }),
    )
    expect(failing.code).not.toBe(0)
    const errors = failing.stdout.split('\n').filter((l) => l.startsWith('::error'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/at or above fail-on-severity HIGH/)
    // The failure comes last: after the artifact, code scanning, the verdict tags and the alias decision.
    const at = (text: string): number => failing.stdout.indexOf(text)
    expect(at('Uploaded artifact mlsecops-report-failing')).toBeGreaterThan(-1)
    expect(at('Code scanning processed SARIF upload')).toBeGreaterThan(
      at('Uploaded artifact mlsecops-report-failing'),
    )
    expect(at(`Tagged ${MODEL} version 2`)).toBeGreaterThan(at('Code scanning processed'))
    expect(at("Alias 'candidate' not moved: it stays on version 1")).toBeGreaterThan(
      at(`Tagged ${MODEL} version 2`),
    )
    expect(at('::error::')).toBeGreaterThan(at("Alias 'candidate' not moved"))
    const o = failing.outputs
    expect(o.gate).toBe('failed')
    expect(o['model-version']).toBe('2')
    expect(fs.existsSync(o['json-report'])).toBe(true)
    expect(fs.existsSync(o['sarif-report'])).toBe(true)

    await expectArtifactMatches(failing, 'mlsecops-report-failing')
    expectCodeScanningUpload(failing)

    const view = readMlflow(o['run-id'])
    expect(view.run.status).toBe('FAILED')
    expect(view.run.tags['mlsecops.error']).toMatch(/fail-on-severity HIGH/)
    expectVerdict(failing, view, 'failed')
    // A failed gate leaves the alias on the version that passed.
    expect(view.aliases).toEqual({ candidate: '1' })

    expect(failing.summary).toMatch(/### Verdict: failed/)
    expect(failing.summary).toMatch(/alias `candidate` not moved \(stays on version 1\)/)
  })

  it('the failing run writes the job summary of the fixture (volatile parts normalized)', () => {
    const normalized = normalizeSummary(failing.summary)
    if (process.env.MLSECOPS_UPDATE_FIXTURES === '1') {
      fs.mkdirSync(path.dirname(SUMMARY_FIXTURE), { recursive: true })
      fs.writeFileSync(SUMMARY_FIXTURE, normalized)
    }
    expect(normalized).toBe(fs.readFileSync(SUMMARY_FIXTURE, 'utf8'))
  })

  it('a pull request from a fork: code scanning skipped with a notice, the step stays green', async () => {
    const event = path.join(tmp, 'fork-event.json')
    fs.writeFileSync(
      event,
      JSON.stringify({
        pull_request: {
          number: 7,
          head: { repo: { full_name: 'someone/iris-e2e', id: 2 } },
          base: { repo: { full_name: `${OWNER}/${REPO}`, id: 1 } },
        },
      }),
    )
    const before = codeScanning.requests.length
    const run = await runAction(
      'fork',
      stackInputs({ 'fail-on-severity': 'none', 'artifact-name': 'mlsecops-report-fork' }),
      {
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_EVENT_PATH: event,
        GITHUB_REF: 'refs/pull/7/merge',
      },
    )
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(
      /^::notice::Code scanning upload skipped: the pull request comes from a fork/m,
    )
    expect(codeScanning.requests.length).toBe(before)
    expect(run.outputs['sarif-id']).toBe('')
    expect(run.outputs['artifact-id']).toMatch(/^\d+$/)
    expect(run.summary).toMatch(/Code scanning: skipped, the pull request comes from a fork/)
  })

  it('a 403 "Resource not accessible by integration": a notice, the step stays green', async () => {
    codeScanning.behaviour.upload = 'forbidden'
    try {
      const run = await runAction(
        'forbidden',
        stackInputs({ 'fail-on-severity': 'none', 'artifact-name': 'mlsecops-report-403' }),
      )
      expect(run.code).toBe(0)
      expect(run.stdout).toMatch(/^::notice::Code scanning upload skipped: GitHub answered 403/m)
      expect(codeScanning.requests.at(-1)?.status).toBe(403)
      expect(run.outputs['sarif-id']).toBe('')
      expect(run.outputs.gate).toBe('passed')
      expect(run.outputs['artifact-id']).toMatch(/^\d+$/)
      expect(run.summary).toMatch(/Code scanning: skipped, GitHub answered 403/)
    } finally {
      codeScanning.behaviour.upload = 'accept'
    }
  })
})
