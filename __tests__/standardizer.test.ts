import { describe, expect, test } from '@jest/globals'
import { designRows, fitStandardizer } from '../src/train/standardizer.js'

// 4 rows x 3 features, row-major. Column 2 is constant.
const features = Float64Array.from([1, 10, 5, 2, 20, 5, 3, 30, 5, 100, -100, 5])

describe('fitStandardizer', () => {
  test('means and population standard deviations (as StandardScaler) of the given rows only', () => {
    // Rows 0..2 only: row 3 (the outlier) must not leak into the fit.
    const s = fitStandardizer(features, [0, 1, 2], 3)
    expect(s.means).toEqual([2, 20, 5])
    // numpy: np.std([1, 2, 3]) = 0.816496580927726, np.std([10, 20, 30]) = 8.16496580927726
    expect(s.scales[0]).toBeCloseTo(0.816496580927726, 12)
    expect(s.scales[1]).toBeCloseTo(8.16496580927726, 12)
  })

  test('a constant column scales by 1 instead of dividing by zero', () => {
    const s = fitStandardizer(features, [0, 1, 2, 3], 3)
    expect(s.scales[2]).toBe(1)
    expect(s.means[2]).toBe(5)
  })

  test('row order does not change the fit', () => {
    const a = fitStandardizer(features, [0, 1, 2, 3], 3)
    const b = fitStandardizer(features, [3, 1, 0, 2], 3)
    a.means.forEach((v, j) => expect(b.means[j]).toBeCloseTo(v, 12))
    a.scales.forEach((v, j) => expect(b.scales[j]).toBeCloseTo(v, 12))
  })
})

describe('designRows', () => {
  test('standardizes each row and puts the intercept 1 first', () => {
    const s = fitStandardizer(features, [0, 1, 2], 3)
    const x = designRows(features, [0, 2], 3, s)
    expect(x).toHaveLength(2)
    expect(x[0][0]).toBe(1)
    expect(x[0][1]).toBeCloseTo(-1.224744871391589, 12)
    expect(x[0][2]).toBeCloseTo(-1.224744871391589, 12)
    expect(x[0][3]).toBe(0)
    expect(x[1][1]).toBeCloseTo(1.224744871391589, 12)
    expect(x[1][2]).toBeCloseTo(1.224744871391589, 12)
  })

  test('standardized training columns have mean 0 and unit variance', () => {
    const rows = [0, 1, 2, 3]
    const s = fitStandardizer(features, rows, 3)
    const x = designRows(features, rows, 3, s)
    for (const j of [1, 2]) {
      const col = x.map((r) => r[j])
      const mean = col.reduce((a, b) => a + b, 0) / col.length
      const variance = col.reduce((a, b) => a + (b - mean) ** 2, 0) / col.length
      expect(mean).toBeCloseTo(0, 12)
      expect(variance).toBeCloseTo(1, 12)
    }
  })

  test('works on plain arrays as well as Float64Array', () => {
    const s = { means: [1, 2], scales: [2, 4] }
    expect(designRows([3, 10], [0], 2, s)).toEqual([[1, 1, 2]])
  })
})
