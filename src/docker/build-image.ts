import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { CommandError, errorMessage } from '../errors.js'
import { MODEL_CONTEXT_DIR, dockerBuildArgs, dockerInspectArgs, imageLabels } from './build-args.js'
import { runCommand } from './command.js'

export interface BuildOptions {
  /** Absolute paths. */
  dockerfile: string
  context: string
  image: string
  buildArgs: Record<string, string>
  /** The trained model directory; copied to <context>/.mlsecops/model for the Dockerfile to COPY. */
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

/** Copies the model directory into the build context; returns a function that removes it again. */
export function stageModelDirectory(modelDir: string, context: string): () => void {
  if (!fs.existsSync(context) || !fs.statSync(context).isDirectory()) {
    throw new CommandError(
      `The build context ${context} is not a directory; fix the 'context' input.`,
    )
  }
  const target = path.join(context, MODEL_CONTEXT_DIR)
  const parent = path.dirname(target)
  const parentExisted = fs.existsSync(parent)
  fs.rmSync(target, { recursive: true, force: true })
  fs.mkdirSync(parent, { recursive: true })
  fs.cpSync(modelDir, target, { recursive: true })
  return () => {
    fs.rmSync(target, { recursive: true, force: true })
    if (!parentExisted) fs.rmSync(parent, { recursive: true, force: true })
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
  const result = await runCommand('docker', dockerInspectArgs(image), { silent: true })
  if (result.exitCode !== 0) {
    throw new CommandError(
      `docker image inspect ${image} failed (exit ${result.exitCode}): ${result.tail.join(' | ')}`,
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
  const args = dockerBuildArgs({
    dockerfile: options.dockerfile,
    context: options.context,
    image: options.image,
    labels: requestedLabels,
    buildArgs: options.buildArgs,
  })

  const unstage = stageModelDirectory(options.modelDir, options.context)
  const started = Date.now()
  let exitCode: number
  let tail: string[]
  try {
    core.info(`docker build --tag ${options.image} ${options.context}`)
    const result = await runCommand('docker', args, { tailLines: 20 })
    exitCode = result.exitCode
    tail = result.tail
  } catch (error) {
    throw new CommandError(
      `Could not run docker: ${errorMessage(error).replace(/\.$/, '')}. The build needs the Docker CLI and a running engine on the runner.`,
    )
  } finally {
    unstage()
  }
  if (exitCode !== 0) {
    throw new CommandError(
      `docker build failed (exit ${exitCode}); last lines of the build output: ${tail.join(' | ')}`,
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
