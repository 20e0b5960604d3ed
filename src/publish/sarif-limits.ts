import * as zlib from 'node:zlib'
import { SEVERITIES, type Severity } from '../trivy/findings.js'

/**
 * Fitting a SARIF log within what GitHub code scanning accepts. Pure apart from gzip: no I/O, no logging;
 * the caller prints the messages as warnings.
 */

/** The parts of SARIF 2.1.0 this module reads; everything else is carried through untouched. */
export interface SarifRule {
  id?: string
  defaultConfiguration?: { level?: string; [key: string]: unknown }
  properties?: { tags?: unknown; 'security-severity'?: unknown; [key: string]: unknown }
  [key: string]: unknown
}

export interface SarifResult {
  ruleId?: string
  ruleIndex?: number
  rule?: { id?: string; index?: number; [key: string]: unknown }
  level?: string
  locations?: unknown[]
  properties?: { tags?: unknown; 'security-severity'?: unknown; [key: string]: unknown }
  [key: string]: unknown
}

export interface SarifRun {
  tool: {
    driver: { name?: string; rules?: SarifRule[]; [key: string]: unknown }
    [key: string]: unknown
  }
  results?: SarifResult[]
  automationDetails?: { id?: string; [key: string]: unknown }
  [key: string]: unknown
}

export interface SarifLog {
  version: string
  $schema?: string
  runs: SarifRun[]
  [key: string]: unknown
}

export interface SarifLimits {
  /** Gzipped size of the whole log. */
  maxGzipBytes: number
  maxRuns: number
  maxResultsPerRun: number
  maxLocationsPerResult: number
}

/** GitHub's documented upload limits ("SARIF support for code scanning"). */
export const GITHUB_SARIF_LIMITS: SarifLimits = {
  maxGzipBytes: 10 * 1024 * 1024,
  maxRuns: 20,
  maxResultsPerRun: 25_000,
  maxLocationsPerResult: 1_000,
}

export type SeverityTally = Record<Severity, number>

export interface SarifFitReport {
  /** Runs left out because the log had more than maxRuns. */
  droppedRuns: number
  /** Results left out, by severity (whatever the reason). */
  droppedResults: SeverityTally
  /** Results whose locations were cut to maxLocationsPerResult. */
  truncatedLocations: number
  resultsBefore: number
  resultsAfter: number
  gzipBytes: number
  /** One line per limit that was hit, for core.warning; empty when nothing was changed. */
  messages: string[]
}

export interface FittedSarif {
  sarif: SarifLog
  /** JSON text of `sarif`. */
  text: string
  gzipped: Buffer
  report: SarifFitReport
}

const LEVEL_RANK: Record<string, number> = { error: 3, warning: 2, note: 1, none: 0 }

function emptyTally(): SeverityTally {
  return { UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 }
}

function tagSeverity(tags: unknown): number | undefined {
  if (!Array.isArray(tags)) return undefined
  let best: number | undefined
  for (const tag of tags) {
    if (typeof tag !== 'string') continue
    const rank = (SEVERITIES as readonly string[]).indexOf(tag.toUpperCase())
    if (rank >= 0 && (best === undefined || rank > best)) best = rank
  }
  return best
}

function numericScore(value: unknown): number {
  const score = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN
  return Number.isFinite(score) ? score : -1
}

/** GitHub's security-severity bands: 9.0+ critical, 7.0+ high, 4.0+ medium, 0.1+ low. */
function scoreSeverity(score: number): number | undefined {
  if (score < 0) return undefined
  if (score >= 9) return 4
  if (score >= 7) return 3
  if (score >= 4) return 2
  if (score >= 0.1) return 1
  return 0
}

interface RankedResult {
  run: number
  index: number
  /** Index into SEVERITIES. */
  rank: number
  score: number
}

function ruleOf(
  run: SarifRun,
  result: SarifResult,
  byId: Map<string, SarifRule>,
): SarifRule | undefined {
  const rules = run.tool.driver.rules ?? []
  const index = result.ruleIndex ?? result.rule?.index
  if (typeof index === 'number' && rules[index]) return rules[index]
  const id = result.ruleId ?? result.rule?.id
  return id === undefined ? undefined : byId.get(id)
}

/**
 * The severity of one result: the Trivy severity tag (CRITICAL, HIGH, ...) of the result or its rule,
 * else the rule's security-severity score, else the SARIF level (error = HIGH, warning = MEDIUM, note = LOW).
 */
export function resultSeverity(
  run: SarifRun,
  result: SarifResult,
  byId: Map<string, SarifRule> = rulesById(run),
): { rank: number; score: number } {
  const rule = ruleOf(run, result, byId)
  const score = Math.max(
    numericScore(result.properties?.['security-severity']),
    numericScore(rule?.properties?.['security-severity']),
  )
  const rank =
    tagSeverity(result.properties?.tags) ??
    tagSeverity(rule?.properties?.tags) ??
    scoreSeverity(score) ??
    LEVEL_RANK[result.level ?? rule?.defaultConfiguration?.level ?? 'warning'] ??
    2
  return { rank, score }
}

function rulesById(run: SarifRun): Map<string, SarifRule> {
  const map = new Map<string, SarifRule>()
  for (const rule of run.tool.driver.rules ?? []) if (rule.id) map.set(rule.id, rule)
  return map
}

/** Highest severity first, then higher score, then the original order. */
function compareRanked(a: RankedResult, b: RankedResult): number {
  return b.rank - a.rank || b.score - a.score || a.run - b.run || a.index - b.index
}

function tallyText(tally: SeverityTally): string {
  return [...SEVERITIES]
    .reverse()
    .filter((s) => tally[s] > 0)
    .map((s) => `${s} ${tally[s].toLocaleString('en-US')}`)
    .join(', ')
}

function count(n: number): string {
  return n.toLocaleString('en-US')
}

/**
 * Rebuilds run `run` with only the results in `keep` (original indices, in the original order). When results
 * were dropped, rules no result points at any more are dropped too and rule indices are renumbered.
 */
function rebuildRun(run: SarifRun, keep: number[]): SarifRun {
  const results = run.results ?? []
  if (keep.length === results.length) return run
  const rules = run.tool.driver.rules
  const kept = keep.map((i) => results[i])
  if (!rules) return { ...run, results: kept }
  const byId = rulesById(run)
  const used = new Set<SarifRule>()
  for (const result of kept) {
    const rule = ruleOf(run, result, byId)
    if (rule) used.add(rule)
  }
  const newRules = rules.filter((r) => used.has(r))
  const newIndex = new Map<SarifRule, number>(newRules.map((r, i) => [r, i]))
  const remapped = kept.map((result) => {
    const rule = ruleOf(run, result, byId)
    const index = rule === undefined ? undefined : newIndex.get(rule)
    let out: SarifResult = result
    if (typeof result.ruleIndex === 'number') out = { ...out, ruleIndex: index ?? -1 }
    if (result.rule && typeof result.rule.index === 'number')
      out = { ...out, rule: { ...result.rule, index: index ?? -1 } }
    return out
  })
  return {
    ...run,
    results: remapped,
    tool: { ...run.tool, driver: { ...run.tool.driver, rules: newRules } },
  }
}

function serialize(sarif: SarifLog): { text: string; gzipped: Buffer } {
  const text = JSON.stringify(sarif)
  return { text, gzipped: zlib.gzipSync(Buffer.from(text, 'utf8')) }
}

/** What the fitting steps dropped so far, and the warnings that say so. */
interface FitTally {
  dropped: SeverityTally
  messages: string[]
}

function addDropped(tally: FitTally, here: SeverityTally): void {
  for (const s of SEVERITIES) tally.dropped[s] += here[s]
}

/** 1. Runs: keep the maxRuns runs holding the most severe findings (ties: the earlier run). */
function limitRuns(runs: SarifRun[], limits: SarifLimits, tally: FitTally): SarifRun[] {
  if (runs.length <= limits.maxRuns) return runs
  const ranked = runs.map((run, i) => {
    const byId = rulesById(run)
    const ranks = (run.results ?? []).map((r) => resultSeverity(run, r, byId).rank)
    const max = ranks.reduce((m, r) => (r > m ? r : m), -1)
    return { i, max, count: ranks.length, ranks }
  })
  const keep = new Set(
    [...ranked]
      .sort((a, b) => b.max - a.max || b.count - a.count || a.i - b.i)
      .slice(0, limits.maxRuns)
      .map((r) => r.i),
  )
  const droppedHere = emptyTally()
  for (const r of ranked) {
    if (keep.has(r.i)) continue
    for (const rank of r.ranks) droppedHere[SEVERITIES[rank]]++
  }
  addDropped(tally, droppedHere)
  tally.messages.push(
    `SARIF has ${runs.length} runs, GitHub takes at most ${limits.maxRuns}: left out the ${runs.length - limits.maxRuns} runs with the least severe findings` +
      (tallyText(droppedHere) ? ` (their results: ${tallyText(droppedHere)})` : ''),
  )
  return runs.filter((_, i) => keep.has(i))
}

/** 2. Locations per result: the first maxLocationsPerResult of each. */
function limitLocations(
  runs: SarifRun[],
  limits: SarifLimits,
  tally: FitTally,
): { runs: SarifRun[]; truncated: number } {
  let truncated = 0
  const limited = runs.map((run) => {
    const results = run.results ?? []
    if (!results.some((r) => (r.locations?.length ?? 0) > limits.maxLocationsPerResult)) return run
    return {
      ...run,
      results: results.map((r) => {
        if ((r.locations?.length ?? 0) <= limits.maxLocationsPerResult) return r
        truncated++
        return { ...r, locations: r.locations!.slice(0, limits.maxLocationsPerResult) }
      }),
    }
  })
  if (truncated > 0) {
    tally.messages.push(
      `${count(truncated)} results had more than ${count(limits.maxLocationsPerResult)} locations, GitHub's limit: kept the first ${count(limits.maxLocationsPerResult)} of each`,
    )
  }
  return { runs: limited, truncated }
}

/** 3. Results per run, lowest severity first: what each run keeps. */
function limitResultsPerRun(
  runs: SarifRun[],
  limits: SarifLimits,
  tally: FitTally,
): RankedResult[][] {
  const ranked: RankedResult[][] = runs.map((run, r) => {
    const byId = rulesById(run)
    return (run.results ?? []).map((result, index) => ({
      run: r,
      index,
      ...resultSeverity(run, result, byId),
    }))
  })
  return ranked.map((list) => {
    if (list.length <= limits.maxResultsPerRun) return list
    const sorted = [...list].sort(compareRanked)
    const droppedHere = emptyTally()
    for (const r of sorted.slice(limits.maxResultsPerRun)) droppedHere[SEVERITIES[r.rank]]++
    addDropped(tally, droppedHere)
    tally.messages.push(
      `A SARIF run ("${runs[list[0].run].tool.driver.name ?? 'unnamed tool'}") has ${count(list.length)} results, GitHub takes at most ${count(limits.maxResultsPerRun)} per run: dropped ${count(list.length - limits.maxResultsPerRun)}, lowest severity first (${tallyText(droppedHere)})`,
    )
    return sorted.slice(0, limits.maxResultsPerRun)
  })
}

interface Serialized {
  sarif: SarifLog
  text: string
  gzipped: Buffer
}

/**
 * 4. Gzipped size: keep the k most severe results over all runs, the largest k that fits (binary search).
 * Throws when even a log without results is too large.
 */
function limitGzipSize(
  build: (keep: RankedResult[][]) => SarifLog,
  runCount: number,
  keepPerRun: RankedResult[][],
  limits: SarifLimits,
  tally: FitTally,
): Serialized {
  const whole = build(keepPerRun)
  const first = { sarif: whole, ...serialize(whole) }
  if (first.gzipped.length <= limits.maxGzipBytes) return first
  const all = keepPerRun.flat().sort(compareRanked)
  const attempt = (k: number): Serialized => {
    const keep: RankedResult[][] = Array.from({ length: runCount }, () => [])
    for (const r of all.slice(0, k)) keep[r.run].push(r)
    const candidate = build(keep)
    return { sarif: candidate, ...serialize(candidate) }
  }
  const empty = attempt(0)
  if (empty.gzipped.length > limits.maxGzipBytes) {
    throw new Error(
      `The SARIF log is ${count(empty.gzipped.length)} bytes gzipped even without results, over GitHub's limit of ${count(limits.maxGzipBytes)}`,
    )
  }
  let lo = 0
  let hi = all.length - 1
  let best = empty
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    const candidate = attempt(mid)
    if (candidate.gzipped.length <= limits.maxGzipBytes) {
      lo = mid
      best = candidate
    } else {
      hi = mid - 1
    }
  }
  const droppedHere = emptyTally()
  for (const r of all.slice(lo)) droppedHere[SEVERITIES[r.rank]]++
  addDropped(tally, droppedHere)
  tally.messages.push(
    `The SARIF log is ${count(first.gzipped.length)} bytes gzipped, over GitHub's limit of ${count(limits.maxGzipBytes)}: dropped ${count(all.length - lo)} results, lowest severity first (${tallyText(droppedHere)})`,
  )
  return best
}

/**
 * Makes `sarif` fit GitHub's limits: at most maxRuns runs (the runs with the least severe findings go first),
 * at most maxLocationsPerResult locations per result, at most maxResultsPerRun results per run, and at most
 * maxGzipBytes gzipped; results are dropped lowest severity first. The input object is not modified.
 * Throws when even a log without results is too large.
 */
export function fitSarifToLimits(
  input: SarifLog,
  limits: SarifLimits = GITHUB_SARIF_LIMITS,
): FittedSarif {
  const tally: FitTally = { dropped: emptyTally(), messages: [] }
  const resultsBefore = input.runs.reduce((n, r) => n + (r.results?.length ?? 0), 0)
  const keptRuns = limitRuns(input.runs, limits, tally)
  const droppedRuns = input.runs.length - keptRuns.length
  const { runs, truncated } = limitLocations(keptRuns, limits, tally)
  const keepPerRun = limitResultsPerRun(runs, limits, tally)
  const build = (keep: RankedResult[][]): SarifLog => ({
    ...input,
    runs: runs.map((run, r) =>
      rebuildRun(
        run,
        keep[r].map((x) => x.index).sort((a, b) => a - b),
      ),
    ),
  })
  const { sarif, text, gzipped } = limitGzipSize(build, runs.length, keepPerRun, limits, tally)
  const resultsAfter = sarif.runs.reduce((n, r) => n + (r.results?.length ?? 0), 0)
  return {
    sarif,
    text,
    gzipped,
    report: {
      droppedRuns,
      droppedResults: tally.dropped,
      truncatedLocations: truncated,
      resultsBefore,
      resultsAfter,
      gzipBytes: gzipped.length,
      messages: tally.messages,
    },
  }
}
