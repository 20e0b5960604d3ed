import * as core from '@actions/core'
import * as path from 'node:path'
import { getRunContext } from './context.js'
import { ConfigurationError, GateError, errorMessage } from './errors.js'
import { getInputs } from './inputs.js'
import { renderModelSection, writeJobSummary } from './summary.js'
import { trainModel, type TrainResult } from './train/train-stage.js'

/**
 * The pipeline: inputs -> train -> register -> build -> scan -> publish -> gate.
 * Only this function catches; it sets every output it can, writes the summary, then fails once.
 */
export async function run(): Promise<void> {
  const summary: string[] = ['## mlsecops']
  const failures: string[] = []
  try {
    const inputs = getInputs()
    const context = getRunContext()
    const workDir = path.join(context.runnerTemp, 'mlsecops')

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

    // Gate: policy failures come last, after outputs and the summary.
    if (train.metrics.accuracy < inputs.minAccuracy) {
      failures.push(
        `Model accuracy ${train.metrics.accuracy} is below min-accuracy ${inputs.minAccuracy}.`,
      )
    }
    core.setOutput('gate', failures.length === 0 ? 'passed' : 'failed')
    await writeJobSummary(summary.join('\n\n'))
    if (failures.length > 0) throw new GateError(failures.join(' '))
  } catch (error) {
    if (!(error instanceof GateError)) await writeJobSummary(summary.join('\n\n'))
    const kind =
      error instanceof ConfigurationError || error instanceof GateError
        ? ''
        : `${(error as Error).name ?? 'Error'}: `
    core.setFailed(`${kind}${errorMessage(error)}`)
  }
}
