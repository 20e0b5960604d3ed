// The CSV fast path against csv-parse's path: on thousands of generated awkward inputs both give the same
// table or the same error, plain files are streamed without csv-parse, and chunk boundaries change nothing.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Dataset, ParsedTable } from '../src/train/csv-dataset.js'
import { seededRandom } from '../src/train/split.js'

// Count csv-parse's calls: plain CSV must not reach it.
const realCsvParse = await import('csv-parse/sync')
const parseSpy = jest.fn(realCsvParse.parse)
jest.unstable_mockModule('csv-parse/sync', () => ({ ...realCsvParse, parse: parseSpy }))
const { loadDataset, parseDataset, parsePlainCsv, parseWithCsvParse } =
  await import('../src/train/csv-dataset.js')
const { ConfigurationError } = await import('../src/errors.js')

type Outcome =
  | { ok: true; table: ParsedTable & Partial<Dataset> }
  | { ok: false; input: string; message: string }

function outcome(fn: () => ParsedTable & Partial<Dataset>): Outcome {
  try {
    return { ok: true, table: fn() }
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error
    return { ok: false, input: error.input, message: error.message }
  }
}

/** Equal tables, features compared bit for bit (-0 is not 0). */
function expectSameTable(a: ParsedTable, b: ParsedTable): void {
  expect(a.featureNames).toEqual(b.featureNames)
  expect(a.targetColumn).toBe(b.targetColumn)
  expect(a.rows).toBe(b.rows)
  expect(a.labels).toEqual(b.labels)
  expect(a.features.length).toBe(b.features.length)
  const differ = Array.from(a.features).findIndex((v, i) => !Object.is(v, b.features[i]))
  expect(differ).toBe(-1)
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]
}

const NUMBERS = [
  '1',
  '-2.5',
  '+.5',
  '3.',
  '1e3',
  '-0',
  '0.000',
  '007',
  '5E-3',
  '-1.25e+2',
  '0.1',
  '123456.789',
  '9007199254740993',
  '12345678901234567890',
  '0.30000000000000004',
  '1e22',
  '1e23',
  '4.9e-324',
  '2.2250738585072014e-308',
  '1e-400',
  '1e400',
  ' 7 ',
  '\t8\t',
  '\f9',
  '1\f',
  '\v1',
  '1\v',
  ' -3 ',
  'NaN',
  'Infinity',
  '0x1F',
  '',
  '  ',
  '1 2',
  '١٢',
  '1.5\u00a0',
  '\u00a01',
  '.',
  '-',
  'e5',
  '1e',
  '1e+',
  '+-1',
  '1..2',
  '1e5.5',
  '\u2009',
] as const
const LABELS = [
  'x',
  'y',
  ' y ',
  'é',
  'z\u00a0',
  '\u00a0w',
  '',
  'a b',
  'setosa',
  '中文',
  '\t t',
  '0',
  '1',
] as const
const NAMES = ['a', 'b', ' c ', 'é col', 'x\u00a0', '', 'label', 'a', 'd\t', 'f1'] as const
const BLANKS = ['', '  ', ',,', ' , , ', '\t', '\u00a0', ','] as const

/** A random CSV built from awkward pieces; mostly plain, sometimes quoted, broken or not UTF-8. */
function randomCsv(random: () => number): { bytes: Buffer; target: string } {
  const columns = 2 + Math.floor(random() * 4)
  const header = Array.from({ length: columns }, (_, i) =>
    random() < 0.85 ? `c${i}` : pick(random, NAMES),
  )
  const targetAt = Math.floor(random() * columns)
  const target = random() < 0.6 ? '' : random() < 0.9 ? header[targetAt].trim() : 'missing'
  const targetIndex = target === '' ? columns - 1 : targetAt
  const crlf = random() < 0.3
  const lineEnd = (): string => {
    const r = random()
    if (r < 0.03) return '\r'
    if (r < 0.06) return crlf ? '\n' : '\r\n'
    return crlf ? '\r\n' : '\n'
  }
  const lines: string[] = [header.join(',')]
  const rows = Math.floor(random() * 8)
  for (let r = 0; r < rows; r++) {
    if (random() < 0.15) lines.push(pick(random, BLANKS))
    const width = random() < 0.05 ? columns + (random() < 0.5 ? 1 : -1) : columns
    const cells = Array.from({ length: width }, (_, c) => {
      if (c === targetIndex)
        return random() < 0.9 ? pick(random, ['x', 'y', 'z']) : pick(random, LABELS)
      if (random() < 0.8)
        return String(Math.round((random() - 0.5) * 1e6) / 10 ** Math.floor(random() * 8))
      return pick(random, NUMBERS)
    })
    lines.push(cells.join(','))
  }
  let text = lines.map((l) => l + lineEnd()).join('')
  if (random() < 0.3) text = text.replace(/(\r\n|\n|\r)$/, '')
  if (random() < 0.15) text = '\ufeff' + text
  if (random() < 0.02) text = '\ufeff' + text
  if (random() < 0.05) text = text.replace(/,/, ',"') + '"'
  if (random() < 0.05) text = text.replace('x', '"x"')
  let bytes = Buffer.from(text, 'utf8')
  if (random() < 0.03) bytes = Buffer.concat([bytes, Buffer.from([0xc3])]) // cut character
  if (random() < 0.02) bytes = Buffer.concat([Buffer.from([0xe9]), bytes]) // Latin-1 é
  return { bytes, target }
}

describe('fast path = csv-parse path, on generated CSV', () => {
  test('4000 inputs: the same table or the same error; the fast path takes most of the valid ones', () => {
    const random = seededRandom(2024)
    let valid = 0
    let fast = 0
    for (let i = 0; i < 4000; i++) {
      const { bytes, target } = randomCsv(random)
      const reference = outcome(() => parseWithCsvParse(bytes, target, 't.csv', 't.csv'))
      const plain = parsePlainCsv(bytes, target)
      const context = JSON.stringify(bytes.toString('utf8'))
      if (plain !== undefined) {
        fast++
        if (!reference.ok)
          throw new Error(`fast path read ${context}, csv-parse: ${reference.message}`)
        expectSameTable(plain, reference.table)
      }
      const actual = outcome(() => parseDataset(bytes, target, 't.csv', 't.csv'))
      if (reference.ok) {
        valid++
        if (!actual.ok) throw new Error(`${context}: ${actual.message}`)
        expectSameTable(actual.table, reference.table)
        expect(actual.table.digest).toBe(reference.table.digest)
      } else {
        expect({ context, ...actual }).toEqual({ context, ...reference })
      }
    }
    expect(valid).toBeGreaterThan(1000)
    expect(fast).toBeGreaterThan(0.8 * valid)
  })

  test('numbers: the same doubles as Number() for every form the grammar allows', () => {
    const random = seededRandom(99)
    const cells: string[] = []
    for (let i = 0; i < 20000; i++) {
      const digits = Array.from({ length: 1 + Math.floor(random() * 20) }, () =>
        Math.floor(random() * 10),
      ).join('')
      const dot = Math.floor(random() * (digits.length + 1))
      const mantissa = digits.slice(0, dot) + '.' + digits.slice(dot)
      const exponent = random() < 0.5 ? '' : `e${Math.floor((random() - 0.5) * 700)}`
      const sign = pick(random, ['', '-', '+'])
      cells.push(sign + (mantissa === '.' ? '0' : mantissa) + exponent)
    }
    const text = 'v,t\n' + cells.map((c) => `${c},x`).join('\n')
    const plain = parsePlainCsv(Buffer.from(text), '')
    const finite = cells.filter((c) => Number.isFinite(Number(c)))
    if (finite.length === cells.length) {
      expect(plain).toBeDefined()
      Array.from(plain!.features).forEach((v, i) =>
        expect(Object.is(v, Number(cells[i]))).toBe(true),
      )
    } else {
      expect(plain).toBeUndefined() // an overflow to Infinity is an error: csv-parse's path words it
      const ok = 'v,t\n' + finite.map((c) => `${c},x`).join('\n')
      const table = parsePlainCsv(Buffer.from(ok), '')!
      Array.from(table.features).forEach((v, i) =>
        expect(Object.is(v, Number(finite[i]))).toBe(true),
      )
    }
  })
})

describe('loadDataset streams files in 1 MiB chunks', () => {
  let dir: string
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csv-fast-path-'))
  })
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

  /** Writes the file, loads it both ways and checks they agree; returns how many csv-parse calls loading took. */
  function compare(name: string, bytes: Buffer, target = ''): number {
    const file = path.join(dir, name)
    fs.writeFileSync(file, bytes)
    parseSpy.mockClear()
    const actual = outcome(() => loadDataset(file, target))
    const calls = parseSpy.mock.calls.length
    const reference = outcome(() => parseWithCsvParse(bytes, target, name, file))
    if (reference.ok) {
      expect(actual.ok).toBe(true)
      if (!actual.ok) return calls
      expectSameTable(actual.table, reference.table)
      expect(actual.table.digest).toBe(createHash('sha256').update(bytes).digest('hex'))
      expect(actual.table.digest).toBe(reference.table.digest)
      expect(actual.table.source).toBe(file)
    } else {
      expect(actual).toEqual(reference)
    }
    return calls
  }

  function bigCsv(rows: number, seed: number, lineEnd = '\n'): string {
    const random = seededRandom(seed)
    const labels = ['setosa', 'versicolor', 'virginica', 'été', '中文类']
    const lines = ['f1,f2,f3,species']
    for (let i = 0; i < rows; i++) {
      const cells = [1, 2, 3].map(() =>
        ((random() - 0.5) * 10 ** Math.floor(random() * 6)).toPrecision(
          1 + Math.floor(random() * 17),
        ),
      )
      lines.push(`${cells.join(',')},${labels[i % labels.length]}`)
    }
    return lines.join(lineEnd) + lineEnd
  }

  test('3 MB with multi-byte labels across chunk boundaries: same table, no csv-parse call', () => {
    const text = bigCsv(60000, 1)
    expect(Buffer.byteLength(text)).toBeGreaterThan(2.5 * 2 ** 20)
    expect(compare('big.csv', Buffer.from(text))).toBe(0)
  })

  test('a two-byte character split exactly at the 1 MiB boundary', () => {
    let text = bigCsv(30000, 2)
    const head = Buffer.from(text)
      .subarray(0, 2 ** 20 - 1)
      .toString('latin1')
    const cut = head.lastIndexOf('\n') + 1
    // Put a line whose label starts with 'é' so that the é straddles byte 2^20.
    const bytes = Buffer.from(text)
    const before = bytes.subarray(0, cut)
    const filler = 2 ** 20 - 1 - cut - '1,2,3,'.length
    const line = Buffer.from(`1,2,3,${'a'.repeat(filler)}é\n`)
    text = Buffer.concat([before, line, bytes.subarray(cut)]).toString('utf8')
    const all = Buffer.from(text)
    expect(all[2 ** 20 - 1]).toBe(0xc3)
    expect(compare('straddle.csv', all)).toBe(0)
  })

  test('CRLF, a BOM and blank lines: same table, no csv-parse call', () => {
    const text = '\ufeff' + bigCsv(40000, 3, '\r\n').replace(/\r\n(?=1)/g, '\r\n\r\n  \r\n')
    expect(compare('crlf.csv', Buffer.from(text))).toBe(0)
  })

  test('a line longer than the chunk (the buffer grows): same table', () => {
    const columns = 130000
    const header = Array.from({ length: columns }, (_, i) => `f${i}`).join(',') + ',t\n'
    const row = (k: number): string =>
      Array.from({ length: columns }, (_, i) => (i * k) % 97).join(',') + `,c${k % 2}\n`
    const bytes = Buffer.from(header + row(1) + row(2) + row(3))
    expect(bytes.length).toBeGreaterThan(2 ** 20)
    expect(compare('wide.csv', bytes)).toBe(0)
  })

  test('a quote far into the file: csv-parse reads it all, same table', () => {
    const bytes = Buffer.from(bigCsv(40000, 4) + '"1",2,3,"x, y"\n')
    expect(compare('quoted.csv', bytes)).toBe(1)
  })

  test('errors deep in a big file are csv-parse path errors, word for word', () => {
    const text = bigCsv(40000, 5)
    const lines = text.split('\n')
    lines[39000] = lines[39000].replace(/^[^,]*/, 'oops')
    compare('bad-cell.csv', Buffer.from(lines.join('\n')))
    const ragged = text.split('\n')
    ragged[25000] += ',extra'
    compare('ragged.csv', Buffer.from(ragged.join('\n')))
    // A character cut at the very end: not UTF-8, even though every chunk before was fine.
    compare('cut.csv', Buffer.concat([Buffer.from(text), Buffer.from([0xe4, 0xb8])]))
  })

  test('the wrong target column names target-column, as before', () => {
    compare('target.csv', Buffer.from(bigCsv(100, 6)), 'nope')
  })
})
