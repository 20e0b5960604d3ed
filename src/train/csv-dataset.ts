import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parse } from 'csv-parse/sync'
import { ConfigurationError, oneLine } from '../errors.js'
import { IRIS_CSV } from './iris-data.js'

/** A labelled table: numeric features in row-major order and one string label per row. */
export interface Dataset {
  /** Display name: the file name, or 'iris (built-in)'. */
  name: string
  /** Where it came from: the file path, or 'builtin:iris'. */
  source: string
  /** sha256 of the file's bytes, hex. */
  digest: string
  featureNames: string[]
  targetColumn: string
  /** rows x features, row-major. */
  features: Float64Array
  labels: string[]
  rows: number
}

const INPUT = 'dataset'

/** Cells and header names may hold line breaks (quoted fields): the message must stay one line. */
function datasetError(message: string): ConfigurationError {
  return new ConfigurationError(INPUT, oneLine(message))
}

/** Loads the CSV named by `file` ('' for the built-in Iris data). */
export function loadDataset(file: string, targetColumn: string): Dataset {
  if (file === '') {
    return parseDataset(
      Buffer.from(IRIS_CSV, 'utf8'),
      targetColumn,
      'iris (built-in)',
      'builtin:iris',
    )
  }
  let bytes: Buffer
  try {
    const stat = fs.statSync(file)
    if (stat.isDirectory())
      throw datasetError(`Input 'dataset' is '${file}', a directory: give a CSV file.`)
    bytes = fs.readFileSync(file)
  } catch (error) {
    if (error instanceof ConfigurationError) throw error
    throw datasetError(
      `Input 'dataset' is '${file}', which cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}): check the path, relative to the workspace.`,
    )
  }
  return parseDataset(bytes, targetColumn, path.basename(file), file)
}

function describeCell(line: number, column: string): string {
  return `line ${line}, column '${column}'`
}

/** Parses CSV bytes with a header row. Every problem is one line naming the row (file line) and column. */
export function parseDataset(
  bytes: Buffer,
  targetColumn: string,
  name: string,
  source: string,
): Dataset {
  const where = `Input 'dataset' (${name})`
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw datasetError(`${where} is not UTF-8 text: save the CSV as UTF-8.`)
  }
  if (text.trim() === '')
    throw datasetError(`${where} is empty: it needs a header row and data rows.`)

  let records: { record: string[]; info: { lines: number } }[]
  try {
    records = parse(text, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
      trim: true,
    }) as unknown as { record: string[]; info: { lines: number } }[]
  } catch (error) {
    const msg = (error as Error).message.replace(/\s+/g, ' ')
    throw datasetError(`${where} is not valid CSV: ${msg}`)
  }
  // Rows made only of empty cells (",,,") count as blank lines.
  records = records.filter((r) => r.record.some((c) => c !== ''))
  if (records.length === 0)
    throw datasetError(`${where} is empty: it needs a header row and data rows.`)

  const header = records[0].record
  const seen = new Map<string, number>()
  header.forEach((h, i) => {
    if (h === '')
      throw datasetError(`${where}: column ${i + 1} of the header has no name; name every column.`)
    if (seen.has(h)) {
      throw datasetError(
        `${where}: the header names '${h}' twice (columns ${seen.get(h)! + 1} and ${i + 1}); give each column a unique name.`,
      )
    }
    seen.set(h, i)
  })
  if (header.length < 2) {
    throw datasetError(
      `${where}: the header has ${header.length} column; it needs at least one feature and a target.`,
    )
  }

  const target = targetColumn === '' ? header[header.length - 1] : targetColumn
  const targetIndex = header.indexOf(target)
  if (targetIndex < 0) {
    throw new ConfigurationError(
      'target-column',
      `Input 'target-column' is '${target}', which is not a column of ${name}; use one of: ${header.join(', ')}.`,
    )
  }
  const body = records.slice(1)
  if (body.length === 0) throw datasetError(`${where} has a header but no data rows.`)

  const featureNames = header.filter((_, i) => i !== targetIndex)
  const nf = featureNames.length
  const features = new Float64Array(body.length * nf)
  const labels = new Array<string>(body.length)
  for (let r = 0; r < body.length; r++) {
    const { record, info } = body[r]
    const line = info.lines
    if (record.length !== header.length) {
      throw datasetError(
        `${where}: line ${line} has ${record.length} fields but the header has ${header.length}; fix that row.`,
      )
    }
    let f = 0
    for (let c = 0; c < record.length; c++) {
      const cell = record[c]
      if (c === targetIndex) {
        if (cell === '')
          throw datasetError(`${where}: ${describeCell(line, header[c])} (the target) is empty.`)
        labels[r] = cell
        continue
      }
      const value = parseFeature(cell)
      if (value === undefined) {
        const shown =
          cell === '' ? 'empty' : `'${cell.length > 40 ? cell.slice(0, 40) + '…' : cell}'`
        throw datasetError(
          `${where}: ${describeCell(line, header[c])} is ${shown}; features must be finite numbers.`,
        )
      }
      features[r * nf + f++] = value
    }
  }
  const digest = createHash('sha256').update(bytes).digest('hex')
  return {
    name,
    source,
    digest,
    featureNames,
    targetColumn: target,
    features,
    labels,
    rows: body.length,
  }
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

function parseFeature(cell: string): number | undefined {
  if (!NUMBER.test(cell)) return undefined
  const value = Number(cell)
  return Number.isFinite(value) ? value : undefined
}
