import * as core from '@actions/core'
import type { Inputs } from '../inputs.js'
import { registerModel, type Registration } from '../mlflow/registration.js'
import { renderRegistrationSection } from '../mlflow/registration-summary.js'
import type { Stage } from '../stage.js'
import type { TrainResult } from '../train/train-stage.js'
import type { StageContext } from './context.js'

export type RegisterStageInput = Pick<
  Inputs,
  'mlflowTrackingUri' | 'mlflowAuth' | 'mlflowExperiment' | 'modelName'
>

const OUTPUTS = ['run-id', 'model-version', 'model-uri'] as const

/**
 * Registers the trained model in MLflow: a run, the model files, a new version. Skipped (undefined) without a
 * tracking URI. The registration is live: main.ts ends its run FINISHED or FAILED.
 */
export async function registerStage(
  input: RegisterStageInput,
  ctx: StageContext,
  train: TrainResult,
): Promise<Stage<Registration | undefined>> {
  if (input.mlflowTrackingUri === '') {
    core.notice(
      'No MLflow tracking URI (input mlflow-tracking-uri or env MLFLOW_TRACKING_URI): the model is not registered.',
    )
    return { result: undefined, outputs: Object.fromEntries(OUTPUTS.map((name) => [name, ''])) }
  }
  const registration = await registerModel({
    trackingUri: input.mlflowTrackingUri,
    auth: input.mlflowAuth,
    experimentName: input.mlflowExperiment,
    modelName: input.modelName,
    train,
    context: ctx,
  })
  return {
    result: registration,
    outputs: {
      'run-id': registration.runId,
      'model-version': registration.modelVersion,
      'model-uri': registration.modelUri,
    },
    summary: renderRegistrationSection(registration),
  }
}
