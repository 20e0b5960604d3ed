import { describe, expect, test } from '@jest/globals'
import {
  imageRegistry,
  imageRepository,
  isLoopbackRegistry,
  parsePushDigest,
  repoDigestFor,
} from '../src/push/push-image.js'
import { renderPromoteSection, sbomPredicateType } from '../src/push/promote-stage.js'
import { verdictTags } from '../src/publish/mlflow-verdict.js'

const DIGEST = `sha256:${'ab'.repeat(32)}`

describe('image references', () => {
  test.each([
    ['ghcr.io/org/model:1.2', 'ghcr.io/org/model', 'ghcr.io'],
    ['127.0.0.1:5000/iris:abc', '127.0.0.1:5000/iris', '127.0.0.1:5000'],
    ['127.0.0.1:5000/iris', '127.0.0.1:5000/iris', '127.0.0.1:5000'],
    [`localhost/a/b:t@${DIGEST}`, 'localhost/a/b', 'localhost'],
    ['model:latest', 'model', 'docker.io'],
    ['org/model:1', 'org/model', 'docker.io'],
  ])('%s: repository %s, registry %s', (image, repository, registry) => {
    expect(imageRepository(image)).toBe(repository)
    expect(imageRegistry(image)).toBe(registry)
  })

  test('loopback registries are the plain-HTTP ones', () => {
    expect(isLoopbackRegistry('127.0.0.1:5000')).toBe(true)
    expect(isLoopbackRegistry('127.3.2.1')).toBe(true)
    expect(isLoopbackRegistry('localhost:5000')).toBe(true)
    expect(isLoopbackRegistry('[::1]:5000')).toBe(true)
    expect(isLoopbackRegistry('ghcr.io')).toBe(false)
    expect(isLoopbackRegistry('127.example.com')).toBe(false)
  })
})

describe('the digest of a push', () => {
  test("from docker push's last line", () => {
    const out = [
      'The push refers to repository [127.0.0.1:5000/iris]',
      '5f70bf18a086: Pushed',
      `abc: digest: ${DIGEST} size: 1234`,
    ].join('\n')
    expect(parsePushDigest(out)).toBe(DIGEST)
    expect(parsePushDigest('5f70bf18a086: Pushed')).toBeUndefined()
  })

  test("from the image's RepoDigests, for the pushed repository only", () => {
    const other = `sha256:${'cd'.repeat(32)}`
    expect(
      repoDigestFor(
        ['other/repo@' + other, `127.0.0.1:5000/iris@${DIGEST}`],
        '127.0.0.1:5000/iris',
      ),
    ).toBe(DIGEST)
    expect(repoDigestFor(['other/repo@' + other], '127.0.0.1:5000/iris')).toBeUndefined()
  })
})

describe('the promote summary', () => {
  const sbom = {
    file: '/tmp/reports/sbom.cdx.json',
    format: 'cyclonedx' as const,
    components: 123,
    sha256: 'f'.repeat(64),
  }

  test('pushed, signed and the SBOM, one row each', () => {
    const text = renderPromoteSection({
      pushed: {
        image: '127.0.0.1:5000/iris:abc',
        repository: '127.0.0.1:5000/iris',
        digest: DIGEST,
        imageRef: `127.0.0.1:5000/iris@${DIGEST}`,
        durationMs: 10,
      },
      signed: {
        method: 'key',
        imageRef: `127.0.0.1:5000/iris@${DIGEST}`,
        attestations: ['cyclonedx', 'vuln'],
        cosignVersion: '2.6.5',
        tlogUpload: false,
      },
      sbom,
    })
    expect(text).toContain(
      `| Pushed | \`127.0.0.1:5000/iris:abc\` as \`127.0.0.1:5000/iris@${DIGEST}\` |`,
    )
    expect(text).toContain(
      '| Signed | cosign key pair, cosign 2.6.5, no transparency log; attestations: cyclonedx, vuln |',
    )
    expect(text).toContain('| SBOM | CycloneDX, 123 components (image packages and the model)')
  })

  test('a skipped or failed push says why', () => {
    expect(renderPromoteSection({ skipped: 'a gate failed', sbom })).toContain(
      '| Pushed | no (a gate failed) |',
    )
    const failed = renderPromoteSection({
      failure: new Error('docker push x failed (exit 1): connection refused'),
      failedStep: 'push',
    })
    expect(failed).toContain(
      '| Pushed | failed: docker push x failed (exit 1): connection refused |',
    )
    expect(failed).toContain('| SBOM | none |')
  })

  test("cosign's predicate types for the SBOM formats", () => {
    expect(sbomPredicateType('cyclonedx')).toBe('cyclonedx')
    expect(sbomPredicateType('spdx-json')).toBe('spdxjson')
  })
})

describe('the verdict tags of a promotion', () => {
  test('image_digest, image_signature, sbom_format and sbom_sha256 when there is something to say', () => {
    const ref = `127.0.0.1:5000/iris@${DIGEST}`
    const tags = verdictTags({
      gatePassed: true,
      gateFailures: [],
      imageRef: ref,
      signature: 'key',
      sbomFormat: 'cyclonedx',
      sbomSha256: 'f'.repeat(64),
    })
    expect(tags).toEqual(
      expect.arrayContaining([
        { key: 'image_digest', value: ref },
        { key: 'image_signature', value: 'key' },
        { key: 'sbom_format', value: 'cyclonedx' },
        { key: 'sbom_sha256', value: 'f'.repeat(64) },
      ]),
    )
    const keys = verdictTags({ gatePassed: false, gateFailures: ['x'] }).map((t) => t.key)
    expect(keys).not.toEqual(expect.arrayContaining(['image_digest']))
    expect(keys).not.toContain('sbom_sha256')
  })
})
