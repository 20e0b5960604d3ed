import { describe, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ConfigurationError } from '../src/errors.js'
import { cosignReleaseAsset, parseCosignVersion } from '../src/cosign/release.js'
import {
  cosignAttestArgs,
  cosignEnvironment,
  cosignKeyKind,
  cosignSignArgs,
} from '../src/cosign/sign-args.js'
import { writeTemporaryKey } from '../src/cosign/sign-image.js'

const REF = `127.0.0.1:5000/iris@sha256:${'ab'.repeat(32)}`
const PEM =
  '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabc\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----'

describe('cosign-key', () => {
  test('a PEM private key or a KMS URI; anything else is refused without being quoted', () => {
    expect(cosignKeyKind(PEM)).toBe('pem')
    expect(cosignKeyKind('-----BEGIN EC PRIVATE KEY-----\nx\n-----END EC PRIVATE KEY-----')).toBe(
      'pem',
    )
    expect(cosignKeyKind('awskms:///arn:aws:kms:us-east-1:1:key/abc')).toBe('kms')
    expect(cosignKeyKind('gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k')).toBe('kms')
    expect(cosignKeyKind('hashivault://transit-key')).toBe('kms')
    expect(() => cosignKeyKind('my-secret-value')).toThrow(ConfigurationError)
    try {
      cosignKeyKind('my-secret-value')
    } catch (error) {
      expect((error as Error).message).not.toContain('my-secret-value')
    }
  })
})

describe('cosign arguments', () => {
  const offline = {
    keyRef: '/tmp/k/cosign.key',
    tlogUpload: false,
    allowHttpRegistry: true,
    version: '2.6.5',
  }

  test('sign: a digest, the key, no transparency log, plain HTTP for a loopback registry', () => {
    expect(cosignSignArgs(offline, REF)).toEqual([
      'sign',
      '--yes',
      '--key',
      '/tmp/k/cosign.key',
      '--tlog-upload=false',
      '--allow-http-registry=true',
      REF,
    ])
  })

  test('attest: the predicate type and file', () => {
    expect(cosignAttestArgs(offline, 'cyclonedx', '/r/sbom.cdx.json', REF)).toEqual([
      'attest',
      '--yes',
      '--key',
      '/tmp/k/cosign.key',
      '--tlog-upload=false',
      '--allow-http-registry=true',
      '--type',
      'cyclonedx',
      '--predicate',
      '/r/sbom.cdx.json',
      REF,
    ])
  })

  test('cosign 3 without a log also leaves its signing config out', () => {
    expect(cosignSignArgs({ ...offline, version: '3.0.2' }, REF)).toContain(
      '--use-signing-config=false',
    )
    expect(cosignSignArgs({ ...offline, tlogUpload: true, version: '3.0.2' }, REF)).not.toContain(
      '--use-signing-config=false',
    )
  })

  test('keyless (the documented contract): no --key, the log on, a public registry', () => {
    expect(
      cosignSignArgs(
        { tlogUpload: true, allowHttpRegistry: false, version: '2.6.5' },
        REF.replace('127.0.0.1:5000', 'ghcr.io/org'),
      ),
    ).toEqual(['sign', '--yes', `ghcr.io/org/iris@sha256:${'ab'.repeat(32)}`])
  })

  test('signs digests only, never a tag', () => {
    expect(() => cosignSignArgs(offline, '127.0.0.1:5000/iris:latest')).toThrow(/digests only/)
  })
})

describe("cosign's environment, built from nothing", () => {
  const runner = {
    PATH: '/usr/bin',
    HOME: '/home/runner',
    DOCKER_CONFIG: '/home/runner/.docker',
    GITHUB_TOKEN: 'ghs_secret',
    MLFLOW_TRACKING_PASSWORD: 'mlflow-secret',
    INPUT_COSIGN_KEY: PEM,
    INPUT_COSIGN_PASSWORD: 'pw',
    COSIGN_PASSWORD: 'from-env',
    AWS_ACCESS_KEY_ID: 'AKIA',
    SIGSTORE_REKOR_URL: 'https://rekor.example',
    ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token.actions.example/oidc',
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-request-token',
    GITHUB_ACTIONS: 'true',
  }

  test('a key: the runner basics and the password, none of the action secrets, no OIDC, no KMS', () => {
    expect(cosignEnvironment('key', runner, 'pw')).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/runner',
      DOCKER_CONFIG: '/home/runner/.docker',
      SIGSTORE_REKOR_URL: 'https://rekor.example',
      COSIGN_PASSWORD: 'pw',
    })
  })

  test('a KMS key also gets the provider credentials', () => {
    expect(cosignEnvironment('kms', runner, '')).toMatchObject({
      AWS_ACCESS_KEY_ID: 'AKIA',
      COSIGN_PASSWORD: '',
    })
  })

  test("keyless: GitHub's OIDC request variables (id-token: write), no password", () => {
    const env = cosignEnvironment('keyless', runner, 'pw')
    expect(env).toMatchObject({
      ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token.actions.example/oidc',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-request-token',
      GITHUB_ACTIONS: 'true',
    })
    expect(env).not.toHaveProperty('COSIGN_PASSWORD')
    expect(env).not.toHaveProperty('AWS_ACCESS_KEY_ID')
    expect(env).not.toHaveProperty('GITHUB_TOKEN')
  })

  test('keyless without id-token: write is a configuration error that says so', () => {
    const { ACTIONS_ID_TOKEN_REQUEST_URL: _u, ACTIONS_ID_TOKEN_REQUEST_TOKEN: _t, ...rest } = runner
    expect(() => cosignEnvironment('keyless', rest, '')).toThrow(
      /ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set: give the job `permissions: id-token: write`/,
    )
  })
})

describe('the key file', () => {
  test('0600 in a fresh 0700 directory, removed with its directory', () => {
    const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'cosign-key-'))
    const key = writeTemporaryKey(PEM, temp)
    expect(fs.statSync(key.file).mode & 0o777).toBe(0o600)
    expect(fs.statSync(path.dirname(key.file)).mode & 0o777).toBe(0o700)
    expect(fs.readFileSync(key.file, 'utf8').trim()).toBe(PEM)
    key.remove()
    expect(fs.existsSync(path.dirname(key.file))).toBe(false)
    expect(fs.readdirSync(temp)).toEqual([])
  })
})

describe('cosign releases', () => {
  test('the binary and the checksums file of a version', () => {
    expect(cosignReleaseAsset('2.6.5', 'linux', 'x64', 'https://mirror.example/dl/')).toEqual({
      binary: 'cosign-linux-amd64',
      checksums: 'cosign_checksums.txt',
      binaryUrl: 'https://mirror.example/dl/v2.6.5/cosign-linux-amd64',
      checksumsUrl: 'https://mirror.example/dl/v2.6.5/cosign_checksums.txt',
    })
    expect(cosignReleaseAsset('2.6.5', 'darwin', 'arm64').binary).toBe('cosign-darwin-arm64')
    expect(cosignReleaseAsset('2.6.5', 'win32', 'x64').binary).toBe('cosign-windows-amd64.exe')
    expect(() => cosignReleaseAsset('2.6.5', 'aix', 'ppc64')).toThrow(/no release for aix/)
  })

  test('the version cosign reports', () => {
    expect(parseCosignVersion('GitVersion:    v2.6.5\nGitCommit:  unknown\n')).toBe('2.6.5')
    expect(parseCosignVersion('GitVersion:    (devel)')).toBeUndefined()
  })
})
