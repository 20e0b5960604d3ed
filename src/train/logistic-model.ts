import LogisticRegression from 'ml-logistic-regression'
import { Matrix } from 'ml-matrix'
import { designRows, type Standardizer } from './standardizer.js'

/** Format tag of model.json. */
export const MODEL_FORMAT = 'mlsecops-logistic-regression/1'

/**
 * The trained model as stored in model.json: ml-logistic-regression's own JSON (its load() reads it back)
 * plus what it needs around it: feature names and order, the standardization, and class labels.
 */
export interface ModelFile {
  format: typeof MODEL_FORMAT
  featureNames: string[]
  targetColumn: string
  /** Class labels; class index i of the classifier is classLabels[i]. */
  classLabels: string[]
  means: number[]
  scales: number[]
  /** Inputs are standardized and a leading 1 (intercept) is added before the classifier. */
  intercept: true
  /** ml-logistic-regression's toJSON(). */
  logisticRegression: {
    name: 'LogisticRegression'
    numSteps: number
    learningRate: number
    numberClasses: number
    classifiers: { numSteps: number; learningRate: number; weights: number[][] }[]
  }
}

export interface TrainerSettings {
  /** Gradient steps per one-vs-rest classifier. */
  numSteps: number
  /** Step size on the mean gradient; the library sums the gradient, so it gets stepSize / rows. */
  stepSize: number
}

/** Settings that reach scikit-learn's holdout accuracy on standardized data (see the unit tests). */
export const DEFAULT_TRAINER: TrainerSettings = { numSteps: 1000, stepSize: 1 }

/**
 * Trains ml-logistic-regression's one-vs-rest classifier on standardized rows with an intercept.
 * `y` holds class indices 0..k-1, each present at least once.
 */
export function trainLogisticRegression(
  x: number[][],
  y: number[],
  settings: TrainerSettings = DEFAULT_TRAINER,
): ModelFile['logisticRegression'] {
  const model = new LogisticRegression({
    numSteps: settings.numSteps,
    learningRate: settings.stepSize / x.length,
  })
  model.train(new Matrix(x), Matrix.columnVector(y))
  return JSON.parse(JSON.stringify(model)) as ModelFile['logisticRegression']
}

/** A loaded model that predicts class labels from raw (unstandardized) feature rows. */
export class TrainedModel {
  private readonly classifier: LogisticRegression

  constructor(readonly file: ModelFile) {
    this.classifier = LogisticRegression.load(file.logisticRegression)
  }

  get standardizer(): Standardizer {
    return { means: this.file.means, scales: this.file.scales }
  }

  /** Class indices for rows given as a flat row-major array of raw features. */
  predictIndices(features: ArrayLike<number>, rows: number[]): number[] {
    if (rows.length === 0) return []
    const x = designRows(features, rows, this.file.featureNames.length, this.standardizer)
    return this.classifier.predict(new Matrix(x)) as number[]
  }

  /** Class labels for raw feature rows (arrays in featureNames order). */
  predict(rows: number[][]): string[] {
    const nf = this.file.featureNames.length
    const flat = new Float64Array(rows.length * nf)
    rows.forEach((row, i) => flat.set(row, i * nf))
    return this.predictIndices(
      flat,
      rows.map((_, i) => i),
    ).map((k) => this.file.classLabels[k])
  }
}
