/**
 * Integration: Trivy's download path against a local HTTP server that serves a release-shaped tarball (the real
 * trivy binary with LICENSE, README.md and contrib/) and a checksums file written with sha256sum. The right
 * checksum installs into the tool cache; a wrong one, or an archive the checksums file does not list, is refused
 * before anything is extracted or run.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { ScannerError } from '../src/errors.js'
import { locateOrInstallTrivy } from '../src/trivy/install.js'
import { MLSECOPS_TRIVY_DIR, MLSECOPS_TRIVY_VERSION, TRIVY_BINARY } from './stack/env.js'

const VERSION = MLSECOPS_TRIVY_VERSION
const ARCH_NAMES: Record<string, string> = { x64: '64bit', arm64: 'ARM64' }
const ARCHIVE = `trivy_${VERSION}_Linux-${ARCH_NAMES[process.arch]}.tar.gz`
const CHECKSUMS = `trivy_${VERSION}_checksums.txt`

let tmp: string
let tarball: string
let rightChecksums: string
let server: http.Server
let baseUrl: string
/** What the server answers for the checksums file; each test sets it. */
let checksumsBody = ''
const requests: string[] = []
const savedEnv = { ...process.env }

function freshRunnerDirs(name: string): { temp: string; toolCache: string } {
  const temp = path.join(tmp, name, 'temp')
  const toolCache = path.join(tmp, name, 'tool-cache')
  fs.mkdirSync(temp, { recursive: true })
  fs.mkdirSync(toolCache, { recursive: true })
  process.env.RUNNER_TEMP = temp
  process.env.RUNNER_TOOL_CACHE = toolCache
  return { temp, toolCache }
}

function filesNamedTrivy(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter(
    (p) => path.basename(p) === 'trivy',
  )
}

beforeAll(async () => {
  if (process.platform !== 'linux' || !ARCH_NAMES[process.arch]) {
    throw new Error(
      `this test serves a Linux release; the runner is ${process.platform}/${process.arch}`,
    )
  }
  if (!fs.existsSync(TRIVY_BINARY))
    throw new Error(`${TRIVY_BINARY} is missing: run scripts/stack/install.sh`)
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlsecops-trivy-dl-'))

  // A release-shaped archive around the real binary.
  const release = path.join(tmp, 'release')
  fs.mkdirSync(path.join(release, 'contrib'), { recursive: true })
  fs.copyFileSync(TRIVY_BINARY, path.join(release, 'trivy'))
  fs.chmodSync(path.join(release, 'trivy'), 0o755)
  fs.writeFileSync(path.join(release, 'LICENSE'), 'Apache License 2.0 (test copy)\n')
  fs.writeFileSync(path.join(release, 'README.md'), '# Trivy\n')
  fs.writeFileSync(path.join(release, 'contrib', 'html.tpl'), '{{ . }}\n')
  tarball = path.join(tmp, ARCHIVE)
  execFileSync('tar', [
    '-C',
    release,
    '-I',
    'gzip -1',
    '-cf',
    tarball,
    'LICENSE',
    'README.md',
    'contrib',
    'trivy',
  ])
  // The checksums file as the release has it: sha256sum lines for every asset.
  const sum = execFileSync('sha256sum', [ARCHIVE], { cwd: tmp, encoding: 'utf8' })
  rightChecksums = [
    `${'1'.repeat(64)}  trivy_${VERSION}_Linux-ARM.tar.gz`,
    sum.trim(),
    `${'2'.repeat(64)}  trivy_${VERSION}_macOS-ARM64.tar.gz`,
    `${'3'.repeat(64)}  trivy_${VERSION}_windows-64bit.zip`,
    '',
  ].join('\n')

  server = http.createServer((req, res) => {
    requests.push(req.url ?? '')
    if (req.url === `/releases/v${VERSION}/${CHECKSUMS}`) {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end(checksumsBody)
    } else if (req.url === `/releases/v${VERSION}/${ARCHIVE}`) {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': fs.statSync(tarball).size,
      })
      fs.createReadStream(tarball).pipe(res)
    } else {
      res.writeHead(404)
      res.end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/releases`
  process.env.MLSECOPS_TRIVY_DOWNLOAD_URL = baseUrl
  // No trivy on PATH: the download path is the only way.
  process.env.PATH = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((p) => p !== MLSECOPS_TRIVY_DIR)
    .join(path.delimiter)
})

afterAll(async () => {
  process.env = { ...savedEnv }
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

describe('locateOrInstallTrivy: the verified download', () => {
  it('installs the release when its SHA-256 matches, then reuses the tool cache', async () => {
    const dirs = freshRunnerDirs('right')
    checksumsBody = rightChecksums
    requests.length = 0
    const trivy = await locateOrInstallTrivy(VERSION, dirs.temp)
    expect(trivy.origin).toBe('download')
    expect(trivy.version).toBe(VERSION)
    expect(trivy.path).toBe(path.join(dirs.toolCache, 'trivy', VERSION, process.arch, 'trivy'))
    expect(execFileSync(trivy.path, ['--version'], { encoding: 'utf8' })).toContain(
      `Version: ${VERSION}`,
    )
    expect(requests).toEqual([
      `/releases/v${VERSION}/${CHECKSUMS}`,
      `/releases/v${VERSION}/${ARCHIVE}`,
    ])
    // Release contents came along; neither the archive nor the extracted copy was left in RUNNER_TEMP.
    expect(fs.existsSync(path.join(path.dirname(trivy.path), 'contrib', 'html.tpl'))).toBe(true)
    expect(filesNamedTrivy(dirs.temp)).toEqual([])
    expect(
      fs.readdirSync(dirs.temp).filter((f) => fs.statSync(path.join(dirs.temp, f)).isFile()),
    ).toEqual([])

    requests.length = 0
    const again = await locateOrInstallTrivy(VERSION, dirs.temp)
    expect(again.origin).toBe('tool-cache')
    expect(again.path).toBe(trivy.path)
    expect(requests).toEqual([])
  })

  it('refuses an archive whose SHA-256 differs from the checksums file, before extracting it', async () => {
    const dirs = freshRunnerDirs('wrong')
    checksumsBody = rightChecksums.replace(
      /^[0-9a-f]{64}(?= {2}trivy_[^ ]*_Linux-(64bit|ARM64)\.tar\.gz)/m,
      'f'.repeat(64),
    )
    expect(checksumsBody).not.toBe(rightChecksums)
    requests.length = 0
    const attempt = locateOrInstallTrivy(VERSION, dirs.temp)
    await expect(attempt).rejects.toBeInstanceOf(ScannerError)
    await expect(attempt).rejects.toThrow(/refusing to extract or run it/)
    expect(requests).toContain(`/releases/v${VERSION}/${ARCHIVE}`)
    // Nothing unverified was kept, extracted or cached.
    expect(filesNamedTrivy(dirs.toolCache)).toEqual([])
    expect(filesNamedTrivy(dirs.temp)).toEqual([])
    expect(
      fs.readdirSync(dirs.temp).filter((f) => fs.statSync(path.join(dirs.temp, f)).isFile()),
    ).toEqual([])
  })

  it('refuses to install when the checksums file does not list the archive', async () => {
    const dirs = freshRunnerDirs('unlisted')
    checksumsBody = rightChecksums
      .split('\n')
      .filter((line) => !line.endsWith(ARCHIVE))
      .join('\n')
    requests.length = 0
    const attempt = locateOrInstallTrivy(VERSION, dirs.temp)
    await expect(attempt).rejects.toThrow(new RegExp(`lists no ${ARCHIVE.replace(/\./g, '\\.')}`))
    // The archive itself was never fetched.
    expect(requests).toEqual([`/releases/v${VERSION}/${CHECKSUMS}`])
    expect(filesNamedTrivy(dirs.toolCache)).toEqual([])
  })
})
