/**
 * Unit: the keys of the Trivy layer cache and of the cached Trivy release, and the verification of a restored
 * release (the manifest of SHA-256s) before it may reach the tool cache.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  MANIFEST_NAME,
  binaryCacheKey,
  fileDigests,
  stagedBinaryProblem,
  type BinaryManifest,
} from '../src/trivy/binary-cache.js'
import { directorySize, layerCacheKeys, layerCachePaths } from '../src/trivy/scan-cache.js'

const BASE = ['sha256:' + 'a'.repeat(64), 'sha256:' + 'b'.repeat(64)]

describe('layerCacheKeys', () => {
  it('names the Trivy version, platform and the layer digests; restores by version alone', () => {
    const keys = layerCacheKeys('0.74.0', BASE, 'linux', 'x64')
    expect(keys.primary).toMatch(/^mlsecops-trivy-layers-0\.74\.0-linux-x64-[0-9a-f]{32}$/)
    expect(keys.restore).toEqual(['mlsecops-trivy-layers-0.74.0-linux-x64-'])
    expect(keys.primary.startsWith(keys.restore[0])).toBe(true)
  })

  it('changes with one layer more, a reordered image or another Trivy version', () => {
    const keys = layerCacheKeys('0.74.0', BASE, 'linux', 'x64')
    expect(layerCacheKeys('0.74.0', BASE, 'linux', 'x64')).toEqual(keys)
    const more = layerCacheKeys('0.74.0', [...BASE, 'sha256:' + 'c'.repeat(64)], 'linux', 'x64')
    expect(more.primary).not.toBe(keys.primary)
    expect(more.restore).toEqual(keys.restore)
    expect(layerCacheKeys('0.74.0', [...BASE].reverse(), 'linux', 'x64').primary).not.toBe(
      keys.primary,
    )
    const other = layerCacheKeys('0.75.0', BASE, 'linux', 'x64')
    expect(other.restore[0]).not.toBe(keys.restore[0])
    expect(keys.restore[0].startsWith(other.restore[0])).toBe(false)
  })

  it('keeps fanal/ and policy/ of the cache directory', () => {
    expect(layerCachePaths('/c')).toEqual(['/c/fanal', '/c/policy'])
  })
})

describe('binaryCacheKey', () => {
  it('names version, platform, architecture and the pinned archive checksum', () => {
    expect(binaryCacheKey('0.74.0', 'linux', 'x64')).toBe(
      'mlsecops-trivy-binary-0.74.0-linux-x64-checksums-file',
    )
    expect(binaryCacheKey('0.74.0', 'linux', 'arm64', 'ABCDEF0123456789' + '0'.repeat(48))).toBe(
      'mlsecops-trivy-binary-0.74.0-linux-arm64-abcdef0123456789',
    )
  })
})

describe('stagedBinaryProblem', () => {
  let dir: string
  const wanted = { version: '0.74.0', platform: 'linux', arch: 'x64', binary: 'trivy' }

  function stage(overrides: Partial<BinaryManifest> = {}): void {
    fs.mkdirSync(path.join(dir, 'contrib'), { recursive: true })
    fs.writeFileSync(path.join(dir, 'trivy'), 'binary bytes')
    fs.writeFileSync(path.join(dir, 'contrib', 'html.tpl'), '{{ . }}')
    const manifest: BinaryManifest = {
      version: '0.74.0',
      platform: 'linux',
      arch: 'x64',
      archiveSha256: 'e'.repeat(64),
      files: fileDigests(dir),
      ...overrides,
    }
    fs.writeFileSync(path.join(dir, MANIFEST_NAME), JSON.stringify(manifest))
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlsecops-binary-cache-'))
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  it('accepts exactly the files of the manifest', () => {
    stage()
    expect(fileDigests(dir)).toEqual({
      trivy: createHash('sha256').update('binary bytes').digest('hex'),
      'contrib/html.tpl': createHash('sha256').update('{{ . }}').digest('hex'),
    })
    expect(stagedBinaryProblem(dir, wanted)).toBeUndefined()
    expect(stagedBinaryProblem(dir, { ...wanted, pinned: 'E'.repeat(64) })).toBeUndefined()
  })

  it('refuses a changed, missing or extra file', () => {
    stage()
    fs.writeFileSync(path.join(dir, 'trivy'), 'other bytes')
    expect(stagedBinaryProblem(dir, wanted)).toMatch(
      /^the SHA-256 of trivy is [0-9a-f]{64}, the manifest says/,
    )
    stage()
    fs.rmSync(path.join(dir, 'contrib', 'html.tpl'))
    expect(stagedBinaryProblem(dir, wanted)).toBe('contrib/html.tpl is missing')
    stage()
    fs.writeFileSync(path.join(dir, 'extra'), 'x')
    expect(stagedBinaryProblem(dir, wanted)).toBe('extra is not in the manifest')
  })

  it('refuses a symlink, another version or platform, another pin, no binary, no manifest', () => {
    stage()
    fs.symlinkSync('/bin/sh', path.join(dir, 'link'))
    expect(stagedBinaryProblem(dir, wanted)).toMatch(/link is neither a file nor a directory/)
    fs.rmSync(path.join(dir, 'link'))
    stage({ version: '0.73.0' })
    expect(stagedBinaryProblem(dir, wanted)).toMatch(/manifest is for 0\.73\.0/)
    stage({ arch: 'arm64' })
    expect(stagedBinaryProblem(dir, wanted)).toMatch(/linux\/arm64/)
    stage()
    expect(stagedBinaryProblem(dir, { ...wanted, pinned: 'f'.repeat(64) })).toMatch(
      /not the pinned/,
    )
    stage()
    expect(stagedBinaryProblem(dir, { ...wanted, binary: 'trivy.exe' })).toMatch(
      /lists no trivy\.exe/,
    )
    fs.rmSync(path.join(dir, MANIFEST_NAME))
    expect(stagedBinaryProblem(dir, wanted)).toBe('no readable manifest')
  })

  it('directorySize adds up the files below a directory', () => {
    stage()
    expect(directorySize(path.join(dir, 'contrib'))).toBe(7)
    expect(directorySize(path.join(dir, 'missing'))).toBe(0)
  })
})
