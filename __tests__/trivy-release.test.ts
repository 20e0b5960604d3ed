import { describe, expect, it } from '@jest/globals'
import { ScannerError } from '../src/errors.js'
import {
  DEFAULT_TRIVY_DOWNLOAD_URL,
  checksumFor,
  parseTrivyVersion,
  trivyReleaseAsset,
} from '../src/trivy/release.js'

describe('trivyReleaseAsset', () => {
  it.each([
    ['linux', 'x64', 'trivy_0.74.0_Linux-64bit.tar.gz'],
    ['linux', 'arm64', 'trivy_0.74.0_Linux-ARM64.tar.gz'],
    ['darwin', 'x64', 'trivy_0.74.0_macOS-64bit.tar.gz'],
    ['darwin', 'arm64', 'trivy_0.74.0_macOS-ARM64.tar.gz'],
    ['win32', 'x64', 'trivy_0.74.0_windows-64bit.zip'],
  ])('names the release archive for %s/%s as GitHub does', (platform, arch, archive) => {
    const asset = trivyReleaseAsset('0.74.0', platform, arch)
    expect(asset.archive).toBe(archive)
    expect(asset.archiveUrl).toBe(`${DEFAULT_TRIVY_DOWNLOAD_URL}/v0.74.0/${archive}`)
    expect(asset.checksumsUrl).toBe(
      `${DEFAULT_TRIVY_DOWNLOAD_URL}/v0.74.0/trivy_0.74.0_checksums.txt`,
    )
    expect(asset.binary).toBe(platform === 'win32' ? 'trivy.exe' : 'trivy')
  })

  it('takes another base URL (a mirror, a test server)', () => {
    const asset = trivyReleaseAsset('0.74.0', 'linux', 'x64', 'http://127.0.0.1:9/releases/')
    expect(asset.archiveUrl).toBe(
      'http://127.0.0.1:9/releases/v0.74.0/trivy_0.74.0_Linux-64bit.tar.gz',
    )
  })

  it('refuses a platform Trivy publishes nothing for, with what to do instead', () => {
    expect(() => trivyReleaseAsset('0.74.0', 'aix', 'ppc64')).toThrow(ScannerError)
    expect(() => trivyReleaseAsset('0.74.0', 'win32', 'arm64')).toThrow(
      /put a trivy 0.74.0 binary on PATH/,
    )
  })
})

describe('checksumFor', () => {
  const a = 'a'.repeat(64)
  const b = 'B'.repeat(64)
  const text = `${a}  trivy_0.74.0_Linux-64bit.tar.gz\n${b} *trivy_0.74.0_Linux-ARM64.tar.gz\r\n\nnot a line\n`

  it('finds the line of the exact file name (sha256sum text and binary forms)', () => {
    expect(checksumFor(text, 'trivy_0.74.0_Linux-64bit.tar.gz')).toBe(a)
    expect(checksumFor(text, 'trivy_0.74.0_Linux-ARM64.tar.gz')).toBe('b'.repeat(64))
  })

  it('is undefined for a name that is not listed or only a prefix', () => {
    expect(checksumFor(text, 'trivy_0.74.0_macOS-64bit.tar.gz')).toBeUndefined()
    expect(checksumFor(text, 'trivy_0.74.0_Linux-64bit.tar')).toBeUndefined()
    expect(checksumFor('', 'x')).toBeUndefined()
  })
})

describe('parseTrivyVersion', () => {
  it('reads the version line of trivy --version', () => {
    expect(parseTrivyVersion('Version: 0.74.0\nVulnerability DB:\n  Version: 2\n')).toBe('0.74.0')
    expect(parseTrivyVersion('Version: v0.58.1')).toBe('0.58.1')
    expect(parseTrivyVersion('trivy: command not found')).toBeUndefined()
  })
})
