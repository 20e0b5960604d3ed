/**
 * Integration: exceptions a security team can audit, through the whole action (`node dist/index.js`) against the
 * real stack: the image built by dockerd from the local Debian 12 base, the real Trivy 0.74 with the test DB,
 * MLflow, the artifact service and the code-scanning endpoint. The workspace holds a `.trivyignore.yaml` with an
 * entry expiring tomorrow (with a statement), one that expired yesterday, one scoped by `purls`, and an OpenVEX
 * document marking a fourth advisory not_affected.
 *
 * Independent checks: which findings the image must have comes from its own dpkg database
 * (expectedVulnerabilities); what Trivy suppressed is read from its JSON report directly; MLflow is read back
 * with MLflow's Python client; the SARIF that reached the endpoint is validated with the SARIF Multitool.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { runActionProcess, type ActionProcessResult } from './stack/action-process.js'
import { removeImages } from './stack/docker.js'
import { MLSECOPS_BASE_IMAGE } from './stack/env.js'
import { readWithMlflowPython } from './stack/mlflow-server.js'
import {
  preparePipelineDirs,
  startPipelineServices,
  type PipelineServices,
} from './stack/pipeline-stack.js'
import { multitoolValidate, schemaValidate } from './stack/sarif.js'
import { expectedVulnerabilities, type ExpectedVulnerability } from './stack/trivy-test-db.js'

jest.setTimeout(900_000)

const OWNER = 'octo'
const REPO = 'iris-exceptions'
const TOKEN = `ghs_${crypto.randomBytes(18).toString('hex')}`

let tmp: string
let workspace: string
let cacheDir: string
let services: PipelineServices
let expected: ExpectedVulnerability[]
const images: string[] = []

function utcDate(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10)
}
const TOMORROW = utcDate(1)
const YESTERDAY = utcDate(-1)

const IGNORE_YAML = `# Reviewed by the security team.
vulnerabilities:
  - id: CVE-2099-1001
    statement: zlib only inflates our own model files
    expired_at: ${TOMORROW}
  - id: CVE-2099-1002
    statement: accepted until yesterday
    expired_at: ${YESTERDAY}
  - id: CVE-2099-1003
    purls:
      - pkg:deb/debian/nodejs
      - pkg:deb/debian/libnode108
    statement: the server never parses untrusted input with it
`

const OPENVEX = {
  '@context': 'https://openvex.dev/ns/v0.2.0',
  '@id': 'https://example.com/vex/iris-1',
  author: 'security@example.com',
  timestamp: '2026-12-01T00:00:00Z',
  version: 1,
  statements: [
    {
      vulnerability: { name: 'CVE-2099-1004' },
      products: [{ '@id': 'pkg:deb/debian/tar' }],
      status: 'not_affected',
      justification: 'vulnerable_code_not_in_execute_path',
      impact_statement: 'tar is never run in the serving image',
    },
  ],
}

async function runAction(
  name: string,
  inputs: Record<string, string>,
): Promise<ActionProcessResult> {
  const run = await runActionProcess({
    tmp,
    name,
    inputs: {
      'mlflow-tracking-uri': services.mlflow.url,
      'github-token': TOKEN,
      'trivy-cache-dir': cacheDir,
      'trivy-skip-db-update': 'true',
      'build-args': `BASE_IMAGE=${MLSECOPS_BASE_IMAGE}`,
      ...inputs,
    },
    workspace,
    repository: `${OWNER}/${REPO}`,
    env: { ...services.env(), RUNNER_TOOL_CACHE: path.join(tmp, 'tool-cache') },
  })
  images.push(`${REPO}:${run.sha.slice(0, 7)}`)
  return run
}

function keys(list: readonly { id: string; pkgName: string }[]): string[] {
  return list.map((e) => `${e.id} ${e.pkgName}`).sort()
}

beforeAll(async () => {
  ;({ tmp, workspace, cacheDir } = preparePipelineDirs('mlsecops-exceptions-', {
    repositoryCopy: true,
  }))
  fs.writeFileSync(path.join(workspace, '.trivyignore.yaml'), IGNORE_YAML)
  fs.mkdirSync(path.join(workspace, 'security'))
  fs.writeFileSync(
    path.join(workspace, 'security', 'tar.openvex.json'),
    JSON.stringify(OPENVEX, null, 2),
  )
  fs.mkdirSync(path.join(workspace, 'bad'))
  fs.writeFileSync(
    path.join(workspace, 'bad', '.trivyignore.yaml'),
    'vulnerabilities:\n  - id: CVE-2099-1001\n    statement: "unterminated\n  - id: CVE-2099-1002\n',
  )
  services = await startPipelineServices(tmp, { owner: OWNER, repo: REPO, token: TOKEN })
  expected = expectedVulnerabilities(MLSECOPS_BASE_IMAGE)
}, 300_000)

afterAll(async () => {
  await services?.stop()
  removeImages(...images)
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

describe('exceptions through the whole action', () => {
  let run: ActionProcessResult
  const suppressedIds = ['CVE-2099-1001', 'CVE-2099-1003', 'CVE-2099-1004']

  it('three live exceptions are out of the counts and the gate; the expired one fails the gate with HIGH', async () => {
    // The fixture has what the case needs: each advisory matches packages of the image.
    for (const id of [...suppressedIds, 'CVE-2099-1002'])
      expect(expected.some((e) => e.id === id)).toBe(true)
    expect(expected.find((e) => e.id === 'CVE-2099-1002')?.severity).toBe('HIGH')

    run = await runAction('exceptions', { vex: 'security/tar.openvex.json' })
    expect(run.code).toBe(1)
    const errors = run.stdout.split('\n').filter((l) => l.startsWith('::error'))
    expect(errors).toHaveLength(1)
    // Only the expired exception's advisory trips the gate.
    expect(errors[0]).toMatch(/at or above fail-on-severity HIGH: \d+ HIGH \(CVE-2099-1002\)/)

    // Trivy's own JSON report: what it suppressed, and what it kept.
    const report = JSON.parse(fs.readFileSync(run.outputs['json-report'], 'utf8')) as {
      Results: {
        Vulnerabilities?: { VulnerabilityID: string; PkgName: string; Severity: string }[]
        ExperimentalModifiedFindings?: {
          Status: string
          Source: string
          Finding: { VulnerabilityID?: string; PkgName?: string }
        }[]
      }[]
    }
    const modified = report.Results.flatMap((r) => r.ExperimentalModifiedFindings ?? [])
    const suppressedExpected = expected.filter((e) => suppressedIds.includes(e.id))
    expect(
      keys(
        modified.map((m) => ({
          id: m.Finding.VulnerabilityID ?? '',
          pkgName: m.Finding.PkgName ?? '',
        })),
      ),
    ).toEqual(keys(suppressedExpected))
    const kept = report.Results.flatMap((r) => r.Vulnerabilities ?? [])
    expect(keys(kept.map((v) => ({ id: v.VulnerabilityID, pkgName: v.PkgName })))).toEqual(
      keys(expected.filter((e) => !suppressedIds.includes(e.id))),
    )

    // Outputs: counts without the suppressed findings; `suppressed` counts them.
    expect(run.outputs.suppressed).toBe(String(suppressedExpected.length))
    expect(run.outputs.critical).toBe('0') // CVE-2099-1001 was the only CRITICAL
    const raw = report as unknown as {
      Results: {
        Vulnerabilities?: { Severity: string }[]
        Secrets?: { Severity: string }[]
        Misconfigurations?: { Severity: string; Status: string }[]
      }[]
    }
    const high = raw.Results.flatMap((r) => [
      ...(r.Vulnerabilities ?? []),
      ...(r.Secrets ?? []),
      ...(r.Misconfigurations ?? []).filter((m) => m.Status === 'FAIL'),
    ]).filter((f) => f.Severity === 'HIGH').length
    expect(run.outputs.high).toBe(String(high))
    expect(high).toBe(expected.filter((e) => e.id === 'CVE-2099-1002').length)
    expect(run.outputs.gate).toBe('failed')
  })

  it('a warning annotation names the entry expiring tomorrow (id, file, date); the expired one is named too', () => {
    const warnings = run.stdout.split('\n').filter((l) => l.startsWith('::warning'))
    expect(warnings).toContainEqual(
      `::warning title=Exception expiring soon,file=.trivyignore.yaml,line=3::Ignore entry CVE-2099-1001 in .trivyignore.yaml expires on ${TOMORROW} (within 14 days): renew it with a reason, or fix the finding.`,
    )
    expect(warnings).toContainEqual(
      `::warning title=Expired exception,file=.trivyignore.yaml,line=6::Ignore entry CVE-2099-1002 in .trivyignore.yaml expired on ${YESTERDAY}: it no longer suppresses anything.`,
    )
  })

  it('report.md lists every suppressed finding with why, its source and until when, and the expired entry', () => {
    // The step's own work directory (<RUNNER_TEMP>/mlsecops/<step>-<random>) is the parent of model-dir.
    const md = fs.readFileSync(
      path.join(path.dirname(run.outputs['model-dir']), 'report.md'),
      'utf8',
    )
    const n = expected.filter((e) => suppressedIds.includes(e.id)).length
    expect(md).toContain(`## Suppressed (${n})`)
    for (const e of expected.filter((x) => x.id === 'CVE-2099-1003')) {
      expect(md).toMatch(
        new RegExp(
          `\\| HIGH \\| CVE-2099-1003 \\| vuln \\| [^|]+ \\| ${e.pkgName} \\| [^|]+ \\| the server never parses untrusted input with it \\| ignore file \\| \\.trivyignore\\.yaml:9 \\| no expiry \\|`,
        ),
      )
    }
    expect(md).toMatch(
      new RegExp(
        `\\| CRITICAL \\| CVE-2099-1001 \\| .*\\| zlib only inflates our own model files \\| ignore file \\| \\.trivyignore\\.yaml:3 \\| ${TOMORROW} \\|`,
      ),
    )
    expect(md).toMatch(
      /\| MEDIUM \| CVE-2099-1004 \| .*\| not_affected: vulnerable_code_not_in_execute_path: tar is never run in the serving image \| VEX \(not_affected\) \| security\/tar\.openvex\.json \|/,
    )
    expect(md).toContain('### Expired exceptions (1): they suppress nothing')
    expect(md).toContain(
      `| CVE-2099-1002 | vulnerabilities | .trivyignore.yaml:6 | ${YESTERDAY} | accepted until yesterday |`,
    )
    // The expired one is a finding like any other.
    expect(md).toMatch(/## Findings[\s\S]*\| HIGH \| CVE-2099-1002 \|/)
  })

  it('the job summary counts them and lists them collapsed, and names the expired entry', () => {
    const n = expected.filter((e) => suppressedIds.includes(e.id)).length
    expect(run.summary).toContain(`### Suppressed: ${n}`)
    expect(run.summary).toContain(`<details><summary>The ${n} suppressed finding(s)</summary>`)
    expect(run.summary).toContain('security/tar.openvex.json (not_affected)')
    expect(run.summary).toContain(
      `**Expired exceptions (1)**, they suppress nothing: \`CVE-2099-1002\` (.trivyignore.yaml:6, expired ${YESTERDAY}).`,
    )
    expect(run.summary).toContain(
      `**Expiring soon (1)**: \`CVE-2099-1001\` (.trivyignore.yaml:3, until ${TOMORROW}).`,
    )
  })

  it('MLflow: scan_suppressed and the ids as tags, each suppressed finding in the version description', () => {
    const view = readWithMlflowPython(services.mlflow.url, {
      experiment: 'mlsecops',
      model_name: REPO,
    }) as {
      versions: { version: string; tags: Record<string, string>; description?: string }[]
    }
    const version = view.versions.find((v) => v.version === run.outputs['model-version'])!
    expect(version.tags.scan_suppressed).toBe(run.outputs.suppressed)
    expect(version.tags.scan_suppressed_ids.split(',').sort()).toEqual(suppressedIds)
    expect(version.tags.scan_status).toBe('failed')
    expect(version.tags.scan_critical).toBe('0')
    const description = version.description ?? ''
    // What registration wrote stays; the exceptions follow.
    expect(description).toMatch(/^Trained on /)
    expect(description).toContain('Scan exceptions:')
    expect(description).toContain(
      `CVE-2099-1001 in zlib1g CRITICAL: zlib only inflates our own model files (.trivyignore.yaml:3, until ${TOMORROW})`,
    )
    expect(description).toContain('(VEX security/tar.openvex.json)')
    expect(description).toContain(
      `expired, suppresses nothing: CVE-2099-1002 (.trivyignore.yaml:6, expired ${YESTERDAY})`,
    )
  })

  it('the SARIF sent to code scanning validates and holds no suppressed result (no alert for them)', () => {
    const upload = services.codeScanning.uploads.find((u) => u.id === run.outputs['sarif-id'])!
    expect(upload).toBeDefined()
    const file = path.join(tmp, 'exceptions.sarif')
    fs.writeFileSync(file, upload.sarifText)
    expect(schemaValidate(upload.sarif)).toEqual([])
    expect(multitoolValidate(file, tmp).filter((v) => v.level === 'error')).toEqual([])
    const results = (upload.sarif.runs as { results: { ruleId: string }[] }[])[0].results
    const ruleIds = new Set(results.map((r) => r.ruleId))
    for (const id of suppressedIds) expect(ruleIds.has(id)).toBe(false)
    expect(ruleIds.has('CVE-2099-1002')).toBe(true)
  })

  it('a malformed YAML ignore file fails at once with one line naming the file and the line', async () => {
    const bad = await runAction('malformed', { trivyignores: 'bad/.trivyignore.yaml' })
    expect(bad.code).toBe(1)
    const errors = bad.stdout.split('\n').filter((l) => l.startsWith('::error'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(
      /^::error::Ignore file bad\/\.trivyignore\.yaml line \d+: not valid YAML/,
    )
    // Nothing ran: no training, no MLflow run, no image.
    expect(bad.stdout).not.toMatch(/Holdout accuracy/)
    expect(bad.outputs['run-id']).toBeUndefined()
  })
})
