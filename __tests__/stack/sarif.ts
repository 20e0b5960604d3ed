/**
 * Independent SARIF checks: Microsoft's SARIF Multitool (SARIF rules + GitHub ingestion rules) and ajv against
 * the SARIF 2.1.0 JSON schema the multitool package ships.
 */
import { Ajv2020 } from 'ajv/dist/2020.js'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'

const require = createRequire(import.meta.url)

/** The multitool binary (called directly: its bin.js goes through a shell that splits "Gh;Sarif"). */
export function sarifMultitoolBinary(): string {
  return require('@microsoft/sarif-multitool') as string
}

export interface SarifViolation {
  level: string
  ruleId: string
  message: string
}

/** Runs `Sarif.Multitool validate` with the SARIF and GitHub rule kinds; returns every error and warning. */
export function multitoolValidate(file: string, outDir: string): SarifViolation[] {
  const out = path.join(outDir, `${path.basename(file)}.validation.sarif`)
  const result = spawnSync(
    sarifMultitoolBinary(),
    ['validate', file, '--output', out, '--log', 'ForceOverwrite', '--rule-kind', 'Gh;Sarif'],
    { encoding: 'utf8', timeout: 120_000 },
  )
  if (result.error) throw result.error
  if (!fs.existsSync(out)) {
    throw new Error(
      `sarif-multitool wrote no output (exit ${result.status}): ${result.stdout} ${result.stderr}`,
    )
  }
  const log = JSON.parse(fs.readFileSync(out, 'utf8')) as {
    runs: {
      results?: {
        level?: string
        ruleId: string
        message: { text?: string; id?: string; arguments?: string[] }
      }[]
      invocations?: { executionSuccessful?: boolean; toolExecutionNotifications?: unknown[] }[]
    }[]
  }
  const run = log.runs[0]
  if (run.invocations?.[0]?.executionSuccessful === false) {
    throw new Error(`sarif-multitool could not analyze ${file}: ${JSON.stringify(run.invocations)}`)
  }
  return (run.results ?? [])
    .filter((r) => r.level === 'error' || r.level === 'warning' || r.level === undefined)
    .map((r) => ({
      level: r.level ?? 'warning',
      ruleId: r.ruleId,
      message: r.message.text ?? `${r.message.id ?? ''} ${(r.message.arguments ?? []).join(', ')}`,
    }))
}

/** ajv (JSON Schema 2020-12) against sarif-2.1.0.json from the multitool package; returns the errors. */
export function schemaValidate(sarif: unknown): string[] {
  const schemaFile = path.join(
    path.dirname(require.resolve('@microsoft/sarif-multitool-linux/package.json')),
    'sarif-2.1.0.json',
  )
  const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as Record<string, unknown>
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false })
  const validate = ajv.compile(schema)
  if (validate(sarif)) return []
  return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`)
}
