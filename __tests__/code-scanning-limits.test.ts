/**
 * Unit: fitting SARIF within GitHub's upload limits, on generated SARIF. Each check reads the result back by
 * gunzipping the bytes that would be sent, not the object the function returned.
 */
import { describe, expect, it } from '@jest/globals'
import * as crypto from 'node:crypto'
import * as zlib from 'node:zlib'
import type { Severity } from '../src/trivy/findings.js'
import {
  GITHUB_SARIF_LIMITS,
  fitSarifToLimits,
  resultSeverity,
  type SarifLog,
  type SarifResult,
  type SarifRun,
} from '../src/publish/sarif-limits.js'

const SCORE: Record<Severity, string> = {
  CRITICAL: '9.5',
  HIGH: '8.0',
  MEDIUM: '5.5',
  LOW: '2.0',
  UNKNOWN: '0.0',
}
const LEVEL: Record<Severity, string> = {
  CRITICAL: 'error',
  HIGH: 'error',
  MEDIUM: 'warning',
  LOW: 'note',
  UNKNOWN: 'note',
}

interface Spec {
  severity: Severity
  /** Rule id; results may share one. Default: one rule per result. */
  rule?: string
  locations?: number
  /** Bytes of incompressible message text. */
  noise?: number
}

/** A Trivy-shaped run: a rule per id with severity tags and security-severity, results with ruleIndex. */
function makeRun(specs: Spec[], name = 'Trivy'): SarifRun {
  const rules: SarifRun['tool']['driver']['rules'] = []
  const index = new Map<string, number>()
  const results: SarifResult[] = specs.map((spec, i) => {
    const id = spec.rule ?? `CVE-2025-${String(i).padStart(5, '0')}`
    if (!index.has(id)) {
      index.set(id, rules.length)
      rules.push({
        id,
        shortDescription: { text: id },
        fullDescription: { text: `${id} description` },
        help: { text: `help for ${id}` },
        defaultConfiguration: { level: LEVEL[spec.severity] },
        properties: {
          tags: ['vulnerability', 'security', spec.severity],
          'security-severity': SCORE[spec.severity],
        },
      })
    }
    const noise = spec.noise
      ? crypto.randomBytes(spec.noise).toString('base64').slice(0, spec.noise)
      : ''
    return {
      ruleId: id,
      ruleIndex: index.get(id)!,
      level: LEVEL[spec.severity],
      message: { text: `${spec.severity} #${i} ${noise}` },
      locations: Array.from({ length: spec.locations ?? 1 }, (_, l) => ({
        physicalLocation: {
          artifactLocation: { uri: 'library/image', uriBaseId: 'ROOTPATH' },
          region: { startLine: l + 1 },
        },
      })),
    }
  })
  return { tool: { driver: { name, version: '0.74.0', rules } }, results }
}

function makeLog(runs: SarifRun[]): SarifLog {
  return { version: '2.1.0', $schema: 'https://json.schemastore.org/sarif-2.1.0.json', runs }
}

function decode(gzipped: Buffer): SarifLog {
  return JSON.parse(zlib.gunzipSync(gzipped).toString('utf8')) as SarifLog
}

function severitiesOf(run: SarifRun): Severity[] {
  return (run.results ?? []).map(
    (r) => (r.message as { text: string }).text.split(' ')[0] as Severity,
  )
}

/** Every kept result's ruleIndex points at the rule with its ruleId, and every rule is used. */
function expectConsistentRules(run: SarifRun): void {
  const rules = run.tool.driver.rules ?? []
  for (const r of run.results ?? []) expect(rules[r.ruleIndex!].id).toBe(r.ruleId)
  const used = new Set((run.results ?? []).map((r) => r.ruleId))
  expect(rules.map((r) => r.id).filter((id) => !used.has(id))).toEqual([])
}

const RANK: Record<Severity, number> = { UNKNOWN: 0, LOW: 1, MEDIUM: 2, HIGH: 3, CRITICAL: 4 }

describe('fitSarifToLimits', () => {
  it('leaves a log within the limits as it is, with no warning', () => {
    const log = makeLog([makeRun([{ severity: 'HIGH' }, { severity: 'LOW' }])])
    const fitted = fitSarifToLimits(log)
    expect(fitted.report.messages).toEqual([])
    expect(decode(fitted.gzipped)).toEqual(log)
    expect(fitted.text).toBe(JSON.stringify(log))
  })

  it("keeps GitHub's 25,000 results per run, dropping LOW first, then the last MEDIUM", () => {
    // 60 CRITICAL, 24,950 MEDIUM and 90 LOW, interleaved: 25,100 results.
    const specs: Spec[] = []
    for (let i = 0; i < 25_100; i++) {
      specs.push({
        severity:
          i % 250 === 0 && specs.filter((s) => s.severity === 'LOW').length < 90 ? 'LOW' : 'MEDIUM',
      })
    }
    let critical = 0
    for (let i = 1; critical < 60; i += 400, critical++) specs[i] = { severity: 'CRITICAL' }
    const counts = (list: Severity[]): Record<string, number> =>
      list.reduce<Record<string, number>>((m, s) => ({ ...m, [s]: (m[s] ?? 0) + 1 }), {})
    expect(counts(specs.map((s) => s.severity))).toEqual({ CRITICAL: 60, MEDIUM: 24_950, LOW: 90 })

    const log = makeLog([makeRun(specs)])
    const fitted = fitSarifToLimits(log)
    const run = decode(fitted.gzipped).runs[0]
    expect(run.results).toHaveLength(25_000)
    expect(counts(severitiesOf(run))).toEqual({ CRITICAL: 60, MEDIUM: 24_940 })
    expect(fitted.report.droppedResults).toEqual({
      CRITICAL: 0,
      HIGH: 0,
      MEDIUM: 10,
      LOW: 90,
      UNKNOWN: 0,
    })
    expect(fitted.report.messages).toEqual([
      'A SARIF run ("Trivy") has 25,100 results, GitHub takes at most 25,000 per run: dropped 100, lowest severity first (MEDIUM 10, LOW 90)',
    ])
    // Kept results stay in their original order; the dropped MEDIUM ones are the last ones.
    const numbers = (run.results ?? []).map((r) =>
      Number((r.message as { text: string }).text.split('#')[1]),
    )
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b))
    expectConsistentRules(run)
    expect(run.tool.driver.rules).toHaveLength(25_000)
    // The input object is not modified.
    expect(log.runs[0].results).toHaveLength(25_100)
  })

  it('cuts results to 1,000 locations each', () => {
    const log = makeLog([
      makeRun([
        { severity: 'HIGH', locations: 1_500 },
        { severity: 'LOW', locations: 3 },
      ]),
    ])
    const fitted = fitSarifToLimits(log)
    const run = decode(fitted.gzipped).runs[0]
    expect(run.results![0].locations).toHaveLength(1_000)
    expect(run.results![1].locations).toHaveLength(3)
    expect(fitted.report.truncatedLocations).toBe(1)
    expect(fitted.report.messages).toEqual([
      "1 results had more than 1,000 locations, GitHub's limit: kept the first 1,000 of each",
    ])
  })

  it('keeps at most 20 runs: the runs with the least severe findings go', () => {
    const severities: Severity[] = ['HIGH', 'LOW', 'CRITICAL', 'UNKNOWN', 'MEDIUM']
    const runs = Array.from({ length: 22 }, (_, i) =>
      makeRun(
        [{ severity: i === 5 ? 'UNKNOWN' : i === 9 ? 'LOW' : severities[i % 3 === 1 ? 0 : 2] }],
        `tool-${i}`,
      ),
    )
    const fitted = fitSarifToLimits(makeLog(runs))
    const names = decode(fitted.gzipped).runs.map((r) => r.tool.driver.name)
    expect(names).toHaveLength(20)
    expect(names).not.toContain('tool-5')
    expect(names).not.toContain('tool-9')
    expect(names).toEqual(
      runs.map((r) => r.tool.driver.name).filter((n) => n !== 'tool-5' && n !== 'tool-9'),
    )
    expect(fitted.report.droppedRuns).toBe(2)
    expect(fitted.report.droppedResults).toMatchObject({ LOW: 1, UNKNOWN: 1 })
    expect(fitted.report.messages[0]).toMatch(/^SARIF has 22 runs, GitHub takes at most 20/)
  })

  it('drops the least severe results until the gzipped log fits, and no more than needed', () => {
    const order: Severity[] = ['LOW', 'CRITICAL', 'MEDIUM', 'UNKNOWN', 'HIGH']
    const specs: Spec[] = Array.from({ length: 100 }, (_, i) => ({
      severity: order[i % 5],
      noise: 2_000,
    }))
    const limits = { ...GITHUB_SARIF_LIMITS, maxGzipBytes: 64 * 1024 }
    const fitted = fitSarifToLimits(makeLog([makeRun(specs)]), limits)
    expect(fitted.gzipped.length).toBeLessThanOrEqual(limits.maxGzipBytes)
    const run = decode(fitted.gzipped).runs[0]
    const kept = severitiesOf(run)
    const dropped = fitted.report.droppedResults
    const droppedMax = Math.max(
      ...(Object.keys(dropped) as Severity[]).filter((s) => dropped[s] > 0).map((s) => RANK[s]),
    )
    expect(Math.min(...kept.map((s) => RANK[s]))).toBeGreaterThanOrEqual(droppedMax)
    // Each result costs about 1.5 KB gzipped: the kept set is within one result of the limit.
    expect(fitted.gzipped.length).toBeGreaterThan(limits.maxGzipBytes - 2_000)
    expect(kept.length + Object.values(dropped).reduce((a, b) => a + b, 0)).toBe(100)
    expectConsistentRules(run)
    expect(fitted.report.messages).toHaveLength(1)
    expect(fitted.report.messages[0]).toMatch(
      /^The SARIF log is [\d,]+ bytes gzipped, over GitHub's limit of 65,536: dropped \d+ results, lowest severity first \(/,
    )
  })

  it("fits GitHub's real 10 MB gzipped limit", () => {
    // 2,000 results with 10 KB of incompressible text each: about 15 MB gzipped.
    const order: Severity[] = ['MEDIUM', 'HIGH', 'LOW', 'CRITICAL']
    const specs: Spec[] = Array.from({ length: 2_000 }, (_, i) => ({
      severity: order[i % 4],
      noise: 10_000,
    }))
    const log = makeLog([makeRun(specs)])
    const before = zlib.gzipSync(JSON.stringify(log)).length
    expect(before).toBeGreaterThan(10 * 1024 * 1024)
    const started = Date.now()
    const fitted = fitSarifToLimits(log)
    console.log(
      `10 MB fit: ${before} -> ${fitted.gzipped.length} bytes gzipped in ${Date.now() - started} ms`,
    )
    expect(fitted.gzipped.length).toBeLessThanOrEqual(10 * 1024 * 1024)
    expect(fitted.report.droppedResults.CRITICAL).toBe(0)
    expect(fitted.report.droppedResults.HIGH).toBe(0)
    expect(fitted.report.droppedResults.LOW).toBe(500)
    expect(fitted.report.droppedResults.MEDIUM).toBeGreaterThan(0)
    expect(fitted.report.messages).toHaveLength(1)
  }, 60_000)

  it('renumbers rule references given as result.rule.index too', () => {
    const run = makeRun([
      { severity: 'LOW', rule: 'A' },
      { severity: 'HIGH', rule: 'B' },
      { severity: 'HIGH', rule: 'B' },
    ])
    run.results = run.results!.map((r) => {
      const { ruleIndex, ...rest } = r
      return { ...rest, rule: { id: r.ruleId, index: ruleIndex } }
    })
    const fitted = fitSarifToLimits(makeLog([run]), { ...GITHUB_SARIF_LIMITS, maxResultsPerRun: 2 })
    const out = decode(fitted.gzipped).runs[0]
    expect(out.tool.driver.rules!.map((r) => r.id)).toEqual(['B'])
    expect(out.results!.map((r) => r.rule)).toEqual([
      { id: 'B', index: 0 },
      { id: 'B', index: 0 },
    ])
  })

  it('throws when even a log without results is over the limit', () => {
    expect(() =>
      fitSarifToLimits(makeLog([makeRun([{ severity: 'LOW' }])]), {
        ...GITHUB_SARIF_LIMITS,
        maxGzipBytes: 50,
      }),
    ).toThrow(/even without results, over GitHub's limit of 50/)
  })
})

describe('resultSeverity', () => {
  const run: SarifRun = {
    tool: {
      driver: {
        name: 't',
        rules: [
          { id: 'tagged', properties: { tags: ['security', 'LOW'], 'security-severity': '9.8' } },
          { id: 'scored', properties: { 'security-severity': '7.5' } },
          { id: 'plain', defaultConfiguration: { level: 'note' } },
        ],
      },
    },
  }
  it('reads the Trivy severity tag first, then security-severity, then the level', () => {
    expect(resultSeverity(run, { ruleId: 'tagged' }).rank).toBe(RANK.LOW)
    expect(resultSeverity(run, { ruleId: 'scored' }).rank).toBe(RANK.HIGH)
    expect(resultSeverity(run, { ruleId: 'plain' }).rank).toBe(RANK.LOW)
    expect(resultSeverity(run, { ruleId: 'plain', level: 'error' }).rank).toBe(RANK.HIGH)
    expect(resultSeverity(run, { ruleId: 'unknown-rule' }).rank).toBe(RANK.MEDIUM)
    expect(resultSeverity(run, { ruleIndex: 1 }).score).toBe(7.5)
  })
})
