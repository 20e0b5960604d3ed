// The softmax objective's WebAssembly kernels (scores and gradient, SIMD) against the JavaScript objective
// they replace on small and medium data: the same value and gradient to rounding, on shapes that exercise
// the padding (rows not a multiple of 4, an odd class count, one feature), the same bits on every call
// whatever was evaluated before, and the fallback to JavaScript above the size limit.
import { describe, expect, test } from '@jest/globals'
import { softmaxObjectives, trainLogisticRegression } from '../src/train/logistic-model.js'
import { seededRandom } from '../src/train/split.js'

function problem(n: number, d: number, classes: number, seed: number) {
  const random = seededRandom(seed)
  const x = Float64Array.from({ length: n * d }, () => 4 * random() - 2)
  const y = Int32Array.from({ length: n }, (_, i) =>
    i < classes ? i : Math.floor(random() * classes),
  )
  const theta = Float64Array.from({ length: classes * (d + 1) }, () => 2 * random() - 1)
  return { x, y, theta }
}

function evaluate(objective: (x: Float64Array, g: Float64Array) => number, theta: Float64Array) {
  const gradient = new Float64Array(theta.length)
  const value = objective(theta, gradient)
  return { value, gradient }
}

describe('WebAssembly softmax objective', () => {
  test.each([
    [150, 4, 3],
    [37, 5, 3],
    [9, 1, 4],
    [6, 2, 7],
    [301, 64, 10],
  ])(
    'n=%i d=%i classes=%i: same value and gradient as the JavaScript objective',
    (n, d, classes) => {
      const { x, y, theta } = problem(n, d, classes, 1000 + n + d + classes)
      const { wasm, js } = softmaxObjectives(x, y, d, classes, 1 / n)
      expect(wasm).toBeDefined()
      const a = evaluate(wasm!, theta)
      const b = evaluate(js, theta)
      expect(Number.isFinite(a.value)).toBe(true)
      expect(Math.abs(a.value - b.value)).toBeLessThanOrEqual(
        1e-12 * Math.max(1, Math.abs(b.value)),
      )
      const scale = Math.max(1, ...Array.from(b.gradient, Math.abs))
      for (let i = 0; i < theta.length; i++) {
        expect(Math.abs(a.gradient[i] - b.gradient[i])).toBeLessThanOrEqual(1e-12 * scale)
      }
    },
  )

  test('same bits on every call, whatever was evaluated in between', () => {
    const { x, y, theta } = problem(53, 7, 5, 7)
    const { wasm } = softmaxObjectives(x, y, 7, 5, 1 / 53)
    const first = evaluate(wasm!, theta)
    evaluate(
      wasm!,
      theta.map((v) => -3 * v),
    )
    const again = evaluate(wasm!, theta)
    expect(again.value).toBe(first.value)
    expect(Array.from(again.gradient)).toEqual(Array.from(first.gradient))
  })

  test('above the size limit (2^21 doubles of rows) the JavaScript objective is used', () => {
    const n = 1 << 15
    const d = 63 // n * (d + 1) = 2^21: still WebAssembly; one more row is not
    expect(
      softmaxObjectives(new Float64Array(n * d), new Int32Array(n), d, 3, 1).wasm,
    ).toBeDefined()
    const m = n + 4
    expect(
      softmaxObjectives(new Float64Array(m * d), new Int32Array(m), d, 3, 1).wasm,
    ).toBeUndefined()
  })

  test('a fit is deterministic: the same input gives the same weights, bit for bit', () => {
    const { x, y } = problem(120, 6, 3, 42)
    const a = trainLogisticRegression(x, y, 3)
    const b = trainLogisticRegression(x, y, 3)
    expect(a.fit.converged).toBe(true)
    expect(JSON.stringify(b.logisticRegression)).toBe(JSON.stringify(a.logisticRegression))
  })
})
