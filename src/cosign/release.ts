/**
 * Pure helpers for cosign's release assets: which binary fits the runner, and the checksums file. cosign
 * publishes bare binaries (cosign-linux-amd64) and one cosign_checksums.txt per release.
 */
import { CommandError } from '../errors.js'

/** Where cosign's releases are downloaded from; MLSECOPS_COSIGN_DOWNLOAD_URL overrides it (mirrors, tests). */
export const DEFAULT_COSIGN_DOWNLOAD_URL = 'https://github.com/sigstore/cosign/releases/download'

export interface CosignReleaseAsset {
  /** e.g. cosign-linux-amd64 */
  binary: string
  checksums: string
  binaryUrl: string
  checksumsUrl: string
}

const OS_NAMES: Record<string, string> = { linux: 'linux', darwin: 'darwin', win32: 'windows' }
const ARCH_NAMES: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
}

/** The release binary of cosign `version` for a Node.js platform and architecture. */
export function cosignReleaseAsset(
  version: string,
  platform: string,
  arch: string,
  baseUrl: string = DEFAULT_COSIGN_DOWNLOAD_URL,
): CosignReleaseAsset {
  const os = OS_NAMES[platform]
  const cpu = ARCH_NAMES[arch]
  if (!os || !cpu || (platform === 'win32' && arch !== 'x64' && arch !== 'arm64')) {
    throw new CommandError(
      `cosign publishes no release for ${platform}/${arch}; put a cosign ${version} binary on PATH instead.`,
    )
  }
  const binary = `cosign-${os}-${cpu}${platform === 'win32' ? '.exe' : ''}`
  const checksums = 'cosign_checksums.txt'
  const base = `${baseUrl.replace(/\/+$/, '')}/v${version}`
  return { binary, checksums, binaryUrl: `${base}/${binary}`, checksumsUrl: `${base}/${checksums}` }
}

/** The version `cosign version` prints (`GitVersion:    v2.6.5`), or undefined. */
export function parseCosignVersion(output: string): string | undefined {
  const match = /^GitVersion:\s*v?(\d+\.\d+\.\d+\S*)/m.exec(output)
  return match?.[1]
}

/** The major version of a release such as 2.6.5. */
export function cosignMajor(version: string): number {
  return Number(version.split('.')[0])
}
