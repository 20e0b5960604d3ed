// Integration: the action against MLflow servers of several releases (each from PyPI, sqlite, proxied
// artifacts), read back with THAT release's Python client (scripts/compat/check_release.py). Per release: two
// runs through run() (build: false), iris with string labels then iris with numeric labels; both versions
// READY, the alias moved from version 1 to 2, mlflow.pyfunc.load_model predictions equal to the action's on
// every row (numbers for numeric labels), and with MLSECOPS_COMPAT_SERVE=1 `mlflow models serve` answering the
// same. Releases: MLSECOPS_COMPAT_RELEASES (default one 2.x and one 3.x: 2.9.2,3.17.2; venvs made by
// scripts/stack/install.sh); `npm run compat` runs all six and prints the table from MLSECOPS_COMPAT_OUT.
// MLSECOPS_COMPAT_SCREENSHOT=FILE.png photographs the 3.x version page with headless Chromium (Debian's).
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { loadDataset } from '../src/train/csv-dataset.js'
import { loadModelDirectory } from '../src/train/model-directory.js'
import { runActionInProcess, type InProcessResult } from './stack/in-process-action.js'
import { stopDetachedProcess } from './stack/detached-process.js'
import { MLSECOPS_CACHE, REPO_ROOT } from './stack/env.js'
import {
  freePort,
  requestOnce,
  startMlflowServer,
  type MlflowServer,
} from './stack/mlflow-server.js'

jest.setTimeout(600000)

const RELEASES = (process.env.MLSECOPS_COMPAT_RELEASES || '2.9.2,3.17.2')
  .split(',')
  .map((r) => r.trim())
  .filter((r) => r !== '')
const SERVE = process.env.MLSECOPS_COMPAT_SERVE === '1'
const EXAMPLE_IRIS = path.join(REPO_ROOT, 'model', 'iris.csv')
const CHECKER = path.join(REPO_ROOT, 'scripts', 'compat', 'check_release.py')

/** The workspace: path inputs must be inside it. Holds both datasets. */
let tmp: string
let IRIS: string
let numericCsv: string

function venvOf(release: string): string {
  return path.join(MLSECOPS_CACHE, `mlflow-venv-${release}`)
}

/** The action in-process (see stack/in-process-action.ts), build and uploads off. */
function runAction(inputs: Record<string, string>): Promise<InProcessResult> {
  return runActionInProcess({ tmp, sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', inputs })
}

/** The action's own predictions on every row of a CSV, as the model directory's TypeScript model gives them. */
function actionPredictions(modelDir: string, csv: string): string[] {
  const data = loadDataset(csv, '')
  const nf = data.featureNames.length
  const rows = Array.from({ length: data.rows }, (_, i) =>
    Array.from(data.features.subarray(i * nf, (i + 1) * nf)),
  )
  return loadModelDirectory(modelDir).predict(rows)
}

/** Iris with the species as numbers 0, 1, 2 (numeric class labels). */
function writeNumericIris(file: string): void {
  const [header, ...rows] = fs.readFileSync(EXAMPLE_IRIS, 'utf8').trim().split('\n')
  const species = [...new Set(rows.map((r) => r.split(',').at(-1)))]
  const numeric = rows.map((r) => {
    const cells = r.split(',')
    cells[cells.length - 1] = String(species.indexOf(cells[cells.length - 1]))
    return cells.join(',')
  })
  fs.writeFileSync(file, [header, ...numeric].join('\n') + '\n')
}

interface Checked {
  client_version: string
  versions: {
    version: string
    status: string
    source: string
    run_id: string
    run_status: string
    description: string
    tags: Record<string, string>
    predictions: (string | number)[]
    input_schema: string[]
  }[]
  alias_version: string
  served?: (string | number)[]
}

function check(release: string, url: string, request: unknown): Checked {
  const result = spawnSync(path.join(venvOf(release), 'bin', 'python'), [CHECKER], {
    input: JSON.stringify(request),
    env: { ...process.env, MLFLOW_TRACKING_URI: url },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 300000,
  })
  if (result.status !== 0)
    throw new Error(`check_release.py (${release}) failed:\n${result.stderr.slice(-4000)}`)
  const lines = result.stdout.trim().split('\n')
  return JSON.parse(lines[lines.length - 1]) as Checked
}

/** `mlflow models serve` of a version with the release's own MLflow (no new environment); stopped by the caller. */
async function serveModel(release: string, url: string, modelUri: string) {
  const port = await freePort()
  const log = path.join(tmp, `serve-${release}-${port}.log`)
  const out = fs.openSync(log, 'a')
  const child = spawn(
    path.join(venvOf(release), 'bin', 'mlflow'),
    [
      'models',
      'serve',
      '-m',
      modelUri,
      '--env-manager',
      'local',
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-w',
      '1',
    ],
    {
      env: {
        ...process.env,
        MLFLOW_TRACKING_URI: url,
        // The scoring server (gunicorn or uvicorn) is started by name from the venv.
        PATH: `${path.join(venvOf(release), 'bin')}:${process.env.PATH ?? ''}`,
      },
      detached: true,
      stdio: ['ignore', out, out],
    },
  )
  fs.closeSync(out)
  const stop = (): Promise<void> => stopDetachedProcess(child, 'SIGTERM', 'group')
  const deadline = Date.now() + 180000
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`mlflow models serve exited:\n${fs.readFileSync(log, 'utf8').slice(-3000)}`)
    }
    try {
      if ((await requestOnce(`http://127.0.0.1:${port}/ping`, { timeoutMs: 2000 })).status === 200)
        break
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(
        `mlflow models serve not up after 180 s:\n${fs.readFileSync(log, 'utf8').slice(-3000)}`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  return { port, stop }
}

/** One row of the compatibility table, appended to MLSECOPS_COMPAT_OUT (JSON lines) when set. */
function record(row: Record<string, unknown>): void {
  const out = process.env.MLSECOPS_COMPAT_OUT
  if (out) fs.appendFileSync(out, JSON.stringify(row) + '\n')
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-compat-'))
  IRIS = path.join(tmp, 'iris.csv')
  fs.copyFileSync(EXAMPLE_IRIS, IRIS)
  numericCsv = path.join(tmp, 'iris-numeric.csv')
  writeNumericIris(numericCsv)
})

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true })
})

describe.each(RELEASES)('MLflow %s server', (release) => {
  let server: MlflowServer | undefined

  beforeAll(async () => {
    const venv = venvOf(release)
    if (!fs.existsSync(path.join(venv, '.complete'))) {
      throw new Error(`${venv} is missing: run bash scripts/compat/mlflow-venv.sh ${release}`)
    }
    server = await startMlflowServer({ venv })
  }, 240000)

  afterAll(async () => {
    await server?.stop()
  })

  it('registers READY versions, moves the alias, and its own client predicts what the action predicts', async () => {
    const url = server!.url
    const row: Record<string, unknown> = { release }
    try {
      const inputs = {
        'mlflow-tracking-uri': url,
        'mlflow-experiment': 'compat',
        'model-name': 'iris-compat',
        'model-alias': 'champion',
      }
      const first = await runAction({ ...inputs, dataset: IRIS })
      expect(first.failed).toBe(false)
      const second = await runAction({ ...inputs, dataset: numericCsv })
      expect(second.failed).toBe(false)
      row.register = 'yes'
      expect([first.outputs['model-version'], second.outputs['model-version']]).toEqual(['1', '2'])

      let served: { port: number; stop: () => Promise<void> } | undefined
      let checked: Checked
      try {
        if (SERVE) served = await serveModel(release, url, 'models:/iris-compat/2')
        checked = check(release, url, {
          model_name: 'iris-compat',
          alias: 'champion',
          versions: [
            { version: '1', csv: IRIS, target: 'species' },
            { version: '2', csv: numericCsv, target: 'species' },
          ],
          serve_port: served?.port,
        })
      } finally {
        await served?.stop()
      }
      expect(checked.client_version).toBe(release)
      const [v1, v2] = checked.versions
      for (const v of checked.versions) {
        expect(v.status).toBe('READY')
        expect(v.run_status).toBe('FINISHED')
        expect(v.input_schema).toEqual([
          'sepal_length',
          'sepal_width',
          'petal_length',
          'petal_width',
        ])
        // The verdict where the version page shows it first; the tags for machines.
        expect(v.description).toContain('**Gate: passed**.')
        expect(v.description).toContain('**Scan: not-scanned**')
        expect(v.tags).toMatchObject({ scan_status: 'not-scanned', gate: 'passed' })
      }
      if (release.startsWith('2.')) {
        expect(v1.source).toMatch(/^mlflow-artifacts:\/.*\/artifacts\/model$/)
      } else {
        expect(v1.source).toMatch(/^models:\/m-[0-9a-f]+$/)
      }
      row.ready = 'yes'
      expect(checked.alias_version).toBe('2')
      row.alias = 'yes'
      const stringLabels = actionPredictions(first.outputs['model-dir'], IRIS)
      expect(v1.predictions).toEqual(stringLabels)
      const numericLabels = actionPredictions(second.outputs['model-dir'], numericCsv).map(Number)
      expect(v2.predictions).toEqual(numericLabels)
      expect(v2.predictions.every((p) => typeof p === 'number')).toBe(true)
      row.pyfunc = `${v1.predictions.length + v2.predictions.length}/${stringLabels.length + numericLabels.length}`
      const shot = process.env.MLSECOPS_COMPAT_SCREENSHOT
      if (shot && !release.startsWith('2.')) {
        // The version page in the MLflow UI, photographed by Debian's headless Chromium (look at it; it stays
        // out of the repository): the verdict in the description, above the tags.
        const result = spawnSync(
          'chromium',
          [
            '--headless',
            '--no-sandbox',
            `--screenshot=${shot}`,
            '--window-size=1400,1000',
            '--virtual-time-budget=15000',
            `${url}/#/models/iris-compat/versions/2`,
          ],
          { encoding: 'utf8', timeout: 120000 },
        )
        expect(fs.existsSync(shot)).toBe(true)
        row.screenshot = result.status === 0 ? shot : `chromium exit ${result.status}`
      }
      if (SERVE) {
        expect(checked.served).toEqual(numericLabels)
        row.serve = `${checked.served!.length}/${numericLabels.length}`
      } else {
        row.serve = 'not run'
      }
    } finally {
      record(row)
    }
  })
})
