import { afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as core from '../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { setSecret } = core
const { ConfigurationError } = await import('../src/errors.js')
const { getInputs } = await import('../src/inputs.js')

const saved = { ...process.env }
let workspace: string

function setInputs(inputs: Record<string, string>): void {
  for (const key of Object.keys(process.env)) {
    if (key.startsWith('INPUT_') || key.startsWith('GITHUB_')) delete process.env[key]
  }
  process.env.GITHUB_WORKSPACE = workspace
  for (const [k, v] of Object.entries(inputs)) process.env[`INPUT_${k.toUpperCase()}`] = v
}

function failure(inputs: Record<string, string>): InstanceType<typeof ConfigurationError> {
  setInputs(inputs)
  try {
    getInputs()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as Error).message).not.toMatch(/[\r\n]/)
    return error as InstanceType<typeof ConfigurationError>
  }
  throw new Error('getInputs() accepted a bad value')
}

const PEM = [
  '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----',
  'eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjo2NTUzNiwiciI6OCwicCI6MX0s',
  'InNhbHQiOiJ0ZXN0In19',
  '-----END ENCRYPTED SIGSTORE PRIVATE KEY-----',
].join('\n')

beforeAll(() => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'promote-inputs-'))
})
afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
  Object.assign(process.env, saved)
  setSecret.mockClear()
})

describe('push, sbom-format and the cosign inputs', () => {
  test('defaults: no push, a CycloneDX SBOM, no signing, cosign 2.6.5 with the transparency log', () => {
    setInputs({})
    expect(getInputs()).toMatchObject({
      push: false,
      sbomFormat: 'cyclonedx',
      cosignKey: '',
      cosignPassword: '',
      cosignKeyless: false,
      cosignVersion: '2.6.5',
      cosignTlogUpload: true,
    })
  })

  test('takes spdx-json and none, in any case; refuses other formats', () => {
    setInputs({ 'sbom-format': 'SPDX-JSON' })
    expect(getInputs().sbomFormat).toBe('spdx-json')
    setInputs({ 'sbom-format': 'none' })
    expect(getInputs().sbomFormat).toBe('none')
    expect(failure({ 'sbom-format': 'syft' }).message).toMatch(
      /'sbom-format' is 'syft': use one of cyclonedx, spdx-json, none/,
    )
  })

  test('the key and the password are masked, the key line by line too, and never quoted in errors', () => {
    setInputs({ push: 'true', 'cosign-key': PEM, 'cosign-password': 'hunter2-password' })
    const inputs = getInputs()
    expect(inputs.cosignKey).toBe(PEM)
    const masked = setSecret.mock.calls.map((c) => c[0])
    expect(masked).toEqual(expect.arrayContaining([PEM, 'hunter2-password', ...PEM.split('\n')]))
    const e = failure({ 'cosign-key': PEM })
    expect(e.message).toMatch(/only a pushed image \(its digest\) can be signed; set push: true/)
    expect(e.message).not.toContain('eyJrZGYi')
  })

  test('key and keyless together are refused; signing needs push; push needs build and scan', () => {
    expect(failure({ push: 'true', 'cosign-key': PEM, 'cosign-keyless': 'true' }).message).toMatch(
      /sign with a key or keyless, not both/,
    )
    expect(failure({ 'cosign-keyless': 'true' }).input).toBe('push')
    expect(failure({ push: 'true', scan: 'false' }).message).toMatch(
      /only the image that was built and scanned here is pushed/,
    )
    expect(failure({ push: 'yes' }).message).toMatch(/'push' is 'yes': use true or false/)
  })

  test('cosign-version takes a release with or without v', () => {
    setInputs({ 'cosign-version': 'v3.0.2' })
    expect(getInputs().cosignVersion).toBe('3.0.2')
    expect(failure({ 'cosign-version': 'latest' }).message).toMatch(/use a release such as 2.6.5/)
  })
})
