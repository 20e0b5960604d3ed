import { isAscii, isUtf8 } from 'node:buffer'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parse } from 'csv-parse/sync'
import { inertLine, listSome, quoteValue } from '../log-text.js'
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

/** Bytes read per system call when a file is streamed. */
const CHUNK_BYTES = 1 << 20

/**
 * Loads the CSV named by `file` ('' for the built-in Iris data).
 *
 * Plain CSV (no quote character, UTF-8, one record per line) is streamed: one pass hashes the file, counts
 * its lines and checks the UTF-8, a second pass parses each line straight from the bytes into the feature
 * array (see PlainCsvParser). Anything else, and every file with an error, goes through parseWithCsvParse
 * (csv-parse on the whole text), so quoted input and every error message are what csv-parse's path gives.
 */
export function loadDataset(file: string, targetColumn: string): Dataset {
  if (file === '') {
    return parseDataset(
      Buffer.from(IRIS_CSV, 'utf8'),
      targetColumn,
      'iris (built-in)',
      'builtin:iris',
    )
  }
  const name = path.basename(file)
  const unreadable = (error: unknown): ConfigurationError =>
    error instanceof ConfigurationError
      ? error
      : datasetError(
          `Input 'dataset' is ${quoteValue(file, 300)}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}): check the path, relative to the workspace.`,
        )
  let fd: number
  try {
    // Not through a symlink, never blocking (a FIFO), and checked on what was opened: the inputs stage has
    // confined the path to the workspace, this keeps a file swapped in since from being read.
    fd = fs.openSync(
      file,
      fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0),
    )
    const stat = fs.fstatSync(fd)
    if (!stat.isFile()) {
      fs.closeSync(fd)
      throw datasetError(
        `Input 'dataset' is ${quoteValue(file, 300)}, ${stat.isDirectory() ? 'a directory' : 'not a regular file'}: give a CSV file.`,
      )
    }
  } catch (error) {
    throw unreadable(error)
  }
  try {
    const scan = scanFile(fd)
    if (scan.plain) {
      const parser = new PlainCsvParser(targetColumn, scan.lineBreaks + 1)
      if (streamFile(fd, parser)) {
        const parsed = parser.finish()
        if (parsed) return { name, source: file, digest: scan.digest, ...parsed }
      }
    }
  } catch (error) {
    // A read that failed half way; anything else is a bug and keeps its own message.
    throw (error as NodeJS.ErrnoException).code === undefined ? error : unreadable(error)
  } finally {
    fs.closeSync(fd)
  }
  let bytes: Buffer
  try {
    const again = fs.openSync(
      file,
      fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0),
    )
    try {
      if (!fs.fstatSync(again).isFile())
        throw datasetError(`Input 'dataset' changed while it was read.`)
      bytes = fs.readFileSync(again)
    } finally {
      fs.closeSync(again)
    }
  } catch (error) {
    throw unreadable(error)
  }
  return parseWithCsvParse(bytes, targetColumn, name, file)
}

/**
 * Parses CSV bytes with a header row. Every problem is one line naming the row (file line) and column.
 * Plain CSV takes the fast path; anything else (and any error) gets csv-parse's answer.
 */
export function parseDataset(
  bytes: Buffer,
  targetColumn: string,
  name: string,
  source: string,
): Dataset {
  const parsed = parsePlainCsv(bytes, targetColumn)
  if (parsed === undefined) return parseWithCsvParse(bytes, targetColumn, name, source)
  const digest = createHash('sha256').update(bytes).digest('hex')
  return { name, source, digest, ...parsed }
}

/** A table without its name, source and digest. */
export type ParsedTable = Omit<Dataset, 'name' | 'source' | 'digest'>

/**
 * The fast path alone on bytes in memory: the table csv-parse's path would give, or undefined when the input
 * is not plain CSV or has an error (the caller then asks parseWithCsvParse).
 */
export function parsePlainCsv(bytes: Buffer, targetColumn: string): ParsedTable | undefined {
  if (bytes.indexOf(QUOTE) !== -1 || !(isAscii(bytes) || isUtf8(bytes))) return undefined
  const parser = new PlainCsvParser(targetColumn, countContentLines(bytes) + 1)
  if (parser.consume(bytes, 0, bytes.length, true) !== bytes.length) return undefined
  return parser.finish()
}

const LF = 10
const CR = 13
const COMMA = 44
const QUOTE = 34

/** The two bytes before a chunk, carried from the one before it (a file starts as if after a line break). */
interface LineState {
  last: number
  beforeLast: number
}

/**
 * Counts the line breaks that end a line with content: a blank line (LF after LF, or after CR LF) is not
 * counted, so trailing or repeated blank lines cost no rows in the feature array sized from this count.
 */
function countContentLines(
  bytes: Uint8Array,
  state: LineState = { last: LF, beforeLast: LF },
): number {
  let count = 0
  for (let i = bytes.indexOf(LF); i !== -1; i = bytes.indexOf(LF, i + 1)) {
    const b1 = i >= 1 ? bytes[i - 1] : state.last
    const b2 = i >= 2 ? bytes[i - 2] : i === 1 ? state.last : state.beforeLast
    if (!(b1 === LF || (b1 === CR && b2 === LF))) count++
  }
  const n = bytes.length
  if (n >= 2) {
    state.last = bytes[n - 1]
    state.beforeLast = bytes[n - 2]
  } else if (n === 1) {
    state.beforeLast = state.last
    state.last = bytes[0]
  }
  return count
}

interface FileScan {
  digest: string
  /** Line breaks that end a line with content (blank lines are not counted). */
  lineBreaks: number
  /** Valid UTF-8 without a quote character: the fast path may try it. */
  plain: boolean
}

/** One pass over the file: sha256, line breaks, quote characters, UTF-8 validity. */
function scanFile(fd: number): FileScan {
  const hash = createHash('sha256')
  const decoder = new TextDecoder('utf-8', { fatal: true })
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES)
  let lineBreaks = 0
  const lineState: LineState = { last: LF, beforeLast: LF }
  let plain = true
  let decoding = false // the decoder has seen non-ASCII bytes and may hold part of a character
  let position = 0
  for (;;) {
    const n = fs.readSync(fd, buffer, 0, buffer.length, position)
    if (n === 0) break
    position += n
    const chunk = buffer.subarray(0, n)
    hash.update(chunk)
    lineBreaks += countContentLines(chunk, lineState)
    if (plain && chunk.indexOf(QUOTE) !== -1) plain = false
    if (plain && (decoding || !isAscii(chunk))) {
      decoding = true
      try {
        decoder.decode(chunk, { stream: true })
      } catch {
        plain = false
      }
    }
  }
  if (plain && decoding) {
    try {
      decoder.decode()
    } catch {
      plain = false
    }
  }
  return { digest: hash.digest('hex'), lineBreaks, plain }
}

/** Second pass: feeds the parser whole lines. False when the parser hands the file to csv-parse. */
function streamFile(fd: number, parser: PlainCsvParser): boolean {
  let buffer = Buffer.allocUnsafe(CHUNK_BYTES)
  let filled = 0
  let position = 0
  for (;;) {
    if (filled === buffer.length) {
      // A line longer than the buffer: make room for it.
      const bigger = Buffer.allocUnsafe(buffer.length * 2)
      buffer.copy(bigger, 0, 0, filled)
      buffer = bigger
    }
    const n = fs.readSync(fd, buffer, filled, buffer.length - filled, position)
    position += n
    filled += n
    const consumed = parser.consume(buffer, 0, filled, n === 0)
    if (consumed < 0) return false
    if (n === 0) return true
    buffer.copyWithin(0, consumed, filled)
    filled -= consumed
  }
}

/** csv-parse's left trim: these five characters at the start of an unquoted field. */
const LEFT_TRIM = /^[ \t\r\n\f]+/

/** A cell as csv-parse gives it with `trim: true` (unquoted): left trim as above, then String#trimEnd. */
function trimCell(cell: string): string {
  return cell.replace(LEFT_TRIM, '').trimEnd()
}

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`))

/**
 * The fast path for plain CSV: parses whole lines straight from the bytes. It takes what csv-parse with
 * this module's options would give the same record for; on anything it is not sure of (a lone CR, a cell
 * that is not a plain number, a ragged row, a bad header, ...) consume() returns -1 and the caller hands
 * the whole file to csv-parse, which either reads it or says exactly what is wrong with it.
 */
class PlainCsvParser {
  private line = 0
  private started = false
  /** Whether the first line break is CRLF (csv-parse then takes only CRLF as a record delimiter). */
  private crlf: boolean | undefined
  private header: string[] | undefined
  private targetIndex = -1
  private nf = 0
  private features = new Float64Array(0)
  private readonly labels: string[] = []
  private rows = 0
  /** Where the last number cell ended (at a comma or the line end). */
  private cursor = 0

  constructor(
    private readonly targetColumn: string,
    /** Upper bound on the file's lines: sizes the feature array once. */
    private readonly maxLines: number,
  ) {}

  /** Parses the complete lines in bytes[start, end) (every line when eof). The first byte not used, or -1. */
  consume(bytes: Buffer, start: number, end: number, eof: boolean): number {
    let pos = start
    if (!this.started) {
      if (end - pos < 6 && !eof) return pos
      if (isBom(bytes, pos, end)) pos += 3
      if (isBom(bytes, pos, end)) return -1 // the decoder and csv-parse each drop one BOM: leave it to them
      this.started = true
    }
    while (pos < end) {
      let next = bytes.indexOf(LF, pos)
      if (next === -1 || next >= end) {
        if (!eof) return pos
        next = end
      }
      this.line++
      if (next < end) {
        const cr = next > pos && bytes[next - 1] === CR
        if (this.crlf === undefined) this.crlf = cr
        else if (this.crlf && !cr) return -1
      }
      if (!this.parseLine(bytes, pos, next)) return -1
      pos = next < end ? next + 1 : end
    }
    return pos
  }

  /** The table, or undefined when it has no header or no data rows (csv-parse's path says which). */
  finish(): ParsedTable | undefined {
    if (this.header === undefined || this.rows === 0) return undefined
    const used = this.rows * this.nf
    const capacity = this.features.length
    const features =
      used === capacity
        ? this.features
        : capacity - used <= capacity / 8
          ? this.features.subarray(0, used)
          : this.features.slice(0, used)
    return {
      featureNames: this.header.filter((_, i) => i !== this.targetIndex),
      targetColumn: this.header[this.targetIndex],
      features,
      labels: this.labels,
      rows: this.rows,
    }
  }

  private parseLine(bytes: Buffer, start: number, end: number): boolean {
    if (end > start && bytes[end - 1] === CR) end--
    if (end === start) return true // blank line
    if (this.header === undefined) {
      // Before the first record delimiter a lone CR could be one (csv-parse detects it): leave that to it.
      const line = bytes.toString('utf8', start, end)
      return !line.includes('\r') && this.parseHeader(line)
    }
    const width = this.nf + 1
    const target = this.targetIndex
    const features = this.features
    let at = this.rows * this.nf
    if (at + this.nf > features.length) return false // more lines than counted: the file changed
    let label: string | undefined
    let pos = start
    for (let column = 0; column < width; column++) {
      if (column === target) {
        let cellEnd = bytes.indexOf(COMMA, pos)
        if (cellEnd === -1 || cellEnd > end) cellEnd = end
        label = labelCell(bytes, pos, cellEnd)
        if (label === undefined || label === '') return this.isBlank(bytes, start, end)
        pos = cellEnd
      } else {
        const value = this.numberCell(bytes, pos, end)
        if (value !== value) return this.isBlank(bytes, start, end)
        features[at++] = value
        pos = this.cursor
      }
      // pos is at the comma after the cell, or at the line end.
      if (column < width - 1) {
        if (pos >= end) return this.isBlank(bytes, start, end) // too few fields
        pos++
      } else if (pos < end) {
        return this.isBlank(bytes, start, end) // too many fields
      }
    }
    this.labels.push(label!)
    this.rows++
    return true
  }

  /** A line of empty cells counts as blank (skipped); any other odd line goes to csv-parse. */
  private isBlank(bytes: Buffer, start: number, end: number): boolean {
    return bytes
      .toString('utf8', start, end)
      .split(',')
      .every((cell) => trimCell(cell) === '')
  }

  private parseHeader(line: string): boolean {
    const header = line.split(',').map(trimCell)
    if (header.every((h) => h === '')) return true // blank line before the header
    if (header.length < 2 || header.some((h) => h === '') || new Set(header).size !== header.length)
      return false
    const target = this.targetColumn === '' ? header[header.length - 1] : this.targetColumn
    this.targetIndex = header.indexOf(target)
    if (this.targetIndex < 0) return false
    this.header = header
    this.nf = header.length - 1
    this.features = new Float64Array(Math.max(0, this.maxLines - this.line) * this.nf)
    return true
  }

  /**
   * The number in the cell starting at `pos`: csv-parse's trim, then exactly the grammar of parseFeature
   * (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/, finite). NaN when the cell is not such a number. Sets
   * this.cursor to the comma or line end after the cell. Up to 2^53 in the digits and a power of ten up to
   * 22 the value is one correctly rounded multiplication or division (Clinger's fast path); beyond that
   * Number() converts the text.
   */
  private numberCell(bytes: Buffer, pos: number, end: number): number {
    let c = 0
    while (pos < end && ((c = bytes[pos]) === 32 || c === 9 || c === 12)) pos++
    const first = pos
    let negative = false
    if (pos < end && ((c = bytes[pos]) === 43 || c === 45)) {
      negative = c === 45
      pos++
    }
    let mantissa = 0
    let intDigits = 0
    while (pos < end && (c = bytes[pos] - 48) >= 0 && c <= 9) {
      mantissa = mantissa * 10 + c
      intDigits++
      pos++
    }
    let fracDigits = 0
    if (pos < end && bytes[pos] === 46) {
      pos++
      while (pos < end && (c = bytes[pos] - 48) >= 0 && c <= 9) {
        mantissa = mantissa * 10 + c
        fracDigits++
        pos++
      }
    }
    if (intDigits === 0 && fracDigits === 0) return NaN
    let exponent = 0
    if (pos < end && ((c = bytes[pos]) === 101 || c === 69)) {
      pos++
      let expNegative = false
      if (pos < end && ((c = bytes[pos]) === 43 || c === 45)) {
        expNegative = c === 45
        pos++
      }
      let expDigits = 0
      while (pos < end && (c = bytes[pos] - 48) >= 0 && c <= 9) {
        if (exponent < 1e6) exponent = exponent * 10 + c
        expDigits++
        pos++
      }
      if (expDigits === 0) return NaN
      if (expNegative) exponent = -exponent
    }
    const last = pos
    while (pos < end && ((c = bytes[pos]) === 32 || c === 9 || c === 11 || c === 12)) pos++
    if (pos < end && bytes[pos] !== COMMA) return NaN
    this.cursor = pos
    const power = exponent - fracDigits
    if (mantissa <= 9007199254740991 && power >= -22 && power <= 22) {
      const value = power < 0 ? mantissa / POWERS_OF_TEN[-power] : mantissa * POWERS_OF_TEN[power]
      return negative ? -value : value
    }
    const value = Number(bytes.toString('latin1', first, last))
    return Number.isFinite(value) ? value : NaN
  }
}

function isBom(bytes: Buffer, pos: number, end: number): boolean {
  return end - pos >= 3 && bytes[pos] === 0xef && bytes[pos + 1] === 0xbb && bytes[pos + 2] === 0xbf
}

/** The target cell as csv-parse trims it; undefined when it holds a CR (left to csv-parse). */
function labelCell(bytes: Buffer, start: number, end: number): string | undefined {
  let ascii = true
  for (let i = start; i < end; i++) {
    const c = bytes[i]
    if (c === CR) return undefined
    if (c >= 0x80) ascii = false
  }
  if (!ascii) return trimCell(bytes.toString('utf8', start, end))
  let c = 0
  while (start < end && ((c = bytes[start]) === 32 || c === 9 || c === 12)) start++
  while (end > start && ((c = bytes[end - 1]) === 32 || (c >= 9 && c <= 12))) end--
  return bytes.toString('latin1', start, end)
}

function describeCell(line: number, column: string): string {
  return `line ${line}, column ${quoteValue(column, 80)}`
}

/**
 * The csv-parse path: decodes the whole text and parses it with csv-parse. Handles every CSV the fast path
 * leaves (quoted fields, a lone CR as line break, ...) and words every error: one line naming the row (file
 * line) and column.
 */
type CsvRecord = { record: string[]; info: { lines: number } }

/** The records of the CSV text, rows of empty cells (",,,") left out like blank lines. */
function parseRecords(bytes: Buffer, where: string): CsvRecord[] {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw datasetError(`${where} is not UTF-8 text: save the CSV as UTF-8.`)
  }
  if (text.trim() === '')
    throw datasetError(`${where} is empty: it needs a header row and data rows.`)
  let records: CsvRecord[]
  try {
    records = parse(text, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
      trim: true,
    }) as unknown as CsvRecord[]
  } catch (error) {
    const msg = inertLine((error as Error).message.replace(/\s+/g, ' '), 300)
    throw datasetError(`${where} is not valid CSV: ${msg}`)
  }
  records = records.filter((r) => r.record.some((c) => c !== ''))
  if (records.length === 0)
    throw datasetError(`${where} is empty: it needs a header row and data rows.`)
  return records
}

/** Every column named once, at least two of them. */
function checkHeader(header: string[], where: string): void {
  const seen = new Map<string, number>()
  header.forEach((h, i) => {
    if (h === '')
      throw datasetError(`${where}: column ${i + 1} of the header has no name; name every column.`)
    if (seen.has(h)) {
      throw datasetError(
        `${where}: the header names ${quoteValue(h, 80)} twice (columns ${seen.get(h)! + 1} and ${i + 1}); give each column a unique name.`,
      )
    }
    seen.set(h, i)
  })
  if (header.length < 2) {
    throw datasetError(
      `${where}: the header has ${header.length} column; it needs at least one feature and a target.`,
    )
  }
}

/** The data rows as a row-major feature matrix and the labels; any bad cell is one line naming it. */
function readRows(
  body: CsvRecord[],
  header: string[],
  targetIndex: number,
  where: string,
): { features: Float64Array; labels: string[] } {
  const nf = header.length - 1
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
        const shown = cell === '' ? 'empty' : quoteValue(cell, 40)
        throw datasetError(
          `${where}: ${describeCell(line, header[c])} is ${shown}; features must be finite numbers.`,
        )
      }
      features[r * nf + f++] = value
    }
  }
  return { features, labels }
}

export function parseWithCsvParse(
  bytes: Buffer,
  targetColumn: string,
  name: string,
  source: string,
): Dataset {
  const where = `Input 'dataset' (${name})`
  const records = parseRecords(bytes, where)
  const header = records[0].record
  checkHeader(header, where)
  const target = targetColumn === '' ? header[header.length - 1] : targetColumn
  const targetIndex = header.indexOf(target)
  if (targetIndex < 0) {
    throw new ConfigurationError(
      'target-column',
      `Input 'target-column' is ${quoteValue(target, 80)}, which is not a column of ${quoteValue(name, 80)}; use one of: ${listSome(header, 10, 40)}.`,
    )
  }
  const body = records.slice(1)
  if (body.length === 0) throw datasetError(`${where} has a header but no data rows.`)
  const { features, labels } = readRows(body, header, targetIndex, where)
  return {
    name,
    source,
    digest: createHash('sha256').update(bytes).digest('hex'),
    featureNames: header.filter((_, i) => i !== targetIndex),
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
