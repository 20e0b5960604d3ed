/**
 * Trivy ignore files, read by the action itself so that every exception can be audited: Trivy's YAML format
 * (`.trivyignore.yaml`: vulnerabilities / misconfigurations / secrets / licenses, each entry with id, paths,
 * purls, statement, expired_at) and the plain format (`.trivyignore`: one id a line, optional `exp:YYYY-MM-DD`).
 * Pure: text in, entries out; a malformed file is a ConfigurationError naming the file and the line.
 *
 * The entries of every file are then written into one YAML file for Trivy (`--ignorefile` takes one), each
 * statement carrying a marker that says where the entry came from, so that Trivy's suppressed findings
 * (`--show-suppressed`) can be traced back to the file and line that suppressed them.
 */
import {
  LineCounter,
  parseDocument,
  stringify,
  isMap,
  isSeq,
  isScalar,
  type Node,
  type YAMLMap,
} from 'yaml'
import { ConfigurationError } from '../errors.js'

/** The lists of Trivy's YAML ignore file. `all`: a plain-format line, which Trivy applies to every kind. */
export const IGNORE_KINDS = ['vulnerabilities', 'misconfigurations', 'secrets', 'licenses'] as const
export type IgnoreKind = (typeof IGNORE_KINDS)[number]

export interface IgnoreEntry {
  kind: IgnoreKind | 'all'
  id: string
  paths: string[]
  purls: string[]
  /** Why the finding is accepted; '' when the entry gives none. */
  statement: string
  /** The expiry as written in the file ('' when none). */
  expiredAt: string
  /** When the entry stops suppressing (ms since the epoch; undefined: never). Trivy's rule: at that instant. */
  expiresAtMs?: number
  /** The file as the user named it (workspace-relative) and the entry's line (1-based). */
  file: string
  line: number
}

/** `file:line`, how an entry is named in messages, reports and tags. */
export function entrySource(entry: Pick<IgnoreEntry, 'file' | 'line'>): string {
  return `${entry.file}:${entry.line}`
}

function malformed(input: string, file: string, line: number, what: string): never {
  throw new ConfigurationError(input, `Ignore file ${file} line ${line}: ${what}.`)
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$/

/**
 * Parses an expiry the way Trivy does: a date (midnight UTC) or a date and time with a zone. Returns the
 * instant in ms, or undefined when the text is not one of those.
 */
export function parseExpiry(text: string): number | undefined {
  const t = text.trim()
  const d = DATE_ONLY.exec(t)
  if (d) {
    const ms = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]))
    const back = new Date(ms)
    // 2026-02-30 is not a date.
    if (back.getUTCMonth() !== Number(d[2]) - 1 || back.getUTCDate() !== Number(d[3]))
      return undefined
    return ms
  }
  if (DATE_TIME.test(t)) {
    const ms = Date.parse(t.replace(' ', 'T'))
    return Number.isNaN(ms) ? undefined : ms
  }
  return undefined
}

/** One line of the plain format: `ID [exp:YYYY-MM-DD]`; comment lines just above an id become its statement. */
export function parsePlainIgnoreFile(
  text: string,
  file: string,
  input = 'trivyignores',
): IgnoreEntry[] {
  const entries: IgnoreEntry[] = []
  let comments: string[] = []
  const lines = text.split(/\r?\n/)
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim()
    if (line === '') {
      comments = []
      continue
    }
    if (line.startsWith('#')) {
      comments.push(line.replace(/^#+\s*/, ''))
      continue
    }
    const fields = line.split(/\s+/)
    let expiredAt = ''
    let expiresAtMs: number | undefined
    for (const field of fields.slice(1)) {
      if (!field.startsWith('exp:')) continue
      expiredAt = field.slice(4)
      // Trivy reads exp: as a date only (2006-01-02); anything else it skips with a warning: here it fails.
      expiresAtMs = DATE_ONLY.test(expiredAt) ? parseExpiry(expiredAt) : undefined
      if (expiresAtMs === undefined)
        malformed(input, file, n + 1, `'${field}' is not an expiry; write exp:YYYY-MM-DD`)
    }
    entries.push({
      kind: 'all',
      id: fields[0],
      paths: [],
      purls: [],
      statement: comments.join(' ').trim(),
      expiredAt,
      expiresAtMs,
      file,
      line: n + 1,
    })
    comments = []
  }
  return entries
}

const ENTRY_KEYS = ['id', 'paths', 'purls', 'statement', 'expired_at'] as const

/** Where a YAML entry is read from, for the one-line errors. */
interface YamlSource {
  input: string
  file: string
  lineOf: (node: Node | null | undefined) => number
}

/** An entry's fields by name; an unknown field is an error. */
function entryFields(item: YAMLMap, src: YamlSource): Record<string, Node | null> {
  const fields: Record<string, Node | null> = {}
  for (const p of item.items) {
    const k = isScalar(p.key) ? String(p.key.value) : ''
    if (!(ENTRY_KEYS as readonly string[]).includes(k)) {
      malformed(
        src.input,
        src.file,
        src.lineOf(p.key as Node),
        `'${k}' is not a field of an entry; use ${ENTRY_KEYS.join(', ')}`,
      )
    }
    fields[k] = p.value as Node | null
  }
  return fields
}

function scalarText(fields: Record<string, Node | null>, name: string, src: YamlSource): string {
  const node = fields[name]
  if (node === undefined || node === null) return ''
  if (!isScalar(node) || typeof node.value === 'object')
    malformed(src.input, src.file, src.lineOf(node), `'${name}' must be a single value`)
  return node.value === null ? '' : String(node.value).trim()
}

function stringList(fields: Record<string, Node | null>, name: string, src: YamlSource): string[] {
  const node = fields[name]
  if (node === undefined || node === null) return []
  if (!isSeq(node)) malformed(src.input, src.file, src.lineOf(node), `'${name}' must be a list`)
  return (node.items as Node[]).map((v) => {
    if (!isScalar(v) || v.value === null || typeof v.value === 'object')
      malformed(src.input, src.file, src.lineOf(v), `each of '${name}' must be a single value`)
    return String(v.value).trim()
  })
}

/** purls: package URLs, and for vulnerabilities only (Trivy ignores them elsewhere). */
function checkPurls(purls: string[], kind: IgnoreKind, node: Node | null, src: YamlSource): void {
  const line = src.lineOf(node)
  for (const purl of purls) {
    if (!/^pkg:[A-Za-z.+-]+\/\S+$/.test(purl))
      malformed(src.input, src.file, line, `'${purl}' is not a package URL (pkg:type/name)`)
  }
  if (purls.length > 0 && kind !== 'vulnerabilities') {
    malformed(
      src.input,
      src.file,
      line,
      `purls apply to vulnerabilities only (Trivy ignores them for ${kind})`,
    )
  }
}

/** One entry of a list: id, paths, purls, statement, expired_at. */
function parseYamlEntry(item: Node, kind: IgnoreKind, src: YamlSource): IgnoreEntry {
  const line = src.lineOf(item)
  if (!isMap(item))
    malformed(src.input, src.file, line, `an entry of '${kind}' must be a mapping with an id`)
  const fields = entryFields(item, src)
  const id = scalarText(fields, 'id', src)
  if (id === '') malformed(src.input, src.file, line, `an entry of '${kind}' has no id`)
  const purls = stringList(fields, 'purls', src)
  checkPurls(purls, kind, fields.purls ?? null, src)
  const expiredAt = scalarText(fields, 'expired_at', src)
  let expiresAtMs: number | undefined
  if (expiredAt !== '') {
    expiresAtMs = parseExpiry(expiredAt)
    if (expiresAtMs === undefined) {
      malformed(
        src.input,
        src.file,
        src.lineOf(fields.expired_at),
        `expired_at '${expiredAt}' is not a date; write YYYY-MM-DD or an RFC 3339 time`,
      )
    }
  }
  return {
    kind,
    id,
    paths: stringList(fields, 'paths', src),
    purls,
    statement: scalarText(fields, 'statement', src),
    expiredAt,
    expiresAtMs,
    file: src.file,
    line,
  }
}

/** Trivy's YAML format, checked more strictly than Trivy does: a typo must not silently suppress nothing. */
export function parseYamlIgnoreFile(
  text: string,
  file: string,
  input = 'trivyignores',
): IgnoreEntry[] {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const lineOf = (node: Node | null | undefined): number =>
    node?.range ? lineCounter.linePos(node.range[0]).line : 1
  const src: YamlSource = { input, file, lineOf }
  if (doc.errors.length > 0) {
    const error = doc.errors[0]
    const line = lineCounter.linePos(error.pos[0]).line
    malformed(input, file, line, `not valid YAML (${error.message.split('\n')[0]})`)
  }
  const root = doc.contents
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return []
  if (!isMap(root))
    malformed(input, file, lineOf(root), `expected the lists ${IGNORE_KINDS.join(', ')}`)
  const entries: IgnoreEntry[] = []
  for (const pair of root.items) {
    const keyNode = pair.key as Node
    const key = isScalar(keyNode) ? String(keyNode.value) : ''
    if (!(IGNORE_KINDS as readonly string[]).includes(key)) {
      malformed(
        input,
        file,
        lineOf(keyNode),
        `'${key}' is not a list Trivy reads; use ${IGNORE_KINDS.join(', ')}`,
      )
    }
    const kind = key as IgnoreKind
    const list = pair.value as Node | null
    if (list === null || (isScalar(list) && list.value === null)) continue
    if (!isSeq(list)) malformed(input, file, lineOf(list), `'${kind}' must be a list of entries`)
    for (const item of list.items as Node[]) entries.push(parseYamlEntry(item, kind, src))
  }
  return entries
}

/** YAML when the name ends in .yaml or .yml (Trivy's rule), the plain format otherwise. */
export function parseIgnoreFile(text: string, file: string, input = 'trivyignores'): IgnoreEntry[] {
  return /\.ya?ml$/i.test(file)
    ? parseYamlIgnoreFile(text, file, input)
    : parsePlainIgnoreFile(text, file, input)
}

export interface ExpiryClasses {
  /** Entries that still suppress. */
  live: IgnoreEntry[]
  /** Entries past their expiry: they suppress nothing. */
  expired: IgnoreEntry[]
  /** Live entries that expire within the warning window. */
  expiringSoon: IgnoreEntry[]
}

const DAY_MS = 24 * 60 * 60 * 1000

/** Trivy's rule: an entry whose expiry is before now suppresses nothing. */
export function classifyExpiry(
  entries: readonly IgnoreEntry[],
  nowMs: number,
  warningDays: number,
): ExpiryClasses {
  const live: IgnoreEntry[] = []
  const expired: IgnoreEntry[] = []
  const expiringSoon: IgnoreEntry[] = []
  for (const e of entries) {
    if (e.expiresAtMs !== undefined && e.expiresAtMs < nowMs) {
      expired.push(e)
      continue
    }
    live.push(e)
    if (e.expiresAtMs !== undefined && e.expiresAtMs - nowMs <= warningDays * DAY_MS)
      expiringSoon.push(e)
  }
  return { live, expired, expiringSoon }
}

/** The expiry as a date for people (the date alone when the file gave one). */
export function expiryText(entry: Pick<IgnoreEntry, 'expiredAt' | 'expiresAtMs'>): string {
  if (entry.expiresAtMs === undefined) return ''
  return DATE_ONLY.test(entry.expiredAt)
    ? entry.expiredAt
    : new Date(entry.expiresAtMs).toISOString()
}

/** The marker appended to each statement in the merged file: names the entry's file and line. */
export function attributionMarker(entry: Pick<IgnoreEntry, 'file' | 'line'>): string {
  return `[mlsecops: ${entrySource(entry)}]`
}

/**
 * One YAML ignore file for Trivy holding the live entries of every file (plain-format ids in every list, as
 * Trivy applies them). Each statement ends with the entry's attribution marker.
 */
export function renderMergedIgnoreFile(entries: readonly IgnoreEntry[]): string {
  const lists: Record<IgnoreKind, Record<string, unknown>[]> = {
    vulnerabilities: [],
    misconfigurations: [],
    secrets: [],
    licenses: [],
  }
  for (const e of entries) {
    const item: Record<string, unknown> = { id: e.id }
    if (e.paths.length > 0) item.paths = e.paths
    if (e.purls.length > 0) item.purls = e.purls
    if (e.expiresAtMs !== undefined)
      item.expired_at = new Date(e.expiresAtMs).toISOString().replace(/\.000Z$/, 'Z')
    item.statement = e.statement ? `${e.statement} ${attributionMarker(e)}` : attributionMarker(e)
    const kinds = e.kind === 'all' ? IGNORE_KINDS : [e.kind]
    for (const kind of kinds) lists[kind].push(item)
  }
  const header =
    '# Written by mlsecops-action: the live entries of every ignore file, each statement naming its source.\n'
  return header + stringify(lists, { lineWidth: 0 })
}

/**
 * The entry a suppressed finding's statement points at (its attribution marker), and the statement as the
 * user wrote it. Undefined when the statement carries no known marker.
 */
export function attributeStatement(
  statement: string,
  entries: readonly IgnoreEntry[],
): { entry: IgnoreEntry; statement: string } | undefined {
  for (const entry of entries) {
    const marker = attributionMarker(entry)
    if (statement.endsWith(marker)) {
      return { entry, statement: statement.slice(0, -marker.length).trim() }
    }
  }
  return undefined
}
