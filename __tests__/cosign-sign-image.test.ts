import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { signImage } from '../src/cosign/sign-image.js'

/**
 * signImage against a stand-in cosign (a shell script) that records, for each call, its arguments, its whole
 * environment and whether the --key file exists while it runs: the key file lives only during the signing, and
 * cosign sees only the environment built for it.
 */
const REF = `127.0.0.1:5000/iris@sha256:${'ab'.repeat(32)}`
const PEM =
  '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nc2VjcmV0LWtleS1ib2R5\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----'

let dir: string
let fakeCosign: string
let record: string

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sign-image-'))
  record = path.join(dir, 'calls.log')
  fakeCosign = path.join(dir, 'cosign')
  fs.writeFileSync(
    fakeCosign,
    [
      '#!/bin/sh',
      `log='${record}'`,
      'echo "ARGS $*" >> "$log"',
      'key=""; prev=""; for a in "$@"; do [ "$prev" = "--key" ] && key="$a"; prev="$a"; done',
      'if [ -n "$key" ] && [ -f "$key" ]; then echo "KEYFILE $(stat -c %a "$key") $(head -c 40 "$key")" >> "$log"; fi',
      'env | sort | sed "s/^/ENV /" >> "$log"',
      '[ "$COSIGN_FAKE_FAIL" = "$1" ] && { echo "boom: registry said no" >&2; exit 1; }',
      'exit 0',
      '',
    ].join('\n'),
    { mode: 0o755 },
  )
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

function calls(): string[] {
  return fs.readFileSync(record, 'utf8').split('\n')
}

describe('signImage with a PEM key', () => {
  test('signs, attests each predicate, with the key in a 0600 file only while cosign runs', async () => {
    fs.rmSync(record, { force: true })
    const temp = path.join(dir, 'runner-temp')
    const result = await signImage({
      cosign: { path: fakeCosign, version: '2.6.5', origin: 'path' },
      imageRef: REF,
      key: PEM,
      password: 'key-password',
      keyless: false,
      tlogUpload: false,
      allowHttpRegistry: true,
      attestations: [
        { type: 'cyclonedx', predicate: '/r/sbom.cdx.json' },
        { type: 'vuln', predicate: '/r/trivy-vuln.cosign.json' },
      ],
      tempDir: temp,
      env: {
        PATH: process.env.PATH,
        HOME: '/home/runner',
        GITHUB_TOKEN: 'ghs_x',
        MLFLOW_TRACKING_PASSWORD: 'm',
      },
    })
    expect(result).toEqual({
      method: 'key',
      imageRef: REF,
      attestations: ['cyclonedx', 'vuln'],
      cosignVersion: '2.6.5',
      tlogUpload: false,
    })
    const lines = calls()
    const args = lines.filter((l) => l.startsWith('ARGS '))
    expect(args).toHaveLength(3)
    expect(args[0]).toMatch(
      /^ARGS sign --yes --key \S+\/cosign\.key --tlog-upload=false --allow-http-registry=true /,
    )
    expect(args[1]).toContain('attest --yes --key')
    expect(args[1]).toContain('--type cyclonedx --predicate /r/sbom.cdx.json')
    expect(args[2]).toContain('--type vuln --predicate /r/trivy-vuln.cosign.json')
    // The key file existed, 0600, with the key, during every call...
    expect(
      lines.filter((l) => l.startsWith('KEYFILE 600 -----BEGIN ENCRYPTED SIGSTORE')),
    ).toHaveLength(3)
    // ...and is gone now, directory and all.
    expect(fs.readdirSync(temp)).toEqual([])
    // cosign's environment: PATH, HOME, the password; nothing else of the action's.
    const envNames = lines.filter((l) => l.startsWith('ENV ')).map((l) => l.slice(4).split('=')[0])
    // (PWD, SHLVL, _: what the shell itself may set.)
    const shell = new Set(['PWD', 'OLDPWD', 'SHLVL', '_'])
    expect([...new Set(envNames.filter((n) => !shell.has(n)))].sort()).toEqual([
      'COSIGN_PASSWORD',
      'HOME',
      'PATH',
    ])
    expect(lines).toContain('ENV COSIGN_PASSWORD=key-password')
  })

  test('a failing cosign is one line naming the step; the key file is removed all the same', async () => {
    fs.rmSync(record, { force: true })
    const temp = path.join(dir, 'runner-temp-2')
    await expect(
      signImage({
        cosign: { path: fakeCosign, version: '2.6.5', origin: 'path' },
        imageRef: REF,
        key: PEM,
        password: '',
        keyless: false,
        tlogUpload: true,
        allowHttpRegistry: false,
        attestations: [{ type: 'cyclonedx', predicate: '/r/sbom.cdx.json' }],
        tempDir: temp,
        env: { PATH: process.env.PATH, COSIGN_FAKE_FAIL: 'attest' },
      }),
    ).rejects.toThrow(
      `cosign failed to attest cyclonedx to ${REF} (exit 1): boom: registry said no`,
    )
    expect(fs.readdirSync(temp)).toEqual([])
  })
})

describe('signImage keyless', () => {
  test('no key, no password, the OIDC request variables, the log on', async () => {
    fs.rmSync(record, { force: true })
    const result = await signImage({
      cosign: { path: fakeCosign, version: '2.6.5', origin: 'path' },
      imageRef: REF.replace('127.0.0.1:5000', 'ghcr.io/org'),
      key: '',
      password: '',
      keyless: true,
      tlogUpload: false,
      allowHttpRegistry: false,
      attestations: [],
      tempDir: path.join(dir, 'runner-temp-3'),
      env: {
        PATH: process.env.PATH,
        ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token.example/oidc',
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token',
        GITHUB_ACTIONS: 'true',
        GITHUB_TOKEN: 'ghs_x',
      },
    })
    expect(result).toMatchObject({ method: 'keyless', tlogUpload: true })
    const lines = calls()
    expect(lines.filter((l) => l.startsWith('ARGS '))).toEqual([
      `ARGS sign --yes ghcr.io/org/iris@sha256:${'ab'.repeat(32)}`,
    ])
    expect(lines).toContain('ENV ACTIONS_ID_TOKEN_REQUEST_URL=https://token.example/oidc')
    expect(lines).toContain('ENV ACTIONS_ID_TOKEN_REQUEST_TOKEN=request-token')
    expect(
      lines.some((l) => l.startsWith('ENV COSIGN_PASSWORD') || l.startsWith('ENV GITHUB_TOKEN')),
    ).toBe(false)
  })
})
