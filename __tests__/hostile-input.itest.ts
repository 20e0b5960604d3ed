// Integration: the hostile-input corpus of issue 12. Each case runs the bundled action (`node dist/index.js`) as
// the runner would, with repository content an attacker controls (symlinks to /proc/self/environ, /dev/zero, a
// FIFO, files and folders outside the workspace, a symlinked .mlsecops, a Dockerfile that prints workflow
// commands), inputs with line breaks, a careless environment (TRIVY_ variables that would hide findings, a
// token of an earlier step that is not registered as a secret), valid data that used to break (blank lines,
// labels MLflow refuses, thousands of classes, a wide header) and a tampered Trivy release. Every case has its
// expected behaviour (one error line naming the input, or a correct result), and every run is checked for:
//   - nothing outside the workspace read (canary contents never printed) or changed (a hashed tree);
//   - no workflow command injected (every `::command::` line outside a stop-commands fence is the action's own);
//   - no hang (each run ends within its own deadline);
//   - no secret printed (the canary token, passwords, build-arg values).
// The figures go to scripts/robustness.sh (kind 'hostile').
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  recordRobustness,
  requireDist,
  runActionProcess,
  type ActionProcessResult,
} from './stack/action-process.js'
import { removeImages } from './stack/docker.js'
import { MLSECOPS_BASE_IMAGE, MLSECOPS_TRIVY_DIR, MLSECOPS_TRIVY_VERSION } from './stack/env.js'
import { startMlflowServer, type MlflowServer } from './stack/mlflow-server.js'
import { TRIVY_ARCHIVE_SHA256 } from '../src/trivy/release.js'
import { preparePipelineDirs } from './stack/pipeline-stack.js'

const CANARY = `canary-${crypto.randomBytes(12).toString('hex')}`
const OUTSIDE_SECRET = `outside-secret-${crypto.randomBytes(12).toString('hex')}`
const PASSWORD = `  pw-${crypto.randomBytes(8).toString('hex')}  `
const BUILD_SECRET = `build-arg-secret-${crypto.randomBytes(8).toString('hex')}`
/** The action's own workflow commands; anything else outside a fence was injected. */
const OWN_COMMANDS = new Set([
  'error',
  'warning',
  'notice',
  'debug',
  'group',
  'endgroup',
  'add-mask',
])

let root: string
let outside: string
let outsideHash: string
const images: string[] = []
const tally = {
  kinds: 0,
  runs: 0,
  completed: 0,
  failedCleanly: 0,
  readOutside: 0,
  changedOutside: 0,
  injected: 0,
  hangs: 0,
  secretsFound: 0,
}

/** Every file under dir with its SHA-256 (and every directory), to see that nothing outside changed. */
function treeHash(dir: string): string {
  const hash = crypto.createHash('sha256')
  const walk = (d: string): void => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name)
      const st = fs.lstatSync(p)
      hash.update(`${path.relative(dir, p)}:${st.isDirectory() ? 'd' : st.size}\n`)
      if (st.isDirectory()) walk(p)
      else if (st.isFile()) hash.update(fs.readFileSync(p))
    }
  }
  walk(dir)
  return hash.digest('hex')
}

/** The log lines outside stop-commands fences (what the runner reads as commands). */
function unfencedLines(stdout: string): string[] {
  const out: string[] = []
  let fence: string | undefined
  for (const line of stdout.split('\n')) {
    if (fence !== undefined) {
      if (line === `::${fence}::`) fence = undefined
      continue
    }
    const start = /^::stop-commands::(.+)$/.exec(line)
    if (start) fence = start[1]
    else out.push(line)
  }
  return out
}

/** `::command::` lines outside stop-commands fences that are not the action's own (or that carry a payload). */
function injectedCommands(stdout: string): string[] {
  const injected: string[] = []
  let fence: string | undefined
  for (const line of stdout.split('\n')) {
    if (fence !== undefined) {
      if (line === `::${fence}::`) fence = undefined
      continue
    }
    const start = /^::stop-commands::(.+)$/.exec(line)
    if (start) {
      fence = start[1]
      continue
    }
    const command = /^\s*::([A-Za-z-]+)/.exec(line)?.[1]
    if (command === undefined) continue
    // A command of the action's own whose message is a payload (::warning::pwned) was injected too.
    if (!OWN_COMMANDS.has(command) || /^\s*::[A-Za-z-]+[^:]*::pwned/.test(line)) injected.push(line)
  }
  return injected
}

function csvRows(n: number, labels: string[]): string {
  const lines = ['x,y,label']
  for (let i = 0; i < n; i++) {
    const k = i % labels.length
    const label = /[,"\n]/.test(labels[k]) ? `"${labels[k].replace(/"/g, '""')}"` : labels[k]
    lines.push(`${(k * 3 + (i % 7) * 0.1).toFixed(2)},${(-k + (i % 5) * 0.2).toFixed(2)},${label}`)
  }
  return lines.join('\n') + '\n'
}

function newWorkspace(name: string): string {
  const ws = fs.mkdtempSync(path.join(root, `ws-${name}-`))
  fs.writeFileSync(path.join(ws, 'data.csv'), csvRows(60, ['alpha', 'beta']))
  return ws
}

interface Expectation {
  /** 'ok': exit 0; else the input the one ::error:: line must name (or a prefix it starts with). */
  result: 'ok' | { input?: string; error?: RegExp }
  /** Longest time the run may take. */
  withinMs?: number
}

/** Runs the action on a workspace and checks the four invariants and the expected result. */
async function runCase(
  name: string,
  ws: string,
  inputs: Record<string, string>,
  expectation: Expectation,
  env: Record<string, string> = {},
): Promise<ActionProcessResult> {
  const limit = expectation.withinMs ?? 120_000
  const result = await runActionProcess({
    tmp: root,
    name: name.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 40),
    workspace: ws,
    inputs: { 'upload-artifact': 'false', 'upload-sarif': 'false', ...inputs },
    env: { HOSTILE_CANARY: CANARY, ...env },
    timeoutMs: limit,
  })
  tally.runs++
  if (result.outputs.image) images.push(result.outputs.image)
  // ::add-mask:: lines carry the secrets to the runner by design; it shows them to nobody.
  const everything = [
    result.stdout
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'))
      .join('\n'),
    result.stderr,
    result.summary,
    JSON.stringify(result.outputs),
  ].join('\n')
  // No hang.
  if (result.code === null) tally.hangs++
  expect(result.code).not.toBeNull()
  expect(result.elapsedMs).toBeLessThan(limit)
  // Nothing outside read or changed.
  const readOutside = everything.includes(OUTSIDE_SECRET) ? 1 : 0
  tally.readOutside += readOutside
  expect(readOutside).toBe(0)
  const changed = treeHash(outside) !== outsideHash ? 1 : 0
  tally.changedOutside += changed
  expect(changed).toBe(0)
  // No injected workflow command.
  const injected = injectedCommands(result.stdout)
  tally.injected += injected.length
  expect(injected).toEqual([])
  // No secret printed.
  const secrets = [CANARY, PASSWORD.trim(), BUILD_SECRET].filter((s) => everything.includes(s))
  tally.secretsFound += secrets.length
  expect(secrets).toEqual([])
  // The expected result.
  const errors = unfencedLines(result.stdout).filter((l) => l.startsWith('::error'))
  if (expectation.result === 'ok') {
    expect(errors).toEqual([])
    expect(result.code).toBe(0)
    tally.completed++
  } else {
    expect(result.code).toBe(1)
    expect(errors).toHaveLength(1)
    expect(errors[0].length).toBeLessThan(2000)
    expect(errors[0]).not.toMatch(/RangeError|TypeError|\s+at\s+\S+\s+\(/)
    if (expectation.result.input) expect(errors[0]).toContain(`Input '${expectation.result.input}'`)
    if (expectation.result.error) expect(errors[0]).toMatch(expectation.result.error)
    tally.failedCleanly++
  }
  return result
}

beforeAll(() => {
  requireDist()
  root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-itest-')))
  outside = path.join(root, 'outside')
  fs.mkdirSync(path.join(outside, 'model'), { recursive: true })
  fs.writeFileSync(path.join(outside, 'secret.csv'), `x,y,label\n1,2,${OUTSIDE_SECRET}\n`)
  fs.writeFileSync(path.join(outside, 'model', 'keep.txt'), 'keep me')
  fs.writeFileSync(path.join(outside, 'Dockerfile'), `FROM scratch\nLABEL s=${OUTSIDE_SECRET}\n`)
  fs.writeFileSync(path.join(outside, '.trivyignore'), `${OUTSIDE_SECRET}\n`)
  outsideHash = treeHash(outside)
})

afterAll(() => {
  removeImages(...images)
  recordRobustness({
    kind: 'hostile',
    kindsTried: tally.kinds,
    faultsInjected: tally.kinds,
    runs: tally.runs,
    completed: tally.completed,
    failedCleanly: tally.failedCleanly,
    duplicates: 0,
    runningLeft: 0,
    secretsFound: tally.secretsFound,
    readOutside: tally.readOutside,
    changedOutside: tally.changedOutside,
    injected: tally.injected,
    hangs: tally.hangs,
  })
  console.log(`hostile corpus: ${JSON.stringify(tally)}`)
  if (root) fs.rmSync(root, { recursive: true, force: true })
})

describe('hostile repository content and inputs (node dist/index.js, no image)', () => {
  const noBuild = { build: 'false' }

  const pathCases: [string, (ws: string) => Record<string, string>, string][] = [
    [
      'dataset -> /proc/self/environ with target-column set',
      (ws) => {
        fs.symlinkSync('/proc/self/environ', path.join(ws, 'env.csv'))
        return { dataset: 'env.csv', 'target-column': 'nope' }
      },
      'dataset',
    ],
    [
      'dataset -> /dev/zero',
      (ws) => {
        fs.symlinkSync('/dev/zero', path.join(ws, 'zero.csv'))
        return { dataset: 'zero.csv' }
      },
      'dataset',
    ],
    [
      'dataset -> /dev/urandom',
      (ws) => {
        fs.symlinkSync('/dev/urandom', path.join(ws, 'random.csv'))
        return { dataset: 'random.csv' }
      },
      'dataset',
    ],
    [
      'dataset is a FIFO in the workspace',
      (ws) => {
        execFileSync('mkfifo', [path.join(ws, 'fifo.csv')])
        return { dataset: 'fifo.csv' }
      },
      'dataset',
    ],
    [
      'dataset -> a file outside the workspace',
      (ws) => {
        fs.symlinkSync(path.join(outside, 'secret.csv'), path.join(ws, 'link.csv'))
        return { dataset: 'link.csv' }
      },
      'dataset',
    ],
    ['dataset ../ outside the workspace', () => ({ dataset: '../outside/secret.csv' }), 'dataset'],
    [
      'dataset through a symlinked directory',
      (ws) => {
        fs.symlinkSync(outside, path.join(ws, 'dir'))
        return { dataset: 'dir/secret.csv' }
      },
      'dataset',
    ],
    [
      'trivyignore -> a file outside',
      (ws) => {
        fs.symlinkSync(path.join(outside, '.trivyignore'), path.join(ws, 'ignore'))
        return { trivyignore: 'ignore' }
      },
      'trivyignore',
    ],
    [
      'the default .trivyignore -> a file outside',
      (ws) => {
        fs.symlinkSync(path.join(outside, '.trivyignore'), path.join(ws, '.trivyignore'))
        return {}
      },
      'trivyignores',
    ],
  ]
  it.each(pathCases)('%s: one error line naming the input', async (name, setup, input) => {
    tally.kinds++
    const ws = newWorkspace('path')
    await runCase(
      name,
      ws,
      { dataset: 'data.csv', ...noBuild, ...setup(ws) },
      {
        result: { input, error: /outside the workspace|not a regular file/ },
        withinMs: 60_000,
      },
    )
  })

  const lineBreakCases: [string, string][] = [
    ['mlflow-experiment', 'exp\n::warning::pwned'],
    ['mlflow-tracking-uri', 'http://127.0.0.1:9/\n::warning::pwned'],
    ['trivy-server', 'http://127.0.0.1:9\n::warning::pwned'],
    ['context', '.\n::warning::pwned'],
    ['dockerfile', 'Dockerfile\n::add-mask::pwned'],
    ['target-column', 'label\n::error::pwned'],
    ['sarif-category', 'cat\r::notice::pwned'],
  ]
  it.each(lineBreakCases)(
    'a line break in %s is refused, no command injected',
    async (input, value) => {
      tally.kinds++
      const ws = newWorkspace('nl')
      await runCase(
        `nl-${input}`,
        ws,
        {
          dataset: 'data.csv',
          ...(input === 'context' || input === 'dockerfile' ? {} : noBuild),
          [input]: value,
        },
        { result: { input, error: /line break/ }, withinMs: 60_000 },
      )
    },
  )

  it('an unknown target-column with a 20,000-column header: one short line, "and N more"', async () => {
    tally.kinds++
    const ws = newWorkspace('wide')
    const header = Array.from({ length: 20_000 }, (_, i) => `column_${i}`)
    fs.writeFileSync(
      path.join(ws, 'wide.csv'),
      `${header.join(',')}\n${header.map(() => '1').join(',')}\n`,
    )
    await runCase(
      'wide',
      ws,
      { dataset: 'wide.csv', 'target-column': 'missing', ...noBuild },
      { result: { input: 'target-column', error: /and 19990 more/ }, withinMs: 60_000 },
    )
  })

  it('a valid CSV followed by 20 MB of blank lines trains', async () => {
    tally.kinds++
    const ws = newWorkspace('blank')
    fs.writeFileSync(
      path.join(ws, 'blank.csv'),
      csvRows(60, ['a', 'b']) + '\n'.repeat(20 * 1024 * 1024),
    )
    const result = await runCase(
      'blank',
      ws,
      { dataset: 'blank.csv', ...noBuild },
      { result: 'ok' },
    )
    expect(Number(result.outputs.accuracy)).toBeGreaterThan(0.9)
  })

  it('2,000 classes in a small CSV train; per-class output stays bounded', async () => {
    tally.kinds++
    const ws = newWorkspace('classes')
    const labels = Array.from({ length: 2000 }, (_, i) => `c${i}`)
    fs.writeFileSync(path.join(ws, 'classes.csv'), csvRows(8000, labels))
    const result = await runCase(
      'classes',
      ws,
      { dataset: 'classes.csv', 'test-size': '0.5', ...noBuild },
      { result: 'ok', withinMs: 300_000 },
    )
    const metrics = fs.statSync(path.join(result.outputs['model-dir'], 'metrics.json')).size
    expect(metrics).toBeLessThan(2 * 1024 * 1024)
  })

  it('two steps in one job keep their own model-dir', async () => {
    tally.kinds += 1
    const ws = newWorkspace('two')
    const temp = path.join(root, 'shared-runner-temp')
    fs.mkdirSync(temp, { recursive: true })
    const first = await runCase(
      'step1',
      ws,
      { dataset: 'data.csv', ...noBuild, seed: '1' },
      { result: 'ok' },
      { RUNNER_TEMP: temp, GITHUB_ACTION: 'train' },
    )
    const second = await runCase(
      'step2',
      ws,
      { dataset: 'data.csv', ...noBuild, seed: '2' },
      { result: 'ok' },
      { RUNNER_TEMP: temp, GITHUB_ACTION: 'train' },
    )
    expect(first.outputs['model-dir']).not.toBe(second.outputs['model-dir'])
    expect(fs.existsSync(path.join(first.outputs['model-dir'], 'model.json'))).toBe(true)
    expect(fs.existsSync(path.join(second.outputs['model-dir'], 'model.json'))).toBe(true)
  })

  it('a password with leading and trailing spaces reaches the server as given, and is never printed', async () => {
    tally.kinds++
    const seen: string[] = []
    const server = http.createServer((req, res) => {
      seen.push(String(req.headers.authorization ?? ''))
      res.writeHead(401, { 'content-type': 'text/plain' }).end('unauthorized')
      req.resume()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const ws = newWorkspace('pw')
      await runCase(
        'password',
        ws,
        {
          dataset: 'data.csv',
          ...noBuild,
          'mlflow-tracking-uri': `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          'mlflow-username': 'admin',
          'mlflow-password': PASSWORD,
        },
        { result: { error: /401/ } },
      )
      expect(seen.length).toBeGreaterThan(0)
      const decoded = Buffer.from(seen[0].replace(/^Basic /, ''), 'base64').toString()
      expect(decoded).toBe(`admin:${PASSWORD}`)
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})

describe('labels MLflow refuses as metric names (real MLflow)', () => {
  let mlflow: MlflowServer
  beforeAll(async () => {
    mlflow = await startMlflowServer()
  }, 180_000)
  afterAll(async () => {
    await mlflow?.stop()
  })

  it('a!, a?, x/y and a 300-character label register; metrics.json keeps the real labels', async () => {
    tally.kinds++
    const ws = newWorkspace('labels')
    const labels = ['a!', 'a?', 'x/y', 'L'.repeat(300), '<img src=x>']
    fs.writeFileSync(path.join(ws, 'labels.csv'), csvRows(100, labels))
    const result = await runCase(
      'labels',
      ws,
      { dataset: 'labels.csv', build: 'false', 'mlflow-tracking-uri': mlflow.url },
      { result: 'ok', withinMs: 300_000 },
    )
    expect(result.outputs['run-id']).toMatch(/^[0-9a-f]{32}$/)
    const metrics = JSON.parse(
      fs.readFileSync(path.join(result.outputs['model-dir'], 'metrics.json'), 'utf8'),
    ) as { classLabels: string[] }
    expect([...metrics.classLabels].sort()).toEqual([...labels].sort())
  })
})

describe('hostile build context, tool output and environment (docker and Trivy)', () => {
  let pipeline: ReturnType<typeof preparePipelineDirs>
  beforeAll(() => {
    pipeline = preparePipelineDirs('hostile-pipeline-')
  })
  afterAll(() => {
    if (pipeline) fs.rmSync(pipeline.tmp, { recursive: true, force: true })
  })

  const scanInputs = (): Record<string, string> => ({
    'build-args': `BASE_IMAGE=${MLSECOPS_BASE_IMAGE}\nNPM_TOKEN=${BUILD_SECRET}`,
    'trivy-cache-dir': pipeline.cacheDir,
    'trivy-skip-db-update': 'true',
  })
  const pathWithTrivy = (): string =>
    `${MLSECOPS_TRIVY_DIR}${path.delimiter}${process.env.PATH ?? ''}`

  function context(name: string): string {
    const ws = fs.mkdtempSync(path.join(root, `ctx-${name}-`))
    fs.cpSync(pipeline.workspace, ws, { recursive: true })
    fs.writeFileSync(path.join(ws, 'data.csv'), csvRows(60, ['alpha', 'beta']))
    return ws
  }

  it('<context>/.mlsecops -> a directory outside: refused, the directory untouched', async () => {
    tally.kinds++
    const ws = context('mlsecops-link')
    fs.symlinkSync(outside, path.join(ws, '.mlsecops'))
    await runCase(
      'mlsecops-link',
      ws,
      { dataset: 'data.csv', ...scanInputs(), scan: 'false' },
      { result: { error: /\.mlsecops in the build context is a symbolic link/ } },
      { PATH: pathWithTrivy() },
    )
  })

  it('dockerfile -> a file outside the workspace: refused before docker runs', async () => {
    tally.kinds++
    const ws = context('dockerfile-link')
    fs.symlinkSync(path.join(outside, 'Dockerfile'), path.join(ws, 'Evil.Dockerfile'))
    await runCase(
      'dockerfile-link',
      ws,
      { dataset: 'data.csv', dockerfile: 'Evil.Dockerfile', ...scanInputs() },
      { result: { input: 'dockerfile', error: /outside the workspace/ } },
    )
  })

  it('a Dockerfile printing workflow commands (legacy builder), a model folder of the user: fenced, kept', async () => {
    tally.kinds++
    const ws = context('commands')
    fs.mkdirSync(path.join(ws, '.mlsecops', 'model'), { recursive: true })
    fs.writeFileSync(path.join(ws, '.mlsecops', 'model', 'mine.txt'), 'mine')
    const dockerfile = fs.readFileSync(path.join(ws, 'Dockerfile'), 'utf8')
    fs.writeFileSync(
      path.join(ws, 'Dockerfile'),
      dockerfile.replace(
        /^WORKDIR \/app$/m,
        'WORKDIR /app\nRUN echo "::add-mask::pwned" && echo "::warning::pwned" && printf "\\033[31m::error::pwned\\033[0m\\n"',
      ),
    )
    fs.writeFileSync(path.join(ws, '.dockerignore'), '')
    const result = await runCase(
      'commands',
      ws,
      { dataset: 'data.csv', ...scanInputs(), 'fail-on-severity': 'none' },
      { result: 'ok', withinMs: 300_000 },
      { PATH: pathWithTrivy(), DOCKER_BUILDKIT: '0', RUNNER_DEBUG: '1' },
    )
    // The build did print them, inside the fence only.
    expect(result.stdout).toContain('::warning::pwned')
    expect(fs.readFileSync(path.join(ws, '.mlsecops', 'model', 'mine.txt'), 'utf8')).toBe('mine')
    expect(fs.readdirSync(path.join(ws, '.mlsecops'))).toEqual(['model'])
    // The build-arg value is hidden in the logged command line (RUNNER_DEBUG shows it).
    expect(result.stdout).toMatch(/NPM_TOKEN=\*\*\*/)
  })

  // Each variable would change which findings Trivy reports, were it passed on.
  const TRIVY_VARIABLES: [string, (ws: string, ids: string[]) => string][] = [
    ['TRIVY_SEVERITY', () => 'LOW'],
    ['TRIVY_PKG_TYPES', () => 'library'],
    ['TRIVY_SKIP_DIRS', () => '/usr,/var,/etc,/lib'],
    ['TRIVY_SKIP_FILES', () => '/var/lib/dpkg/status'],
    [
      'TRIVY_IGNOREFILE',
      (ws, ids) => {
        fs.writeFileSync(path.join(ws, 'ignored.txt'), ids.join('\n') + '\n')
        return path.join(ws, 'ignored.txt')
      },
    ],
    ['TRIVY_IGNORE_UNFIXED', () => 'true'],
    ['TRIVY_IGNORE_STATUS', () => 'fixed,affected,unknown,will_not_fix,fix_deferred,end_of_life'],
    ['TRIVY_SCANNERS', () => 'secret'],
    [
      'TRIVY_VEX',
      (ws, ids) => {
        const vex = {
          '@context': 'https://openvex.dev/ns/v0.2.0',
          '@id': 'https://example.invalid/vex',
          author: 'attacker',
          timestamp: '2026-01-01T00:00:00Z',
          version: 1,
          statements: ids.map((id) => ({
            vulnerability: { name: id },
            products: [{ '@id': 'pkg:deb/debian/' }],
            status: 'not_affected',
            justification: 'component_not_present',
          })),
        }
        fs.writeFileSync(path.join(ws, 'vex.json'), JSON.stringify(vex))
        return path.join(ws, 'vex.json')
      },
    ],
    [
      'TRIVY_IGNORE_POLICY',
      (ws) => {
        fs.writeFileSync(path.join(ws, 'ignore.rego'), 'package trivy\n\ndefault ignore = true\n')
        return path.join(ws, 'ignore.rego')
      },
    ],
    ['TRIVY_SERVER', () => 'http://127.0.0.1:9'],
    ['TRIVY_DISTRO', () => 'debian/1'],
  ]

  it('each finding-changing TRIVY_ variable left in the job: dropped, the gate fails on the same findings', async () => {
    const ws = context('trivy-env')
    const base = await runCase(
      'trivy-baseline',
      ws,
      { dataset: 'data.csv', ...scanInputs() },
      { result: { error: /at or above fail-on-severity HIGH/ }, withinMs: 300_000 },
      { PATH: pathWithTrivy() },
    )
    const counts = (r: ActionProcessResult): string =>
      ['critical', 'high', 'medium', 'low', 'unknown'].map((s) => r.outputs[s]).join('/')
    const report = JSON.parse(fs.readFileSync(base.outputs['json-report'], 'utf8')) as {
      Results?: { Vulnerabilities?: { VulnerabilityID: string }[] }[]
    }
    const ids = (report.Results ?? []).flatMap((r) =>
      (r.Vulnerabilities ?? []).map((v) => v.VulnerabilityID),
    )
    expect(ids.length).toBeGreaterThan(0)
    for (const [name, value] of TRIVY_VARIABLES) {
      tally.kinds++
      const result = await runCase(
        `trivy-env-${name}`,
        ws,
        { dataset: 'data.csv', ...scanInputs() },
        { result: { error: /at or above fail-on-severity HIGH/ }, withinMs: 300_000 },
        { PATH: pathWithTrivy(), [name]: value(ws, ids) },
      )
      expect(`${name}: ${counts(result)}`).toBe(`${name}: ${counts(base)}`)
      expect(result.outputs.gate).toBe('failed')
      expect(result.stdout).toMatch(new RegExp(`::notice::Not passed to Trivy: [^\\n]*${name}`))
    }
  })
})

describe('a tampered Trivy release (node dist/index.js)', () => {
  it('archive and checksums file replaced together: nothing runs, one ScannerError line names the pin', async () => {
    tally.kinds++
    const version = MLSECOPS_TRIVY_VERSION
    const archive = `trivy_${version}_Linux-${process.arch === 'arm64' ? 'ARM64' : '64bit'}.tar.gz`
    const evil = path.join(root, 'evil-release')
    fs.mkdirSync(evil, { recursive: true })
    const marker = path.join(root, 'tampered-trivy-ran')
    fs.writeFileSync(
      path.join(evil, 'trivy'),
      `#!/bin/sh\ntouch '${marker}'\necho 'Version: ${version}'\n`,
      {
        mode: 0o755,
      },
    )
    const tarball = path.join(root, archive)
    execFileSync('tar', ['-C', evil, '-czf', tarball, 'trivy'])
    const sum = crypto.createHash('sha256').update(fs.readFileSync(tarball)).digest('hex')
    const server = http.createServer((req, res) => {
      if (req.url === `/releases/v${version}/${archive}`) {
        res.writeHead(200).end(fs.readFileSync(tarball))
      } else if (req.url === `/releases/v${version}/trivy_${version}_checksums.txt`) {
        res.writeHead(200).end(`${sum}  ${archive}\n`)
      } else res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const pipeline = preparePipelineDirs('hostile-tampered-')
      try {
        const ws = pipeline.workspace
        fs.writeFileSync(path.join(ws, 'data.csv'), csvRows(60, ['alpha', 'beta']))
        const withoutTrivy = (process.env.PATH ?? '')
          .split(path.delimiter)
          .filter((p) => p !== MLSECOPS_TRIVY_DIR && p !== '')
          .join(path.delimiter)
        const result = await runCase(
          'tampered',
          ws,
          {
            dataset: 'data.csv',
            'build-args': `BASE_IMAGE=${MLSECOPS_BASE_IMAGE}`,
            'trivy-cache-dir': pipeline.cacheDir,
            'trivy-skip-db-update': 'true',
          },
          {
            result: { error: /^::error::ScannerError: .*the SHA-256 the action pins for/ },
            withinMs: 300_000,
          },
          {
            PATH: withoutTrivy,
            MLSECOPS_TRIVY_DOWNLOAD_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/releases`,
          },
        )
        expect(result.stdout).toContain(TRIVY_ARCHIVE_SHA256[archive])
        expect(fs.existsSync(marker)).toBe(false)
        expect(result.outputs.gate).toBeUndefined()
      } finally {
        fs.rmSync(pipeline.tmp, { recursive: true, force: true })
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})
