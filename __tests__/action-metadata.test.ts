import { describe, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parse as parseYaml } from 'yaml'

const ROOT = process.cwd()

interface ActionYml {
  name?: string
  description?: string
  branding?: { icon?: string; color?: string }
  inputs: Record<string, { description?: unknown; default?: unknown; required?: unknown }>
  outputs: Record<string, { description?: unknown }>
  runs: { using?: string; main?: string }
}
const action = parseYaml(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as ActionYml

/** The public contract of ../shared/INTERFACE.md (copied here so that a fresh clone can check it). */
const INTERFACE_INPUTS = [
  'dataset',
  'target-column',
  'test-size',
  'seed',
  'min-accuracy',
  'mlflow-tracking-uri',
  'mlflow-experiment',
  'mlflow-username',
  'mlflow-password',
  'mlflow-token',
  'model-name',
  'model-alias',
  'build',
  'dockerfile',
  'context',
  'image',
  'build-args',
  'scan',
  'trivy-version',
  'scanners',
  'fail-on-severity',
  'ignore-unfixed',
  'trivyignore',
  'trivy-cache-dir',
  'trivy-skip-db-update',
  'trivy-db-repository',
  'trivy-server',
  'upload-artifact',
  'artifact-name',
  'upload-sarif',
  'sarif-category',
  'github-token',
]
const INTERFACE_OUTPUTS = [
  'accuracy',
  'model-dir',
  'run-id',
  'model-version',
  'model-uri',
  'image',
  'image-id',
  'json-report',
  'sarif-report',
  'critical',
  'high',
  'medium',
  'low',
  'unknown',
  'gate',
  'artifact-id',
  'sarif-id',
]
/** Defaults INTERFACE.md fixes (the others are "empty" or described in words). */
const INTERFACE_DEFAULTS: Record<string, string> = {
  'test-size': '0.2',
  seed: '42',
  'min-accuracy': '0',
  'mlflow-experiment': 'mlsecops',
  'model-alias': 'candidate',
  build: 'true',
  dockerfile: 'Dockerfile',
  context: '.',
  scan: 'true',
  scanners: 'vuln,secret,misconfig',
  'fail-on-severity': 'HIGH',
  'ignore-unfixed': 'false',
  'trivy-skip-db-update': 'false',
  'upload-artifact': 'true',
  'artifact-name': 'mlsecops-report',
  'upload-sarif': 'true',
  'sarif-category': 'mlsecops',
  'github-token': '${{ github.token }}',
}

describe('action.yml', () => {
  test('runs on node24 from dist/index.js', () => {
    expect(action.runs.using).toBe('node24')
    expect(action.runs.main).toBe('dist/index.js')
  })

  test('has a name, a description and branding', () => {
    expect(action.name).toBeTruthy()
    expect(action.description).toBeTruthy()
    expect(action.branding?.icon).toBeTruthy()
    expect(action.branding?.color).toBeTruthy()
  })

  test('declares every input of INTERFACE.md', () => {
    expect(Object.keys(action.inputs)).toEqual(expect.arrayContaining(INTERFACE_INPUTS))
  })

  test('declares every output of INTERFACE.md', () => {
    expect(Object.keys(action.outputs)).toEqual(expect.arrayContaining(INTERFACE_OUTPUTS))
  })

  test.each(Object.keys(action.inputs))(
    'input %s: kebab-case, a one-line description, a string default, not required',
    (name) => {
      const input = action.inputs[name]
      expect(name).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/)
      expect(typeof input.description).toBe('string')
      expect(String(input.description).trim()).not.toBe('')
      expect(String(input.description)).not.toMatch(/\n./)
      expect(typeof input.default).toBe('string')
      expect(input.required === undefined || input.required === false).toBe(true)
    },
  )

  test.each(Object.entries(INTERFACE_DEFAULTS))('input %s defaults to %j', (name, value) => {
    expect(action.inputs[name].default).toBe(value)
  })

  test.each(Object.keys(action.outputs))('output %s: kebab-case with a description', (name) => {
    expect(name).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/)
    expect(typeof action.outputs[name].description).toBe('string')
    expect(String(action.outputs[name].description).trim()).not.toBe('')
  })
})

/** The rows of the first Markdown table under a `## <heading>`, cells trimmed, header and rule dropped. */
function tableUnder(markdown: string, heading: string): { header: string[]; rows: string[][] } {
  const lines = markdown.split(/\r?\n/)
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`)
  if (start < 0) throw new Error(`README.md has no "## ${heading}" heading`)
  const table: string[] = []
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i].trim()
    if (line.startsWith('## ')) break
    if (line.startsWith('|')) table.push(line)
    else if (table.length > 0) break
  }
  const cells = (line: string): string[] =>
    line
      .replace(/^\|/, '')
      .replace(/\|$/, '')
      .split(/(?<!\\)\|/)
      .map((c) => c.trim())
  if (table.length < 2) throw new Error(`README.md has no table under "## ${heading}"`)
  return { header: cells(table[0]), rows: table.slice(2).map(cells) }
}

/** `name` -> name; an empty cell, '' or "" -> ''. */
function cellText(cell: string): string {
  const text = cell.replace(/^`(.*)`$/, '$1').trim()
  return text === "''" || text === '""' ? '' : text
}

describe('README.md agrees with action.yml', () => {
  const readmePath = path.join(ROOT, 'README.md')
  const readme = (): string => fs.readFileSync(readmePath, 'utf8')

  test('README.md exists', () => {
    expect(fs.existsSync(readmePath)).toBe(true)
  })

  test('the inputs table (| Name | Default | Description |) lists every input with its default', () => {
    const { header, rows } = tableUnder(readme(), 'Inputs')
    expect(header).toEqual(['Name', 'Default', 'Description'])
    const names = rows.map((r) => cellText(r[0]))
    expect([...names].sort()).toEqual(Object.keys(action.inputs).sort())
    expect(new Set(names).size).toBe(names.length)
    for (const row of rows) {
      const name = cellText(row[0])
      expect({ name, default: cellText(row[1] ?? '') }).toEqual({
        name,
        default: action.inputs[name].default,
      })
      expect({ name, described: (row[2] ?? '').length > 0 }).toEqual({ name, described: true })
    }
  })

  test('the outputs table (| Name | Description |) lists every output', () => {
    const { header, rows } = tableUnder(readme(), 'Outputs')
    expect(header).toEqual(['Name', 'Description'])
    const names = rows.map((r) => cellText(r[0]))
    expect([...names].sort()).toEqual(Object.keys(action.outputs).sort())
    for (const row of rows) {
      expect({ name: row[0], described: (row[1] ?? '').length > 0 }).toEqual({
        name: row[0],
        described: true,
      })
    }
  })
})
