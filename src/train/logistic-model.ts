import { DEFAULT_LBFGS, minimizeLbfgs, type LbfgsStop, type Objective } from './lbfgs.js'
import type { Standardizer } from './standardizer.js'

/** Format tag of model.json. */
export const MODEL_FORMAT = 'mlsecops-logistic-regression/1'

/**
 * The trained model as stored in model.json: ml-logistic-regression's own JSON (its load() reads it back
 * and its predict() gives the same classes as TrainedModel) plus what it needs around it: feature names
 * and order, the standardization, and class labels.
 *
 * Decision rule (ml-logistic-regression's): standardize, put a 1 first (intercept), score each classifier
 * with sigmoid(weights · x) and predict the class whose score is LOWEST (first one on ties). The library
 * trains classifier k with class k as 0 and the rest as 1; this trainer writes weights that give the same
 * decision for the model it fits (see trainLogisticRegression).
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
    /** Solver iterations taken (the library's field for its gradient steps). */
    numSteps: number
    /** 0: the weights come from L-BFGS, not from the library's gradient descent. */
    learningRate: number
    numberClasses: number
    /** One per class, in classLabels order; weights is one row: intercept first, then one per feature. */
    classifiers: { numSteps: number; learningRate: number; weights: number[][] }[]
  }
}

export interface SolverSettings {
  /** Inverse L2 strength, as scikit-learn's C: minimizes sum(log-loss) + |W|^2 / (2C), intercepts free. */
  c: number
  /** Stop when the largest absolute gradient component of the mean objective is at most this. */
  tolerance: number
  maxIterations: number
  /** L-BFGS correction pairs. */
  memory: number
}

/** scikit-learn's LogisticRegression defaults (C=1, tol=1e-4, lbfgs with 10 pairs), up to 200 iterations. */
export const DEFAULT_SOLVER: SolverSettings = {
  c: 1,
  tolerance: 1e-4,
  maxIterations: 200,
  memory: 10,
}

export interface FitReport {
  /** 'binomial' for two classes, 'multinomial' (softmax) for more. */
  loss: 'binomial' | 'multinomial'
  iterations: number
  evaluations: number
  /** Largest absolute gradient component at the solution. */
  gradientNorm: number
  /** Mean log-loss plus penalty at the solution. */
  objective: number
  stop: LbfgsStop
  converged: boolean
}

export interface FittedLogisticRegression {
  logisticRegression: ModelFile['logisticRegression']
  fit: FitReport
}

/** Standardized rows, row-major rows.length x nf, computed as (value - mean) / scale like designRows. */
export function standardizedMatrix(
  features: ArrayLike<number>,
  rows: ArrayLike<number>,
  nf: number,
  s: Standardizer,
): Float64Array {
  const out = new Float64Array(rows.length * nf)
  const means = Float64Array.from(s.means)
  const scales = Float64Array.from(s.scales)
  for (let i = 0; i < rows.length; i++) {
    standardizeRow(features, rows[i] * nf, out, i * nf, means, scales)
  }
  return out
}

/** One row of standardizedMatrix (a small function: V8 optimizes it after a few calls). */
function standardizeRow(
  features: ArrayLike<number>,
  src: number,
  out: Float64Array,
  dst: number,
  means: Float64Array,
  scales: Float64Array,
): void {
  for (let j = 0; j < means.length; j++) out[dst + j] = (features[src + j] - means[j]) / scales[j]
}

/*
 * The objectives below walk the rows in blocks of four: one pass over a block computes the linear scores of
 * its four rows for every output (four independent sums share each weight load), a second pass adds the
 * four rows' contributions to the gradient (one gradient load and store per four rows). Rows left over at
 * the end go one by one. Parameters are `outputs` blocks [b, w_1..w_d].
 */

/** z[o * 4 + q] = b_o + x_{i+q} · w_o for the four rows i..i+3; outputs two at a time (eight sums). */
function scoreBlock(
  x: Float64Array,
  theta: Float64Array,
  i: number,
  d: number,
  outputs: number,
  z: Float64Array,
): void {
  const r0 = i * d
  const r1 = r0 + d
  const r2 = r1 + d
  const r3 = r2 + d
  const p = d + 1
  let o = 0
  for (; o + 2 <= outputs; o += 2) {
    const a = o * p + 1
    const b = a + p
    let a0 = theta[a - 1]
    let a1 = a0
    let a2 = a0
    let a3 = a0
    let b0 = theta[b - 1]
    let b1 = b0
    let b2 = b0
    let b3 = b0
    for (let j = 0; j < d; j++) {
      const wa = theta[a + j]
      const wb = theta[b + j]
      const x0 = x[r0 + j]
      const x1 = x[r1 + j]
      const x2 = x[r2 + j]
      const x3 = x[r3 + j]
      a0 += x0 * wa
      a1 += x1 * wa
      a2 += x2 * wa
      a3 += x3 * wa
      b0 += x0 * wb
      b1 += x1 * wb
      b2 += x2 * wb
      b3 += x3 * wb
    }
    z[o * 4] = a0
    z[o * 4 + 1] = a1
    z[o * 4 + 2] = a2
    z[o * 4 + 3] = a3
    z[o * 4 + 4] = b0
    z[o * 4 + 5] = b1
    z[o * 4 + 6] = b2
    z[o * 4 + 7] = b3
  }
  if (o < outputs) {
    const a = o * p + 1
    let s0 = theta[a - 1]
    let s1 = s0
    let s2 = s0
    let s3 = s0
    for (let j = 0; j < d; j++) {
      const w = theta[a + j]
      s0 += x[r0 + j] * w
      s1 += x[r1 + j] * w
      s2 += x[r2 + j] * w
      s3 += x[r3 + j] * w
    }
    z[o * 4] = s0
    z[o * 4 + 1] = s1
    z[o * 4 + 2] = s2
    z[o * 4 + 3] = s3
  }
}

/** grad_o += sum over the four rows of r[o * 4 + q] * (1, x_{i+q}); outputs two at a time. */
function addGradientBlock(
  x: Float64Array,
  r: Float64Array,
  i: number,
  d: number,
  outputs: number,
  grad: Float64Array,
): void {
  const r0 = i * d
  const r1 = r0 + d
  const r2 = r1 + d
  const r3 = r2 + d
  const p = d + 1
  let o = 0
  for (; o + 2 <= outputs; o += 2) {
    const a = o * p + 1
    const b = a + p
    const a0 = r[o * 4]
    const a1 = r[o * 4 + 1]
    const a2 = r[o * 4 + 2]
    const a3 = r[o * 4 + 3]
    const b0 = r[o * 4 + 4]
    const b1 = r[o * 4 + 5]
    const b2 = r[o * 4 + 6]
    const b3 = r[o * 4 + 7]
    grad[a - 1] += a0 + a1 + a2 + a3
    grad[b - 1] += b0 + b1 + b2 + b3
    for (let j = 0; j < d; j++) {
      const x0 = x[r0 + j]
      const x1 = x[r1 + j]
      const x2 = x[r2 + j]
      const x3 = x[r3 + j]
      grad[a + j] += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3
      grad[b + j] += b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3
    }
  }
  if (o < outputs) {
    const a = o * p + 1
    const g0 = r[o * 4]
    const g1 = r[o * 4 + 1]
    const g2 = r[o * 4 + 2]
    const g3 = r[o * 4 + 3]
    grad[a - 1] += g0 + g1 + g2 + g3
    for (let j = 0; j < d; j++) {
      grad[a + j] += g0 * x[r0 + j] + g1 * x[r1 + j] + g2 * x[r2 + j] + g3 * x[r3 + j]
    }
  }
}

/** z[o * 4] = b_o + x_i · w_o for one row (the rows after the last full block). */
function scoreRow(
  x: Float64Array,
  theta: Float64Array,
  i: number,
  d: number,
  outputs: number,
  z: Float64Array,
): void {
  const row = i * d
  for (let o = 0; o < outputs; o++) {
    const base = o * (d + 1) + 1
    let s = theta[base - 1]
    for (let j = 0; j < d; j++) s += x[row + j] * theta[base + j]
    z[o * 4] = s
  }
}

/** grad_o += r[o * 4] * (1, x_i) for one row. */
function addGradientRow(
  x: Float64Array,
  r: Float64Array,
  i: number,
  d: number,
  outputs: number,
  grad: Float64Array,
): void {
  const row = i * d
  for (let o = 0; o < outputs; o++) {
    const base = o * (d + 1) + 1
    const g = r[o * 4]
    grad[base - 1] += g
    for (let j = 0; j < d; j++) grad[base + j] += g * x[row + j]
  }
}

/** Mean of the data term, plus lambda/2 |w|^2 over the non-intercept weights; scales the gradient alike. */
function finishObjective(
  loss: number,
  n: number,
  theta: Float64Array,
  grad: Float64Array,
  d: number,
  outputs: number,
  lambda: number,
): number {
  const inv = 1 / n
  let total = loss * inv
  for (let o = 0; o < outputs; o++) {
    const base = o * (d + 1)
    grad[base] *= inv
    for (let j = 1; j <= d; j++) {
      const w = theta[base + j]
      total += 0.5 * lambda * w * w
      grad[base + j] = grad[base + j] * inv + lambda * w
    }
  }
  return total
}

/** Binary log-loss of z = b + x·w against y in {0, 1}: log(1 + e^z) - y z; writes z's residual into r. */
function binomialLoss(z: number, y: number, r: Float64Array, at: number): number {
  let loss: number
  let p: number
  if (z >= 0) {
    const e = Math.exp(-z)
    loss = z + Math.log1p(e)
    p = 1 / (1 + e)
  } else {
    const e = Math.exp(z)
    loss = Math.log1p(e)
    p = e / (1 + e)
  }
  r[at] = p - y
  return y === 1 ? loss - z : loss
}

/** Mean binary log-loss of z = b + x·w against y in {0, 1}, plus lambda/2 |w|^2. */
function binomialObjective(x: Float64Array, y: Int32Array, d: number, lambda: number): Objective {
  const n = y.length
  const z = new Float64Array(4)
  const r = new Float64Array(4)
  return (theta, grad) => {
    grad.fill(0)
    let loss = 0
    let i = 0
    for (; i + 4 <= n; i += 4) {
      scoreBlock(x, theta, i, d, 1, z)
      for (let q = 0; q < 4; q++) loss += binomialLoss(z[q], y[i + q], r, q)
      addGradientBlock(x, r, i, d, 1, grad)
    }
    for (; i < n; i++) {
      scoreRow(x, theta, i, d, 1, z)
      loss += binomialLoss(z[0], y[i], r, 0)
      addGradientRow(x, r, i, d, 1, grad)
    }
    return finishObjective(loss, n, theta, grad, d, 1, lambda)
  }
}

/**
 * Softmax cross-entropy of row q's scores z[k * 4 + q] (k < classes) against class y:
 * log(sum_k e^z_k) - z_y; writes the residuals softmax_k - [k = y] into r at the same places.
 */
function softmaxLoss(
  z: Float64Array,
  q: number,
  classes: number,
  y: number,
  r: Float64Array,
): number {
  let zMax = -Infinity
  for (let k = 0; k < classes; k++) if (z[k * 4 + q] > zMax) zMax = z[k * 4 + q]
  let sum = 0
  for (let k = 0; k < classes; k++) {
    const e = Math.exp(z[k * 4 + q] - zMax)
    r[k * 4 + q] = e
    sum += e
  }
  const inv = 1 / sum
  for (let k = 0; k < classes; k++) r[k * 4 + q] *= inv
  r[y * 4 + q] -= 1
  return Math.log(sum) + zMax - z[y * 4 + q]
}

/** Mean softmax cross-entropy of z_k = b_k + x·w_k against y in 0..K-1, plus lambda/2 |W|^2. */
function multinomialObjective(
  x: Float64Array,
  y: Int32Array,
  d: number,
  classes: number,
  lambda: number,
): Objective {
  const n = y.length
  const z = new Float64Array(classes * 4)
  const r = new Float64Array(classes * 4)
  return (theta, grad) => {
    grad.fill(0)
    let loss = 0
    let i = 0
    for (; i + 4 <= n; i += 4) {
      scoreBlock(x, theta, i, d, classes, z)
      for (let q = 0; q < 4; q++) loss += softmaxLoss(z, q, classes, y[i + q], r)
      addGradientBlock(x, r, i, d, classes, grad)
    }
    for (; i < n; i++) {
      scoreRow(x, theta, i, d, classes, z)
      loss += softmaxLoss(z, 0, classes, y[i], r)
      addGradientRow(x, r, i, d, classes, grad)
    }
    return finishObjective(loss, n, theta, grad, d, classes, lambda)
  }
}

/**
 * Fits scikit-learn's LogisticRegression model (L2, C, free intercepts; binary logistic for two classes,
 * softmax for more) with L-BFGS on standardized rows `x` (row-major, y.length rows) and class indices `y`
 * in 0..classCount-1, and writes it in ml-logistic-regression's format:
 *
 * - two classes: the fitted z = b + x·w is the log-odds of class 1, so classifier 0 gets (b, w) (its
 *   sigmoid is P(not class 0), exactly the library's one-vs-rest meaning) and classifier 1 gets -(b, w);
 *   the lowest score is class 1 exactly when z > 0.
 * - more classes: classifier k gets -(b_k, w_k); sigmoid is increasing, so the lowest sigmoid(-z_k) is the
 *   highest softmax logit z_k, which is the softmax model's prediction.
 *
 * Deterministic: same input, same bits.
 */
export function trainLogisticRegression(
  x: Float64Array,
  y: ArrayLike<number>,
  classCount: number,
  settings: SolverSettings = DEFAULT_SOLVER,
): FittedLogisticRegression {
  const n = y.length
  if (n === 0 || x.length % n !== 0) throw new Error('trainLogisticRegression: x must hold n rows')
  if (classCount < 2) throw new Error('trainLogisticRegression: needs at least two classes')
  const d = x.length / n
  const labels = Int32Array.from(y)
  for (const label of labels) {
    if (!(label >= 0 && label < classCount)) {
      throw new Error(
        `trainLogisticRegression: class index ${label} is not in 0..${classCount - 1}`,
      )
    }
  }
  const lambda = 1 / (settings.c * n)
  const binary = classCount === 2
  const objective = binary
    ? binomialObjective(x, labels, d, lambda)
    : multinomialObjective(x, labels, d, classCount, lambda)
  const result = minimizeLbfgs(objective, new Float64Array(binary ? d + 1 : classCount * (d + 1)), {
    ...DEFAULT_LBFGS,
    gradientTolerance: settings.tolerance,
    maxIterations: settings.maxIterations,
    memory: settings.memory,
  })
  const theta = result.x
  const p = d + 1
  const weights: number[][] = []
  if (binary) {
    const w = Array.from(theta)
    weights.push(
      w,
      w.map((v) => -v),
    )
  } else {
    for (let k = 0; k < classCount; k++) {
      weights.push(Array.from(theta.subarray(k * p, (k + 1) * p), (v) => -v))
    }
  }
  const steps = result.iterations
  return {
    logisticRegression: {
      name: 'LogisticRegression',
      numSteps: steps,
      learningRate: 0,
      numberClasses: classCount,
      classifiers: weights.map((w) => ({
        numSteps: steps,
        learningRate: 0,
        weights: [w.map((v) => (v === 0 ? 0 : v))], // no -0 in memory either
      })),
    },
    fit: {
      loss: binary ? 'binomial' : 'multinomial',
      iterations: result.iterations,
      evaluations: result.evaluations,
      gradientNorm: result.gradientNorm,
      objective: result.value,
      stop: result.stop,
      converged: result.converged,
    },
  }
}

/** A loaded model that predicts class labels from raw (unstandardized) feature rows. */
export class TrainedModel {
  private readonly weights: Float64Array[]

  constructor(readonly file: ModelFile) {
    const nf = file.featureNames.length
    this.weights = file.logisticRegression.classifiers.map((c, k) => {
      const row = c.weights[0]
      if (!Array.isArray(row) || row.length !== nf + 1) {
        throw new Error(`model.json: classifier ${k} must have ${nf + 1} weights (intercept first)`)
      }
      return Float64Array.from(row)
    })
  }

  get standardizer(): Standardizer {
    return { means: this.file.means, scales: this.file.scales }
  }

  /**
   * Class indices for rows given as a flat row-major array of raw features. Computes exactly what
   * ml-logistic-regression's predict() computes (same operations in the same order, so the same bits):
   * for each classifier s = 0 + 1·w_0 + x_1·w_1 + ..., score 1 / (1 + exp(-s)), lowest score wins.
   */
  predictIndices(features: ArrayLike<number>, rows: ArrayLike<number>): number[] {
    const nf = this.file.featureNames.length
    const means = this.file.means
    const scales = this.file.scales
    const xs = new Float64Array(nf)
    const out = new Array<number>(rows.length)
    for (let i = 0; i < rows.length; i++) {
      const base = rows[i] * nf
      for (let j = 0; j < nf; j++) xs[j] = (features[base + j] - means[j]) / scales[j]
      let best = 0
      let minimum = 100000
      for (let k = 0; k < this.weights.length; k++) {
        const w = this.weights[k]
        let s = 0
        s += 1 * w[0]
        for (let j = 0; j < nf; j++) s += xs[j] * w[j + 1]
        const score = 1 / (1 + Math.exp(-s))
        if (score < minimum) {
          minimum = score
          best = k
        }
      }
      out[i] = best
    }
    return out
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
