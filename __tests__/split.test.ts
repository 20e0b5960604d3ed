import { describe, expect, test } from '@jest/globals'
import { ConfigurationError } from '../src/errors.js'
import { seededRandom, stratifiedSplit } from '../src/train/split.js'

function labelsOf(counts: Record<string, number>): string[] {
  // Interleaved, so that class membership is not a block of indices.
  const out: string[] = []
  const left = { ...counts }
  while (Object.values(left).some((n) => n > 0)) {
    for (const k of Object.keys(left)) {
      if (left[k] > 0) {
        out.push(k)
        left[k]--
      }
    }
  }
  return out
}

function countBy(indices: number[], labels: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const i of indices) out[labels[i]] = (out[labels[i]] ?? 0) + 1
  return out
}

function thrown(fn: () => unknown): ConfigurationError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError)
    return error as ConfigurationError
  }
  throw new Error('expected a ConfigurationError')
}

describe('stratifiedSplit', () => {
  test('Iris-like 3 x 50 with test-size 0.2: 30 held out, 10 of each class', () => {
    const labels = labelsOf({ setosa: 50, versicolor: 50, virginica: 50 })
    const s = stratifiedSplit(labels, 0.2, 42)
    expect(s.test).toHaveLength(30)
    expect(s.train).toHaveLength(120)
    expect(countBy(s.test, labels)).toEqual({ setosa: 10, versicolor: 10, virginica: 10 })
  })

  test('the two parts are disjoint, cover every row, and are in ascending order', () => {
    const labels = labelsOf({ a: 37, b: 11, c: 5 })
    const s = stratifiedSplit(labels, 0.3, 7)
    const all = [...s.train, ...s.test].sort((x, y) => x - y)
    expect(all).toEqual(labels.map((_, i) => i))
    expect(new Set([...s.train, ...s.test]).size).toBe(labels.length)
    expect(s.train).toEqual([...s.train].sort((x, y) => x - y))
    expect(s.test).toEqual([...s.test].sort((x, y) => x - y))
  })

  test.each([
    [0.2, { a: 80, b: 20 }],
    [0.25, { a: 60, b: 30, c: 10 }],
    [0.1, { a: 500, b: 300, c: 200 }],
    [0.5, { yes: 13, no: 7 }],
    [0.33, { x: 41, y: 29, z: 17, w: 13 }],
  ])(
    'test-size %p on %j: holdout has ceil(test-size * n) rows, each class within one row of its share',
    (testSize, counts) => {
      const labels = labelsOf(counts)
      const n = labels.length
      const s = stratifiedSplit(labels, testSize, 42)
      const nTest = Math.ceil(testSize * n)
      expect(s.test).toHaveLength(nTest)
      const got = countBy(s.test, labels)
      for (const [label, size] of Object.entries(counts)) {
        expect(Math.abs((got[label] ?? 0) - (nTest * size) / n)).toBeLessThan(1)
        // Every class keeps rows in training.
        expect(countBy(s.train, labels)[label]).toBeGreaterThan(0)
      }
    },
  )

  test('the same seed gives the same split; another seed gives another', () => {
    const labels = labelsOf({ a: 40, b: 40, c: 40 })
    const one = stratifiedSplit(labels, 0.2, 42)
    const two = stratifiedSplit([...labels], 0.2, 42)
    expect(two).toEqual(one)
    const other = stratifiedSplit(labels, 0.2, 43)
    expect(other.test).not.toEqual(one.test)
    expect(countBy(other.test, labels)).toEqual(countBy(one.test, labels))
  })

  test('the split does not depend on the order in which classes first appear', () => {
    // Same multiset of labels per index position is impossible to keep when reordering, so check that the
    // split is a function of (labels, testSize, seed) only: the result for a fixed array is the same in a
    // fresh call after other calls (no hidden state).
    const labels = labelsOf({ b: 20, a: 20 })
    const first = stratifiedSplit(labels, 0.25, 1)
    stratifiedSplit(labelsOf({ z: 9, y: 9 }), 0.5, 99)
    expect(stratifiedSplit(labels, 0.25, 1)).toEqual(first)
  })

  test('one class fails naming the dataset input', () => {
    const e = thrown(() => stratifiedSplit(['a', 'a', 'a', 'a'], 0.5, 1))
    expect(e.input).toBe('dataset')
    expect(e.message).toMatch(/only one class \('a'\)/)
    expect(e.message).not.toMatch(/\n/)
  })

  test('too few rows to split fails naming test-size and the fix', () => {
    const e = thrown(() => stratifiedSplit(['a', 'b', 'a', 'b'], 0.2, 1))
    expect(e.input).toBe('dataset')
    expect(e.message).toMatch(/test-size/)
    expect(e.message).toMatch(/add rows|change test-size/)
  })

  test('a class with a single row cannot be both trained on and tested: a clear error naming the class', () => {
    const labels = [...labelsOf({ a: 20, b: 20 }), 'lonely']
    const e = thrown(() => stratifiedSplit(labels, 0.2, 42))
    expect(e.input).toBe('dataset')
    expect(e.message).toMatch(/'lonely'/)
    expect(e.message).not.toMatch(/\n/)
  })
})

describe('seededRandom', () => {
  test('is deterministic and in [0, 1)', () => {
    const a = seededRandom(42)
    const b = seededRandom(42)
    for (let i = 0; i < 1000; i++) {
      const x = a()
      expect(b()).toBe(x)
      expect(x).toBeGreaterThanOrEqual(0)
      expect(x).toBeLessThan(1)
    }
  })

  test('different seeds give different streams', () => {
    expect(seededRandom(1)()).not.toBe(seededRandom(2)())
  })
})

describe('stratifiedSplit on many rows', () => {
  test('500 000 rows split without overflowing the call stack, in proportion', () => {
    const labels = Array.from({ length: 500000 }, (_, i) => (i % 5 === 0 ? 'rare' : 'common'))
    const s = stratifiedSplit(labels, 0.2, 42)
    expect(s.test).toHaveLength(100000)
    expect(s.train).toHaveLength(400000)
    expect(countBy(s.test, labels)).toEqual({ rare: 20000, common: 80000 })
  })
})
