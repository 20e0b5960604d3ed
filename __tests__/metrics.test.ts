import { describe, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { computeMetrics } from '../src/train/metrics.js'

/** scikit-learn 1.9's numbers for one truth/prediction pair, from __fixtures__/metrics/generate.py. */
interface SklearnMetrics {
  classLabels: string[]
  truth: number[]
  predicted: number[]
  accuracy: number
  precisionMacro: number
  recallMacro: number
  f1Macro: number
  perClass: { label: string; precision: number; recall: number; f1: number; support: number }[]
  confusionMatrix: number[][]
}

const fixture = JSON.parse(
  fs.readFileSync(path.join(process.cwd(), '__fixtures__/metrics/sklearn-metrics.json'), 'utf8'),
) as SklearnMetrics

/** Our metrics are rounded to 6 decimals for stable files. */
const CLOSE = 6

describe('computeMetrics against scikit-learn', () => {
  const m = computeMetrics(fixture.truth, fixture.predicted, fixture.classLabels, 100)

  test('accuracy and macro averages match sklearn.metrics', () => {
    expect(m.accuracy).toBeCloseTo(fixture.accuracy, CLOSE)
    expect(m.precisionMacro).toBeCloseTo(fixture.precisionMacro, CLOSE)
    expect(m.recallMacro).toBeCloseTo(fixture.recallMacro, CLOSE)
    expect(m.f1Macro).toBeCloseTo(fixture.f1Macro, CLOSE)
  })

  test('per-class precision, recall, F1 and support match, including a never-predicted class (0/0 -> 0)', () => {
    expect(m.perClass.map((c) => c.label)).toEqual(fixture.classLabels)
    m.perClass.forEach((c, i) => {
      const want = fixture.perClass[i]
      expect(c.precision).toBeCloseTo(want.precision, CLOSE)
      expect(c.recall).toBeCloseTo(want.recall, CLOSE)
      expect(c.f1).toBeCloseTo(want.f1, CLOSE)
      expect(c.support).toBe(want.support)
    })
    expect(m.perClass[3].precision).toBe(0)
  })

  test('the confusion matrix equals sklearn.metrics.confusion_matrix (rows: truth)', () => {
    expect(m.confusionMatrix).toEqual(fixture.confusionMatrix)
    expect(m.classLabels).toEqual(fixture.classLabels)
  })

  test('train and test sizes', () => {
    expect(m.trainSize).toBe(100)
    expect(m.testSize).toBe(fixture.truth.length)
  })

  test('a perfect prediction gives 1 everywhere', () => {
    const truth = [0, 1, 2, 2, 1, 0]
    const p = computeMetrics(truth, truth, ['a', 'b', 'c'], 10)
    expect([p.accuracy, p.precisionMacro, p.recallMacro, p.f1Macro]).toEqual([1, 1, 1, 1])
    expect(p.confusionMatrix).toEqual([
      [2, 0, 0],
      [0, 2, 0],
      [0, 0, 2],
    ])
  })

  test('values are rounded to at most 6 decimals, so metrics.json is stable text', () => {
    for (const x of [m.accuracy, m.precisionMacro, m.recallMacro, m.f1Macro]) {
      expect(Math.round(x * 1e6) / 1e6).toBe(x)
    }
  })
})
