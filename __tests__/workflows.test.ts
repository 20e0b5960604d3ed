import { describe, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parse as parseYaml } from 'yaml'

// The repository's own workflows pin every third-party action by full commit SHA with the version in a comment
// (`uses: actions/checkout@<40 hex> # v7.0.1`), as the README tells users to pin this action: a tag can be moved.
const WORKFLOWS = path.join(process.cwd(), '.github', 'workflows')
const files = fs.readdirSync(WORKFLOWS).filter((name) => /\.ya?ml$/.test(name))

interface Workflow {
  jobs: Record<string, { steps?: { uses?: string }[]; environment?: unknown }>
}

describe('.github/workflows', () => {
  test.each(files)('%s pins third-party actions by commit SHA with a version comment', (name) => {
    const text = fs.readFileSync(path.join(WORKFLOWS, name), 'utf8')
    const uses = text.split('\n').filter((line) => /^\s*(- )?uses:/.test(line))
    expect(uses.length).toBeGreaterThan(0)
    for (const line of uses) {
      const ref = line.replace(/^\s*(- )?uses:\s*/, '')
      if (ref.startsWith('./')) continue
      expect(ref).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/)
    }
  })

  test('CI runs on Node 24, the runtime action.yml declares', () => {
    const action = parseYaml(fs.readFileSync(path.join(process.cwd(), 'action.yml'), 'utf8')) as {
      runs: { using: string }
    }
    expect(action.runs.using).toBe('node24')
    const ci = fs.readFileSync(path.join(WORKFLOWS, 'ci.yml'), 'utf8')
    const versions = [...ci.matchAll(/node-version:\s*(\S+)/g)].map((m) => m[1])
    expect(versions.length).toBeGreaterThan(0)
    expect(new Set(versions)).toEqual(new Set(['24']))
  })

  test('the release job waits for the release environment', () => {
    const release = parseYaml(
      fs.readFileSync(path.join(WORKFLOWS, 'release.yml'), 'utf8'),
    ) as Workflow
    const writers = Object.values(release.jobs).filter((job) =>
      JSON.stringify(job).includes('"contents":"write"'),
    )
    expect(writers.length).toBe(1)
    expect(writers[0].environment).toMatchObject({ name: 'release' })
  })
})
