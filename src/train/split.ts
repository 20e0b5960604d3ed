import { quoteValue } from '../log-text.js'
import { ConfigurationError } from '../errors.js'

/** A small seeded PRNG (mulberry32): the same seed gives the same split on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function shuffle(indices: number[], random: () => number): void {
  for (let i = indices.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const tmp = indices[i]
    indices[i] = indices[j]
    indices[j] = tmp
  }
}

export interface Split {
  train: number[]
  test: number[]
}

/**
 * Stratified holdout split. The holdout has ceil(testSize * n) rows (as scikit-learn's train_test_split),
 * shared out over the classes in proportion, largest remainders first; every class keeps at least one row in
 * training. Index order within each part is ascending, so the split does not depend on Map iteration order.
 */
export function stratifiedSplit(labels: string[], testSize: number, seed: number): Split {
  const n = labels.length
  const byClass = new Map<string, number[]>()
  labels.forEach((label, i) => {
    const list = byClass.get(label)
    if (list) list.push(i)
    else byClass.set(label, [i])
  })
  const classes = [...byClass.keys()].sort()
  if (classes.length < 2) {
    throw new ConfigurationError(
      'dataset',
      `Input 'dataset' has only one class (${quoteValue(classes[0] ?? '', 40)}) in the target column; a classifier needs rows of at least two classes: add them or choose another target-column.`,
    )
  }
  const single = classes.filter((c) => byClass.get(c)!.length < 2)
  if (single.length > 0) {
    const shown = single.slice(0, 5).map((c) => quoteValue(c, 40))
    throw new ConfigurationError(
      'dataset',
      `Input 'dataset' has a single row of class ${shown.join(', ')}${single.length > 5 ? ` and ${single.length - 5} more` : ''}; a stratified split needs at least two rows of every class (one to train, one to test): add rows or remove that class.`,
    )
  }
  const nTest = Math.ceil(testSize * n)
  const nTrain = n - nTest
  if (nTest < classes.length || nTrain < classes.length) {
    throw new ConfigurationError(
      'dataset',
      `Input 'dataset' has ${n} rows and ${classes.length} classes: too few to split with test-size ${testSize} (each part needs a row of every class); add rows or change test-size.`,
    )
  }
  // Proportional allocation with the largest remainder, at least one test row per class when there is room,
  // at most size-1 (a class keeps one training row).
  const shares = classes.map((c) => {
    const size = byClass.get(c)!.length
    const exact = (nTest * size) / n
    return { c, size, take: Math.min(size - 1, Math.floor(exact)), rest: exact - Math.floor(exact) }
  })
  let left = nTest - shares.reduce((s, x) => s + x.take, 0)
  const order = [...shares].sort((a, b) => b.rest - a.rest || a.c.localeCompare(b.c))
  while (left > 0) {
    let moved = false
    for (const s of order) {
      if (left === 0) break
      if (s.take < s.size - 1) {
        s.take++
        left--
        moved = true
      }
    }
    if (!moved) break
  }
  const random = seededRandom(seed)
  const train: number[] = []
  const test: number[] = []
  for (const s of shares) {
    const idx = [...byClass.get(s.c)!]
    shuffle(idx, random)
    // A loop, not push(...spread): spreading 100k+ indices as arguments overflows the call stack.
    for (let i = 0; i < idx.length; i++) (i < s.take ? test : train).push(idx[i])
  }
  const classesInTrain = new Set(train.map((i) => labels[i]))
  if (classesInTrain.size < classes.length) {
    throw new ConfigurationError(
      'dataset',
      `Input 'dataset' is too small to split: a class has no training row.`,
    )
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) }
}
