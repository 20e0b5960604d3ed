/**
 * Integration: the scan stage's Actions cache for real. A local cache service (Twirp CacheService v2 in front of
 * Azurite, @actions/cache 6.x with ACTIONS_CACHE_SERVICE_V2) keeps what run 1 saved; between runs the runner is
 * wiped (RUNNER_TEMP, the tool cache and the Trivy cache directory), as on a GitHub-hosted runner. The Trivy
 * release comes from a local mirror (the real binary in a release-shaped archive, a sha256sum checksums file).
 *
 * Independent views: the mirror's request log (downloaded or not), Trivy's own --debug lines ("Missing diff ID in
 * cache" for each layer it analyses), `docker image inspect` (which layers are new), the image's dpkg database
 * (which findings must be there), and the cache service's call log.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { buildImage } from '../src/docker/build-image.js'
import type { Finding, ScanResult } from '../src/trivy/findings.js'
import { scanImage, type ScanOptions } from '../src/trivy/scan-image.js'
import { trainModel } from '../src/train/train-stage.js'
import { startCacheService, type CacheService } from './stack/cache-service.js'
import {
  copyExampleContext,
  docker,
  removeImages,
  requireDocker,
  uniqueName,
} from './stack/docker.js'
import {
  MLSECOPS_BASE_IMAGE,
  MLSECOPS_TRIVY_DIR,
  MLSECOPS_TRIVY_VERSION,
  TRIVY_BINARY,
} from './stack/env.js'
import { expectedVulnerabilities, writeTrivyTestDb } from './stack/trivy-test-db.js'

jest.setTimeout(900_000)

const VERSION = MLSECOPS_TRIVY_VERSION
const ARCH_NAMES: Record<string, string> = { x64: '64bit', arm64: 'ARM64' }
const ARCHIVE = `trivy_${VERSION}_Linux-${ARCH_NAMES[process.arch]}.tar.gz`
const CHECKSUMS = `trivy_${VERSION}_checksums.txt`
const EXTRA_PACKAGE = 'mlsecops-extra-zlib'

let tmp: string
let service: CacheService
let mirror: http.Server
let archiveSha256: string
const mirrorRequests: string[] = []
const savedEnv = { ...process.env }
const exampleImage = `${uniqueName('mlsecops-itest-cache')}:a`
const changedBase = `${uniqueName('mlsecops-itest-cache-base')}:b`
const changedImage = `${uniqueName('mlsecops-itest-cache')}:b`
/** The runner's directories: the same paths every run (cache entries are versioned by their paths). */
let runner: { temp: string; toolCache: string; trivyCache: string; workspace: string }

/** A fresh runner: empty RUNNER_TEMP, tool cache and Trivy cache directory; the provisioned test DB. */
function wipeRunner(): void {
  fs.rmSync(path.join(tmp, 'runner'), { recursive: true, force: true })
  for (const dir of Object.values(runner)) fs.mkdirSync(dir, { recursive: true })
  writeTrivyTestDb(runner.trivyCache, '2026-11-20T06:00:00Z')
  process.env.RUNNER_TEMP = runner.temp
  process.env.RUNNER_TOOL_CACHE = runner.toolCache
  process.env.GITHUB_WORKSPACE = runner.workspace
}

function options(image: string, overrides: Partial<ScanOptions> = {}): ScanOptions {
  return {
    image,
    reportsDir: path.join(runner.temp, 'mlsecops', 'reports'),
    runnerTemp: runner.temp,
    trivyVersion: VERSION,
    scanners: ['vuln', 'secret', 'misconfig'],
    cacheDir: runner.trivyCache,
    skipDbUpdate: true,
    dbRepositories: [],
    server: '',
    timeout: '5m',
    cache: true,
    // The mirror's archive wraps the locally built binary: pin its SHA-256 as a user would (trivy-checksum).
    trivyChecksum: archiveSha256,
    ...overrides,
  }
}

interface ObservedScan {
  result: ScanResult
  /** Layers Trivy analysed (its debug line per layer missing from its cache). */
  analysed: string[]
  mirrorRequests: string[]
  ms: number
}

/** Runs the scan stage with step debug logging on and reads Trivy's debug lines from the process output. */
async function observedScan(opts: ScanOptions): Promise<ObservedScan> {
  const written: string[] = []
  const capture = (stream: NodeJS.WriteStream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
      written.push(String(chunk))
      return true
    })
  const out = capture(process.stdout)
  const err = capture(process.stderr)
  mirrorRequests.length = 0
  process.env.RUNNER_DEBUG = '1'
  const started = Date.now()
  try {
    const result = await scanImage(opts)
    const ms = Date.now() - started
    const analysed = [
      ...written.join('').matchAll(/Missing diff ID in cache\s+diff_id="?(sha256:[0-9a-f]{64})/g),
    ].map((m) => m[1])
    return { result, analysed, mirrorRequests: [...mirrorRequests], ms }
  } finally {
    delete process.env.RUNNER_DEBUG
    out.mockRestore()
    err.mockRestore()
  }
}

function findingKeys(findings: readonly Finding[]): string[] {
  return findings.map((f) => `${f.scanner} ${f.id} ${f.pkgName ?? ''} ${f.target}`).sort()
}

function layersOf(image: string): string[] {
  return JSON.parse(docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', image]))
}

beforeAll(async () => {
  if (process.platform !== 'linux' || !ARCH_NAMES[process.arch]) {
    throw new Error(
      `this test serves a Linux release; the runner is ${process.platform}/${process.arch}`,
    )
  }
  requireDocker()
  if (!fs.existsSync(TRIVY_BINARY))
    throw new Error(`${TRIVY_BINARY} is missing: run scripts/stack/install.sh`)
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlsecops-trivy-cache-'))
  runner = {
    temp: path.join(tmp, 'runner', 'temp'),
    toolCache: path.join(tmp, 'runner', 'tool-cache'),
    trivyCache: path.join(tmp, 'runner', 'tool-cache', 'mlsecops-trivy'),
    workspace: path.join(tmp, 'runner', 'work'),
  }

  // The release mirror: the real binary in a release-shaped archive, and its checksums file.
  const release = path.join(tmp, 'release')
  fs.mkdirSync(path.join(release, 'contrib'), { recursive: true })
  fs.copyFileSync(TRIVY_BINARY, path.join(release, 'trivy'))
  fs.chmodSync(path.join(release, 'trivy'), 0o755)
  fs.writeFileSync(path.join(release, 'LICENSE'), 'Apache License 2.0 (test copy)\n')
  fs.writeFileSync(path.join(release, 'contrib', 'html.tpl'), '{{ . }}\n')
  const tarball = path.join(tmp, ARCHIVE)
  execFileSync('tar', [
    '-C',
    release,
    '-I',
    'gzip -1',
    '-cf',
    tarball,
    'LICENSE',
    'contrib',
    'trivy',
  ])
  const checksums = execFileSync('sha256sum', [ARCHIVE], { cwd: tmp, encoding: 'utf8' })
  archiveSha256 = checksums.split(/\s+/)[0]
  mirror = http.createServer((req, res) => {
    mirrorRequests.push(req.url ?? '')
    if (req.url === `/releases/v${VERSION}/${CHECKSUMS}`) {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end(checksums)
    } else if (req.url === `/releases/v${VERSION}/${ARCHIVE}`) {
      res.writeHead(200, { 'content-length': fs.statSync(tarball).size })
      fs.createReadStream(tarball).pipe(res)
    } else {
      res.writeHead(404)
      res.end()
    }
  })
  await new Promise<void>((resolve) => mirror.listen(0, '127.0.0.1', resolve))
  process.env.MLSECOPS_TRIVY_DOWNLOAD_URL = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}/releases`
  // No trivy on PATH: a fresh runner has none.
  process.env.PATH = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((p) => p !== MLSECOPS_TRIVY_DIR)
    .join(path.delimiter)
  delete process.env.ACTIONS_CACHE_URL
  delete process.env.GITHUB_SERVER_URL

  service = await startCacheService(path.join(tmp, 'cache-service'))
  Object.assign(process.env, service.env())

  // The example image, and the same model on a changed base image: one package more, from an advisory's source
  // package (zlib) at the base image's own version, written into the dpkg database by a RUN (no network).
  const context = copyExampleContext(path.join(tmp, 'example'))
  const train = trainModel({
    dataset: '',
    targetColumn: '',
    testSize: 0.2,
    seed: 42,
    modelDir: path.join(tmp, 'model'),
  })
  const baseContext = path.join(tmp, 'changed-base')
  fs.mkdirSync(baseContext)
  fs.writeFileSync(
    path.join(baseContext, 'Dockerfile'),
    [
      'ARG BASE_IMAGE',
      'FROM ${BASE_IMAGE}',
      `RUN printf 'Package: ${EXTRA_PACKAGE}\\nStatus: install ok installed\\nPriority: optional\\nSection: libs\\nInstalled-Size: 1\\nMaintainer: mlsecops tests <tests@example.invalid>\\nArchitecture: %s\\nSource: zlib\\nVersion: %s\\nDescription: a package added by the cache test\\n\\n' "$(dpkg --print-architecture)" "$(dpkg-query -W -f='\${Version}' zlib1g)" >> /var/lib/dpkg/status`,
      '',
    ].join('\n'),
  )
  docker([
    'build',
    '--build-arg',
    `BASE_IMAGE=${MLSECOPS_BASE_IMAGE}`,
    '--tag',
    changedBase,
    baseContext,
  ])
  for (const [image, base] of [
    [exampleImage, MLSECOPS_BASE_IMAGE],
    [changedImage, changedBase],
  ]) {
    await buildImage({
      dockerfile: path.join(context, 'Dockerfile'),
      context,
      image,
      buildArgs: { BASE_IMAGE: base },
      modelDir: train.modelDir,
      modelName: 'iris',
    })
  }
})

afterAll(async () => {
  process.env = { ...savedEnv }
  await service?.stop()
  await new Promise<void>((resolve) => (mirror ? mirror.close(() => resolve()) : resolve()))
  removeImages(exampleImage, changedImage, changedBase)
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

describe('the scan on fresh runners with the Actions cache', () => {
  let first: ObservedScan
  let second: ObservedScan

  it('run 1 (empty runner, empty cache): downloads Trivy, analyses every layer, saves binary and layers', async () => {
    wipeRunner()
    first = await observedScan(options(exampleImage))
    // Pinned (trivy-checksum): the archive alone is fetched, no checksums file.
    expect(first.mirrorRequests).toEqual([`/releases/v${VERSION}/${ARCHIVE}`])
    expect(new Set(first.analysed)).toEqual(new Set(layersOf(exampleImage)))
    expect(
      service.entries
        .filter((e) => e.finalized)
        .map((e) => e.key)
        .sort(),
    ).toEqual([
      expect.stringMatching(
        new RegExp(
          `^mlsecops-trivy-binary-${VERSION.replace(/\./g, '\\.')}-linux-${process.arch}-${archiveSha256.slice(0, 16)}$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(`^mlsecops-trivy-layers-${VERSION.replace(/\./g, '\\.')}-linux-`),
      ),
    ])
    // The findings the image's own dpkg database calls for are there.
    const vulns = first.result.findings
      .filter((f) => f.scanner === 'vuln')
      .map((f) => `${f.id} ${f.pkgName}`)
      .sort()
    expect(vulns).toEqual(expectedVulnerabilities(exampleImage).map((e) => `${e.id} ${e.pkgName}`))
  })

  it('run 2 (wiped runner, cache restored): no download, no layer analysed, the same findings', async () => {
    wipeRunner()
    const entriesBefore = service.entries.length
    second = await observedScan(options(exampleImage))
    expect(second.mirrorRequests).toEqual([])
    expect(second.result.trivyVersion).toBe(VERSION)
    // The restored release went through the staging dir into the tool cache; the staging dir is gone.
    expect(
      fs.existsSync(path.join(runner.toolCache, 'trivy', VERSION, process.arch, 'trivy')),
    ).toBe(true)
    expect(fs.existsSync(path.join(runner.temp, 'mlsecops-trivy-binary'))).toBe(false)
    expect(second.analysed).toEqual([])
    expect(findingKeys(second.result.findings)).toEqual(findingKeys(first.result.findings))
    expect(second.result.counts).toEqual(first.result.counts)
    // An exact hit is not saved again.
    expect(service.entries.length).toBe(entriesBefore)
    process.stdout.write(
      `[trivy-cache] run 1 ${first.ms} ms (scan ${first.result.durationMs} ms), run 2 ${second.ms} ms (scan ${second.result.durationMs} ms)\n`,
    )
  })

  it('a changed base image (one package more): only its new layers are analysed, and the new finding is found', async () => {
    wipeRunner()
    const seen = new Set(layersOf(exampleImage))
    const fresh = layersOf(changedImage).filter((l) => !seen.has(l))
    expect(fresh.length).toBeGreaterThan(0)
    const changed = await observedScan(options(changedImage))
    expect(changed.mirrorRequests).toEqual([])
    expect(new Set(changed.analysed)).toEqual(new Set(fresh))
    const expected = expectedVulnerabilities(changedImage).map((e) => `${e.id} ${e.pkgName}`)
    expect(expected).toContain(`CVE-2099-1001 ${EXTRA_PACKAGE}`)
    expect(
      changed.result.findings
        .filter((f) => f.scanner === 'vuln')
        .map((f) => `${f.id} ${f.pkgName}`)
        .sort(),
    ).toEqual(expected)
    // Saved under the new image's key, next to the first one.
    expect(service.entries.filter((e) => e.key.startsWith('mlsecops-trivy-layers-'))).toHaveLength(
      2,
    )
  })

  it('cache false: not one call to the cache service; Trivy is downloaded and every layer analysed', async () => {
    wipeRunner()
    const calls = service.calls.length
    const off = await observedScan(options(exampleImage, { cache: false }))
    expect(service.calls.length).toBe(calls)
    expect(off.mirrorRequests).toEqual([`/releases/v${VERSION}/${ARCHIVE}`])
    expect(new Set(off.analysed)).toEqual(new Set(layersOf(exampleImage)))
    expect(findingKeys(off.result.findings)).toEqual(findingKeys(first.result.findings))
  })
})
