import { describe, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {
  FINGERPRINT_KEY,
  addPartialFingerprints,
  imageNameWithoutTag,
  imagePathUri,
  relativizeImageLocations,
} from '../src/publish/sarif-fingerprints.js'
import type { SarifLog, SarifResult } from '../src/publish/sarif-limits.js'

const FIXTURE = path.resolve('__tests__/fixtures/code-scanning/trivy-small.sarif')

function fixture(): SarifLog {
  return JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as SarifLog
}

function vuln(rule: string, pkg: string, version: string, uri = 'library/model'): SarifResult {
  return {
    ruleId: rule,
    message: { text: `Package: ${pkg}\nInstalled Version: ${version}\nVulnerability ${rule}` },
    locations: [{ physicalLocation: { artifactLocation: { uri, uriBaseId: 'ROOTPATH' } } }],
  }
}

function logOf(results: SarifResult[], imageName?: string): SarifLog {
  return {
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'Trivy' } },
        results,
        ...(imageName ? { properties: { imageName } } : {}),
      },
    ],
  }
}

function fingerprints(log: SarifLog): string[] {
  return log.runs.flatMap((run) =>
    (run.results ?? []).map(
      (r) => (r.partialFingerprints as Record<string, string>)[FINGERPRINT_KEY],
    ),
  )
}

describe('imageNameWithoutTag', () => {
  test.each([
    ['mlsecops-model:0123456', 'mlsecops-model'],
    ['mlsecops-model', 'mlsecops-model'],
    ['ghcr.io/org/model:1.2.3', 'ghcr.io/org/model'],
    ['localhost:5000/model:abc', 'localhost:5000/model'],
    ['localhost:5000/model', 'localhost:5000/model'],
    [`ghcr.io/org/model:1.2@sha256:${'a'.repeat(64)}`, 'ghcr.io/org/model'],
    [`ghcr.io/org/model@sha256:${'b'.repeat(64)}`, 'ghcr.io/org/model'],
  ])('%s -> %s', (reference, name) => {
    expect(imageNameWithoutTag(reference)).toBe(name)
  })
})

describe('addPartialFingerprints', () => {
  test('every result of the Trivy fixture gets a distinct fingerprint; nothing else changes', () => {
    const before = fixture()
    const after = addPartialFingerprints(before)
    const prints = fingerprints(after)
    expect(prints).toHaveLength(before.runs[0].results!.length)
    expect(new Set(prints).size).toBe(prints.length)
    for (const print of prints) expect(print).toMatch(/^[0-9a-f]{64}:1$/)
    const stripped = JSON.parse(JSON.stringify(after)) as SarifLog
    for (const r of stripped.runs[0].results!) delete r.partialFingerprints
    expect(stripped).toEqual(fixture())
    expect(before.runs[0].results![0].partialFingerprints).toBeUndefined()
  })

  test('the same findings under another tag of the image keep their fingerprints', () => {
    const results = [vuln('CVE-1', 'libc6', '2.36-9'), vuln('CVE-2', 'zlib1g', '1:1.2.13')]
    const a = addPartialFingerprints(logOf(results), 'model:aaaaaaa')
    const b = addPartialFingerprints(logOf(results), 'model:bbbbbbb')
    const c = addPartialFingerprints(logOf(results, 'model:ccccccc'))
    expect(fingerprints(a)).toEqual(fingerprints(b))
    expect(fingerprints(c)).toEqual(fingerprints(a))
  })

  test('an upgraded package still affected by the same advisory stays one finding', () => {
    const before = addPartialFingerprints(logOf([vuln('CVE-1', 'libc6', '2.36-9')]), 'model:1')
    const after = addPartialFingerprints(
      logOf([vuln('CVE-1', 'libc6', '2.36-9+deb12u1')]),
      'model:2',
    )
    expect(fingerprints(after)).toEqual(fingerprints(before))
  })

  test('a different image, rule, package or path is a different finding', () => {
    const base = fingerprints(
      addPartialFingerprints(logOf([vuln('CVE-1', 'libc6', '1')]), 'model:1'),
    )[0]
    const variants = [
      addPartialFingerprints(logOf([vuln('CVE-1', 'libc6', '1')]), 'other-model:1'),
      addPartialFingerprints(logOf([vuln('CVE-9', 'libc6', '1')]), 'model:1'),
      addPartialFingerprints(logOf([vuln('CVE-1', 'libc-bin', '1')]), 'model:1'),
      addPartialFingerprints(
        logOf([vuln('CVE-1', 'libc6', '1', 'usr/lib/app/package-lock.json')]),
        'model:1',
      ),
    ].map((log) => fingerprints(log)[0])
    expect(new Set([base, ...variants]).size).toBe(5)
  })

  test('findings equal in all four are numbered in order, per run', () => {
    const secret = (line: number): SarifResult => ({
      ruleId: 'aws-access-key-id',
      message: { text: 'Artifact: app/.env\nType: \nSecret AWS Access Key ID' },
      locations: [
        {
          physicalLocation: { artifactLocation: { uri: 'app/.env' }, region: { startLine: line } },
        },
      ],
    })
    const prints = fingerprints(addPartialFingerprints(logOf([secret(3), secret(9)]), 'model:1'))
    expect(prints[0].split(':')[0]).toBe(prints[1].split(':')[0])
    expect(prints.map((p) => p.split(':')[1])).toEqual(['1', '2'])
  })

  test('the rule comes from ruleIndex when ruleId is absent; fingerprints already there are kept', () => {
    const log: SarifLog = {
      version: '2.1.0',
      runs: [
        {
          tool: { driver: { name: 'Trivy', rules: [{ id: 'CVE-1' }] } },
          results: [
            {
              ...vuln('CVE-1', 'libc6', '1'),
              ruleId: undefined,
              ruleIndex: 0,
              partialFingerprints: { other: 'x' },
            },
          ],
        },
      ],
    }
    const withId = fingerprints(addPartialFingerprints(logOf([vuln('CVE-1', 'libc6', '1')]), 'm:1'))
    const after = addPartialFingerprints(log, 'm:2')
    expect(after.runs[0].results![0].partialFingerprints).toEqual({
      other: 'x',
      [FINGERPRINT_KEY]: withId[0],
    })
  })
})

describe('image-configuration findings (location = the image reference)', () => {
  test.each([
    ['model:abc', 'library/model'],
    ['org/model:1', 'org/model'],
    ['ghcr.io/org/model:1', 'org/model'],
    ['localhost:5000/model:abc', 'model'],
  ])('imagePathUri(%s) = %s', (reference, uri) => {
    expect(imagePathUri(reference)).toBe(uri)
  })

  const rootUser = (reference: string): SarifResult => ({
    ruleId: 'DS002',
    message: { text: 'Artifact: ' + reference + '\nType: dockerfile' },
    locations: [
      { physicalLocation: { artifactLocation: { uri: reference, uriBaseId: 'ROOTPATH' } } },
    ],
  })

  test('the location becomes the relative image path; other locations stay', () => {
    const log = logOf(
      [rootUser('model:run1'), vuln('CVE-1', 'libc6', '1', 'library/model')],
      'model:run1',
    )
    const after = relativizeImageLocations(log)
    const uris = after.runs[0].results!.map(
      (r) =>
        (r.locations as { physicalLocation: { artifactLocation: { uri: string } } }[])[0]
          .physicalLocation.artifactLocation.uri,
    )
    expect(uris).toEqual(['library/model', 'library/model'])
    expect(log.runs[0].results![0].locations).toEqual(rootUser('model:run1').locations)
  })

  test('its fingerprint does not change with the tag', () => {
    const a = addPartialFingerprints(logOf([rootUser('model:run1')]), 'model:run1')
    const b = addPartialFingerprints(logOf([rootUser('model:run2')]), 'model:run2')
    const c = addPartialFingerprints(
      relativizeImageLocations(logOf([rootUser('model:run3')]), 'model:run3'),
      'model:run3',
    )
    expect(fingerprints(b)).toEqual(fingerprints(a))
    expect(fingerprints(c)).toEqual(fingerprints(a))
  })
})
