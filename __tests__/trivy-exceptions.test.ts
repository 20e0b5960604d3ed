// Unit tests of the exceptions: ignore files (YAML and plain) parsed and checked with file and line, expiry
// (Trivy's rule), the merged file Trivy reads and the attribution of its suppressed findings, VEX documents,
// require-ignore-reason and the annotations, and the sections of report.md, the job summary and MLflow.
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parse as parseYaml } from 'yaml'

import * as core from '../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { warning, info } = core

const { ConfigurationError } = await import('../src/errors.js')
const { attributeStatement, classifyExpiry, parseExpiry, parseIgnoreFile, renderMergedIgnoreFile } =
  await import('../src/trivy/ignore-file.js')
const { attributeSuppressed, exceptionsView, loadExceptions, writeTrivyExceptionFiles } =
  await import('../src/trivy/exceptions.js')
const { parseVexFile, renderOpenVex, vexReason } = await import('../src/trivy/vex-file.js')
const { suppressedFromReport, findingsFromReport } = await import('../src/trivy/report.js')
const { renderScanReport } = await import('../src/publish/report-text.js')
const { renderSuppressedSection } = await import('../src/publish/job-summary.js')
const { exceptionsDescription, verdictTags } = await import('../src/publish/mlflow-verdict.js')
const { resolveWorkspaceFile } = await import('../src/inputs.js')

const NOW = Date.UTC(2026, 11, 8, 12, 0, 0) // 2026-12-08T12:00Z

const YAML_FILE = `# accepted exceptions
vulnerabilities:
  - id: CVE-2099-1001
    statement: zlib is only used to read our own files
    expired_at: 2026-12-09
  - id: CVE-2099-1002
    expired_at: 2026-12-07
    statement: was accepted until yesterday
  - id: CVE-2099-1003
    purls:
      - pkg:deb/debian/nodejs
      - pkg:deb/debian/libnode108
    statement: the server never parses untrusted input
misconfigurations:
  - id: DS002
    paths: ["Dockerfile"]
    statement: root is needed at build time only
    expired_at: 2027-06-30T00:00:00Z
secrets:
  - id: private-key
    paths: ["/app/test/fixtures/*.pem"]
    statement: test fixture key, never deployed
`

let tmp: string
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'exceptions-unit-'))
  warning.mockClear()
  info.mockClear()
})
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }))

function write(name: string, text: string): { path: string; name: string } {
  const file = path.join(tmp, name)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, text)
  return { path: file, name }
}

function errorOf(fn: () => unknown): Error {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a throw')
}

describe('YAML ignore files', () => {
  it('reads every list with id, paths, purls, statement, expiry, file and line', () => {
    const entries = parseIgnoreFile(YAML_FILE, '.trivyignore.yaml')
    expect(entries.map((e) => [e.kind, e.id, e.line])).toEqual([
      ['vulnerabilities', 'CVE-2099-1001', 3],
      ['vulnerabilities', 'CVE-2099-1002', 6],
      ['vulnerabilities', 'CVE-2099-1003', 9],
      ['misconfigurations', 'DS002', 15],
      ['secrets', 'private-key', 20],
    ])
    expect(entries[0]).toMatchObject({
      statement: 'zlib is only used to read our own files',
      expiredAt: '2026-12-09',
      expiresAtMs: Date.UTC(2026, 11, 9),
      file: '.trivyignore.yaml',
    })
    expect(entries[2].purls).toEqual(['pkg:deb/debian/nodejs', 'pkg:deb/debian/libnode108'])
    expect(entries[3].expiresAtMs).toBe(Date.UTC(2027, 5, 30))
    expect(entries[4].paths).toEqual(['/app/test/fixtures/*.pem'])
  })

  it('an empty file or empty lists hold no entries', () => {
    expect(parseIgnoreFile('', 'a.yaml')).toEqual([])
    expect(parseIgnoreFile('# nothing\n', 'a.yaml')).toEqual([])
    expect(parseIgnoreFile('vulnerabilities:\nsecrets: []\n', 'a.yml')).toEqual([])
  })

  const MALFORMED: [string, string, number, RegExp][] = [
    ['broken YAML', 'vulnerabilities:\n  - id: CVE-1\n    paths: [a, b\n', 4, /not valid YAML/],
    [
      'a typo in a list name',
      'vulnerabilites:\n  - id: CVE-1\n',
      1,
      /'vulnerabilites' is not a list/,
    ],
    [
      'a typo in a field',
      'secrets:\n  - id: x\n    statment: why\n',
      3,
      /'statment' is not a field/,
    ],
    ['an entry without id', 'vulnerabilities:\n  - statement: why\n', 2, /has no id/],
    [
      'a bad date',
      'vulnerabilities:\n  - id: CVE-1\n    expired_at: 31/12/2026\n',
      3,
      /not a date/,
    ],
    [
      'an impossible date',
      'vulnerabilities:\n  - id: CVE-1\n    expired_at: 2026-02-30\n',
      3,
      /not a date/,
    ],
    [
      'purls on secrets',
      'secrets:\n  - id: x\n    purls: [pkg:deb/debian/a]\n',
      3,
      /vulnerabilities only/,
    ],
    [
      'a purl that is not one',
      'vulnerabilities:\n  - id: CVE-1\n    purls: [zlib]\n',
      3,
      /not a package URL/,
    ],
    ['a list that is a string', 'vulnerabilities: CVE-1\n', 1, /must be a list/],
    [
      'paths not a list',
      'vulnerabilities:\n  - id: CVE-1\n    paths: a\n',
      3,
      /'paths' must be a list/,
    ],
    ['a duplicate key', 'vulnerabilities:\n  - id: CVE-1\n    id: CVE-2\n', 3, /not valid YAML/],
  ]
  it.each(MALFORMED)('%s: one line naming the file and the line', (_what, text, line, why) => {
    const error = errorOf(() => parseIgnoreFile(text, 'config/.trivyignore.yaml'))
    expect(error).toBeInstanceOf(ConfigurationError)
    expect(error.message).not.toContain('\n')
    expect(error.message).toMatch(
      new RegExp(`^Ignore file config/\\.trivyignore\\.yaml line ${line}: `),
    )
    expect(error.message).toMatch(why)
  })
})

describe('plain ignore files', () => {
  it('one id a line, exp: dates, comment lines just above an id as its statement', () => {
    const entries = parseIgnoreFile(
      '# header, not about CVE-1\n\n# accepted: not reachable\nCVE-1\nCVE-2 exp:2026-12-01\n\nAVD-DS-0002\n',
      '.trivyignore',
    )
    expect(entries.map((e) => [e.kind, e.id, e.line, e.statement, e.expiredAt])).toEqual([
      ['all', 'CVE-1', 4, 'accepted: not reachable', ''],
      ['all', 'CVE-2', 5, '', '2026-12-01'],
      ['all', 'AVD-DS-0002', 7, '', ''],
    ])
  })

  it('a bad exp: is an error with the line (Trivy would skip the entry with a warning)', () => {
    const error = errorOf(() => parseIgnoreFile('CVE-1\nCVE-2 exp:tomorrow\n', 'ignore.txt'))
    expect(error.message).toBe(
      "Ignore file ignore.txt line 2: 'exp:tomorrow' is not an expiry; write exp:YYYY-MM-DD.",
    )
  })
})

describe('expiry', () => {
  it('parses dates as midnight UTC and times with a zone', () => {
    expect(parseExpiry('2026-12-09')).toBe(Date.UTC(2026, 11, 9))
    expect(parseExpiry('2026-12-09T10:00:00+02:00')).toBe(Date.UTC(2026, 11, 9, 8))
    expect(parseExpiry('2026-12-09T10:00:00')).toBeUndefined() // no zone: ambiguous
    expect(parseExpiry('next week')).toBeUndefined()
  })

  it('expired before now suppresses nothing; live within the window warns', () => {
    const entries = parseIgnoreFile(YAML_FILE, '.trivyignore.yaml')
    const c = classifyExpiry(entries, NOW, 14)
    expect(c.expired.map((e) => e.id)).toEqual(['CVE-2099-1002'])
    expect(c.live.map((e) => e.id)).toEqual([
      'CVE-2099-1001',
      'CVE-2099-1003',
      'DS002',
      'private-key',
    ])
    expect(c.expiringSoon.map((e) => e.id)).toEqual(['CVE-2099-1001'])
    expect(classifyExpiry(entries, NOW, 0).expiringSoon).toEqual([])
    // An expiry at this very instant has not passed yet (Trivy: ExpiredAt.Before(now)).
    expect(classifyExpiry(entries, Date.UTC(2026, 11, 9), 0).expired.map((e) => e.id)).toEqual([
      'CVE-2099-1002',
    ])
  })
})

describe('the merged file and attribution', () => {
  it('one YAML file in Trivy format; plain ids in every list; statements carry their source', () => {
    const entries = [
      ...parseIgnoreFile(YAML_FILE, '.trivyignore.yaml'),
      ...parseIgnoreFile('# why\nCVE-3\n', '.trivyignore'),
    ]
    const merged = parseYaml(renderMergedIgnoreFile(entries)) as Record<
      string,
      Record<string, unknown>[]
    >
    expect(merged.vulnerabilities.map((e) => e.id)).toEqual([
      'CVE-2099-1001',
      'CVE-2099-1002',
      'CVE-2099-1003',
      'CVE-3',
    ])
    expect(merged.secrets.map((e) => e.id)).toEqual(['private-key', 'CVE-3'])
    expect(merged.licenses.map((e) => e.id)).toEqual(['CVE-3'])
    expect(merged.vulnerabilities[0]).toEqual({
      id: 'CVE-2099-1001',
      expired_at: '2026-12-09T00:00:00Z',
      statement: 'zlib is only used to read our own files [mlsecops: .trivyignore.yaml:3]',
    })
    expect(merged.vulnerabilities[2].purls).toEqual([
      'pkg:deb/debian/nodejs',
      'pkg:deb/debian/libnode108',
    ])
    const back = attributeStatement(String(merged.vulnerabilities[3].statement), entries)
    expect(back?.entry.file).toBe('.trivyignore')
    expect(back?.statement).toBe('why')
    expect(attributeStatement('someone else', entries)).toBeUndefined()
  })
})

describe('VEX documents', () => {
  const OPENVEX = JSON.stringify({
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': 'x',
    author: 'sec',
    timestamp: '2026-12-01T00:00:00Z',
    version: 1,
    statements: [
      {
        vulnerability: { name: 'CVE-2099-1004' },
        products: [{ '@id': 'pkg:deb/debian/tar' }],
        status: 'not_affected',
        justification: 'vulnerable_code_not_in_execute_path',
        impact_statement: 'tar is never run in the image',
      },
    ],
  })

  it('OpenVEX: the statement is the reason', () => {
    const doc = parseVexFile(OPENVEX, 'vex/app.openvex.json')
    expect(doc.format).toBe('openvex')
    expect(vexReason([doc], 'CVE-2099-1004')).toBe(
      'not_affected: vulnerable_code_not_in_execute_path: tar is never run in the image',
    )
    expect(vexReason([doc], 'CVE-1')).toBeUndefined()
  })

  it('CycloneDX VEX is translated to OpenVEX (Trivy reads CycloneDX VEX only for SBOM scans)', () => {
    const cdx = JSON.stringify({
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      components: [{ 'bom-ref': 'tar-ref', name: 'tar', purl: 'pkg:deb/debian/tar' }],
      vulnerabilities: [
        {
          id: 'CVE-2099-1004',
          analysis: {
            state: 'not_affected',
            justification: 'code_not_reachable',
            detail: 'never run',
          },
          affects: [{ ref: 'tar-ref' }],
        },
      ],
    })
    const doc = parseVexFile(cdx, 'vex.cdx.json')
    expect(doc.format).toBe('cyclonedx')
    const openVex = JSON.parse(renderOpenVex(doc, '2026-12-08T00:00:00Z')) as {
      statements: Record<string, unknown>[]
    }
    expect(openVex.statements).toEqual([
      {
        vulnerability: { name: 'CVE-2099-1004' },
        products: [{ '@id': 'pkg:deb/debian/tar' }],
        status: 'not_affected',
        justification: 'vulnerable_code_not_in_execute_path',
        impact_statement: 'never run',
      },
    ])
  })

  it('CSAF: known_not_affected products', () => {
    const csaf = JSON.stringify({
      document: { csaf_version: '2.0', category: 'csaf_vex' },
      vulnerabilities: [
        {
          cve: 'CVE-2099-1004',
          product_status: { known_not_affected: ['tar-1'] },
          threats: [{ category: 'impact', details: 'not reachable' }],
        },
      ],
    })
    const doc = parseVexFile(csaf, 'advisory.json')
    expect(doc.format).toBe('csaf')
    expect(vexReason([doc], 'CVE-2099-1004')).toBe('not_affected: not reachable')
  })

  it.each([
    ['not JSON', '{', /not valid JSON/],
    ['not VEX', '{"a":1}', /not an OpenVEX, CSAF or CycloneDX VEX document/],
    [
      'a bad status',
      '{"@context":"https://openvex.dev/ns","statements":[{"vulnerability":"CVE-1","status":"ok"}]}',
      /statement 1 \(CVE-1\) has status 'ok'/,
    ],
  ])('%s: a ConfigurationError naming the file', (_what, text, why) => {
    const error = errorOf(() => parseVexFile(text, 'vex.json'))
    expect(error).toBeInstanceOf(ConfigurationError)
    expect(error.message).toMatch(/^VEX file vex\.json: /)
    expect(error.message).toMatch(why)
  })
})

describe('loadExceptions', () => {
  it('warns with an annotation on the entry expiring soon and the expired one', () => {
    const file = write('.trivyignore.yaml', YAML_FILE)
    const ex = loadExceptions({
      ignoreFiles: [file],
      vexFiles: [],
      warningDays: 14,
      requireReason: false,
      nowMs: NOW,
    })
    expect(ex.live).toHaveLength(4)
    expect(warning).toHaveBeenCalledWith(
      'Ignore entry CVE-2099-1001 in .trivyignore.yaml expires on 2026-12-09 (within 14 days): renew it with a reason, or fix the finding.',
      { title: 'Exception expiring soon', file: '.trivyignore.yaml', startLine: 3 },
    )
    expect(warning).toHaveBeenCalledWith(
      'Ignore entry CVE-2099-1002 in .trivyignore.yaml expired on 2026-12-07: it no longer suppresses anything.',
      { title: 'Expired exception', file: '.trivyignore.yaml', startLine: 6 },
    )
    expect(warning).toHaveBeenCalledTimes(2)
  })

  it('require-ignore-reason: an entry without a statement fails, naming it', () => {
    const file = write('.trivyignore', '# reason\nCVE-1\n\nCVE-2\n')
    const error = errorOf(() =>
      loadExceptions({ ignoreFiles: [file], vexFiles: [], warningDays: 14, requireReason: true }),
    )
    expect(error).toBeInstanceOf(ConfigurationError)
    expect(error.message).toBe(
      'require-ignore-reason is true but 1 ignore entry has no statement: CVE-2 (.trivyignore:4); give each a statement saying why it is accepted.',
    )
  })

  it('a malformed file fails before anything is written', () => {
    const file = write('bad.yaml', 'vulnerabilities:\n  - id: [\n')
    expect(() =>
      loadExceptions({ ignoreFiles: [file], vexFiles: [], warningDays: 14, requireReason: false }),
    ).toThrow(/^Ignore file bad\.yaml line \d: not valid YAML/)
  })
})

describe('suppressed findings, from the report to every place that shows them', () => {
  function setup() {
    const ignore = write('.trivyignore.yaml', YAML_FILE)
    const vex = write(
      'vex.openvex.json',
      JSON.stringify({
        '@context': 'https://openvex.dev/ns/v0.2.0',
        statements: [
          {
            vulnerability: { name: 'CVE-2099-1004' },
            products: [{ '@id': 'pkg:deb/debian/tar' }],
            status: 'not_affected',
            justification: 'vulnerable_code_not_present',
            impact_statement: 'tar is not used',
          },
        ],
      }),
    )
    const ex = loadExceptions({
      ignoreFiles: [ignore],
      vexFiles: [vex],
      warningDays: 14,
      requireReason: false,
      nowMs: NOW,
    })
    const files = writeTrivyExceptionFiles(ex, path.join(tmp, 'work'))
    const merged = parseYaml(fs.readFileSync(files.ignoreFile, 'utf8')) as Record<
      string,
      { statement: string }[]
    >
    // What Trivy 0.74 writes with --show-suppressed (fields as in its JSON report).
    const report = {
      SchemaVersion: 2,
      Results: [
        {
          Target: 'img (debian 12.8)',
          Vulnerabilities: [
            { VulnerabilityID: 'CVE-2099-1002', PkgName: 'libssl3', Severity: 'HIGH' },
          ],
          ExperimentalModifiedFindings: [
            {
              Type: 'vulnerability',
              Status: 'ignored',
              Statement: merged.vulnerabilities[0].statement,
              Source: files.ignoreFile,
              Finding: {
                VulnerabilityID: 'CVE-2099-1001',
                PkgName: 'zlib1g',
                InstalledVersion: '1:1.2.13.dfsg-1',
                Severity: 'CRITICAL',
                PkgIdentifier: { PURL: 'pkg:deb/debian/zlib1g@1.2.13' },
              },
            },
            {
              Type: 'vulnerability',
              Status: 'not_affected',
              Statement: 'vulnerable_code_not_present',
              Source: vex.path,
              Finding: { VulnerabilityID: 'CVE-2099-1004', PkgName: 'tar', Severity: 'MEDIUM' },
            },
            {
              Type: 'secret',
              Status: 'ignored',
              Statement: merged.secrets[0].statement,
              Source: files.ignoreFile,
              Finding: {
                RuleID: 'private-key',
                Severity: 'HIGH',
                Title: 'Private key',
                StartLine: 1,
              },
            },
          ],
        },
      ],
    }
    const suppressed = attributeSuppressed(suppressedFromReport(report), ex, files)
    return { ex, files, report, suppressed }
  }

  it('attributes each to its entry (file:line, statement, expiry) or VEX statement', () => {
    const { suppressed, report } = setup()
    expect(findingsFromReport(report).map((f) => f.id)).toEqual(['CVE-2099-1002'])
    expect(suppressed.map((f) => [f.id, f.scanner, f.suppression])).toEqual([
      [
        'CVE-2099-1001',
        'vuln',
        {
          by: 'ignore-file',
          status: 'ignored',
          reason: 'zlib is only used to read our own files',
          source: '.trivyignore.yaml:3',
          until: '2026-12-09',
        },
      ],
      [
        'CVE-2099-1004',
        'vuln',
        {
          by: 'vex',
          status: 'not_affected',
          reason: 'not_affected: vulnerable_code_not_present: tar is not used',
          source: 'vex.openvex.json',
          until: '',
        },
      ],
      [
        'private-key',
        'secret',
        {
          by: 'ignore-file',
          status: 'ignored',
          reason: 'test fixture key, never deployed',
          source: '.trivyignore.yaml:20',
          until: '',
        },
      ],
    ])
    expect(suppressed[0].purl).toBe('pkg:deb/debian/zlib1g@1.2.13')
  })

  it('report.md, the job summary, the MLflow tags and description list them with why and until when', () => {
    const { ex, suppressed, report } = setup()
    const findings = findingsFromReport(report)
    const scan = {
      jsonReport: '/r/trivy-report.json',
      sarifReport: '/r/trivy-report.sarif',
      findings,
      suppressed,
      exceptions: exceptionsView(ex),
      counts: { UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 1, CRITICAL: 0 },
      trivyVersion: '0.74.0',
    }
    const md = renderScanReport({ scan, generatedAt: 'T' })
    expect(md).toContain('## Suppressed (3)')
    expect(md).toContain(
      '| CRITICAL | CVE-2099-1001 | vuln | img (debian 12.8) | zlib1g | 1:1.2.13.dfsg-1 | zlib is only used to read our own files | ignore file | .trivyignore.yaml:3 | 2026-12-09 |',
    )
    expect(md).toContain('| VEX (not_affected) | vex.openvex.json |')
    expect(md).toContain('### Expired exceptions (1): they suppress nothing')
    expect(md).toContain(
      '| CVE-2099-1002 | vulnerabilities | .trivyignore.yaml:6 | 2026-12-07 | was accepted until yesterday |',
    )
    expect(md).toContain('### Exceptions expiring soon (1)')

    const summary = renderSuppressedSection(scan)
    expect(summary).toMatch(/^### Suppressed: 3\n/)
    expect(summary).toContain('| ignore file | 1 | 1 | 0 | 0 | 0 | 2 |')
    expect(summary).toContain('| VEX | 0 | 0 | 1 | 0 | 0 | 1 |')
    expect(summary).toContain('<details><summary>The 3 suppressed finding(s)</summary>')
    expect(summary).toContain('`CVE-2099-1002` (.trivyignore.yaml:6, expired 2026-12-07)')
    expect(summary).toContain('`CVE-2099-1001` (.trivyignore.yaml:3, until 2026-12-09)')
    expect(renderSuppressedSection({ ...scan, suppressed: [], exceptions: undefined })).toBe('')

    const tags = Object.fromEntries(
      verdictTags({ scan, gatePassed: false, gateFailures: ['x'] }).map((t) => [t.key, t.value]),
    )
    expect(tags.scan_suppressed).toBe('3')
    expect(tags.scan_suppressed_ids).toBe('CVE-2099-1001,CVE-2099-1004,private-key')
    const description = exceptionsDescription({ scan })
    expect(description.split('\n')).toEqual([
      'Scan exceptions: 3 finding(s) suppressed, out of the counts and the gate.',
      '- CVE-2099-1001 in zlib1g CRITICAL: zlib is only used to read our own files (.trivyignore.yaml:3, until 2026-12-09)',
      '- CVE-2099-1004 in tar MEDIUM: not_affected: vulnerable_code_not_present: tar is not used (VEX vex.openvex.json)',
      '- private-key img (debian 12.8) HIGH: test fixture key, never deployed (.trivyignore.yaml:20)',
      '- expired, suppresses nothing: CVE-2099-1002 (.trivyignore.yaml:6, expired 2026-12-07)',
    ])
  })
})

describe('workspace files', () => {
  it('inside the workspace after symlinks, and a regular file', () => {
    const ws = path.join(tmp, 'ws')
    fs.mkdirSync(path.join(ws, 'dir'), { recursive: true })
    fs.writeFileSync(path.join(ws, 'ok.yaml'), '')
    fs.writeFileSync(path.join(tmp, 'outside.yaml'), '')
    fs.symlinkSync(path.join(tmp, 'outside.yaml'), path.join(ws, 'link.yaml'))
    expect(resolveWorkspaceFile('trivyignores', ws, 'ok.yaml')).toEqual({
      path: path.join(fs.realpathSync(ws), 'ok.yaml'),
      name: 'ok.yaml',
    })
    expect(() => resolveWorkspaceFile('trivyignores', ws, 'link.yaml')).toThrow(
      /^Input 'trivyignores' is 'link\.yaml': it resolves \(after symbolic links\) outside the workspace/,
    )
    expect(() => resolveWorkspaceFile('vex', ws, '../outside.yaml')).toThrow(
      /outside the workspace/,
    )
    expect(() => resolveWorkspaceFile('vex', ws, 'dir')).toThrow(/it is a directory/)
    expect(() => resolveWorkspaceFile('vex', ws, 'missing.json')).toThrow(/does not exist/)
  })
})
