import * as core from '@actions/core'
import { runCommand } from '../exec.js'
import { CommandError, errorMessage, oneLine } from '../errors.js'

/**
 * The push stage: the image that was scanned goes to the registry named in `image`, with the runner's Docker
 * and its login, and is known from then on by its digest. Runs only when every gate passed.
 */

export interface PushResult {
  /** The tag pushed, as given (`ghcr.io/org/model:1.2`). */
  image: string
  /** The image without tag or digest (`ghcr.io/org/model`). */
  repository: string
  /** The registry's manifest digest, `sha256:...`. */
  digest: string
  /** `<repository>@sha256:...`: what was scanned, by content. */
  imageRef: string
  durationMs: number
}

/** The repository of an image reference: without `@digest` and without the `:tag` of the last path part. */
export function imageRepository(image: string): string {
  const withoutDigest = image.split('@')[0]
  const slash = withoutDigest.lastIndexOf('/')
  const colon = withoutDigest.lastIndexOf(':')
  return colon > slash ? withoutDigest.slice(0, colon) : withoutDigest
}

/** The registry host of an image reference (Docker's rule: a first part with '.', ':' or 'localhost'). */
export function imageRegistry(image: string): string {
  const first = image.split('/')[0]
  if (image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost'))
    return first
  return 'docker.io'
}

/** A registry on this machine (loopback): Docker talks plain HTTP to it, and so must cosign. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host)
}

/** The digest `docker push` prints last (`<tag>: digest: sha256:... size: N`), or undefined. */
export function parsePushDigest(output: string): string | undefined {
  const matches = [...output.matchAll(/digest: (sha256:[a-f0-9]{64})/g)]
  return matches.at(-1)?.[1]
}

/** The digest of `repository` among an image's RepoDigests (`repo@sha256:...`), or undefined. */
export function repoDigestFor(repoDigests: string[], repository: string): string | undefined {
  for (const entry of repoDigests) {
    const [repo, digest] = entry.split('@')
    if (repo === repository && /^sha256:[a-f0-9]{64}$/.test(digest ?? '')) return digest
  }
  return undefined
}

async function inspectRepoDigests(image: string): Promise<string[]> {
  try {
    const result = await runCommand(
      'docker',
      ['image', 'inspect', '--format', '{{json .RepoDigests}}', image],
      { silent: true },
    )
    if (result.exitCode !== 0) return []
    const parsed = JSON.parse(result.stdout.trim()) as unknown
    return Array.isArray(parsed) ? parsed.filter((d): d is string => typeof d === 'string') : []
  } catch {
    return []
  }
}

/**
 * `docker push image`; resolves with the digest the registry now serves for the tag. A failed push is one
 * CommandError line that names the image and Docker's last words.
 */
export async function pushImage(image: string): Promise<PushResult> {
  const repository = imageRepository(image)
  const started = Date.now()
  let result
  try {
    result = await runCommand('docker', ['push', image], { tailLines: 5 })
  } catch (error) {
    throw new CommandError(`Could not run docker to push ${image}: ${errorMessage(error)}`)
  }
  if (result.exitCode !== 0) {
    const last = oneLine(result.tail.at(-1) ?? '')
    throw new CommandError(
      `docker push ${image} failed (exit ${result.exitCode})${last ? `: ${last}` : ''}; the image was not promoted and the alias stays.`,
    )
  }
  const digest =
    parsePushDigest(result.stdout) ?? repoDigestFor(await inspectRepoDigests(image), repository)
  if (!digest) {
    throw new CommandError(`docker push ${image} finished but printed no digest.`)
  }
  const pushed: PushResult = {
    image,
    repository,
    digest,
    imageRef: `${repository}@${digest}`,
    durationMs: Date.now() - started,
  }
  core.info(`Pushed ${image}: ${pushed.imageRef}`)
  return pushed
}
