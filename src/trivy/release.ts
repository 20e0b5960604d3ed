/**
 * Pure helpers for Trivy's GitHub release assets: which archive fits the runner, and the checksums file.
 */
import { ScannerError } from '../errors.js'

/** Where Trivy's releases are downloaded from; MLSECOPS_TRIVY_DOWNLOAD_URL overrides it (mirrors, tests). */
export const DEFAULT_TRIVY_DOWNLOAD_URL = 'https://github.com/aquasecurity/trivy/releases/download'

export interface ReleaseAsset {
  /** e.g. trivy_0.74.0_Linux-64bit.tar.gz */
  archive: string
  /** trivy_0.74.0_checksums.txt */
  checksums: string
  archiveUrl: string
  checksumsUrl: string
  format: 'tar.gz' | 'zip'
  /** The binary's name inside the archive. */
  binary: string
}

const OS_NAMES: Record<string, string> = { linux: 'Linux', darwin: 'macOS', win32: 'windows' }
const ARCH_NAMES: Record<string, string> = {
  x64: '64bit',
  arm64: 'ARM64',
  arm: 'ARM',
  ppc64: 'PPC64LE',
  s390x: 's390x',
}

/** The release archive of `version` for a Node.js platform and architecture (process.platform, process.arch). */
export function trivyReleaseAsset(
  version: string,
  platform: string,
  arch: string,
  baseUrl: string = DEFAULT_TRIVY_DOWNLOAD_URL,
): ReleaseAsset {
  const os = OS_NAMES[platform]
  const cpu = ARCH_NAMES[arch]
  if (!os || !cpu || (platform === 'win32' && arch !== 'x64')) {
    throw new ScannerError(
      `Trivy publishes no release for ${platform}/${arch}; put a trivy ${version} binary on PATH instead.`,
    )
  }
  const format = platform === 'win32' ? 'zip' : 'tar.gz'
  const archive = `trivy_${version}_${os}-${cpu}.${format}`
  const checksums = `trivy_${version}_checksums.txt`
  const base = `${baseUrl.replace(/\/+$/, '')}/v${version}`
  return {
    archive,
    checksums,
    archiveUrl: `${base}/${archive}`,
    checksumsUrl: `${base}/${checksums}`,
    format,
    binary: platform === 'win32' ? 'trivy.exe' : 'trivy',
  }
}

/**
 * The SHA-256 of every release archive the action downloads for the versions it supports, carried in the action
 * so a download is checked against something that does not come from the same place as the archive (a
 * re-published release replaces the archive and its checksums file together). Values from the v0.74.0 release's
 * trivy_0.74.0_checksums.txt, each found pinned in at least two independent public projects.
 */
export const TRIVY_ARCHIVE_SHA256: Readonly<Record<string, string>> = {
  'trivy_0.74.0_Linux-64bit.tar.gz':
    '2ae6fe3ee734b7fdf11335663e18c75ea12dccc76062f09f164a3b0f8be4371a',
  'trivy_0.74.0_Linux-ARM64.tar.gz':
    'b94ce1976bbf3c15b514b605ee88be7c6d94a29be2302847ff01cb794d47aad5',
  'trivy_0.74.0_macOS-64bit.tar.gz':
    '472816f6888dda689d075c30254d4210b4d1035acf365aa72332f584c2f60485',
  'trivy_0.74.0_macOS-ARM64.tar.gz':
    '1caada5e0e2091909357c7525d3aa76f4b660b13821bc143b190c7483e31cc11',
  'trivy_0.74.0_windows-64bit.zip':
    '94c40e0696e4b907a74b7b2e1438d5d72ebaca83115817407f568a002d520842',
}

/** The input value that opts in to trusting a release's own checksums file (trivy-checksum). */
export const TRUST_RELEASE_CHECKSUMS = 'release-checksums'

/**
 * The SHA-256 of `fileName` in a checksums file (`<hex>  <name>` per line, as sha256sum writes it).
 * Undefined when the file is not listed.
 */
export function checksumFor(checksumsText: string, fileName: string): string | undefined {
  for (const line of checksumsText.split(/\r?\n/)) {
    const match = /^([a-fA-F0-9]{64})\s+\*?(\S+)\s*$/.exec(line.trim())
    if (match && match[2] === fileName) return match[1].toLowerCase()
  }
  return undefined
}

/** The version `trivy --version` prints (`Version: 0.74.0`), or undefined. */
export function parseTrivyVersion(output: string): string | undefined {
  const match = /^Version:\s*v?(\d+\.\d+\.\d+\S*)/m.exec(output)
  return match?.[1]
}
