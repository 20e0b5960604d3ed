import * as path from 'node:path'
import { loadDataset, type Dataset } from './csv-dataset.js'
import {
  DEFAULT_SOLVER,
  MODEL_FORMAT,
  TrainedModel,
  standardizedMatrix,
  trainLogisticRegression,
  type ModelFile,
} from './logistic-model.js'
import { computeMetrics, type Metrics } from './metrics.js'
import { writeMlflowModelFiles } from '../mlflow/mlmodel.js'
import { writeModelDirectory } from './model-directory.js'
import { stratifiedSplit } from './split.js'
import { fitStandardizer, type Standardizer } from './standardizer.js'

export interface TrainOptions {
  dataset: string
  targetColumn: string
  testSize: number
  seed: number
  /** Where the model directory is written. */
  modelDir: string
}

export interface TrainResult {
  modelDir: string
  /** Files written into modelDir. */
  files: string[]
  metrics: Metrics
  dataset: Omit<Dataset, 'features' | 'labels'>
  model: TrainedModel
  /** Training settings and split, as strings, for tracking params. */
  params: Record<string, string>
  /** Raw feature rows and true labels of the holdout, for checks downstream (e.g. serving the image). */
  holdout: { rows: number[][]; labels: string[]; predicted: string[] }
}

/** Class labels in a stable order: numerically when every label is a number, else by code point. */
export function orderClassLabels(labels: string[]): string[] {
  const unique = [...new Set(labels)]
  const numeric = unique.every((l) => l.trim() !== '' && Number.isFinite(Number(l)))
  return numeric
    ? unique.sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0))
    : unique.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

/** The model.json contents for coefficients fitted on the dataset's standardized features. */
export function buildModelFile(
  data: Pick<Dataset, 'featureNames' | 'targetColumn'>,
  classLabels: string[],
  standardizer: Standardizer,
  logisticRegression: ModelFile['logisticRegression'],
): ModelFile {
  return {
    format: MODEL_FORMAT,
    featureNames: data.featureNames,
    targetColumn: data.targetColumn,
    classLabels,
    means: standardizer.means,
    scales: standardizer.scales,
    intercept: true,
    logisticRegression,
  }
}

/** The train stage: load, split, standardize, train, measure on the holdout, write the model directory. */
export function trainModel(options: TrainOptions): TrainResult {
  const data = loadDataset(options.dataset, options.targetColumn)
  const nf = data.featureNames.length
  const split = stratifiedSplit(data.labels, options.testSize, options.seed)
  const classLabels = orderClassLabels(data.labels)
  const classIndex = new Map(classLabels.map((l, i) => [l, i]))
  const y = data.labels.map((l) => classIndex.get(l)!)

  const standardizer = fitStandardizer(data.features, split.train, nf)
  const settings = DEFAULT_SOLVER
  const { logisticRegression, fit } = trainLogisticRegression(
    standardizedMatrix(data.features, split.train, nf, standardizer),
    split.train.map((i) => y[i]),
    classLabels.length,
    settings,
  )
  const file = buildModelFile(data, classLabels, standardizer, logisticRegression)
  const model = new TrainedModel(file)
  const predicted = model.predictIndices(data.features, split.test)
  const metrics = computeMetrics(
    split.test.map((i) => y[i]),
    predicted,
    classLabels,
    split.train.length,
  )
  const rowOf = (i: number): number[] => Array.from(data.features.subarray(i * nf, (i + 1) * nf))
  const example = { columns: data.featureNames, data: split.test.slice(0, 5).map(rowOf) }
  const modelDir = path.resolve(options.modelDir)
  const files = writeModelDirectory(modelDir, file, metrics, example)
  // The MLflow Model format around it (model.onnx, MLmodel, environment files), loadable by MLflow's tools.
  files.push(...writeMlflowModelFiles(modelDir, file))

  const { features: _f, labels: _l, ...datasetInfo } = data
  return {
    modelDir,
    files,
    metrics,
    dataset: datasetInfo,
    model,
    params: {
      solver: 'lbfgs',
      loss: fit.loss,
      C: String(settings.c),
      tol: String(settings.tolerance),
      max_iter: String(settings.maxIterations),
      iterations: String(fit.iterations),
      converged: String(fit.converged),
      standardize: 'true',
      intercept: 'true',
      test_size: String(options.testSize),
      seed: String(options.seed),
      dataset: data.name,
      dataset_digest: data.digest,
      target_column: data.targetColumn,
      feature_count: String(nf),
      class_count: String(classLabels.length),
      rows: String(data.rows),
    },
    holdout: {
      rows: split.test.map(rowOf),
      labels: split.test.map((i) => data.labels[i]),
      predicted: predicted.map((k) => classLabels[k]),
    },
  }
}
