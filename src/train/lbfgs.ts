/**
 * Limited-memory BFGS on Float64Array parameters, for smooth convex objectives such as the L2-penalized
 * logistic loss. The stopping rules are scipy's L-BFGS-B ones (which scikit-learn's `lbfgs` solver uses):
 * the largest absolute gradient component at or below `gradientTolerance`, or a relative decrease of the
 * objective at or below `relativeTolerance`, or `maxIterations`. Steps satisfy the strong Wolfe conditions.
 * Everything is sequential and allocation-free per iteration, so the same input gives bit-identical output.
 */

/** Returns f(x) and writes the gradient of f at x into `gradient`. */
export type Objective = (x: Float64Array, gradient: Float64Array) => number

export interface LbfgsOptions {
  /** Stop when max |gradient_i| <= this (scipy's gtol; scikit-learn's tol). */
  gradientTolerance: number
  /** Stop when (f_prev - f) / max(|f_prev|, |f|, 1) <= this (scipy's ftol). */
  relativeTolerance: number
  maxIterations: number
  /** Correction pairs kept (scipy's maxcor). */
  memory: number
  /** Objective evaluations allowed per line search (scipy's maxls). */
  maxLineSearch: number
}

export const DEFAULT_LBFGS: LbfgsOptions = {
  gradientTolerance: 1e-4,
  relativeTolerance: 64 * Number.EPSILON,
  maxIterations: 200,
  memory: 10,
  maxLineSearch: 50,
}

/** Why the solver stopped. Only 'gradient' and 'no-progress' count as converged. */
export type LbfgsStop = 'gradient' | 'no-progress' | 'max-iterations' | 'line-search'

export interface LbfgsResult {
  x: Float64Array
  value: number
  /** max |gradient_i| at x. */
  gradientNorm: number
  iterations: number
  evaluations: number
  stop: LbfgsStop
  converged: boolean
}

const C1 = 1e-4 // sufficient decrease (Armijo)
const C2 = 0.9 // curvature (strong Wolfe)

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i] * b[i]
  return s
}

// The vector loops live in small functions that V8 optimizes after a few calls: the action fits once per
// process, and loops written inline in minimizeLbfgs ran unoptimized for much of a fit.

/** out = a + scale * b, elementwise. */
function addScaled(out: Float64Array, a: Float64Array, scale: number, b: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i] + scale * b[i]
}

/** out = scale * b, elementwise. */
function setScaled(out: Float64Array, scale: number, b: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = scale * b[i]
}

function maxAbs(a: Float64Array): number {
  let m = 0
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i])
    if (v > m || v !== v) m = v // NaN propagates
  }
  return m
}

/** Minimizer of the cubic through (a, fa, da) and (b, fb, db), or NaN when it has none. */
function cubicMinimizer(
  a: number,
  fa: number,
  da: number,
  b: number,
  fb: number,
  db: number,
): number {
  const d1 = da + db - (3 * (fa - fb)) / (a - b)
  const disc = d1 * d1 - da * db
  if (!(disc >= 0)) return NaN
  const d2 = Math.sign(b - a) * Math.sqrt(disc)
  return b - ((b - a) * (db + d2 - d1)) / (db - da + 2 * d2)
}

interface Point {
  alpha: number
  f: number
  /** Directional derivative g(x + alpha d) . d */
  dg: number
}

/** The solver's state: the iterate, its gradient, the search direction and the memory ring of (s, y) pairs. */
interface Work {
  objective: Objective
  options: LbfgsOptions
  m: number
  x: Float64Array
  g: Float64Array
  d: Float64Array
  /** Trial point of the line search and its gradient. */
  xt: Float64Array
  gt: Float64Array
  /** Best point of the zoom phase and its gradient. */
  xLo: Float64Array
  gLo: Float64Array
  s: Float64Array[]
  y: Float64Array[]
  rho: Float64Array
  alphas: Float64Array
  /** Stored pairs, and the ring index of the newest one (-1: none). */
  pairs: number
  newest: number
  evaluations: number
}

function newWork(objective: Objective, x0: Float64Array, options: LbfgsOptions): Work {
  const n = x0.length
  const m = Math.max(1, options.memory)
  const vector = (): Float64Array => new Float64Array(n)
  return {
    objective,
    options,
    m,
    x: Float64Array.from(x0),
    g: vector(),
    d: vector(),
    xt: vector(),
    gt: vector(),
    xLo: vector(),
    gLo: vector(),
    s: Array.from({ length: m }, vector),
    y: Array.from({ length: m }, vector),
    rho: new Float64Array(m),
    alphas: new Float64Array(m),
    pairs: 0,
    newest: -1,
    evaluations: 0,
  }
}

/**
 * Sets w.d = -H g by the two-loop recursion; returns the directional derivative g . d and the first step to
 * try. Not a descent direction (rounding): the memory is dropped and the gradient taken.
 */
function descentDirection(w: Work): { dg0: number; initialStep: number } {
  const { m, g, d, s, y, rho, alphas } = w
  setScaled(d, -1, g)
  for (let k = 0, j = w.newest; k < w.pairs; k++, j = (j - 1 + m) % m) {
    alphas[j] = rho[j] * dot(s[j], d)
    const yj = y[j]
    addScaled(d, d, -alphas[j], yj)
  }
  let initialStep = 1
  if (w.pairs > 0) {
    const yy = dot(y[w.newest], y[w.newest])
    const gamma = 1 / (rho[w.newest] * yy)
    setScaled(d, gamma, d)
    for (let k = 0, j = (w.newest - w.pairs + 1 + m) % m; k < w.pairs; k++, j = (j + 1) % m) {
      const beta = rho[j] * dot(y[j], d)
      const sj = s[j]
      addScaled(d, d, alphas[j] - beta, sj)
    }
  } else {
    // First step (or after a reset): steepest descent of unit length, as scipy does.
    initialStep = Math.min(1, 1 / Math.sqrt(dot(g, g)))
  }
  let dg0 = dot(g, d)
  if (!(dg0 < 0)) {
    w.pairs = 0
    w.newest = -1
    setScaled(d, -1, g)
    dg0 = -dot(g, g)
    initialStep = Math.min(1, 1 / Math.sqrt(-dg0))
  }
  return { dg0, initialStep }
}

/** Where the line search stopped: the trial point (w.xt), the best zoom point (w.xLo), or nowhere. */
interface LineSearchResult {
  accepted: 'trial' | 'lo' | undefined
  f: number
}

/** Strong Wolfe line search along w.d from w.x (Nocedal & Wright, algorithms 3.5 and 3.6). */
function lineSearch(w: Work, f0: number, dg0: number, initialStep: number): LineSearchResult {
  const { xt, gt, xLo, gLo, d, x, options } = w
  const evaluate = (alpha: number): Point => {
    addScaled(xt, x, alpha, d)
    const ft = w.objective(xt, gt)
    w.evaluations++
    return { alpha, f: ft, dg: dot(gt, d) }
  }
  const keepLo = (): void => {
    xLo.set(xt)
    gLo.set(gt)
  }
  const sufficient = (p: Point): boolean => p.f <= f0 + C1 * p.alpha * dg0
  const curvature = (p: Point): boolean => Math.abs(p.dg) <= -C2 * dg0
  let lo: Point = { alpha: 0, f: f0, dg: dg0 }
  let hi: Point | undefined
  let alpha = initialStep
  let calls = 0
  let prev = lo
  // Bracketing phase.
  while (calls < options.maxLineSearch) {
    const t = evaluate(alpha)
    calls++
    if (!sufficient(t) || (calls > 1 && t.f >= prev.f) || !Number.isFinite(t.f)) {
      lo = prev
      hi = t
      break
    }
    if (curvature(t)) return { accepted: 'trial', f: t.f }
    if (t.dg >= 0) {
      lo = t
      hi = prev
      keepLo()
      break
    }
    prev = t
    keepLo()
    lo = t
    alpha *= 4
  }
  // Zoom phase: lo satisfies the sufficient decrease and has the lowest value seen.
  while (hi !== undefined && calls < options.maxLineSearch) {
    const left = Math.min(lo.alpha, hi.alpha)
    const width = Math.abs(hi.alpha - lo.alpha)
    let a = Number.isFinite(hi.f)
      ? cubicMinimizer(lo.alpha, lo.f, lo.dg, hi.alpha, hi.f, hi.dg)
      : NaN
    if (!(a > left + 0.1 * width && a < left + 0.9 * width)) a = left + 0.5 * width
    if (width <= 1e-16 * Math.max(1, Math.abs(lo.alpha))) break
    const t = evaluate(a)
    calls++
    if (!sufficient(t) || t.f >= lo.f || !Number.isFinite(t.f)) {
      hi = t
    } else {
      if (curvature(t)) return { accepted: 'trial', f: t.f }
      if (t.dg * (hi.alpha - lo.alpha) >= 0) hi = lo
      lo = t
      keepLo()
    }
  }
  return { accepted: lo.alpha > 0 ? 'lo' : undefined, f: lo.f }
}

/** Stores s = x_new - x, y = g_new - g in the memory ring when the curvature s . y is positive. */
function remember(w: Work, xNew: Float64Array, gNew: Float64Array): void {
  const slot = (w.newest + 1) % w.m
  const sk = w.s[slot]
  const yk = w.y[slot]
  addScaled(sk, xNew, -1, w.x)
  addScaled(yk, gNew, -1, w.g)
  const sy = dot(sk, yk)
  if (sy > Number.EPSILON * dot(yk, yk)) {
    w.rho[slot] = 1 / sy
    w.newest = slot
    w.pairs = Math.min(w.pairs + 1, w.m)
  }
}

/** Minimizes `objective` from `x0` (not modified). */
export function minimizeLbfgs(
  objective: Objective,
  x0: Float64Array,
  options: LbfgsOptions = DEFAULT_LBFGS,
): LbfgsResult {
  const w = newWork(objective, x0, options)
  const { x, g } = w
  w.evaluations = 1
  let f = objective(x, g)
  let gradientNorm = maxAbs(g)
  const done = (iterations: number, stop: LbfgsStop): LbfgsResult => ({
    x,
    value: f,
    gradientNorm,
    iterations,
    evaluations: w.evaluations,
    stop,
    converged: stop === 'gradient' || stop === 'no-progress',
  })
  if (gradientNorm <= options.gradientTolerance) return done(0, 'gradient')

  for (let iteration = 1; iteration <= options.maxIterations; iteration++) {
    const { dg0, initialStep } = descentDirection(w)
    const step = lineSearch(w, f, dg0, initialStep)
    if (step.accepted === undefined) return done(iteration - 1, 'line-search')
    const xNew = step.accepted === 'trial' ? w.xt : w.xLo
    const gNew = step.accepted === 'trial' ? w.gt : w.gLo
    remember(w, xNew, gNew)
    x.set(xNew)
    g.set(gNew)
    const fPrev = f
    f = step.f
    gradientNorm = maxAbs(g)
    if (gradientNorm <= options.gradientTolerance) return done(iteration, 'gradient')
    if (fPrev - f <= options.relativeTolerance * Math.max(Math.abs(fPrev), Math.abs(f), 1)) {
      return done(iteration, 'no-progress')
    }
  }
  return done(options.maxIterations, 'max-iterations')
}
