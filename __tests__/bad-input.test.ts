// The bad-input corpus (issue 6). Every kind is its own test case:
//   - awkward but valid CSVs must train;
//   - broken CSVs and bad inputs must fail with exactly one line (no newline, no stack trace) that names the
//     input, with nothing run in a process and no request to MLflow (so no MLflow run can be left RUNNING);
//   - a few representative cases again through the bundle, `node dist/index.js`, as the runner starts it.
// run() runs in-process with @actions/core recorded and every process refused (support/run-harness.ts).
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { finished } from 'node:stream/promises'
import { inputVariable, loadRunHarness } from './support/run-harness.js'

const h = await loadRunHarness()
const ROOT = process.cwd()

/** A tripwire where MLflow would be: any request to it is counted (and must not happen for bad input). */
let mlflowRequests = 0
let mlflow: http.Server
let mlflowUrl: string
beforeAll(async () => {
  mlflow = http.createServer((req, res) => {
    mlflowRequests++
    res.writeHead(503).end()
    req.resume()
  })
  await new Promise<void>((resolve) => mlflow.listen(0, '127.0.0.1', resolve))
  mlflowUrl = `http://127.0.0.1:${(mlflow.address() as AddressInfo).port}`
})
afterAll(async () => {
  await new Promise<void>((resolve) => mlflow.close(() => resolve()))
})
afterEach(() => h.cleanup())

// ---------------------------------------------------------------------------------------------------------
// Data

/** 60 rows of two well-separated classes: [x, y, label]. */
function rows(n = 60, labels = ['alpha', 'beta']): [number, number, string][] {
  return Array.from({ length: n }, (_, i) => {
    const k = i % labels.length
    return [k * 10 + (i % 7) * 0.25, -k * 5 + (i % 5) * 0.5, labels[k]]
  })
}
const csv = (lines: string[], eol = '\n'): string => lines.join(eol) + eol

/** Awkward but valid: [kind, file bytes, target-column input, expected rows]. */
const VALID: [string, string | Buffer, string, number][] = [
  ['a UTF-8 BOM', '\ufeff' + csv(['x,y,label', ...rows().map((r) => r.join(','))]), '', 60],
  ['CRLF line ends', csv(['x,y,label', ...rows().map((r) => r.join(','))], '\r\n'), '', 60],
  [
    'mixed LF and CRLF',
    rows()
      .map((r, i) => r.join(',') + (i % 2 ? '\r\n' : '\n'))
      .join('')
      .replace(/^/, 'x,y,label\n'),
    '',
    60,
  ],
  [
    'no newline after the last row',
    csv(['x,y,label', ...rows().map((r) => r.join(','))]).trimEnd(),
    '',
    60,
  ],
  [
    'quoted commas in labels',
    csv([
      'x,y,label',
      ...rows(60, ['red, dark', 'blue, light']).map(([x, y, l]) => `${x},${y},"${l}"`),
    ]),
    '',
    60,
  ],
  [
    'quoted numbers and quoted header names',
    csv(['"x","y","label"', ...rows().map(([x, y, l]) => `"${x}","${y}",${l}`)]),
    '',
    60,
  ],
  [
    'escaped quotes in labels',
    csv([
      'x,y,label',
      ...rows(60, ['say "a"', 'say "b"']).map(
        ([x, y, l]) => `${x},${y},"${l.replace(/"/g, '""')}"`,
      ),
    ]),
    '',
    60,
  ],
  ['numeric labels', csv(['x,y,label', ...rows(60, ['0', '1']).map((r) => r.join(','))]), '', 60],
  [
    'decimal numeric labels',
    csv(['x,y,label', ...rows(60, ['1.0', '2.5']).map((r) => r.join(','))]),
    '',
    60,
  ],
  [
    'trailing blank lines',
    csv(['x,y,label', ...rows().map((r) => r.join(',')), '', '', '']),
    '',
    60,
  ],
  [
    'blank lines between rows',
    csv([
      'x,y,label',
      '',
      ...rows().flatMap((r, i) => (i % 10 ? [r.join(',')] : ['', r.join(',')])),
    ]),
    '',
    60,
  ],
  [
    'whitespace around cells',
    csv([' x , y ,  label ', ...rows().map((r) => ` ${r[0]} ,\t${r[1]}\t, ${r[2]} `)]),
    '',
    60,
  ],
  [
    'label column first',
    csv(['label,x,y', ...rows().map(([x, y, l]) => `${l},${x},${y}`)]),
    'label',
    60,
  ],
  [
    'label column in the middle',
    csv(['x,label,y', ...rows().map(([x, y, l]) => `${x},${l},${y}`)]),
    'label',
    60,
  ],
  [
    'a target with spaces in its name',
    csv(['petal width,sepal width,flower kind', ...rows().map((r) => r.join(','))]),
    'flower kind',
    60,
  ],
  [
    'target-column given with spaces around it',
    csv(['x,y,label', ...rows().map((r) => r.join(','))]),
    '  label  ',
    60,
  ],
  [
    'non-ASCII labels and names',
    csv(['länge,höhe,类别', ...rows(60, ['猫', 'été']).map((r) => r.join(','))]),
    '',
    60,
  ],
  [
    'exponents, signs and leading dots',
    csv([
      'x,y,label',
      ...rows().map(
        ([x, y, l]) => `${(x as number).toExponential()},${(y as number) >= 0 ? '+' : ''}${y},${l}`,
      ),
      '.5,-.5,alpha',
    ]),
    '',
    61,
  ],
  [
    'a constant feature column',
    csv(['x,c,y,label', ...rows().map(([x, y, l]) => `${x},7,${y},${l}`)]),
    '',
    60,
  ],
  [
    'three classes',
    csv(['x,y,label', ...rows(90, ['a', 'b', 'c']).map((r) => r.join(','))]),
    '',
    90,
  ],
  [
    'rows made only of commas are blank',
    csv(['x,y,label', ',,', ...rows().map((r) => r.join(',')), ',,']),
    '',
    60,
  ],
]

/** Broken: [kind, file bytes (or a setup), extra inputs, what the one line must say]. */
type Setup = (workspace: string) => string
const BROKEN: [string, string | Buffer | Setup, Record<string, string>, RegExp][] = [
  [
    'a ragged row (too few fields)',
    csv(['x,y,label', '1,2,a', '3,b', ...rows().map((r) => r.join(','))]),
    {},
    /line 3 has 2 fields but the header has 3/,
  ],
  [
    'a ragged row (too many fields)',
    csv(['x,y,label', '1,2,3,a', ...rows().map((r) => r.join(','))]),
    {},
    /line 2 has 4 fields/,
  ],
  [
    'an empty feature cell',
    csv(['x,y,label', ...rows().map((r) => r.join(',')), '1,,a']),
    {},
    /line 62, column 'y' is empty/,
  ],
  [
    'an empty label cell',
    csv(['x,y,label', '1,2,', ...rows().map((r) => r.join(','))]),
    {},
    /line 2, column 'label' \(the target\) is empty/,
  ],
  [
    'NaN',
    csv(['x,y,label', ...rows().map((r) => r.join(',')), 'NaN,1,a']),
    {},
    /line 62, column 'x' is 'NaN'/,
  ],
  [
    'Infinity',
    csv(['x,y,label', '1,Infinity,a', ...rows().map((r) => r.join(','))]),
    {},
    /line 2, column 'y' is 'Infinity'/,
  ],
  [
    '1e999',
    csv(['x,y,label', '1e999,2,a', ...rows().map((r) => r.join(','))]),
    {},
    /line 2, column 'x' is '1e999'/,
  ],
  [
    'text in a feature',
    csv(['x,y,label', ...rows().map((r) => r.join(',')), 'abc,2,a']),
    {},
    /line 62, column 'x' is 'abc'/,
  ],
  [
    'a decimal comma',
    csv(['x;y;label', '1,5;2;a', '3;4;b']),
    {},
    /header has 1 column|at least one feature/,
  ],
  [
    'non-UTF-8 bytes (Latin-1)',
    Buffer.from('x,y,label\n1,2,caf\xe9\n', 'latin1'),
    {},
    /not UTF-8 text: save the CSV as UTF-8/,
  ],
  [
    'a binary file',
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
    {},
    /not UTF-8/,
  ],
  [
    'one class',
    csv(['x,y,label', ...rows(60, ['only'])].map((r) => r.toString())),
    {},
    /only one class \('only'\)/,
  ],
  [
    'duplicate headers',
    csv(['x,x,label', ...rows().map((r) => r.join(','))]),
    {},
    /names 'x' twice/,
  ],
  [
    'an empty header name',
    csv(['x,,label', ...rows().map((r) => r.join(','))]),
    {},
    /column 2 of the header has no name/,
  ],
  ['a header only', 'x,y,label\n', {}, /has a header but no data rows/],
  ['an empty file', '', {}, /is empty/],
  ['only blank lines', '\n\r\n\n', {}, /is empty/],
  ['one data row', 'x,y,label\n1,2,a\n', {}, /only one class/],
  [
    'a class with a single row',
    csv(['x,y,label', ...rows().map((r) => r.join(',')), '1,2,gamma']),
    {},
    /single row of class 'gamma'/,
  ],
  [
    'too few rows to split',
    csv(['x,y,label', '1,2,a', '2,3,b', '3,4,a', '4,5,b']),
    {},
    /too few to split with test-size 0\.2/,
  ],
  [
    'an unclosed quote',
    csv(['x,y,label', '1,2,"a', ...rows().map((r) => r.join(','))]),
    {},
    /not valid CSV/,
  ],
  ['a single column', csv(['label', 'a', 'b', 'a', 'b']), {}, /at least one feature and a target/],
  [
    'an unknown target column',
    csv(['x,y,label', ...rows().map((r) => r.join(','))]),
    { 'target-column': 'species' },
    /Input 'target-column' is 'species'.*use one of: x, y, label/,
  ],
  [
    'a missing file',
    () => 'no-such-file.csv',
    {},
    /'no-such-file\.csv': it does not exist; give a path relative to the workspace/,
  ],
  [
    'a directory',
    (ws) => {
      fs.mkdirSync(path.join(ws, 'data'))
      return 'data'
    },
    {},
    /'data': it is a directory; give a regular file/,
  ],
  [
    'a cell with a quoted line break',
    csv(['x,y,label', '"1\n2",3,a', ...rows().map((r) => r.join(','))]),
    {},
    /column 'x' is '1\\n2'/,
  ],
]

/** Bad values of inputs: [input, value, what the one line must say besides the input name]. */
const BAD_INPUTS: [string, string, RegExp][] = [
  ['test-size', '0', /'0': use a number in \(0, 1\)/],
  ['test-size', '1', /'1': use a number in \(0, 1\)/],
  ['test-size', '-0.1', /'-0\.1'/],
  ['test-size', 'abc', /'abc'/],
  ['seed', '-1', /'-1': use a whole number/],
  ['seed', '1.5', /'1\.5': use a whole number/],
  ['min-accuracy', '2', /'2': use a number in \[0, 1\]/],
  ['max-dataset-mb', '0', /'0': use a whole number in \[1, 4096\]/],
  [
    'fail-on-severity',
    'SEVERE',
    /'SEVERE': use one of UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL or none/,
  ],
  ['scanners', 'vuln,foo', /'foo' is not a scanner/],
  ['image', 'x;rm -rf /', /'x;rm -rf \/': use a Docker image reference/],
  ['image', '$(id)', /'\$\(id\)'/],
  ['image', '`id`', /'`id`'/],
  ['image', 'a b', /'a b'/],
  ['image', 'UPPER/Case:1', /'UPPER\/Case:1'.*lowercase/],
  ['image', 'name:tag && curl evil', /Docker image reference/],
  ['image', 'name\n--privileged', /Docker image reference/],
  ['build-args', 'NOEQUALS', /line 1 is 'NOEQUALS': each line must be KEY=VALUE/],
  ['build-args', 'A=1\n-x=1', /line 2 is '-x=\*\*\*'/],
  ['mlflow-tracking-uri', 'not a url', /'not a url': use an http:\/\/ or https:\/\/ URL/],
  ['mlflow-tracking-uri', 'ftp://x', /'ftp:\/\/x'/],
  ['mlflow-tracking-uri', 'http://user:pass@host', /credentials inside the URL/],
  ['mlflow-tracking-uri', 'file:///etc/passwd', /http:\/\/ or https:\/\//],
  ['trivy-server', 'not a url', /use an http:\/\/ or https:\/\/ URL/],
  ['trivy-server', 'ftp://x', /'ftp:\/\/x'/],
  ['trivy-server', 'http://user:pass@host', /credentials inside the URL/],
  ['model-alias', 'latest', /reserves "latest"/],
  ['model-alias', 'v3', /reserves/],
  ['model-name', 'bad name', /'bad name'/],
  ['retention-days', '91', /'91': use a whole number in \[0, 90\]/],
  ['artifact-name', 'a/b', /'a\/b'/],
  ['build', 'yes', /'yes': use true or false/],
  ['scan', 'no', /'no': use true or false/],
  ['upload-sarif', 'on', /use true or false/],
  ['ignore-unfixed', '1', /use true or false/],
  ['trivy-version', 'latest', /'latest'/],
  ['trivy-timeout', 'forever', /'forever'/],
  ['trivyignore', 'missing.ignore', /does not exist/],
]

/** What every failure must look like. */
function expectOneLineFailure(input: string): string {
  expect(h.record.failed).toHaveLength(1)
  const message = h.record.failed[0]
  expect(message).not.toMatch(/[\r\n]/)
  expect(message).not.toMatch(/\s+at\s+\S+\s+\(|\.ts:\d+|\.js:\d+|Error:/)
  expect(message).toContain(`Input '${input}'`)
  expect(message.length).toBeLessThan(600)
  return message
}

function expectNothingRan(): void {
  expect(h.record.commands).toEqual([])
  expect(h.buildImage).not.toHaveBeenCalled()
  expect(h.scanImage).not.toHaveBeenCalled()
  expect(mlflowRequests).toBe(0)
}

// ---------------------------------------------------------------------------------------------------------

describe('the harness itself', () => {
  test('refuses to start a process, so "nothing ran" below means something', async () => {
    h.prepare()
    const child = await import('node:child_process')
    expect(() => child.spawn('sh', ['-c', 'true'])).toThrow(/test harness/)
    const exec = await import('@actions/exec')
    await expect(exec.exec('docker', ['version'])).rejects.toThrow(/test harness/)
    expect(h.record.commands).toHaveLength(2)
  })
})

describe('awkward but valid CSVs train', () => {
  test.each(VALID)('%s', async (_kind, content, target, expectedRows) => {
    const paths = h.prepare({ dataset: 'data.csv', 'target-column': target, build: 'false' })
    fs.writeFileSync(path.join(paths.workspace, 'data.csv'), content)
    await h.run()
    expect(h.record.failed).toEqual([])
    expect(Number(h.record.outputs.get('accuracy'))).toBeGreaterThanOrEqual(0.9)
    const metrics = JSON.parse(
      fs.readFileSync(path.join(h.record.outputs.get('model-dir')!, 'metrics.json'), 'utf8'),
    )
    expect(metrics.trainSize + metrics.testSize).toBe(expectedRows)
  })
})

describe('broken CSVs fail with one line naming the input, and nothing runs', () => {
  test.each(BROKEN)('%s', async (_kind, content, inputs, pattern) => {
    mlflowRequests = 0
    const paths = h.prepare({ dataset: 'data.csv', ...inputs, 'mlflow-tracking-uri': mlflowUrl })
    if (typeof content === 'function')
      process.env[inputVariable('dataset')] = content(paths.workspace)
    else fs.writeFileSync(path.join(paths.workspace, 'data.csv'), content)
    await h.run()
    const message = expectOneLineFailure('target-column' in inputs ? 'target-column' : 'dataset')
    expect(message).toMatch(pattern)
    expect(h.record.outputs.has('accuracy')).toBe(false)
    expectNothingRan()
  })

  test('a 200 MB file fails at once over max-dataset-mb (default 100), without reading it', async () => {
    mlflowRequests = 0
    const paths = h.prepare({ dataset: 'huge.csv', 'mlflow-tracking-uri': mlflowUrl })
    const file = path.join(paths.workspace, 'huge.csv')
    const out = fs.createWriteStream(file)
    out.write('a,b,c,d,label\n')
    const block = Array.from(
      { length: 10000 },
      (_, i) => `${i % 97},${i % 89},${i % 83},${i % 71},${i % 2 ? 'yes' : 'no'}\n`,
    ).join('')
    const blockBytes = Buffer.byteLength(block)
    for (let written = 0; written < 200 * 1024 * 1024; written += blockBytes) {
      if (!out.write(block))
        await new Promise<void>((resolve) => out.once('drain', () => resolve()))
    }
    out.end()
    await finished(out)
    expect(fs.statSync(file).size).toBeGreaterThanOrEqual(200 * 1024 * 1024)
    const started = Date.now()
    await h.run()
    const elapsed = Date.now() - started
    const message = expectOneLineFailure('dataset')
    expect(message).toMatch(
      /'huge\.csv', 200\.\d MB, over max-dataset-mb 100: sample the data or raise max-dataset-mb/,
    )
    expect(elapsed).toBeLessThan(2000)
    expectNothingRan()
  }, 120000)
})

describe('bad inputs fail with one line naming the input, before anything runs', () => {
  test.each(BAD_INPUTS)('%s = %j', async (name, value, pattern) => {
    mlflowRequests = 0
    const env: Record<string, string> =
      name === 'mlflow-tracking-uri' ? {} : { MLFLOW_TRACKING_URI: mlflowUrl }
    h.prepare({ [name]: value }, env)
    await h.run()
    const message = expectOneLineFailure(name)
    expect(message).toMatch(pattern)
    expect(h.record.outputs.size).toBe(0)
    expectNothingRan()
  })

  test('the password in a URL never reaches the message', async () => {
    for (const value of ['http://user:pa55word@host', 'user:pa55word@host', 'ftp://u:pa55word@x']) {
      for (const name of ['mlflow-tracking-uri', 'trivy-server']) {
        h.prepare({ [name]: value })
        await h.run()
        expect(expectOneLineFailure(name)).not.toContain('pa55word')
      }
    }
  })
})

// ---------------------------------------------------------------------------------------------------------
// The whole process: the bundle as the runner starts it.

/** The bundle under test: dist/index.js, or MLSECOPS_DIST (e.g. a fresh `ncc build` in .tmp/dist-test). */
const BUNDLE = path.resolve(ROOT, process.env.MLSECOPS_DIST || 'dist/index.js')

describe(`node ${path.relative(ROOT, BUNDLE)} with INPUT_ variables`, () => {
  let root: string
  let tripwire: string
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'bad-input-bundle-'))
    // Commands the action could reach through PATH: each appends its name to $MLSECOPS_TRIPWIRE_LOG if started
    // (MLSECOPS_ variables reach the tools, the rest of the environment does not: src/exec.ts).
    tripwire = path.join(root, 'bin')
    fs.mkdirSync(tripwire)
    for (const name of ['docker', 'trivy', 'sh', 'bash', 'curl', 'id', 'rm']) {
      const script = `#!${process.execPath}\nrequire('fs').appendFileSync(process.env.MLSECOPS_TRIPWIRE_LOG, ${JSON.stringify(name)} + ' ' + process.argv.slice(2).join(' ') + '\\n')\n`
      fs.writeFileSync(path.join(tripwire, name), script, { mode: 0o755 })
    }
  })
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

  /** Runs the bundle the way the runner does: runner variables plus one INPUT_ variable per input. */
  function runBundle(
    ws: string,
    inputs: Record<string, string>,
    log: string,
  ): SpawnSyncReturns<string> {
    const env: Record<string, string> = {
      PATH: `${tripwire}:${path.dirname(process.execPath)}`,
      HOME: root,
      MLSECOPS_TRIPWIRE_LOG: log,
      GITHUB_WORKSPACE: ws,
      GITHUB_REPOSITORY: 'octo/iris-demo',
      GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
      RUNNER_TEMP: ws,
      RUNNER_TOOL_CACHE: path.join(ws, 'tool-cache'),
      GITHUB_OUTPUT: path.join(ws, 'output.txt'),
      GITHUB_STEP_SUMMARY: path.join(ws, 'summary.md'),
    }
    for (const [k, v] of Object.entries(inputs)) env[inputVariable(k)] = v
    fs.writeFileSync(env.GITHUB_OUTPUT, '')
    fs.writeFileSync(env.GITHUB_STEP_SUMMARY, '')
    return spawnSync(process.execPath, [BUNDLE], { env, encoding: 'utf8', timeout: 60000 })
  }

  test('control: with good inputs the bundle does reach docker through PATH, so the tripwire works', () => {
    expect(fs.existsSync(BUNDLE)).toBe(true)
    const ws = fs.mkdtempSync(path.join(root, 'ws-'))
    fs.writeFileSync(path.join(ws, 'Dockerfile'), 'FROM scratch\n')
    const log = path.join(root, 'control.log')
    runBundle(ws, {}, log)
    expect(fs.readFileSync(log, 'utf8')).toMatch(/^docker /m)
  }, 60000)

  const CASES: [string, string, Record<string, string>, (ws: string) => void][] = [
    ['test-size', 'abc', { 'test-size': 'abc' }, () => undefined],
    ['image', 'x;rm -rf /', { image: 'x;rm -rf /' }, () => undefined],
    ['image', '$(id)', { image: '$(id)' }, () => undefined],
    [
      'mlflow-tracking-uri',
      'http://user:pass@host',
      { 'mlflow-tracking-uri': 'http://user:s3cr3t-pw@host' },
      () => undefined,
    ],
    ['fail-on-severity', 'SEVERE', { 'fail-on-severity': 'SEVERE' }, () => undefined],
    ['dataset', 'a missing file', { dataset: 'missing.csv' }, () => undefined],
    [
      'dataset',
      'a ragged CSV',
      { dataset: 'ragged.csv' },
      (ws) => fs.writeFileSync(path.join(ws, 'ragged.csv'), csv(['x,y,label', '1,2,a', '3,b'])),
    ],
  ]

  test.each(CASES)(
    '%s: %s -> exit 1 and one ::error:: line naming it, nothing started',
    (input, _what, inputs, setup) => {
      expect(fs.existsSync(BUNDLE)).toBe(true)
      const ws = fs.mkdtempSync(path.join(root, 'ws-'))
      setup(ws)
      const log = path.join(ws, 'ran.log')
      const r = runBundle(ws, inputs, log)
      expect(r.status).toBe(1)
      const errors = r.stdout.split('\n').filter((l) => l.startsWith('::error'))
      expect(errors).toHaveLength(1)
      const line = errors[0]
      // core.setFailed escapes a line break as %0A: the message itself must have none.
      expect(line).not.toMatch(/%0A|%0D/)
      expect(line).toContain(`Input '${input}'`)
      expect(`${r.stdout}\n${r.stderr}`).not.toMatch(/^\s+at\s/m)
      expect(`${r.stdout}\n${r.stderr}`).not.toContain('s3cr3t-pw')
      expect(fs.existsSync(log)).toBe(false)
    },
    60000,
  )
})
