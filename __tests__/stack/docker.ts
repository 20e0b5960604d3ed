/**
 * Docker helpers for integration tests. They call the docker CLI directly (not the action's code), so what they
 * report is an independent view of the engine. A missing engine makes the test fail, never skip.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { MLSECOPS_BASE_IMAGE, REPO_ROOT } from './env.js'

/** Runs `docker args...` and returns stdout; throws with stderr on a non-zero exit. */
export function docker(
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): string {
  const result = spawnSync('docker', args, {
    encoding: 'utf8',
    input: options.input,
    timeout: options.timeoutMs ?? 300_000,
    maxBuffer: 64 * 1024 * 1024,
  })
  if (result.error) throw result.error
  if (result.status !== 0) {
    throw new Error(`docker ${args.join(' ')} failed (${result.status}): ${result.stderr.trim()}`)
  }
  return result.stdout
}

/** Fails (does not skip) when the engine or the local base image is missing. */
export function requireDocker(): void {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe' })
  } catch (error) {
    throw new Error(
      `No Docker engine answers (${(error as Error).message.split('\n')[0]}): run scripts/stack/install.sh and scripts/stack/dockerd.sh start`,
    )
  }
  try {
    docker(['image', 'inspect', MLSECOPS_BASE_IMAGE])
  } catch {
    throw new Error(
      `The base image ${MLSECOPS_BASE_IMAGE} is missing: run scripts/stack/dockerd.sh start`,
    )
  }
}

/** A build context holding the example Dockerfile, .dockerignore and the model server, like the repository's. */
export function copyExampleContext(dir: string): string {
  fs.mkdirSync(path.join(dir, 'model'), { recursive: true })
  for (const file of ['Dockerfile', '.dockerignore', 'model/server.mjs', 'model/healthcheck.mjs']) {
    fs.copyFileSync(path.join(REPO_ROOT, file), path.join(dir, file))
  }
  return dir
}

/** Builds a fixture image with the docker CLI (BASE_IMAGE = the local Debian 12 image). */
export function buildFixtureImage(context: string, tag: string, dockerfile = 'Dockerfile'): string {
  docker([
    'build',
    '--file',
    path.join(context, dockerfile),
    '--tag',
    tag,
    '--build-arg',
    `BASE_IMAGE=${MLSECOPS_BASE_IMAGE}`,
    context,
  ])
  return tag
}

export function removeImages(...images: string[]): void {
  for (const image of images) {
    spawnSync('docker', ['image', 'rm', '--force', image], { stdio: 'ignore' })
  }
}

export function removeContainers(...names: string[]): void {
  for (const name of names) spawnSync('docker', ['rm', '--force', name], { stdio: 'ignore' })
}

/** A name unique to this test process, for images and containers. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}`
}
