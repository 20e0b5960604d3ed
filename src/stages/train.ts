import * as core from '@actions/core'
import * as path from 'node:path'
import type { Inputs } from '../inputs.js'
import type { Stage } from '../stage.js'
import { renderModelSection } from '../train/model-summary.js'
import { trainModel, type TrainResult } from '../train/train-stage.js'
import type { StageContext } from './context.js'

export type TrainStageInput = Pick<
  Inputs,
  'dataset' | 'targetColumn' | 'testSize' | 'seed' | 'minAccuracy'
>

/** Trains on the dataset (or Iris), writes the model directory; the accuracy gate is decided here. */
export async function trainStage(
  input: TrainStageInput,
  ctx: StageContext,
): Promise<Stage<TrainResult>> {
  const train = trainModel({ ...input, modelDir: path.join(ctx.workDir, 'model') })
  const { accuracy, testSize, trainSize } = train.metrics
  core.info(`Holdout accuracy ${accuracy} on ${testSize} rows (${trainSize} for training)`)
  return {
    result: train,
    outputs: { accuracy: String(accuracy), 'model-dir': train.modelDir },
    summary: renderModelSection(train, input.minAccuracy),
    gateFailures:
      accuracy < input.minAccuracy
        ? [`Model accuracy ${accuracy} is below min-accuracy ${input.minAccuracy}.`]
        : [],
  }
}
