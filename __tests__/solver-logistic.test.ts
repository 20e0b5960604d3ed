// The trainer against scikit-learn (fixtures from __fixtures__/solver/generate.py): the same optimum, the same
// predictions, and a model.json whose decision ml-logistic-regression's own load() + predict() reproduces.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import LogisticRegression from 'ml-logistic-regression'
import { Matrix } from 'ml-matrix'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { loadDataset, type Dataset } from '../src/train/csv-dataset.js'
import {
  DEFAULT_SOLVER,
  MODEL_FORMAT,
  TrainedModel,
  standardizedMatrix,
  trainLogisticRegression,
  type FittedLogisticRegression,
  type ModelFile,
  type SolverSettings,
} from '../src/train/logistic-model.js'
import { stableJson } from '../src/train/model-directory.js'
import { designRows, fitStandardizer, type Standardizer } from '../src/train/standardizer.js'
import { seededRandom } from '../src/train/split.js'
import { orderClassLabels, trainModel } from '../src/train/train-stage.js'

const ROOT = process.cwd()

interface Expected {
  datasets: Record<
    string,
    {
      csv: string
      classes: string[]
      /** scikit-learn's optimum (tol 1e-10): K x d (1 x d for two classes) and K (1) intercepts. */
      coef: number[][]
      intercept: number[]
      defaultIterations: number
      /** Predictions on every row of scikit-learn's default fit (tol 1e-4). */
      defaultPredictions: string[]
      defaultAccuracy: number
    }
  >
}
const expected = JSON.parse(
  fs.readFileSync(path.join(ROOT, '__fixtures__/solver/expected.json'), 'utf8'),
) as Expected
const NAMES = Object.keys(expected.datasets)

interface Prepared {
  data: Dataset
  classes: string[]
  y: number[]
  all: number[]
  standardizer: Standardizer
  x: Float64Array
}

function prepare(name: string): Prepared {
  const data = loadDataset(path.join(ROOT, expected.datasets[name].csv), '')
  const classes = orderClassLabels(data.labels)
  const y = data.labels.map((l) => classes.indexOf(l))
  const all = data.labels.map((_, i) => i)
  const nf = data.featureNames.length
  const standardizer = fitStandardizer(data.features, all, nf)
  return {
    data,
    classes,
    y,
    all,
    standardizer,
    x: standardizedMatrix(data.features, all, nf, standardizer),
  }
}

function fit(p: Prepared, settings: Partial<SolverSettings> = {}): FittedLogisticRegression {
  return trainLogisticRegression(p.x, p.y, p.classes.length, { ...DEFAULT_SOLVER, ...settings })
}

function modelFile(p: Prepared, fitted: FittedLogisticRegression): ModelFile {
  return {
    format: MODEL_FORMAT,
    featureNames: p.data.featureNames,
    targetColumn: p.data.targetColumn,
    classLabels: p.classes,
    means: p.standardizer.means,
    scales: p.standardizer.scales,
    intercept: true,
    logisticRegression: fitted.logisticRegression,
  }
}

/** The fitted model in scikit-learn's terms: rows [intercept, coef...], intercepts centered for softmax. */
function asSklearn(fitted: FittedLogisticRegression): number[][] {
  const rows = fitted.logisticRegression.classifiers.map((c) => c.weights[0])
  if (rows.length === 2) return [rows[0]]
  const softmax = rows.map((w) => w.map((v) => -v))
  const mean = softmax.reduce((s, w) => s + w[0], 0) / softmax.length
  return softmax.map((w) => [w[0] - mean, ...w.slice(1)])
}

const pad = (v: number): number => Math.max(1, Math.abs(v))

describe.each(NAMES)('%s', (name) => {
  const want = expected.datasets[name]
  let p: Prepared
  beforeAll(() => {
    p = prepare(name)
  })

  test('to a tight tolerance: the same weights as scikit-learn (its optimum, 1e-10)', () => {
    const fitted = fit(p, { tolerance: 1e-10, maxIterations: 10000 })
    expect(fitted.fit.converged).toBe(true)
    const ours = asSklearn(fitted)
    const sklearnMean = want.intercept.reduce((s, v) => s + v, 0) / want.intercept.length
    const theirs = want.coef.map((row, k) => [
      want.coef.length === 1 ? want.intercept[k] : want.intercept[k] - sklearnMean,
      ...row,
    ])
    expect(ours.length).toBe(theirs.length)
    let worst = 0
    ours.forEach((row, k) =>
      row.forEach((v, j) => {
        worst = Math.max(worst, Math.abs(v - theirs[k][j]) / pad(theirs[k][j]))
      }),
    )
    expect(worst).toBeLessThan(1e-5)
  })

  test("with the defaults: scikit-learn's default predictions on every row, gradient-norm stop", () => {
    const fitted = fit(p)
    expect(fitted.fit.stop).toBe('gradient')
    expect(fitted.fit.gradientNorm).toBeLessThanOrEqual(DEFAULT_SOLVER.tolerance)
    expect(fitted.fit.iterations).toBeLessThanOrEqual(2 * want.defaultIterations + 10)
    const model = new TrainedModel(modelFile(p, fitted))
    const labels = model.predictIndices(p.data.features, p.all).map((k) => p.classes[k])
    expect(labels).toEqual(want.defaultPredictions)
    expect(p.classes).toEqual(want.classes)
  })

  test("ml-logistic-regression's load() + predict() on model.json gives TrainedModel's classes", () => {
    const file = modelFile(p, fit(p))
    const nf = p.data.featureNames.length
    // Every row, plus random rows from near the data to far out (sigmoids saturate at 0 and 1 there).
    const random = seededRandom(7)
    const extra = new Float64Array(600 * nf)
    for (let i = 0; i < 600; i++) {
      const scale = [1, 10, 1e3, 1e6][i % 4]
      for (let j = 0; j < nf; j++) {
        extra[i * nf + j] =
          p.standardizer.means[j] + (random() - 0.5) * 6 * scale * p.standardizer.scales[j]
      }
    }
    const extraRows = Array.from({ length: 600 }, (_, i) => i)
    const library = LogisticRegression.load(
      (JSON.parse(stableJson(file)) as ModelFile).logisticRegression,
    )
    const model = new TrainedModel(JSON.parse(stableJson(file)) as ModelFile)
    for (const [features, rows] of [
      [p.data.features, p.all],
      [extra, extraRows],
    ] as const) {
      const byLibrary = library.predict(new Matrix(designRows(features, rows, nf, file)))
      expect(model.predictIndices(features, rows)).toEqual(byLibrary)
    }
  })

  test('two trainings give identical model.json bytes', () => {
    const a = stableJson(modelFile(p, fit(p)))
    const b = stableJson(modelFile(prepare(name), fit(prepare(name))))
    expect(a).toBe(b)
  })
})

describe('model.json encoding', () => {
  test('two classes: classifier 0 holds the log-odds of class 1, classifier 1 exactly its negation', () => {
    const p = prepare('binary')
    const fitted = fit(p)
    const [c0, c1] = fitted.logisticRegression.classifiers.map((c) => c.weights[0])
    expect(fitted.fit.loss).toBe('binomial')
    expect(c1).toEqual(c0.map((v) => (v === 0 ? 0 : -v)))
    // Class 1 exactly where z = c0 · (1, x) > 0.
    const nf = p.data.featureNames.length
    const model = new TrainedModel(modelFile(p, fitted))
    const predicted = model.predictIndices(p.data.features, p.all)
    p.all.forEach((r) => {
      let z = c0[0]
      for (let j = 0; j < nf; j++) z += p.x[r * nf + j] * c0[j + 1]
      expect(predicted[r]).toBe(z > 0 ? 1 : 0)
    })
  })

  test('many classes: one classifier per class, the highest softmax logit wins', () => {
    const p = prepare('many-classes')
    const fitted = fit(p)
    const lr = fitted.logisticRegression
    expect(fitted.fit.loss).toBe('multinomial')
    expect(lr).toMatchObject({ name: 'LogisticRegression', numberClasses: 12, learningRate: 0 })
    expect(lr.classifiers).toHaveLength(12)
    expect(lr.numSteps).toBe(fitted.fit.iterations)
    const nf = p.data.featureNames.length
    const predicted = new TrainedModel(modelFile(p, fitted)).predictIndices(p.data.features, p.all)
    const logits = asSklearn(fitted)
    p.all.forEach((r) => {
      const z = logits.map((w) => w.slice(1).reduce((s, v, j) => s + v * p.x[r * nf + j], w[0]))
      expect(predicted[r]).toBe(z.indexOf(Math.max(...z)))
    })
  })

  test('no -0 in the weights (JSON would print 0 and the file must read back the same)', () => {
    const fitted = fit(prepare('iris'))
    for (const c of fitted.logisticRegression.classifiers) {
      for (const v of c.weights[0]) expect(Object.is(v, -0)).toBe(false)
    }
  })
})

describe('separable data and the L2 term', () => {
  test('perfectly separable classes: finite, bounded weights; every row right', () => {
    const p = prepare('separable')
    const fitted = fit(p)
    expect(fitted.fit.converged).toBe(true)
    const w = fitted.logisticRegression.classifiers[0].weights[0]
    for (const v of w) {
      expect(Number.isFinite(v)).toBe(true)
      expect(Math.abs(v)).toBeLessThan(20)
    }
    const model = new TrainedModel(modelFile(p, fitted))
    expect(model.predictIndices(p.data.features, p.all)).toEqual(p.y)
  })

  test('duplicated points far apart (separable by a huge margin): still finite and converged', () => {
    const nf = 2
    const rows = 40
    const x = new Float64Array(rows * nf)
    const y: number[] = []
    for (let i = 0; i < rows; i++) {
      const cls = i % 2
      x[i * nf] = cls === 1 ? 1 : -1
      x[i * nf + 1] = cls === 1 ? 1 : -1
      y.push(cls)
    }
    for (const classes of [2, 3]) {
      const yy = classes === 2 ? y : y.map((v, i) => (i % 4 === 3 ? 2 : v))
      if (classes === 3) for (let i = 3; i < rows; i += 4) x[i * nf + 1] = 3
      const fitted = trainLogisticRegression(x, yy, classes)
      expect(fitted.fit.converged).toBe(true)
      for (const c of fitted.logisticRegression.classifiers) {
        for (const v of c.weights[0]) expect(Number.isFinite(v)).toBe(true)
      }
    }
  })
})

describe('trainModel writes the same model.json twice', () => {
  let tmp: string
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'solver-logistic-'))
  })
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

  test.each(['', '__fixtures__/solver/many-classes.csv'])('dataset %j', (dataset) => {
    const run = (dir: string): Buffer => {
      const result = trainModel({
        dataset: dataset === '' ? '' : path.join(ROOT, dataset),
        targetColumn: '',
        testSize: 0.2,
        seed: 42,
        modelDir: path.join(tmp, dir),
      })
      expect(result.params.solver).toBe('lbfgs')
      expect(result.params.converged).toBe('true')
      return fs.readFileSync(path.join(result.modelDir, 'model.json'))
    }
    const tag = dataset === '' ? 'iris' : 'many'
    expect(run(`${tag}-a`).equals(run(`${tag}-b`))).toBe(true)
  })
})

describe('input checks', () => {
  test('a class index out of range, or fewer than two classes, is a programming error', () => {
    const x = new Float64Array([0, 1, 2])
    expect(() => trainLogisticRegression(x, [0, 1, 2], 2)).toThrow(/class index 2/)
    expect(() => trainLogisticRegression(x, [0, 0, 0], 1)).toThrow(/two classes/)
  })
})
