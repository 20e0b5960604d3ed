// L-BFGS on functions whose minimum is known: where it ends, why it stops, and that it is deterministic.
import { describe, expect, test } from '@jest/globals'
import { DEFAULT_LBFGS, minimizeLbfgs, type Objective } from '../src/train/lbfgs.js'

/** f(x) = 1/2 sum a_i (x_i - c_i)^2: minimum at c, conditioning max(a) / min(a). */
function quadratic(a: number[], c: number[]): Objective {
  return (x, g) => {
    let f = 0
    for (let i = 0; i < x.length; i++) {
      const d = x[i] - c[i]
      f += 0.5 * a[i] * d * d
      g[i] = a[i] * d
    }
    return f
  }
}

/** Rosenbrock's banana: not convex, minimum 0 at (1, 1), a classic line-search test. */
const rosenbrock: Objective = (x, g) => {
  const [a, b] = [x[0], x[1]]
  g[0] = -2 * (1 - a) - 400 * a * (b - a * a)
  g[1] = 200 * (b - a * a)
  return (1 - a) ** 2 + 100 * (b - a * a) ** 2
}

describe('minimizeLbfgs', () => {
  test('an ill-conditioned quadratic (1e4): ends at its minimum with the gradient below tolerance', () => {
    const a = [1, 10, 100, 1000, 10000, 3, 30, 300]
    const c = [1, -2, 3, -4, 5, -6, 7, -8]
    const r = minimizeLbfgs(quadratic(a, c), new Float64Array(8), {
      ...DEFAULT_LBFGS,
      gradientTolerance: 1e-9,
      relativeTolerance: 0, // only the gradient may stop it
    })
    expect(r.stop).toBe('gradient')
    expect(r.converged).toBe(true)
    expect(r.gradientNorm).toBeLessThanOrEqual(1e-9)
    r.x.forEach((v, i) => expect(v).toBeCloseTo(c[i], 9))
  })

  test('Rosenbrock from (-1.2, 1): reaches (1, 1)', () => {
    const r = minimizeLbfgs(rosenbrock, Float64Array.from([-1.2, 1]), {
      ...DEFAULT_LBFGS,
      gradientTolerance: 1e-8,
    })
    expect(r.converged).toBe(true)
    expect(r.x[0]).toBeCloseTo(1, 6)
    expect(r.x[1]).toBeCloseTo(1, 6)
    expect(r.value).toBeLessThan(1e-12)
  })

  test('gradient-norm stop: the largest |gradient component| decides, and a looser tolerance stops sooner', () => {
    const f = quadratic([1, 50, 2500], [3, 2, 1])
    const tight = minimizeLbfgs(f, new Float64Array(3), {
      ...DEFAULT_LBFGS,
      gradientTolerance: 1e-10,
    })
    const loose = minimizeLbfgs(f, new Float64Array(3), {
      ...DEFAULT_LBFGS,
      gradientTolerance: 1e-1,
    })
    for (const r of [tight, loose]) expect(r.stop).toBe('gradient')
    expect(tight.gradientNorm).toBeLessThanOrEqual(1e-10)
    expect(loose.gradientNorm).toBeLessThanOrEqual(1e-1)
    expect(loose.gradientNorm).toBeGreaterThan(1e-10)
    expect(loose.iterations).toBeLessThan(tight.iterations)
    // The reported norm is the max-abs of the gradient at the returned point.
    const g = new Float64Array(3)
    f(loose.x, g)
    expect(Math.max(...Array.from(g, Math.abs))).toBe(loose.gradientNorm)
  })

  test('no-progress: stops when the objective no longer decreases relative to max(|f|, 1)', () => {
    const r = minimizeLbfgs(quadratic([1, 10, 100], [1, 2, 3]), new Float64Array(3), {
      ...DEFAULT_LBFGS,
      gradientTolerance: 0,
    })
    expect(r.stop).toBe('no-progress')
    expect(r.converged).toBe(true)
    expect(r.value).toBeLessThan(1e-12)
  })

  test('starting at the minimum takes no iteration', () => {
    const r = minimizeLbfgs(quadratic([1, 2], [0, 0]), new Float64Array(2))
    expect(r).toMatchObject({ iterations: 0, evaluations: 1, stop: 'gradient', converged: true })
  })

  test('max-iterations: stops there and says it did not converge', () => {
    const r = minimizeLbfgs(rosenbrock, Float64Array.from([-1.2, 1]), {
      ...DEFAULT_LBFGS,
      gradientTolerance: 1e-12,
      maxIterations: 3,
    })
    expect(r.iterations).toBe(3)
    expect(r.stop).toBe('max-iterations')
    expect(r.converged).toBe(false)
  })

  test('does not modify x0 and gives the same bits twice', () => {
    const x0 = Float64Array.from([-1.2, 1])
    const a = minimizeLbfgs(rosenbrock, x0)
    const b = minimizeLbfgs(rosenbrock, x0)
    expect(Array.from(x0)).toEqual([-1.2, 1])
    expect(Buffer.from(a.x.buffer).equals(Buffer.from(b.x.buffer))).toBe(true)
    expect(a.evaluations).toBe(b.evaluations)
  })
})
