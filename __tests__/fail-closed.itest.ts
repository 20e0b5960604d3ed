// Integration: the scanner breaking, every way we know, fails the whole job closed. Each case runs the bundled
// action (`node dist/index.js`) as the runner would, with a real image build on the local engine, and a Trivy
// that is missing, killed by SIGKILL mid-scan, without its DB under trivy-skip-db-update, writing a corrupt
// JSON report, exiting 0 without a report, or timing out (the real Trivy with trivy-timeout 1s on a fresh
// cache). The faulty Trivys are a wrapper script first on PATH that passes `--version` (and everything but
// the scan) to the real binary, so the action takes it for Trivy 0.74.0. Each case must end with exit code 1,
// exactly one `::error::ScannerError: ...` line, and the gate output never `passed` (not set at all).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as path from 'node:path'
import { recordRobustness, runActionProcess } from './stack/action-process.js'
import { removeImages } from './stack/docker.js'
import { MLSECOPS_BASE_IMAGE, MLSECOPS_TRIVY_DIR, REPO_ROOT, TRIVY_BINARY } from './stack/env.js'
import { preparePipelineDirs } from './stack/pipeline-stack.js'
import { writeTrivyTestDb } from './stack/trivy-test-db.js'

let tmp: string
let workspace: string
let cacheDir: string
let wrapperDir: string
let releases: http.Server
let releasesUrl: string
const images: string[] = []
const tally = { runs: 0, failedCleanly: 0 }

/** A `trivy` that behaves like the real one except in the scan (`trivy image`), per MLSECOPS_TRIVY_FAULT. */
const WRAPPER = `#!/bin/bash
real="$MLSECOPS_REAL_TRIVY"
if [ "$1" != "image" ]; then exec "$real" "$@"; fi
case "$MLSECOPS_TRIVY_FAULT" in
  kill) kill -KILL $$ ;;
  no-report) exit 0 ;;
  corrupt)
    "$real" "$@" || exit $?
    out=""; prev=""
    for a in "$@"; do [ "$prev" = "--output" ] && out="$a"; prev="$a"; done
    head -c 200 "$out" > "$out.part" && mv "$out.part" "$out"
    exit 0 ;;
esac
exec "$real" "$@"
`

/** PATH without the real Trivy's directory. */
function pathWithoutTrivy(): string {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((p) => p !== MLSECOPS_TRIVY_DIR && p !== '')
    .join(path.delimiter)
}

beforeAll(async () => {
  ;({ tmp, workspace, cacheDir } = preparePipelineDirs('fail-closed-itest-'))
  // The dataset is a path input: it must be inside the workspace.
  fs.copyFileSync(
    path.join(REPO_ROOT, 'model', 'iris.csv'),
    path.join(workspace, 'model', 'iris.csv'),
  )
  wrapperDir = path.join(tmp, 'wrapper')
  fs.mkdirSync(wrapperDir)
  fs.writeFileSync(path.join(wrapperDir, 'trivy'), WRAPPER, { mode: 0o755 })
  // A release server with nothing on it: Trivy cannot be downloaded either.
  releases = http.createServer((_req, res) => {
    res.writeHead(404)
    res.end('not found')
  })
  await new Promise<void>((resolve) => releases.listen(0, '127.0.0.1', resolve))
  releasesUrl = `http://127.0.0.1:${(releases.address() as AddressInfo).port}/releases`
}, 120_000)

afterAll(async () => {
  removeImages(...images)
  await new Promise<void>((resolve) => (releases ? releases.close(() => resolve()) : resolve()))
  recordRobustness({
    kind: 'fail-closed',
    runs: tally.runs,
    completed: 0,
    failedCleanly: tally.failedCleanly,
    faultsInjected: tally.runs,
    duplicates: 0,
    runningLeft: 0,
  })
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

/** Runs the whole action with a broken scanner; returns the ScannerError line. */
async function runBroken(
  name: string,
  options: { path: string; env?: Record<string, string>; inputs?: Record<string, string> },
): Promise<string> {
  const result = await runActionProcess({
    tmp,
    name,
    workspace,
    inputs: {
      dataset: 'model/iris.csv',
      'build-args': `BASE_IMAGE=${MLSECOPS_BASE_IMAGE}`,
      'trivy-cache-dir': cacheDir,
      'trivy-skip-db-update': 'true',
      'fail-on-severity': 'none',
      'upload-artifact': 'false',
      'upload-sarif': 'false',
      ...options.inputs,
    },
    env: {
      PATH: options.path,
      MLSECOPS_REAL_TRIVY: TRIVY_BINARY,
      MLSECOPS_TRIVY_DOWNLOAD_URL: releasesUrl,
      ...options.env,
    },
  })
  if (result.outputs.image) images.push(result.outputs.image)
  tally.runs += 1
  const errors = result.stdout.split('\n').filter((l) => l.startsWith('::error'))
  // The image was built: the failure is the scanner's, not the build's.
  expect(result.outputs['image-id']).toMatch(/^sha256:/)
  expect(result.code).toBe(1)
  expect(errors).toHaveLength(1)
  expect(errors[0]).toMatch(/^::error::ScannerError: /)
  expect(result.outputs.gate).toBeUndefined()
  expect(result.stdout).not.toMatch(/::set-output name=gate::passed|gate<<[^\n]*\npassed/)
  for (const severity of ['critical', 'high', 'medium', 'low', 'unknown'])
    expect(result.outputs[severity]).toBeUndefined()
  tally.failedCleanly += 1
  console.log(`${name}: ${errors[0]}`)
  return errors[0].replace(/^::error::/, '')
}

describe('a broken scanner fails the job closed (node dist/index.js)', () => {
  it('Trivy missing (not on PATH, the release cannot be downloaded)', async () => {
    const line = await runBroken('missing', { path: pathWithoutTrivy() })
    expect(line).toMatch(/^ScannerError: .*Trivy 0\.74\.0 is not on PATH/)
  })

  it('Trivy killed by SIGKILL during the scan', async () => {
    const line = await runBroken('killed', {
      path: `${wrapperDir}${path.delimiter}${pathWithoutTrivy()}`,
      env: { MLSECOPS_TRIVY_FAULT: 'kill' },
    })
    expect(line).toMatch(
      /^ScannerError: Trivy was killed \(no exit code: ended by a signal.*during the scan/,
    )
  })

  it('no vulnerability DB with trivy-skip-db-update', async () => {
    const line = await runBroken('no-db', {
      path: `${MLSECOPS_TRIVY_DIR}${path.delimiter}${pathWithoutTrivy()}`,
      inputs: { 'trivy-cache-dir': path.join(tmp, 'empty-cache') },
    })
    expect(line).toMatch(
      /^ScannerError: trivy-skip-db-update is true but there is no vulnerability DB/,
    )
  })

  it('a corrupt (cut-off) JSON report from an otherwise successful scan', async () => {
    const line = await runBroken('corrupt', {
      path: `${wrapperDir}${path.delimiter}${pathWithoutTrivy()}`,
      env: { MLSECOPS_TRIVY_FAULT: 'corrupt' },
    })
    expect(line).toMatch(/^ScannerError: .*(JSON|report)/)
  })

  it('exit 0 without writing any report', async () => {
    const line = await runBroken('no-report', {
      path: `${wrapperDir}${path.delimiter}${pathWithoutTrivy()}`,
      env: { MLSECOPS_TRIVY_FAULT: 'no-report' },
    })
    expect(line).toMatch(/^ScannerError: .*report/)
  })

  it('a scan that runs out of time (the real Trivy, trivy-timeout 1s, a fresh cache)', async () => {
    const fresh = path.join(tmp, 'fresh-cache')
    writeTrivyTestDb(fresh)
    const line = await runBroken('timeout', {
      path: `${MLSECOPS_TRIVY_DIR}${path.delimiter}${pathWithoutTrivy()}`,
      inputs: { 'trivy-cache-dir': fresh, 'trivy-timeout': '1s' },
    })
    expect(line).toMatch(
      /^ScannerError: Trivy failed \(exit 1\) during the scan.*(deadline|timeout)/,
    )
  })
})
