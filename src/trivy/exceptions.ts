/**
 * The exceptions of a scan: the ignore files and VEX documents the inputs name, read and checked before
 * anything runs (a malformed one fails the job at once), the files Trivy reads written into the step's work
 * directory, and Trivy's suppressed findings traced back to the entry or statement that suppressed them.
 */
import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ConfigurationError, oneLine } from '../errors.js'
import type { WorkspaceFile } from '../inputs.js'
import { openWorkspaceFile } from '../workspace-paths.js'
import type { ExceptionEntryView, ExceptionsView, Finding, SuppressedFinding } from './findings.js'
import {
  attributeStatement,
  classifyExpiry,
  entrySource,
  expiryText,
  parseIgnoreFile,
  renderMergedIgnoreFile,
  type IgnoreEntry,
} from './ignore-file.js'
import type { TrivySuppressedFinding } from './report.js'
import { parseVexFile, renderOpenVex, vexReason, type VexDocument } from './vex-file.js'

export interface ExceptionOptions {
  ignoreFiles: WorkspaceFile[]
  vexFiles: WorkspaceFile[]
  /** Live entries expiring within this many days give a warning annotation. */
  warningDays: number
  /** Fail when an ignore-file entry has no statement. */
  requireReason: boolean
  /** Now, in ms (injectable for tests). */
  nowMs?: number
}

export interface Exceptions {
  ignoreFiles: WorkspaceFile[]
  vexFiles: WorkspaceFile[]
  entries: IgnoreEntry[]
  live: IgnoreEntry[]
  expired: IgnoreEntry[]
  expiringSoon: IgnoreEntry[]
  vex: (VexDocument & { path: string })[]
}

/** Largest ignore file or VEX document read. */
const MAX_EXCEPTION_FILE_BYTES = 16 * 1024 * 1024

/** Reads a file inputs.ts resolved: opened without following a symlink swapped in since, size-capped. */
function read(file: WorkspaceFile, input: string): string {
  const opened = openWorkspaceFile(
    input,
    file.name,
    file.path,
    MAX_EXCEPTION_FILE_BYTES,
    (size) =>
      new ConfigurationError(
        input,
        `Input '${input}': ${file.name} is ${size} bytes, over ${MAX_EXCEPTION_FILE_BYTES}; split it.`,
      ),
  )
  try {
    return fs.readFileSync(opened.fd, 'utf8')
  } catch (error) {
    throw new ConfigurationError(
      input,
      `Input '${input}': cannot read ${file.name}: ${oneLine((error as Error).message)}.`,
    )
  } finally {
    fs.closeSync(opened.fd)
  }
}

function describe(entry: IgnoreEntry): string {
  return `${entry.id} (${entrySource(entry)})`
}

/**
 * Reads and checks every ignore file and VEX document; warns (annotations on the file and line) about entries
 * that expired or expire within the warning window. Throws a ConfigurationError naming the file and the line.
 */
export function loadExceptions(options: ExceptionOptions): Exceptions {
  const entries: IgnoreEntry[] = []
  for (const file of options.ignoreFiles)
    entries.push(...parseIgnoreFile(read(file, 'trivyignores'), file.name))
  if (options.requireReason) {
    const missing = entries.filter((e) => e.statement === '')
    if (missing.length > 0) {
      const shown = missing.slice(0, 3).map(describe).join(', ')
      throw new ConfigurationError(
        'require-ignore-reason',
        `require-ignore-reason is true but ${missing.length} ignore entr${missing.length === 1 ? 'y has' : 'ies have'} no statement: ${shown}${missing.length > 3 ? ', ...' : ''}; give each a statement saying why it is accepted.`,
      )
    }
  }
  const { live, expired, expiringSoon } = classifyExpiry(
    entries,
    options.nowMs ?? Date.now(),
    options.warningDays,
  )
  for (const e of expired) {
    core.warning(
      `Ignore entry ${e.id} in ${e.file} expired on ${expiryText(e)}: it no longer suppresses anything.`,
      { title: 'Expired exception', file: e.file, startLine: e.line },
    )
  }
  for (const e of expiringSoon) {
    core.warning(
      `Ignore entry ${e.id} in ${e.file} expires on ${expiryText(e)} (within ${options.warningDays} days): renew it with a reason, or fix the finding.`,
      { title: 'Exception expiring soon', file: e.file, startLine: e.line },
    )
  }
  const vex = options.vexFiles.map((file) => ({
    ...parseVexFile(read(file, 'vex'), file.name),
    path: file.path,
  }))
  if (entries.length > 0 || vex.length > 0) {
    core.info(
      `Exceptions: ${entries.length} ignore entr${entries.length === 1 ? 'y' : 'ies'} (${live.length} live, ${expired.length} expired) from ${options.ignoreFiles.map((f) => f.name).join(', ') || 'no ignore file'}; ${vex.length} VEX document(s)${vex.length > 0 ? ` (${vex.map((v) => v.file).join(', ')})` : ''}.`,
    )
  }
  return {
    ignoreFiles: options.ignoreFiles,
    vexFiles: options.vexFiles,
    entries,
    live,
    expired,
    expiringSoon,
    vex,
  }
}

export interface TrivyExceptionFiles {
  /** The merged YAML ignore file ('' when no entry is live). */
  ignoreFile: string
  /** The VEX files Trivy reads (CycloneDX ones translated to OpenVEX). */
  vexFiles: string[]
  /** Path Trivy names as a VEX source -> the document. */
  vexBySource: Map<string, VexDocument>
}

/** Writes what Trivy reads into `dir`: one YAML ignore file with every live entry, the VEX translations. */
export function writeTrivyExceptionFiles(exceptions: Exceptions, dir: string): TrivyExceptionFiles {
  fs.mkdirSync(dir, { recursive: true })
  let ignoreFile = ''
  if (exceptions.live.length > 0) {
    ignoreFile = path.join(dir, 'trivyignore.merged.yaml')
    fs.writeFileSync(ignoreFile, renderMergedIgnoreFile(exceptions.live))
  }
  const vexFiles: string[] = []
  const vexBySource = new Map<string, VexDocument>()
  exceptions.vex.forEach((doc, i) => {
    let file = doc.path
    if (doc.format === 'cyclonedx') {
      file = path.join(dir, `vex-${i + 1}.openvex.json`)
      fs.writeFileSync(file, renderOpenVex(doc, new Date().toISOString()))
    }
    vexFiles.push(file)
    vexBySource.set(file, doc)
  })
  return { ignoreFile, vexFiles, vexBySource }
}

function view(e: IgnoreEntry): ExceptionEntryView {
  return {
    kind: e.kind === 'all' ? 'any' : e.kind,
    id: e.id,
    source: entrySource(e),
    statement: e.statement,
    until: expiryText(e),
  }
}

/** The exceptions as the reports show them. */
export function exceptionsView(exceptions: Exceptions): ExceptionsView {
  return {
    ignoreFiles: exceptions.ignoreFiles.map((f) => f.name),
    vexFiles: exceptions.vexFiles.map((f) => f.name),
    entries: exceptions.entries.length,
    live: exceptions.live.length,
    expired: exceptions.expired.map(view),
    expiringSoon: exceptions.expiringSoon.map(view),
  }
}

/**
 * Each suppressed finding with the entry or statement that suppressed it: ignore-file entries through the
 * attribution marker of the merged file, VEX through the document Trivy names as the source.
 */
export function attributeSuppressed(
  suppressed: readonly TrivySuppressedFinding[],
  exceptions: Exceptions | undefined,
  files: TrivyExceptionFiles | undefined,
): SuppressedFinding[] {
  return suppressed.map((s) => {
    const finding: Finding = s.finding
    const ignored = exceptions && attributeStatement(s.statement, exceptions.live)
    if (ignored) {
      return {
        ...finding,
        suppression: {
          by: 'ignore-file',
          status: s.status,
          reason: ignored.statement,
          source: entrySource(ignored.entry),
          until: expiryText(ignored.entry),
        },
      }
    }
    const doc = files?.vexBySource.get(s.source)
    if (doc) {
      return {
        ...finding,
        suppression: {
          by: 'vex',
          status: s.status,
          reason:
            vexReason([doc], finding.id) ?? [s.status, s.statement].filter((t) => t).join(': '),
          source: doc.file,
          until: '',
        },
      }
    }
    // Neither (e.g. Trivy's own rules): shown as Trivy says it.
    return {
      ...finding,
      suppression: {
        by: s.status === 'ignored' ? 'ignore-file' : 'vex',
        status: s.status,
        reason: s.statement,
        source: s.source,
        until: '',
      },
    }
  })
}
