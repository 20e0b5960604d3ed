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
