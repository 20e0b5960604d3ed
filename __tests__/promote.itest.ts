/**
 * Promote exactly what was scanned (issue 13): `node dist/index.js` against a real registry (Debian's
 * docker-registry on 127.0.0.1), real dockerd, real Trivy with the test DB, real MLflow and cosign built from the
 * Go module proxy. Independent checks: the registry's Docker-Content-Digest (HTTP HEAD with the manifest Accept
 * headers), MLflow's Python client, CycloneDX's own strict validator and the SPDX tools, `cosign verify` and
 * `cosign verify-attestation` with the public key, and a trivy wrapper on PATH that counts `trivy image` runs.
 *
 * dist/ must be fresh (`npm run build`), or MLSECOPS_DIST must point at a fresh bundle.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { runActionProcess, visibleLines, type ActionProcessResult } from './stack/action-process.js'
import { docker, removeImages } from './stack/docker.js'
import {
  COSIGN_BINARY,
  MLSECOPS_BASE_IMAGE,
  MLSECOPS_COSIGN_DIR,
  MLSECOPS_SBOM_VENV,
  REPO_ROOT,
  TRIVY_BINARY,
} from './stack/env.js'
import { freePort, readWithMlflowPython, type MlflowServer } from './stack/mlflow-server.js'
import {
  preparePipelineDirs,
  startPipelineServices,
  type PipelineServices,
} from './stack/pipeline-stack.js'
import { startRegistry, type LocalRegistry } from './stack/registry.js'

jest.setTimeout(900_000)

const OWNER = 'octo'
const REPO = 'iris-promote'
const MODEL = REPO
const TOKEN = `ghs_${crypto.randomBytes(18).toString('hex')}`
const KEY_PASSWORD = `pw-${crypto.randomBytes(12).toString('hex')}`

let tmp: string
let workspace: string
let cacheDir: string
let services: PipelineServices
let mlflow: MlflowServer
let registry: LocalRegistry
let binDir: string
let trivyLog: string
let keyDir: string
const images: string[] = []

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

/** A `trivy` on PATH that logs each invocation's arguments, then runs the real one. */
function writeTrivyWrapper(): void {
  const wrapper = path.join(binDir, 'trivy')
  fs.writeFileSync(
    wrapper,
    `#!/bin/sh\nprintf '%s\\n' "$*" >> '${trivyLog}'\nexec '${TRIVY_BINARY}' "$@"\n`,
    { mode: 0o755 },
  )
}

/** The `trivy image` scans logged since `from` (the DB download is `image --download-db-only`). */
function trivyImageScans(from: number): string[] {
  const lines = fs.existsSync(trivyLog) ? fs.readFileSync(trivyLog, 'utf8').split('\n') : []
  return lines
    .slice(from)
    .filter((l) => l.startsWith('image ') && !l.includes('--download-db-only'))
}

function trivyLogLength(): number {
  return fs.existsSync(trivyLog) ? fs.readFileSync(trivyLog, 'utf8').split('\n').length - 1 : 0
}

async function runAction(
  name: string,
  inputs: Record<string, string>,
): Promise<ActionProcessResult> {
  const run = await runActionProcess({
    tmp,
    name,
    inputs: {
      'mlflow-tracking-uri': mlflow.url,
      'github-token': TOKEN,
      'trivy-cache-dir': cacheDir,
      'trivy-skip-db-update': 'true',
      'build-args': `BASE_IMAGE=${MLSECOPS_BASE_IMAGE}`,
      'upload-sarif': 'false',
      ...inputs,
    },
    workspace,
    repository: `${OWNER}/${REPO}`,
    env: {
      ...services.env(),
      // The counting trivy wrapper first, then cosign 2.6.5.
      PATH: `${binDir}${path.delimiter}${MLSECOPS_COSIGN_DIR}${path.delimiter}${process.env.PATH ?? ''}`,
      RUNNER_TOOL_CACHE: path.join(tmp, 'tool-cache'),
    },
  })
  if (inputs.image) images.push(inputs.image)
  return run
}

interface MlflowView {
  run: { status: string; artifacts: string[] }
  versions: { version: string; run_id: string; tags: Record<string, string> }[]
  aliases: Record<string, string>
}

function readMlflow(runId: string): MlflowView {
  return readWithMlflowPython(mlflow.url, {
    experiment: 'mlsecops',
    run_id: runId,
    model_name: MODEL,
  }) as unknown as MlflowView
}

function validateSbom(kind: 'cyclonedx' | 'spdx', file: string): string[] {
  const out = execFileSync(
    path.join(MLSECOPS_SBOM_VENV, 'bin', 'python'),
    [path.join(REPO_ROOT, '__tests__', 'stack', 'sbom_validate.py'), kind, file],
    { encoding: 'utf8' },
  )
  return (JSON.parse(out.trim().split('\n').at(-1)!) as { errors: string[] }).errors
}

/** Runs cosign with the test key's directory as working directory; returns the exit code and output. */
function cosign(args: string[]): { code: number | null; output: string } {
  const result = spawnSync(COSIGN_BINARY, args, {
    cwd: keyDir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: keyDir, COSIGN_PASSWORD: KEY_PASSWORD },
    timeout: 120_000,
  })
  return { code: result.status, output: `${result.stdout}${result.stderr}` }
}

function verifyArgs(ref: string): string[] {
  return [
    'verify',
    '--key',
    path.join(keyDir, 'cosign.pub'),
    '--insecure-ignore-tlog=true',
    '--allow-http-registry=true',
    ref,
  ]
}

function verifyAttestationArgs(ref: string): string[] {
  return [
    'verify-attestation',
    '--key',
    path.join(keyDir, 'cosign.pub'),
    '--type',
    'cyclonedx',
    '--insecure-ignore-tlog=true',
    '--allow-http-registry=true',
    ref,
  ]
}

/** The ::error:: lines of a run. */
function errorLines(run: ActionProcessResult): string[] {
  return run.stdout.split('\n').filter((l) => l.startsWith('::error'))
}

beforeAll(async () => {
  if (!fs.existsSync(COSIGN_BINARY)) {
    throw new Error(`${COSIGN_BINARY} is missing: run scripts/stack/install.sh`)
  }
  ;({ tmp, workspace, cacheDir } = preparePipelineDirs('mlsecops-promote-'))
  binDir = path.join(tmp, 'bin')
  fs.mkdirSync(binDir)
  trivyLog = path.join(tmp, 'trivy-invocations.log')
  writeTrivyWrapper()
  keyDir = path.join(tmp, 'keys')
  fs.mkdirSync(keyDir)
  const generated = cosign(['generate-key-pair'])
  expect(generated.code).toBe(0)
  services = await startPipelineServices(tmp, { owner: OWNER, repo: REPO, token: TOKEN })
  mlflow = services.mlflow
  registry = await startRegistry()
}, 300_000)

afterAll(async () => {
  await registry?.stop()
  await services?.stop()
  removeImages(...images)
  if (tmp && !process.env.MLSECOPS_KEEP_E2E) fs.rmSync(tmp, { recursive: true, force: true })
})

describe('push by digest, SBOM and signatures against a local registry', () => {
  let passing: ActionProcessResult

  it('passing gate: pushed; registry digest == output == MLflow tag; a valid CycloneDX SBOM with the model; signed and attested', async () => {
    const image = `${registry.host}/${REPO}:pass`
    const logFrom = trivyLogLength()
    passing = await runAction('passing', {
      image,
      'fail-on-severity': 'none',
      push: 'true',
      'cosign-key': fs.readFileSync(path.join(keyDir, 'cosign.key'), 'utf8'),
      'cosign-password': KEY_PASSWORD,
      'cosign-tlog-upload': 'false',
      'artifact-name': 'mlsecops-report-passing',
    })
    expect({ code: passing.code, stderr: passing.stderr, errors: errorLines(passing) }).toEqual({
      code: 0,
      stderr: '',
      errors: [],
    })
    const o = passing.outputs
    // The tag is moved to another image below: remove the built one by its id too.
    images.push(o['image-id'])

    // Exactly one scan: the SBOM and the cosign predicate are conversions of its JSON.
    expect(trivyImageScans(logFrom)).toHaveLength(1)

    // The registry serves the tag at the digest the action reports, and MLflow holds the same.
    const head = await registry.manifestDigest(REPO, 'pass')
    expect(head.status).toBe(200)
    expect(o.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(head.digest).toBe(o.digest)
    expect(o['image-ref']).toBe(`${registry.host}/${REPO}@${o.digest}`)
    const view = readMlflow(o['run-id'])
    const version = view.versions.find((v) => v.version === o['model-version'])!
    expect(version.tags.image_digest).toBe(o['image-ref'])
    expect(version.tags.sbom_sha256).toBe(sha256(o['sbom-report']))
    expect(view.run.artifacts).toEqual(expect.arrayContaining(['scan/sbom.cdx.json']))
    expect(view.aliases.candidate).toBe(o['model-version'])

    // CycloneDX's own strict validator takes the SBOM; it lists the base image's Debian packages and the model.
    expect(path.basename(o['sbom-report'])).toBe('sbom.cdx.json')
    expect(validateSbom('cyclonedx', o['sbom-report'])).toEqual([])
    const bom = JSON.parse(fs.readFileSync(o['sbom-report'], 'utf8')) as {
      components: {
        type: string
        purl?: string
        name: string
        version?: string
        hashes?: { alg: string; content: string }[]
        modelCard?: {
          quantitativeAnalysis: { performanceMetrics: { type: string; value: string }[] }
        }
      }[]
    }
    const debs = bom.components.filter((c) => c.purl?.startsWith('pkg:deb/debian/'))
    expect(debs.length).toBeGreaterThan(50)
    expect(debs.map((c) => c.name)).toEqual(expect.arrayContaining(['libc6', 'nodejs', 'dpkg']))
    const model = bom.components.find((c) => c.type === 'machine-learning-model')!
    expect(model).toMatchObject({ name: MODEL, version: o['model-version'] })
    const accuracy = model.modelCard!.quantitativeAnalysis.performanceMetrics.find(
      (m) => m.type === 'accuracy',
    )
    expect(Number(accuracy!.value)).toBe(Number(o.accuracy))
    const data = bom.components.find((c) => c.type === 'data')!
    expect(data.hashes).toEqual([
      { alg: 'SHA-256', content: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ])

    // Signed: cosign verifies the signature and the CycloneDX attestation with the public key.
    expect(cosign(verifyArgs(o['image-ref']))).toMatchObject({ code: 0 })
    const attestation = cosign(verifyAttestationArgs(o['image-ref']))
    expect(attestation).toMatchObject({ code: 0 })

    // The key never reached the log, and its file is gone.
    const keyBody = fs.readFileSync(path.join(keyDir, 'cosign.key'), 'utf8').split('\n')[1]
    // (The ::add-mask:: lines are the runner's to consume: they never reach the displayed log.)
    const shown = visibleLines(passing.stdout).join('\n')
    expect(shown).not.toContain(keyBody)
    expect(shown).not.toContain(KEY_PASSWORD)
    expect(fs.readdirSync(passing.runnerTemp).filter((f) => f.startsWith('cosign-'))).toEqual([])

    expect(passing.summary).toContain('### Promote')
    expect(passing.summary).toContain(`as \`${o['image-ref']}\``)
    expect(passing.summary).toMatch(
      /\| Signed \| cosign key pair, cosign 2\.6\.5, no transparency log; attestations: cyclonedx, vuln \|/,
    )
    expect(passing.summary).toMatch(/\| SBOM \| CycloneDX, \d+ components/)
  })

  it('an image pushed to the same tag without the action fails cosign verify', () => {
    const image = `${registry.host}/${REPO}:pass`
    const foreign = `${registry.host}/${REPO}:foreign`
    docker(['tag', MLSECOPS_BASE_IMAGE, foreign])
    docker(['tag', MLSECOPS_BASE_IMAGE, image])
    images.push(foreign)
    docker(['push', image])
    const pushed = JSON.parse(
      docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', image]),
    ) as string[]
    const ref = pushed.find((d) => d.startsWith(`${registry.host}/${REPO}@`))!
    expect(ref).not.toBe(passing.outputs['image-ref'])
    expect(cosign(verifyArgs(image)).code).not.toBe(0)
    expect(cosign(verifyArgs(ref)).code).not.toBe(0)
    expect(cosign(verifyAttestationArgs(ref)).code).not.toBe(0)
  })

  it('failing gate: nothing pushed (the registry has no such tag); the SPDX SBOM validates', async () => {
    const logFrom = trivyLogLength()
    const failing = await runAction('failing', {
      image: `${registry.host}/${REPO}:fail`,
      push: 'true',
      'sbom-format': 'spdx-json',
      'artifact-name': 'mlsecops-report-failing',
    })
    expect(failing.code).toBe(1)
    expect(failing.outputs.gate).toBe('failed')
    expect(failing.outputs.digest).toBe('')
    expect(failing.outputs['image-ref']).toBe('')
    expect(trivyImageScans(logFrom)).toHaveLength(1)
    const head = await registry.manifestDigest(REPO, 'fail')
    expect(head.status).toBe(404)
    expect(failing.summary).toContain('| Pushed | no (a gate failed) |')

    expect(path.basename(failing.outputs['sbom-report'])).toBe('sbom.spdx.json')
    expect(validateSbom('spdx', failing.outputs['sbom-report'])).toEqual([])
    const doc = JSON.parse(fs.readFileSync(failing.outputs['sbom-report'], 'utf8')) as {
      packages: { name: string; externalRefs?: { referenceLocator: string }[] }[]
    }
    expect(doc.packages.map((p) => p.name)).toEqual(expect.arrayContaining(['libc6', MODEL]))
    const view = readMlflow(failing.outputs['run-id'])
    expect(view.aliases.candidate).toBe(passing.outputs['model-version'])
  })

  it('registry down: the job fails with one line and the alias stays', async () => {
    const port = await freePort()
    const down = await runAction('registry-down', {
      image: `127.0.0.1:${port}/${REPO}:down`,
      'fail-on-severity': 'none',
      push: 'true',
    })
    expect(down.code).toBe(1)
    const errors = errorLines(down)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(new RegExp(`docker push 127\\.0\\.0\\.1:${port}/${REPO}:down failed`))
    expect(down.outputs.gate).toBe('passed')
    expect(down.outputs.digest).toBe('')
    const view = readMlflow(down.outputs['run-id'])
    expect(view.aliases.candidate).toBe(passing.outputs['model-version'])
    expect(down.outputs['model-version']).not.toBe(passing.outputs['model-version'])
    expect(view.run.status).toBe('FAILED')
  })
})
