/**
 * Integration: the scan stage with the real Trivy ($MLSECOPS_TRIVY_DIR/trivy) on images built by the real engine,
 * with the test vulnerability DB written by scripts/trivy-test-db. Independent checks: the image's own dpkg
 * database and `dpkg --compare-versions` (which advisories must match), Trivy run directly with
 * --ignore-unfixed (what "ignore-unfixed" means), the SARIF Multitool and ajv with the SARIF 2.1.0 schema.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { buildImage } from '../src/docker/build-image.js'
import { ScannerError } from '../src/errors.js'
import { evaluateSeverityGate } from '../src/gate.js'
import type { Scanner } from '../src/trivy/findings.js'
import type { Finding, ScanResult } from '../src/trivy/findings.js'
import { countBySeverity } from '../src/trivy/report.js'
import { loadExceptions } from '../src/trivy/exceptions.js'
import { scanImage, type ScanOptions } from '../src/trivy/scan-image.js'
import {
  buildFixtureImage,
  copyExampleContext,
  removeImages,
  requireDocker,
  uniqueName,
} from './stack/docker.js'
import {
  MLSECOPS_BASE_IMAGE,
  MLSECOPS_TRIVY_DIR,
  MLSECOPS_TRIVY_VERSION,
  REPO_ROOT,
  TRIVY_BINARY,
} from './stack/env.js'
import { multitoolValidate, schemaValidate } from './stack/sarif.js'
import {
  expectedVulnerabilities,
  startTestDbRegistry,
  testAdvisories,
  writeTrivyTestDb,
  type ExpectedVulnerability,
} from './stack/trivy-test-db.js'
import { trainModel } from '../src/train/train-stage.js'

let tmp: string
let cacheDir: string
let expected: ExpectedVulnerability[]
let full: ScanResult
const savedEnv = { ...process.env }
const exampleImage = `${uniqueName('mlsecops-itest-scan')}:x`
const rootImage = `${uniqueName('mlsecops-itest-root')}:x`
const secretImage = `${uniqueName('mlsecops-itest-secret')}:x`
let privateKeyPem: string

function options(overrides: Partial<ScanOptions> = {}): ScanOptions {
  return {
    image: exampleImage,
    reportsDir: fs.mkdtempSync(path.join(tmp, 'reports-')),
    runnerTemp: tmp,
    trivyVersion: MLSECOPS_TRIVY_VERSION,
    scanners: ['vuln', 'secret', 'misconfig'],
    cacheDir,
    skipDbUpdate: true,
    dbRepositories: [],
    server: '',
    timeout: '5m',
    ...overrides,
  }
}

function vulnKeys(findings: readonly Finding[]): string[] {
  return findings
    .filter((f) => f.scanner === 'vuln')
    .map((f) => `${f.id} ${f.pkgName}`)
    .sort()
}

function expectedKeys(list: readonly ExpectedVulnerability[]): string[] {
  return list.map((e) => `${e.id} ${e.pkgName}`).sort()
}

/** Runs the real trivy directly (not through the action) and returns its JSON report. */
function trivyDirect(
  args: string[],
  image: string,
): { Results?: { Vulnerabilities?: { VulnerabilityID: string; PkgName: string }[] }[] } {
  const out = path.join(fs.mkdtempSync(path.join(tmp, 'direct-')), 'report.json')
  execFileSync(
    TRIVY_BINARY,
    [
      'image',
      '--image-src',
      'docker',
      '--cache-dir',
      cacheDir,
      '--skip-db-update',
      '--skip-java-db-update',
      '--skip-check-update',
      '--skip-version-check',
      '--disable-telemetry',
      '--format',
      'json',
      '--output',
      out,
      ...args,
      image,
    ],
    { stdio: 'pipe', cwd: tmp },
  )
  return JSON.parse(fs.readFileSync(out, 'utf8'))
}

beforeAll(async () => {
  requireDocker()
  if (!fs.existsSync(TRIVY_BINARY))
    throw new Error(`${TRIVY_BINARY} is missing: run scripts/stack/install.sh`)
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlsecops-scan-'))
  cacheDir = path.join(tmp, 'trivy-cache')
  writeTrivyTestDb(cacheDir, '2026-11-20T06:00:00Z')
  process.env.PATH = `${MLSECOPS_TRIVY_DIR}${path.delimiter}${process.env.PATH ?? ''}`
  process.env.RUNNER_TEMP = tmp
  process.env.RUNNER_TOOL_CACHE = path.join(tmp, 'tool-cache')
  delete process.env.ACTIONS_CACHE_URL
  delete process.env.ACTIONS_RESULTS_URL

  // The example image, built by the action's build stage, reused by every test in this file.
  const context = copyExampleContext(path.join(tmp, 'example'))
  const train = trainModel({
    dataset: '',
    targetColumn: '',
    testSize: 0.2,
    seed: 42,
    modelDir: path.join(tmp, 'model'),
  })
  await buildImage({
    dockerfile: path.join(context, 'Dockerfile'),
    context,
    image: exampleImage,
    buildArgs: { BASE_IMAGE: MLSECOPS_BASE_IMAGE },
    modelDir: train.modelDir,
    modelName: 'iris',
  })
  // Fixture images: one running as root, one with a private key (generated here, never committed).
  const rootContext = path.join(tmp, 'root-user')
  fs.cpSync(path.join(REPO_ROOT, '__fixtures__', 'images', 'root-user'), rootContext, {
    recursive: true,
  })
  buildFixtureImage(rootContext, rootImage)
  const secretContext = path.join(tmp, 'private-key')
  fs.cpSync(path.join(REPO_ROOT, '__fixtures__', 'images', 'private-key'), secretContext, {
    recursive: true,
  })
  privateKeyPem = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey
  fs.writeFileSync(path.join(secretContext, 'deploy_key.pem'), privateKeyPem)
  buildFixtureImage(secretContext, secretImage)

  expected = expectedVulnerabilities(MLSECOPS_BASE_IMAGE)
  full = await scanImage(options())
})

afterAll(() => {
  process.env = { ...savedEnv }
  removeImages(exampleImage, rootImage, secretImage)
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

describe('scanImage with the test DB', () => {
  it('finds exactly the advisories whose installed version is below the fixed one (per dpkg)', () => {
    // Sanity of the fixture itself: both kinds of non-matching advisories exist and are not expected.
    const ids = new Set(expected.map((e) => e.id))
    expect(ids.has('CVE-2099-1007')).toBe(false) // fixed version below the installed one
    expect(ids.has('CVE-2099-1008')).toBe(false) // package not installed
    expect(expected.length).toBeGreaterThanOrEqual(6)

    expect(vulnKeys(full.findings)).toEqual(expectedKeys(expected))
    for (const e of expected) {
      const f = full.findings.find((x) => x.id === e.id && x.pkgName === e.pkgName)
      expect(f?.severity).toBe(e.severity)
      expect(f?.fixedVersion ?? '').toBe(e.fixedVersion)
      expect(f?.status).toBe(e.fixedVersion === '' ? 'affected' : 'fixed')
    }
  })

  it('counts every finding by severity, and the reports exist', () => {
    expect(full.counts).toEqual(countBySeverity(full.findings))
    const vulnCounts = { UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 }
    for (const e of expected) vulnCounts[e.severity] += 1
    const otherCounts = countBySeverity(full.findings.filter((f) => f.scanner !== 'vuln'))
    for (const s of Object.keys(vulnCounts) as (keyof typeof vulnCounts)[]) {
      expect(full.counts[s]).toBe(vulnCounts[s] + otherCounts[s])
    }
    expect(fs.existsSync(full.jsonReport)).toBe(true)
    expect(fs.existsSync(full.sarifReport)).toBe(true)
    expect(full.trivyVersion).toBe(MLSECOPS_TRIVY_VERSION)
    expect(full.dbUpdatedAt).toBe('2026-11-20T06:00:00Z')
  })

  it('writes SARIF that validates and keeps every severity with a security-severity', () => {
    const sarif = JSON.parse(fs.readFileSync(full.sarifReport, 'utf8')) as {
      version: string
      runs: {
        tool: { driver: { rules: { id: string; properties?: Record<string, unknown> }[] } }
        results: { ruleId: string }[]
      }[]
    }
    expect(sarif.version).toBe('2.1.0')
    expect(schemaValidate(sarif)).toEqual([])
    expect(multitoolValidate(full.sarifReport, tmp)).toEqual([])
    const run = sarif.runs[0]
    const ruleIds = new Set(run.results.map((r) => r.ruleId))
    for (const e of expected) expect(ruleIds.has(e.id)).toBe(true) // LOW and UNKNOWN too: no gate in the SARIF
    for (const rule of run.tool.driver.rules) {
      expect(rule.properties?.['security-severity']).toMatch(/^\d+(\.\d+)?$/)
    }
    const scores = Object.fromEntries(
      run.tool.driver.rules.map((r) => [r.id, Number(r.properties?.['security-severity'])]),
    )
    expect(scores['CVE-2099-1001']).toBeGreaterThanOrEqual(9) // CRITICAL
    expect(scores['CVE-2099-1002']).toBeGreaterThanOrEqual(7) // HIGH
  })

  it('the validators are live: a broken SARIF is rejected by both', () => {
    const sarif = JSON.parse(fs.readFileSync(full.sarifReport, 'utf8')) as {
      runs: {
        tool: { driver: { rules: Record<string, unknown>[] } }
        results: Record<string, unknown>[]
      }[]
    }
    for (const rule of sarif.runs[0].tool.driver.rules) {
      delete rule.fullDescription
      delete rule.help
    }
    const broken = path.join(tmp, 'broken.sarif')
    fs.writeFileSync(broken, JSON.stringify(sarif))
    // GitHub's ingestion rule: every rule needs a fullDescription or help.
    expect(multitoolValidate(broken, tmp).map((v) => v.ruleId)).toContain('GH2012')
    // The schema: a level outside none/note/warning/error.
    sarif.runs[0].tool.driver.rules[0].defaultConfiguration = { level: 'fatal' }
    expect(schemaValidate(sarif).join(' ')).toMatch(/defaultConfiguration\/level/)
  })

  it('gates at or below the highest severity found and passes above it', () => {
    const highest = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const
    const top = highest.find((s) => full.counts[s] > 0)
    expect(top).toBe('CRITICAL')
    const atHigh = evaluateSeverityGate(full.findings, {
      failOnSeverity: 'HIGH',
      ignoreUnfixed: false,
    })
    expect(atHigh.passed).toBe(false)
    expect(atHigh.tripped.length).toBe(full.counts.CRITICAL + full.counts.HIGH)
    const none = evaluateSeverityGate(full.findings, {
      failOnSeverity: undefined,
      ignoreUnfixed: false,
    })
    expect(none.passed).toBe(true)
  })

  it('ignore-unfixed leaves out exactly what trivy --ignore-unfixed leaves out', () => {
    const direct = trivyDirect(['--scanners', 'vuln', '--ignore-unfixed'], exampleImage)
    const trivyKeys = (direct.Results ?? [])
      .flatMap((r) => r.Vulnerabilities ?? [])
      .map((v) => `${v.VulnerabilityID} ${v.PkgName}`)
      .sort()
    const gate = evaluateSeverityGate(full.findings, {
      failOnSeverity: 'UNKNOWN',
      ignoreUnfixed: true,
    })
    expect(vulnKeys(gate.tripped)).toEqual(trivyKeys)
    expect(gate.ignoredUnfixed).toBe(expected.filter((e) => e.fixedVersion === '').length)
    expect(gate.ignoredUnfixed).toBeGreaterThan(0)
    // The unfixed finding still counts in the outputs and stays in both reports.
    expect(full.findings.some((f) => f.id === 'CVE-2099-1004')).toBe(true)
  })

  it('a .trivyignore entry removes the finding from the counts and from both reports', async () => {
    const ignoreFile = path.join(tmp, 'ignore-nodejs')
    fs.writeFileSync(ignoreFile, '# accepted for the test\nCVE-2099-1003\n')
    const exceptions = loadExceptions({
      ignoreFiles: [{ path: ignoreFile, name: 'ignore-nodejs' }],
      vexFiles: [],
      warningDays: 14,
      requireReason: false,
    })
    const scan = await scanImage(options({ exceptions, scanners: ['vuln'] }))
    const remaining = expected.filter((e) => e.id !== 'CVE-2099-1003')
    expect(vulnKeys(scan.findings)).toEqual(expectedKeys(remaining))
    expect(scan.counts.HIGH).toBe(remaining.filter((e) => e.severity === 'HIGH').length)
    // Out of the findings and the SARIF; listed as suppressed (the JSON keeps it under ModifiedFindings).
    expect(fs.readFileSync(scan.sarifReport, 'utf8')).not.toContain('CVE-2099-1003')
    expect(
      scan.suppressed?.map((f) => `${f.id} ${f.pkgName} ${f.suppression.source}`).sort(),
    ).toEqual(
      expected
        .filter((e) => e.id === 'CVE-2099-1003')
        .map((e) => `${e.id} ${e.pkgName} ignore-nodejs:2`)
        .sort(),
    )
    expect(scan.suppressed?.[0].suppression.reason).toBe('accepted for the test')
  })

  it('CycloneDX VEX (translated to OpenVEX for Trivy) suppresses not_affected findings, with its reason', async () => {
    const vexFile = path.join(tmp, 'gzip.cdx.json')
    fs.writeFileSync(
      vexFile,
      JSON.stringify({
        bomFormat: 'CycloneDX',
        specVersion: '1.5',
        version: 1,
        components: [
          { 'bom-ref': 'gzip', type: 'library', name: 'gzip', purl: 'pkg:deb/debian/gzip' },
        ],
        vulnerabilities: [
          {
            id: 'CVE-2099-1005',
            analysis: {
              state: 'not_affected',
              justification: 'code_not_reachable',
              detail: 'gzip is never run',
            },
            affects: [{ ref: 'gzip' }],
          },
        ],
      }),
    )
    const exceptions = loadExceptions({
      ignoreFiles: [],
      vexFiles: [{ path: vexFile, name: 'gzip.cdx.json' }],
      warningDays: 14,
      requireReason: false,
    })
    const scan = await scanImage(options({ exceptions, scanners: ['vuln'] }))
    const gzip = expected.filter((e) => e.id === 'CVE-2099-1005')
    expect(gzip.length).toBeGreaterThan(0)
    expect(vulnKeys(scan.findings)).toEqual(
      expectedKeys(expected.filter((e) => e.id !== 'CVE-2099-1005')),
    )
    expect(
      scan.suppressed?.map((f) => [
        f.id,
        f.suppression.by,
        f.suppression.source,
        f.suppression.reason,
      ]),
    ).toEqual(
      gzip.map(() => [
        'CVE-2099-1005',
        'vex',
        'gzip.cdx.json',
        'not_affected: vulnerable_code_not_in_execute_path: gzip is never run',
      ]),
    )
  })

  it('YAML entries suppress a secret and a misconfiguration too, each traced to its line', async () => {
    const plain = await scanImage(options({ image: rootImage, scanners: ['misconfig'] }))
    const root = plain.findings.find((f) => f.scanner === 'misconfig' && /root/i.test(f.title))!
    const ignoreFile = path.join(tmp, 'secrets-misconfig.yaml')
    fs.writeFileSync(
      ignoreFile,
      `misconfigurations:\n  - id: ${root.id}\n    statement: root only at build time\nsecrets:\n  - id: private-key\n    statement: test key, never deployed\n`,
    )
    const exceptions = loadExceptions({
      ignoreFiles: [{ path: ignoreFile, name: 'secrets-misconfig.yaml' }],
      vexFiles: [],
      warningDays: 14,
      requireReason: true,
    })
    const misconfig = await scanImage(
      options({ image: rootImage, scanners: ['misconfig'], exceptions }),
    )
    expect(misconfig.findings.some((f) => f.id === root.id)).toBe(false)
    expect(misconfig.suppressed?.find((f) => f.id === root.id)?.suppression).toEqual({
      by: 'ignore-file',
      status: 'ignored',
      reason: 'root only at build time',
      source: 'secrets-misconfig.yaml:2',
      until: '',
    })
    const secret = await scanImage(
      options({ image: secretImage, scanners: ['secret'], exceptions }),
    )
    expect(secret.findings.some((f) => f.id === 'private-key')).toBe(false)
    const key = secret.suppressed?.find((f) => f.id === 'private-key')
    expect(key?.scanner).toBe('secret')
    expect(key?.target).toContain('deploy_key.pem')
    expect(key?.suppression.source).toBe('secrets-misconfig.yaml:5')
    // Suppressed findings create no code-scanning alert: they are not in the SARIF.
    expect(fs.readFileSync(secret.sarifReport, 'utf8')).not.toContain('private-key')
    expect(fs.readFileSync(secret.jsonReport, 'utf8')).not.toContain(privateKeyPem.split('\n')[5])
  })

  it('finds a private key copied into an image as a secret, without copying the key anywhere', async () => {
    const scan = await scanImage(options({ image: secretImage, scanners: ['secret'] }))
    const secrets = scan.findings.filter((f) => f.scanner === 'secret')
    expect(secrets.map((f) => f.id)).toContain('private-key')
    const key = secrets.find((f) => f.id === 'private-key')
    expect(key?.target).toContain('deploy_key.pem')
    expect(key?.severity).toBe('HIGH')
    const keyBody = privateKeyPem.split('\n')[5]
    expect(keyBody.length).toBeGreaterThan(40)
    expect(JSON.stringify(scan.findings)).not.toContain(keyBody)
    expect(fs.readFileSync(scan.jsonReport, 'utf8')).not.toContain(keyBody)
    expect(fs.readFileSync(scan.sarifReport, 'utf8')).not.toContain(keyBody)
  })

  it('shows a misconfiguration for an image that runs as root, and none for the example image', async () => {
    const scan = await scanImage(options({ image: rootImage, scanners: ['misconfig'] }))
    const root = scan.findings.find((f) => f.scanner === 'misconfig' && /root/i.test(f.title))
    expect(root).toBeDefined()
    expect(root?.id).toMatch(/^DS-?0*2$/)
    expect(root?.severity).toBe('HIGH')
    expect(full.findings.some((f) => f.scanner === 'misconfig' && /root/i.test(f.title))).toBe(
      false,
    )
  })

  it('downloads the DB from a registry (trivy-db-repository), then reuses it without downloading', async () => {
    const registry = await startTestDbRegistry(path.join(tmp, 'registry-db'))
    const freshCache = path.join(tmp, 'download-cache')
    try {
      const first = await scanImage(
        options({
          scanners: ['vuln'],
          cacheDir: freshCache,
          skipDbUpdate: false,
          dbRepositories: [registry.repository],
        }),
      )
      expect(vulnKeys(first.findings)).toEqual(expectedKeys(expected))
      const metadata = JSON.parse(
        fs.readFileSync(path.join(freshCache, 'db', 'metadata.json'), 'utf8'),
      ) as { DownloadedAt: string }
      expect(Date.now() - Date.parse(metadata.DownloadedAt)).toBeLessThan(120_000)
      // A second run finds the DB fresh (NextUpdate ahead): Trivy does not download it again.
      await scanImage(
        options({
          scanners: ['vuln'],
          cacheDir: freshCache,
          skipDbUpdate: false,
          dbRepositories: [registry.repository],
        }),
      )
      const again = JSON.parse(
        fs.readFileSync(path.join(freshCache, 'db', 'metadata.json'), 'utf8'),
      ) as { DownloadedAt: string }
      expect(again.DownloadedAt).toBe(metadata.DownloadedAt)
    } finally {
      await registry.stop()
    }
    // With the registry gone and no DB, the download fails as a scanner error naming the way out.
    const attempt = scanImage(
      options({
        scanners: ['vuln'],
        cacheDir: path.join(tmp, 'download-cache-2'),
        skipDbUpdate: false,
        dbRepositories: [registry.repository],
        timeout: '20s',
      }),
    )
    await expect(attempt).rejects.toThrow(
      /during the vulnerability DB download \(use trivy-db-repository/,
    )
  })

  it('serves the same findings through a Trivy server (client/server mode)', async () => {
    const port = await freePort()
    const server: ChildProcess = spawn(
      TRIVY_BINARY,
      ['server', '--listen', `127.0.0.1:${port}`, '--cache-dir', cacheDir, '--skip-db-update'],
      { stdio: 'ignore' },
    )
    const exited = new Promise((resolve) => server.once('exit', resolve))
    try {
      await waitForHttp(`http://127.0.0.1:${port}/healthz`)
      const scan = await scanImage(
        options({
          scanners: ['vuln'],
          server: `http://127.0.0.1:${port}`,
          cacheDir: path.join(tmp, 'client-cache'),
        }),
      )
      expect(vulnKeys(scan.findings)).toEqual(expectedKeys(expected))
      expect(scan.server).toBe(`http://127.0.0.1:${port}`)
    } finally {
      server.kill('SIGTERM')
      await exited
    }
  })
})

describe('scanner errors are never a pass', () => {
  it('no DB with trivy-skip-db-update: a ScannerError that says what to do', async () => {
    const attempt = scanImage(options({ cacheDir: path.join(tmp, 'empty-cache') }))
    await expect(attempt).rejects.toBeInstanceOf(ScannerError)
    await expect(attempt).rejects.toThrow(
      /trivy-skip-db-update is true but there is no vulnerability DB/,
    )
  })

  it('Trivy absent (not on PATH, download unavailable): a ScannerError naming the version', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(404)
      res.end('not found')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    const path0 = process.env.PATH
    process.env.PATH = (path0 ?? '')
      .split(path.delimiter)
      .filter((p) => p !== MLSECOPS_TRIVY_DIR)
      .join(path.delimiter)
    process.env.MLSECOPS_TRIVY_DOWNLOAD_URL = `http://127.0.0.1:${port}/releases`
    try {
      expect(() => execFileSync('trivy', ['--version'], { stdio: 'pipe' })).toThrow()
      const attempt = scanImage(options({ runnerTemp: tmp }))
      await expect(attempt).rejects.toBeInstanceOf(ScannerError)
      await expect(attempt).rejects.toThrow(
        new RegExp(`Trivy ${MLSECOPS_TRIVY_VERSION.replace(/\./g, '\\.')} is not on PATH`),
      )
    } finally {
      process.env.PATH = path0
      delete process.env.MLSECOPS_TRIVY_DOWNLOAD_URL
      server.close()
    }
  })

  it('Trivy itself failing (an image that does not exist): a ScannerError with its last lines', async () => {
    const attempt = scanImage(
      options({ image: 'mlsecops-no-such-image:never', scanners: ['secret'] as Scanner[] }),
    )
    await expect(attempt).rejects.toBeInstanceOf(ScannerError)
    await expect(attempt).rejects.toThrow(
      /Trivy failed \(exit \d+\) during the scan of mlsecops-no-such-image:never/,
    )
  })
})

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = http.createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

async function waitForHttp(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(url)
      if (res.ok) return
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`${url} never answered`)
}

// Keep the advisory spec in view: a test DB change must come with the expectations above.
void testAdvisories
