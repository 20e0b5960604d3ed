import * as core from '@actions/core'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { CommandError, errorMessage } from '../errors.js'
import { inertLine } from '../log-text.js'
import {
  MODEL_CONTEXT_PARENT,
  dockerBuildArgs,
  dockerInspectArgs,
  imageLabels,
} from './build-args.js'
import { runCommand } from '../exec.js'

export interface BuildOptions {
  /** Absolute paths. */
  dockerfile: string
  context: string
  image: string
  buildArgs: Record<string, string>
  /** The trained model directory; copied to <context>/.mlsecops/model-<id> (build arg MODEL_DIR). */
  modelDir: string
  modelName: string
  revision?: string
  source?: string
  datasetDigest?: string
  accuracy?: number
  /** From the register stage, when it ran. */
  runId?: string
  modelVersion?: string
  modelUri?: string
  /** Deadline of docker build in milliseconds (input build-timeout; default 30 minutes). */
  timeoutMs?: number
  /** Build time; defaults to now. */
  created?: Date
}

export interface BuildResult {
  image: string
  /** sha256:... */
  imageId: string
  /** The labels as `docker image inspect` reports them on the built image. */
  labels: Record<string, string>
  /** The labels the action asked for. */
  requestedLabels: Record<string, string>
  durationMs: number
}

export interface StagedModel {
  /** Relative to the context, with '/' separators: the MODEL_DIR build argument. */
  relative: string
  /** Removes what staging created (the model copy, and .mlsecops when staging made it). */
  remove: () => void
}

/**
 * Copies the model directory into the build context as `.mlsecops/model-<unique id>`. The context is a
 * repository folder a pull request controls: `.mlsecops` is used only when it is a real directory inside the
 * context (never a symlink), the model folder is new (created exclusively, so nothing of the user's is ever
 * replaced or deleted), and cleanup removes only what was created here.
 */
export function stageModelDirectory(modelDir: string, context: string): StagedModel {
  let contextReal: string
  try {
    contextReal = fs.realpathSync(context)
    if (!fs.statSync(contextReal).isDirectory()) throw new Error('not a directory')
  } catch {
    throw new CommandError(
      `The build context ${inertLine(context, 300)} is not a directory; fix the 'context' input.`,
    )
  }
  const parent = path.join(contextReal, MODEL_CONTEXT_PARENT)
  let parentCreated = false
  try {
    fs.mkdirSync(parent)
    parentCreated = true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    const stat = fs.lstatSync(parent)
    if (!stat.isDirectory()) {
      throw new CommandError(
        `${MODEL_CONTEXT_PARENT} in the build context is ${stat.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}; the action stages the model there: remove it from the repository or use another 'context'.`,
      )
    }
  }
  const name = `model-${randomBytes(8).toString('hex')}`
  const target = path.join(parent, name)
  // Exclusive: fails rather than reuse anything that is already there.
  fs.mkdirSync(target)
  try {
    fs.cpSync(modelDir, target, { recursive: true })
  } catch (error) {
    fs.rmSync(target, { recursive: true, force: true })
    throw error
  }
  return {
    relative: `${MODEL_CONTEXT_PARENT}/${name}`,
    remove: () => {
      fs.rmSync(target, { recursive: true, force: true })
      if (parentCreated) {
        try {
          fs.rmdirSync(parent)
        } catch {
          // Not empty: something else was put there meanwhile; leave it.
        }
      }
    },
  }
}

interface InspectedImage {
  Id?: string
  Config?: { Labels?: Record<string, string> | null }
  RootFS?: { Layers?: string[] | null }
}

/** Reads the id, labels and layer digests (RootFS.Layers, the diff ids) of a local image with `docker image inspect`. */
export async function inspectImage(
  image: string,
): Promise<{ id: string; labels: Record<string, string>; layers: string[] }> {
  const result = await runCommand('docker', dockerInspectArgs(image), {
    silent: true,
    timeoutMs: 2 * 60 * 1000,
  })
  if (result.exitCode !== 0) {
    throw new CommandError(
      `docker image inspect ${image} failed (exit ${result.exitCode}): ${inertLine(result.tail.join(' | '), 2000)}`,
    )
  }
  let parsed: InspectedImage[]
  try {
    parsed = JSON.parse(result.stdout) as InspectedImage[]
  } catch {
    throw new CommandError(`docker image inspect ${image} printed something that is not JSON.`)
  }
  const id = parsed[0]?.Id
  if (!id) throw new CommandError(`docker image inspect ${image} returned no image id.`)
  return { id, labels: parsed[0]?.Config?.Labels ?? {}, layers: parsed[0]?.RootFS?.Layers ?? [] }
}

/**
 * Builds the image with the runner's Docker engine: `docker build` with an argument list, the trained model in
 * the context, our labels. On failure the error carries the last lines of the build output.
 */
export async function buildImage(options: BuildOptions): Promise<BuildResult> {
  if (!fs.existsSync(options.dockerfile)) {
    throw new CommandError(
      `The Dockerfile ${options.dockerfile} does not exist; fix the 'dockerfile' input.`,
    )
  }
  const requestedLabels = imageLabels({
    created: (options.created ?? new Date()).toISOString(),
    revision: options.revision,
    source: options.source,
    modelName: options.modelName,
    runId: options.runId,
    modelVersion: options.modelVersion,
    modelUri: options.modelUri,
    datasetDigest: options.datasetDigest,
    accuracy: options.accuracy,
  })
  const staged = stageModelDirectory(options.modelDir, options.context)
  const args = dockerBuildArgs({
    dockerfile: options.dockerfile,
    context: options.context,
    image: options.image,
    labels: requestedLabels,
    buildArgs: options.buildArgs,
    modelContextDir: staged.relative,
  })
  const timeoutMs = options.timeoutMs ?? 30 * 60 * 1000
  const started = Date.now()
  let exitCode: number | null
  let tail: string[]
  let timedOut = false
  try {
    core.info(inertLine(`docker build --tag ${options.image} ${options.context}`))
    const result = await runCommand('docker', args, { tailLines: 20, timeoutMs })
    exitCode = result.exitCode
    tail = result.tail
    timedOut = result.timedOut
  } catch (error) {
    throw new CommandError(
      `Could not run docker: ${errorMessage(error).replace(/\.$/, '')}. The build needs the Docker CLI and a running engine on the runner.`,
    )
  } finally {
    staged.remove()
  }
  if (timedOut) {
    throw new CommandError(
      `docker build did not finish within build-timeout (${Math.round(timeoutMs / 1000)} s) and was stopped; raise build-timeout or make the build faster. Last lines: ${inertLine(tail.join(' | '), 2000)}`,
    )
  }
  if (exitCode !== 0) {
    throw new CommandError(
      `docker build failed (${exitCode === null ? 'ended by a signal' : `exit ${exitCode}`}); last lines of the build output: ${inertLine(tail.join(' | '), 2000)}`,
    )
  }
  const durationMs = Date.now() - started
  const inspected = await inspectImage(options.image)
  return {
    image: options.image,
    imageId: inspected.id,
    labels: inspected.labels,
    requestedLabels,
    durationMs,
  }
}
