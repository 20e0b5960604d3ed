// The model section of the summary stays bounded for thousands of classes (every class is in metrics.json).
import { describe, expect, it } from '@jest/globals'
import { computeMetrics } from '../src/train/metrics.js'
import { metricsFileContent } from '../src/train/model-directory.js'
import { renderModelSection } from '../src/train/model-summary.js'
import type { TrainResult } from '../src/train/train-stage.js'

function trainWith(classes: number): TrainResult {
  const labels = Array.from({ length: classes }, (_, i) => `c${i}`)
  const truth = labels.map((_, i) => i)
  const predicted = labels.map((_, i) => (i + 1) % classes)
  const metrics = computeMetrics(truth, predicted, labels, classes)
  return {
    metrics,
    dataset: {
      name: 'many.csv',
      rows: classes * 2,
      featureNames: ['x', 'y'],
      targetColumn: 'label',
    },
  } as unknown as TrainResult
}

describe('model section and metrics.json for many classes', () => {
  it('3 classes: every row and the confusion matrix', () => {
    const text = renderModelSection(trainWith(3), 0)
    expect(text).toContain('Confusion matrix (rows: true class')
    expect(text).not.toContain('every class is in metrics.json')
  })

  it('2,000 classes: 100 rows, no k x k table, a small metrics.json', () => {
    const train = trainWith(2000)
    const text = renderModelSection(train, 0)
    expect(text).toContain('The first 100 of 2000 classes; every class is in metrics.json.')
    expect(text).toContain('Confusion matrix: 2000 classes, in metrics.json.')
    expect(Buffer.byteLength(text)).toBeLessThan(20_000)
    const file = metricsFileContent(train.metrics) as { confusionMatrixCells: number[][] }
    expect(file.confusionMatrixCells).toHaveLength(2000)
    expect(file.confusionMatrixCells[0]).toEqual([0, 1, 1])
    expect('confusionMatrix' in file).toBe(false)
  })
})
