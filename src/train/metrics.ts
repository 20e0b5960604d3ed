/** Holdout metrics of a classifier. */
export interface ClassMetrics {
  label: string
  precision: number
  recall: number
  f1: number
  support: number
}

export interface Metrics {
  accuracy: number
  precisionMacro: number
  recallMacro: number
  f1Macro: number
  trainSize: number
  testSize: number
  perClass: ClassMetrics[]
  /** confusion[i][j]: rows of true class i predicted as class j, in classLabels order. */
  confusionMatrix: number[][]
  classLabels: string[]
}

/** Rounds to 6 decimals so that metrics files are stable text. */
function round(x: number): number {
  return Math.round(x * 1e6) / 1e6
}

function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b
}

/** Metrics from true and predicted class indices. Zero-division gives 0, as scikit-learn's default does. */
export function computeMetrics(
  truth: number[],
  predicted: number[],
  classLabels: string[],
  trainSize: number,
): Metrics {
  const k = classLabels.length
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0))
  let correct = 0
  truth.forEach((t, i) => {
    confusion[t][predicted[i]]++
    if (t === predicted[i]) correct++
  })
  const perClass = classLabels.map((label, c) => {
    const tp = confusion[c][c]
    const support = confusion[c].reduce((s, v) => s + v, 0)
    const predictedAs = confusion.reduce((s, row) => s + row[c], 0)
    const precision = ratio(tp, predictedAs)
    const recall = ratio(tp, support)
    const f1 = ratio(2 * precision * recall, precision + recall)
    return { label, precision: round(precision), recall: round(recall), f1: round(f1), support }
  })
  const mean = (key: 'precision' | 'recall' | 'f1'): number =>
    round(perClass.reduce((s, m) => s + m[key], 0) / k)
  return {
    accuracy: round(ratio(correct, truth.length)),
    precisionMacro: mean('precision'),
    recallMacro: mean('recall'),
    f1Macro: mean('f1'),
    trainSize,
    testSize: truth.length,
    perClass,
    confusionMatrix: confusion,
    classLabels,
  }
}
