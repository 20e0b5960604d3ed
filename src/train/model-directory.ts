import * as fs from 'node:fs'
import * as path from 'node:path'
import { MODEL_FORMAT, TrainedModel, type ModelFile } from './logistic-model.js'
import type { Metrics } from './metrics.js'

export const MODEL_FILE = 'model.json'
export const METRICS_FILE = 'metrics.json'
export const INPUT_EXAMPLE_FILE = 'input_example.json'

/** Stable JSON text: two-space indent and a final newline, so identical models give identical bytes. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n'
}

export interface InputExample {
  columns: string[]
  data: number[][]
}

/** Above this many classes metrics.json holds the confusion matrix as its non-zero cells only. */
export const DENSE_CONFUSION_LIMIT = 100

/**
 * metrics.json's content: the metrics as computed, except that with many classes the k x k confusion matrix
 * (25 million cells for 5,000 classes) is written as its non-zero cells, [true, predicted, count] in class
 * order, whose number is at most the holdout rows.
 */
export function metricsFileContent(metrics: Metrics): unknown {
  if (metrics.classLabels.length <= DENSE_CONFUSION_LIMIT) return metrics
  const { confusionMatrix, ...rest } = metrics
  const cells: [number, number, number][] = []
  confusionMatrix.forEach((row, i) =>
    row.forEach((count, j) => {
      if (count !== 0) cells.push([i, j, count])
    }),
  )
  return { ...rest, confusionMatrixCells: cells }
}

/** Writes the model directory: model.json, metrics.json and input_example.json. Returns the file paths. */
export function writeModelDirectory(
  dir: string,
  model: ModelFile,
  metrics: Metrics,
  example: InputExample,
): string[] {
  fs.mkdirSync(dir, { recursive: true })
  const files: [string, unknown][] = [
    [MODEL_FILE, model],
    [METRICS_FILE, metricsFileContent(metrics)],
    [INPUT_EXAMPLE_FILE, example],
  ]
  return files.map(([name, value]) => {
    const file = path.join(dir, name)
    fs.writeFileSync(file, stableJson(value))
    return file
  })
}

/** Loads model.json from a model directory and returns a model that predicts labels. */
export function loadModelDirectory(dir: string): TrainedModel {
  const file = JSON.parse(fs.readFileSync(path.join(dir, MODEL_FILE), 'utf8')) as ModelFile
  if (file.format !== MODEL_FORMAT) {
    throw new Error(
      `${path.join(dir, MODEL_FILE)} is not a ${MODEL_FORMAT} model (format: ${String(file.format)})`,
    )
  }
  return new TrainedModel(file)
}
