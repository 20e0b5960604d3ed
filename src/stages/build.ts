import * as core from '@actions/core'
import { buildImage, type BuildResult } from '../docker/build-image.js'
import { renderBuildSection } from '../docker/build-summary.js'
import type { Inputs } from '../inputs.js'
import type { Registration } from '../mlflow/registration.js'
import type { Stage } from '../stage.js'
import type { TrainResult } from '../train/train-stage.js'
import type { StageContext } from './context.js'

export type BuildStageInput = Pick<
  Inputs,
  'build' | 'dockerfile' | 'context' | 'image' | 'buildArgs' | 'buildTimeoutMs' | 'modelName'
>

/** Builds the model's image with the runner's Docker, labelled with the commit, run and version. */
export async function buildStage(
  input: BuildStageInput,
  ctx: StageContext,
  earlier: { train: TrainResult; registration?: Registration },
): Promise<Stage<BuildResult | undefined>> {
  if (!input.build) {
    core.info('build is false: no image is built or scanned.')
    return { result: undefined, outputs: { image: '', 'image-id': '' } }
  }
  const { train, registration } = earlier
  const build = await buildImage({
    dockerfile: input.dockerfile,
    context: input.context,
    image: input.image,
    buildArgs: input.buildArgs,
    modelDir: train.modelDir,
    modelName: input.modelName,
    revision: ctx.sha,
    source: ctx.repositoryUrl,
    datasetDigest: train.dataset.digest,
    accuracy: train.metrics.accuracy,
    runId: registration?.runId,
    modelVersion: registration?.modelVersion,
    modelUri: registration?.modelUri,
    timeoutMs: input.buildTimeoutMs,
  })
  return {
    result: build,
    outputs: { image: build.image, 'image-id': build.imageId },
    summary: renderBuildSection(build),
  }
}
