/**
 * Integration: partialFingerprints across runs. Real images built by the engine, scanned by the real Trivy with
 * the test vulnerability DB (the scan stage's own code: JSON, then `trivy convert` to SARIF), each SARIF sent by
 * the code-scanning stage to the local code-scanning server (__tests__/stack/code-scanning-server.ts). What the
 * server received is compared: the same image scanned twice, and rebuilt under another tag, must carry the same
 * fingerprint for each finding; another image's findings must not. The received SARIF must still validate with
 * the SARIF Multitool (SARIF and GitHub rules) and the SARIF 2.1.0 schema.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { getRunContext } from '../src/context.js'
import { uploadSarifToCodeScanning } from '../src/publish/code-scanning.js'
import { FINGERPRINT_KEY } from '../src/publish/sarif-fingerprints.js'
import { scanImage } from '../src/trivy/scan-image.js'
import { startCodeScanningServer, type CodeScanningServer } from './stack/code-scanning-server.js'
import {
  buildFixtureImage,
  docker,
  removeImages,
  requireDocker,
  uniqueName,
} from './stack/docker.js'
import { MLSECOPS_TRIVY_DIR, MLSECOPS_TRIVY_VERSION, REPO_ROOT, TRIVY_BINARY } from './stack/env.js'
import { multitoolValidate, schemaValidate } from './stack/sarif.js'
import { writeTrivyTestDb } from './stack/trivy-test-db.js'

const TOKEN = 'ghs_fingerprintTestToken0123456789abcdef'
const SHA = 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3'
const name = uniqueName('mlsecops-itest-fp')
const other = uniqueName('mlsecops-itest-fp-other')
const run1 = `${name}:run1`
const run2 = `${name}:run2`
const otherImage = `${other}:run1`

let tmp: string
let cacheDir: string
let server: CodeScanningServer
const savedEnv = { ...process.env }

interface ReceivedResult {
  ruleId: string
  message: { text: string }
  locations: { physicalLocation: { artifactLocation: { uri: string } } }[]
  partialFingerprints: Record<string, string>
}

/** One finding's readable identity (rule, package line, path) -> its fingerprint, as the server received it. */
type Prints = Map<string, string>

/** Scans `image` with the scan stage, uploads its SARIF with the code-scanning stage; returns what arrived. */
async function scanAndUpload(image: string, pass: { image?: string } = { image }): Promise<Prints> {
  const scan = await scanImage({
    image,
    reportsDir: fs.mkdtempSync(path.join(tmp, 'reports-')),
    runnerTemp: tmp,
    trivyVersion: MLSECOPS_TRIVY_VERSION,
    scanners: ['vuln', 'secret', 'misconfig'],
    cacheDir,
    skipDbUpdate: true,
    dbRepositories: [],
    server: '',
    timeout: '5m',
  })
  const before = server.uploads.length
  const result = await uploadSarifToCodeScanning(
    {
      sarifFile: scan.sarifReport,
      category: 'mlsecops',
      token: TOKEN,
      ...pass,
      pollInitialDelayMs: 10,
      pollMaxDelayMs: 50,
      pollTimeoutMs: 5_000,
    },
    getRunContext({
      GITHUB_API_URL: server.apiUrl,
      GITHUB_REPOSITORY: 'octo-org/model-repo',
      GITHUB_SHA: SHA,
      GITHUB_REF: 'refs/heads/main',
      GITHUB_ACTOR: 'octocat',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_WORKSPACE: tmp,
      RUNNER_TEMP: tmp,
    }),
  )
  expect(result.status).toBe('uploaded')
  expect(server.uploads.length).toBe(before + 1)
  const upload = server.uploads.at(-1)!
  const file = path.join(tmp, `received-${server.uploads.length}.sarif`)
  fs.writeFileSync(file, upload.sarifText)
  expect(schemaValidate(upload.sarif)).toEqual([])
  expect(multitoolValidate(file, tmp).filter((v) => v.level === 'error')).toEqual([])

  const results = (upload.sarif.runs as { results: ReceivedResult[] }[]).flatMap((r) => r.results)
  const prints: Prints = new Map()
  for (const r of results) {
    const pkg = /^Package: .*$/m.exec(r.message.text)?.[0] ?? ''
    const uri = r.locations[0]?.physicalLocation.artifactLocation.uri ?? ''
    const key = `${r.ruleId} | ${pkg} | ${uri}`
    expect(r.partialFingerprints[FINGERPRINT_KEY]).toMatch(/^[0-9a-f]{64}:\d+$/)
    expect(prints.has(key)).toBe(false)
    prints.set(key, r.partialFingerprints[FINGERPRINT_KEY])
  }
  return prints
}

beforeAll(async () => {
  requireDocker()
  if (!fs.existsSync(TRIVY_BINARY)) {
    throw new Error(`${TRIVY_BINARY} is missing: run scripts/stack/install.sh`)
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlsecops-fingerprints-'))
  cacheDir = path.join(tmp, 'trivy-cache')
  writeTrivyTestDb(cacheDir, '2026-11-20T06:00:00Z')
  process.env.PATH = `${MLSECOPS_TRIVY_DIR}${path.delimiter}${process.env.PATH ?? ''}`
  process.env.RUNNER_TEMP = tmp
  process.env.RUNNER_TOOL_CACHE = path.join(tmp, 'tool-cache')
  const output = path.join(tmp, 'github-output')
  fs.writeFileSync(output, '')
  process.env.GITHUB_OUTPUT = output
  delete process.env.ACTIONS_CACHE_URL
  delete process.env.ACTIONS_RESULTS_URL
  server = await startCodeScanningServer({ owner: 'octo-org', repo: 'model-repo', token: TOKEN })

  // The root-user fixture: the base image's packages (test DB advisories) and a misconfiguration (no USER).
  const context = path.join(tmp, 'root-user')
  fs.cpSync(path.join(REPO_ROOT, '__fixtures__', 'images', 'root-user'), context, {
    recursive: true,
  })
  buildFixtureImage(context, run1)
  buildFixtureImage(context, otherImage)
  // The next run rebuilds with a changed application file under a new tag: another image id, same findings.
  fs.appendFileSync(path.join(context, 'app.mjs'), '\n// run 2\n')
  buildFixtureImage(context, run2)
})

afterAll(async () => {
  process.env = { ...savedEnv }
  await server?.stop()
  removeImages(run1, run2, otherImage)
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

describe('partialFingerprints of real scans, as the code-scanning endpoint receives them', () => {
  let first: Prints

  it('the same image scanned in two runs: every finding keeps its fingerprint', async () => {
    first = await scanAndUpload(run1)
    // The fixture has vulnerabilities (test DB) and a misconfiguration, all with distinct fingerprints.
    expect([...first.keys()].some((k) => k.startsWith('CVE-'))).toBe(true)
    expect([...first.keys()].some((k) => k.includes('| Package: '))).toBe(true)
    expect(new Set(first.values()).size).toBe(first.size)
    const again = await scanAndUpload(run1)
    expect(again).toEqual(first)
  })

  it('the image rebuilt under another tag (another image id): the same fingerprints', async () => {
    const id1 = docker(['image', 'inspect', '--format', '{{.Id}}', run1]).trim()
    const id2 = docker(['image', 'inspect', '--format', '{{.Id}}', run2]).trim()
    expect(id2).not.toBe(id1)
    expect(await scanAndUpload(run2)).toEqual(first)
  })

  it("without the image option, Trivy's imageName in the SARIF gives the same fingerprints", async () => {
    expect(await scanAndUpload(run2, {})).toEqual(first)
  })

  it("another image's findings (same advisories, same packages) are other alerts", async () => {
    const others = await scanAndUpload(otherImage)
    expect(others.size).toBe(first.size)
    for (const print of others.values()) expect([...first.values()]).not.toContain(print)
  })
})
