/**
 * Integration: Trivy's download path against a local mirror (HTTP server) that serves release-shaped tarballs
 * (the real trivy binary with LICENSE, README.md and contrib/) and checksums files written with sha256sum.
 * - The action pins the SHA-256 of Trivy 0.74.0's archives: a tampered release (archive and a matching checksums
 *   file, as a re-published release would be) is refused before anything is extracted or run, naming the pin.
 * - A user pin (trivy-checksum) installs an archive the action does not know; the opt-in trivy-checksum:
 *   release-checksums trusts the release's checksums file for a version the action pins nothing for.
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
import { TRIVY_ARCHIVE_SHA256 } from '../src/trivy/release.js'
import { MLSECOPS_TRIVY_DIR, MLSECOPS_TRIVY_VERSION, TRIVY_BINARY } from './stack/env.js'

const VERSION = MLSECOPS_TRIVY_VERSION
const ARCH_NAMES: Record<string, string> = { x64: '64bit', arm64: 'ARM64' }
const ARCHIVE = `trivy_${VERSION}_Linux-${ARCH_NAMES[process.arch]}.tar.gz`

let tmp: string
let tarball: string
let server: http.Server
let baseUrl: string
/** What the server answers for the checksums file; each test sets it. */
let checksumsBody = ''
/** Files the mirror serves under /releases/v<version>/, besides the checksums file. */
const served = new Map<string, string>()
let tamperedTarball: string
let marker: string
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
  // A tampered release: same file name, a `trivy` that would leave a marker if anything ran it.
  const evil = path.join(tmp, 'evil')
  fs.mkdirSync(evil)
  marker = path.join(tmp, 'tampered-trivy-ran')
  fs.writeFileSync(
    path.join(evil, 'trivy'),
    `#!/bin/sh\ntouch '${marker}'\necho 'Version: ${VERSION}'\n`,
  )
  fs.chmodSync(path.join(evil, 'trivy'), 0o755)
  fs.mkdirSync(path.join(tmp, 'evil-out'))
  tamperedTarball = path.join(tmp, 'evil-out', ARCHIVE)
  execFileSync('tar', ['-C', evil, '-czf', tamperedTarball, 'trivy'])

  server = http.createServer((req, res) => {
    requests.push(req.url ?? '')
    const match = /^\/releases\/v([^/]+)\/([^/]+)$/.exec(req.url ?? '')
    const file = match ? served.get(match[2]) : undefined
    if (match && match[2].endsWith('_checksums.txt')) {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end(checksumsBody)
    } else if (file) {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': fs.statSync(file).size,
      })
      fs.createReadStream(file).pipe(res)
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

function sha256Of(file: string): string {
  return execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0]
}

function expectNothingKept(dirs: { temp: string; toolCache: string }): void {
  expect(filesNamedTrivy(dirs.toolCache)).toEqual([])
  expect(filesNamedTrivy(dirs.temp)).toEqual([])
  expect(
    fs.readdirSync(dirs.temp).filter((f) => fs.statSync(path.join(dirs.temp, f)).isFile()),
  ).toEqual([])
}

describe('locateOrInstallTrivy: the pinned download', () => {
  it('a tampered 0.74.0 release (archive + matching checksums file) is refused by the pin; nothing runs', async () => {
    const dirs = freshRunnerDirs('tampered')
    served.clear()
    served.set(ARCHIVE, tamperedTarball)
    // The mirror's checksums file agrees with the tampered archive: only the pin can tell.
    checksumsBody = `${sha256Of(tamperedTarball)}  ${ARCHIVE}\n`
    requests.length = 0
    const attempt = locateOrInstallTrivy(VERSION, dirs.temp)
    await expect(attempt).rejects.toBeInstanceOf(ScannerError)
    const message = await attempt.catch((e: Error) => e.message)
    expect(message).not.toMatch(/[\r\n]/)
    expect(message).toContain(`the SHA-256 the action pins for ${ARCHIVE}`)
    expect(message).toContain(TRIVY_ARCHIVE_SHA256[ARCHIVE])
    expect(message).toMatch(/refusing to extract or run it\.$/)
    // The opt-in to the release's checksums file does not weaken a pin the action carries.
    const optIn = locateOrInstallTrivy(VERSION, dirs.temp, { checksum: 'release-checksums' })
    await expect(optIn).rejects.toThrow(`the SHA-256 the action pins for ${ARCHIVE}`)
    expect(requests).toEqual([
      `/releases/v${VERSION}/${ARCHIVE}`,
      `/releases/v${VERSION}/${ARCHIVE}`,
    ])
    expect(fs.existsSync(marker)).toBe(false)
    expectNothingKept(dirs)
  })

  it('the real binary under a user pin (trivy-checksum) installs, then the tool cache is reused', async () => {
    const dirs = freshRunnerDirs('user-pin')
    served.clear()
    served.set(ARCHIVE, tarball)
    requests.length = 0
    const trivy = await locateOrInstallTrivy(VERSION, dirs.temp, { checksum: sha256Of(tarball) })
    expect(trivy.origin).toBe('download')
    expect(trivy.version).toBe(VERSION)
    expect(trivy.path).toBe(path.join(dirs.toolCache, 'trivy', VERSION, process.arch, 'trivy'))
    expect(execFileSync(trivy.path, ['--version'], { encoding: 'utf8' })).toContain(
      `Version: ${VERSION}`,
    )
    // No checksums file: the user's pin is the reference.
    expect(requests).toEqual([`/releases/v${VERSION}/${ARCHIVE}`])
    expect(fs.existsSync(path.join(path.dirname(trivy.path), 'contrib', 'html.tpl'))).toBe(true)
    expect(filesNamedTrivy(dirs.temp)).toEqual([])

    requests.length = 0
    const again = await locateOrInstallTrivy(VERSION, dirs.temp)
    expect(again.origin).toBe('tool-cache')
    expect(again.path).toBe(trivy.path)
    expect(requests).toEqual([])
  })

  it('a wrong user pin is refused before extracting, naming the input', async () => {
    const dirs = freshRunnerDirs('wrong-pin')
    served.clear()
    served.set(ARCHIVE, tarball)
    const attempt = locateOrInstallTrivy(VERSION, dirs.temp, { checksum: 'f'.repeat(64) })
    await expect(attempt).rejects.toThrow(
      new RegExp(
        `not the trivy-checksum input \\(${'f'.repeat(64)}\\); refusing to extract or run it`,
      ),
    )
    expectNothingKept(dirs)
  })

  it('a version the action pins nothing for is refused before any download, unless opted in', async () => {
    const other = '0.73.0'
    const otherArchive = ARCHIVE.replace(VERSION, other)
    const dirs = freshRunnerDirs('unpinned')
    served.clear()
    served.set(otherArchive, tarball)
    requests.length = 0
    await expect(locateOrInstallTrivy(other, dirs.temp)).rejects.toThrow(
      /pins no SHA-256 for trivy_0\.73\.0_.*set trivy-checksum/,
    )
    expect(requests).toEqual([])

    // Opt-in: the release's checksums file decides; a listed, matching archive is accepted (this one then
    // reports 0.74.0, so the version check refuses it: the opt-in path itself ran).
    checksumsBody = `${sha256Of(tarball)}  ${otherArchive}\n`
    await expect(
      locateOrInstallTrivy(other, dirs.temp, { checksum: 'release-checksums' }),
    ).rejects.toThrow(/reports version 0\.74\.0 instead of 0\.73\.0/)
    expect(requests).toEqual([
      `/releases/v${other}/trivy_${other}_checksums.txt`,
      `/releases/v${other}/${otherArchive}`,
    ])

    // Opt-in with a checksums file that does not list the archive: the archive is never fetched.
    const dirs2 = freshRunnerDirs('unlisted')
    checksumsBody = `${'1'.repeat(64)}  trivy_${other}_macOS-ARM64.tar.gz\n`
    requests.length = 0
    await expect(
      locateOrInstallTrivy(other, dirs2.temp, { checksum: 'release-checksums' }),
    ).rejects.toThrow(new RegExp(`lists no ${otherArchive.replace(/\./g, '\\.')}`))
    expect(requests).toEqual([`/releases/v${other}/trivy_${other}_checksums.txt`])
    expectNothingKept(dirs2)
  })
})
