import * as core from '@actions/core'
import * as path from 'node:path'
import { getRunContext } from './context.js'
import { ConfigurationError, GateError, errorMessage } from './errors.js'
import { getInputs } from './inputs.js'
import { renderModelSection, writeJobSummary } from './summary.js'
import { trainModel, type TrainResult } from './train/train-stage.js'

/**
 * The pipeline: inputs -> train -> register -> build -> scan -> publish -> gate.
 * Only this function catches. It sets every output it can, writes the summary once, reports a failure to
 * whoever registered for it (the MLflow run), then fails the job once.
 */
export async function run(): Promise<void> {
  const summary: string[] = ['## mlsecops']
  const gateFailures: string[] = []
  /** Called with the failure message when any stage or gate fails (e.g. marks the MLflow run FAILED). */
  const failureReporters: ((message: string) => Promise<void>)[] = []
  let failure: unknown

  try {
    const inputs = getInputs()
    const context = getRunContext()
    const workDir = path.join(context.runnerTemp, 'mlsecops')

    // --- train ---
    const train: TrainResult = await core.group('Train model', async () => {
      const result = trainModel({
        dataset: inputs.dataset,
        targetColumn: inputs.targetColumn,
        testSize: inputs.testSize,
        seed: inputs.seed,
        modelDir: path.join(workDir, 'model'),
      })
      core.info(
        `Holdout accuracy ${result.metrics.accuracy} on ${result.metrics.testSize} rows (${result.metrics.trainSize} for training)`,
      )
      return result
    })
    core.setOutput('accuracy', String(train.metrics.accuracy))
    core.setOutput('model-dir', train.modelDir)
    summary.push(renderModelSection(train, inputs.minAccuracy))
    if (train.metrics.accuracy < inputs.minAccuracy) {
      gateFailures.push(
        `Model accuracy ${train.metrics.accuracy} is below min-accuracy ${inputs.minAccuracy}.`,
      )
    }

    // --- register ---

    // --- build ---

    // --- scan ---

    // --- publish ---

    // --- gate ---
    core.setOutput('gate', gateFailures.length === 0 ? 'passed' : 'failed')
    if (gateFailures.length > 0) throw new GateError(gateFailures.join(' '))
  } catch (error) {
    failure = error
  }

  await writeJobSummary(summary.join('\n\n'))
  if (failure === undefined) return
  const message = errorMessage(failure)
  for (const report of failureReporters) {
    try {
      await report(message)
    } catch (error) {
      core.warning(`Could not record the failure: ${errorMessage(error)}`)
    }
  }
  const plain = failure instanceof ConfigurationError || failure instanceof GateError
  core.setFailed(plain ? message : `${(failure as Error).name ?? 'Error'}: ${message}`)
}
