import { describe, expect, test, beforeAll, afterAll } from '@jest/globals'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ConfigurationError } from '../src/errors.js'
import { loadDataset, parseDataset } from '../src/train/csv-dataset.js'

function parse(text: string | Buffer, target = ''): ReturnType<typeof parseDataset> {
  return parseDataset(typeof text === 'string' ? Buffer.from(text) : text, target, 't.csv', 't.csv')
}

function errorOf(fn: () => unknown): ConfigurationError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError)
    const e = error as ConfigurationError
    expect(e.message).not.toMatch(/[\r\n]/)
    return e
  }
  throw new Error('expected a ConfigurationError')
}

let dir: string
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csv-dataset-'))
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('loadDataset', () => {
  test('built-in Iris: the classic 150 rows, 4 features, 3 classes of 50, target species', () => {
    const d = loadDataset('', '')
    expect(d.rows).toBe(150)
    expect(d.featureNames).toHaveLength(4)
    expect(d.targetColumn).toBe('species')
    expect(d.source).toBe('builtin:iris')
    const counts: Record<string, number> = {}
    for (const l of d.labels) counts[l] = (counts[l] ?? 0) + 1
    expect(Object.values(counts)).toEqual([50, 50, 50])
    expect(d.features).toHaveLength(600)
  })

  test('built-in Iris equals model/iris.csv, the copy shipped with the example model', () => {
    const builtin = loadDataset('', '')
    const file = loadDataset(path.join(process.cwd(), 'model/iris.csv'), '')
    expect(Array.from(file.features)).toEqual(Array.from(builtin.features))
    expect(file.labels).toEqual(builtin.labels)
    expect(file.featureNames).toEqual(builtin.featureNames)
  })

  test('reads a file; the digest is the sha256 of its bytes; the name is the file name', () => {
    const file = path.join(dir, 'small.csv')
    fs.writeFileSync(file, 'x,y\n1,a\n2,b\n')
    const d = loadDataset(file, '')
    expect(d.name).toBe('small.csv')
    expect(d.source).toBe(file)
    expect(d.digest).toMatch(/^[0-9a-f]{64}$/)
    expect(d.digest).toBe(createHash('sha256').update(fs.readFileSync(file)).digest('hex'))
  })

  test('a missing file fails naming the dataset input and the path', () => {
    const e = errorOf(() => loadDataset(path.join(dir, 'nope.csv'), ''))
    expect(e.input).toBe('dataset')
    expect(e.message).toMatch(/nope\.csv/)
    expect(e.message).toMatch(/ENOENT/)
  })

  test('a directory fails naming the dataset input', () => {
    const e = errorOf(() => loadDataset(dir, ''))
    expect(e.input).toBe('dataset')
    expect(e.message).toMatch(/directory/)
  })
})

describe('parseDataset: valid but awkward CSV', () => {
  test('target by name, anywhere; features keep their order', () => {
    const d = parse('label,a,b\nx,1,2\ny,3,4\n', 'label')
    expect(d.featureNames).toEqual(['a', 'b'])
    expect(Array.from(d.features)).toEqual([1, 2, 3, 4])
    expect(d.labels).toEqual(['x', 'y'])
    expect(d.targetColumn).toBe('label')
  })

  test('default target is the last column', () => {
    const d = parse('a,b,c\n1,2,p\n3,4,q\n')
    expect(d.targetColumn).toBe('c')
    expect(d.featureNames).toEqual(['a', 'b'])
  })

  test('UTF-8 BOM, CRLF line ends and blank lines (also at the end)', () => {
    const d = parse(Buffer.from('\ufeffa,b,t\r\n1,2,x\r\n\r\n3,4,y\r\n\r\n\r\n'))
    expect(d.featureNames).toEqual(['a', 'b'])
    expect(d.rows).toBe(2)
    expect(d.labels).toEqual(['x', 'y'])
  })

  test('quoted fields: commas in labels, quoted numbers, escaped quotes', () => {
    const d = parse('"a","b","t"\n"1.5","2","x, y"\n3,"4e2","say ""hi"""\n')
    expect(Array.from(d.features)).toEqual([1.5, 2, 3, 400])
    expect(d.labels).toEqual(['x, y', 'say "hi"'])
  })

  test('whitespace around cells and names is trimmed; a header with spaces inside is kept', () => {
    const d = parse(
      ' petal length , kind of flower \n 1.0 , setosa \n2,  virginica\n',
      'kind of flower',
    )
    expect(d.featureNames).toEqual(['petal length'])
    expect(d.labels).toEqual(['setosa', 'virginica'])
  })

  test('numeric labels stay labels (strings)', () => {
    const d = parse('a,t\n1,0\n2,1\n3,2\n')
    expect(d.labels).toEqual(['0', '1', '2'])
  })

  test('number forms: signs, exponents, leading dot, trailing dot', () => {
    const d = parse('a,t\n-1,x\n+2,x\n.5,x\n3.,x\n1e-3,x\n-2.5E+2,x\n')
    expect(Array.from(d.features)).toEqual([-1, 2, 0.5, 3, 0.001, -250])
  })
})

describe('parseDataset: broken CSV fails with one line naming the row (file line) and column', () => {
  test.each([
    ['an empty feature cell', 'a,b,t\n1,2,x\n3,,y\n', /line 3, column 'b' is empty/],
    ['NaN', 'a,b,t\n1,NaN,x\n3,4,y\n', /line 2, column 'b' is 'NaN'/],
    ['Infinity', 'a,b,t\n1,2,x\nInfinity,4,y\n', /line 3, column 'a' is 'Infinity'/],
    ['-Infinity', 'a,b,t\n1,2,x\n-Infinity,4,y\n', /line 3, column 'a' is '-Infinity'/],
    ['1e999 (overflows to infinity)', 'a,b,t\n1,2,x\n1e999,4,y\n', /line 3, column 'a' is '1e999'/],
    ['text in a feature', 'a,b,t\n1,two,x\n3,4,y\n', /line 2, column 'b' is 'two'/],
    ['hex', 'a,b,t\n1,0x10,x\n3,4,y\n', /line 2, column 'b' is '0x10'/],
    ['a decimal comma', 'a;b;t\n1,5;2;x\n', /fields|column/],
    ['an empty target cell', 'a,b,t\n1,2,x\n3,4,\n', /line 3, column 't' \(the target\) is empty/],
    [
      'a ragged row (too few fields)',
      'a,b,t\n1,2,x\n3,y\n',
      /line 3 has 2 fields but the header has 3/,
    ],
    [
      'a ragged row (too many fields)',
      'a,b,t\n1,2,x\n3,4,5,y\n',
      /line 3 has 4 fields but the header has 3/,
    ],
  ])('%s', (_kind, text, pattern) => {
    const e = errorOf(() => parse(text))
    expect(e.input).toBe('dataset')
    expect(e.message).toMatch(pattern)
    expect(e.message).toMatch(/^Input 'dataset'/)
  })

  test('file lines are counted with CRLF, a BOM and blank lines before the bad row', () => {
    const e = errorOf(() => parse(Buffer.from('\ufeffa,t\r\n\r\n1,x\r\n\r\noops,y\r\n')))
    expect(e.message).toMatch(/line 5, column 'a' is 'oops'/)
  })

  test('a quoted feature cell with a line break still gives a one-line message', () => {
    const e = errorOf(() => parse('a,t\n1,x\n"bad\nvalue",y\n'))
    expect(e.message).toMatch(/column 'a'/)
  })

  test('a long bad cell is shortened in the message', () => {
    const e = errorOf(() => parse(`a,t\n1,x\n${'z'.repeat(500)},y\n`))
    expect(e.message.length).toBeLessThan(250)
  })

  test.each([
    ['an empty file', '', /is empty/],
    ['only whitespace and blank lines', ' \n\n \r\n', /is empty/],
    ['a header only', 'a,b,t\n', /header but no data rows/],
    ['a header only, with blank lines after it', 'a,b,t\n\n\n', /header but no data rows/],
    ['a single column', 't\nx\ny\n', /at least one feature and a target/],
    ['duplicate header names', 'a,a,t\n1,2,x\n', /names 'a' twice \(columns 1 and 2\)/],
    ['duplicate header names after trimming', 'a, a ,t\n1,2,x\n', /names 'a' twice/],
    ['an empty header name', 'a,,t\n1,2,x\n', /column 2 of the header has no name/],
    ['an unclosed quote', 'a,t\n1,"x\n2,y\n', /not valid CSV/],
  ])('%s', (_kind, text, pattern) => {
    const e = errorOf(() => parse(text))
    expect(e.input).toBe('dataset')
    expect(e.message).toMatch(pattern)
  })

  test('bytes that are not UTF-8 (Latin-1 é)', () => {
    const e = errorOf(() => parse(Buffer.from([0x61, 0x2c, 0x74, 0x0a, 0x31, 0x2c, 0xe9, 0x0a])))
    expect(e.message).toMatch(/not UTF-8/)
  })

  test('an unknown target column names the target-column input and lists the columns', () => {
    const e = errorOf(() => parse('a,b,t\n1,2,x\n', 'label'))
    expect(e.input).toBe('target-column')
    expect(e.message).toMatch(/'label'/)
    expect(e.message).toMatch(/use one of: a, b, t/)
  })
})
