/**
 * Integration: the build stage on the real Docker engine (scripts/stack/dockerd.sh) with the example Dockerfile
 * and the local Debian 12 + Node.js base image. Independent checks: the docker CLI (inspect, run, exec) and the
 * TypeScript model's own predictions.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { buildImage, type BuildResult } from '../src/docker/build-image.js'
import { CommandError } from '../src/errors.js'
import { trainModel, type TrainResult } from '../src/train/train-stage.js'
import {
  copyExampleContext,
  docker,
  removeContainers,
  removeImages,
  requireDocker,
  uniqueName,
} from './stack/docker.js'
import { MLSECOPS_BASE_IMAGE, REPO_ROOT } from './stack/env.js'

const SHA = '0123456789abcdef0123456789abcdef01234567'
let tmp: string
let context: string
let train: TrainResult
let build: BuildResult
const image = `${uniqueName('mlsecops-itest-build')}:${SHA.slice(0, 7)}`
const container = uniqueName('mlsecops-itest-serve')
const failingImage = `${uniqueName('mlsecops-itest-fail')}:x`

/** Runs JavaScript with the image's own node inside the container (containers here have no network). */
function nodeInContainer(script: string): string {
  return docker(['exec', container, 'node', '-e', script], { timeoutMs: 60_000 })
}

async function waitForHealth(): Promise<unknown> {
  const script =
    "fetch('http://127.0.0.1:8080/health').then(r => r.text().then(t => { process.stdout.write(JSON.stringify({status: r.status, body: t})) }))"
  let lastError: unknown
  for (let i = 0; i < 50; i++) {
    try {
      const out = JSON.parse(nodeInContainer(script)) as { status: number; body: string }
      if (out.status === 200) return JSON.parse(out.body)
    } catch (error) {
      lastError = error
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`the container never answered /health: ${String(lastError)}`)
}

beforeAll(async () => {
  requireDocker()
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlsecops-build-'))
  context = copyExampleContext(path.join(tmp, 'context'))
  train = trainModel({
    dataset: '',
    targetColumn: '',
    testSize: 0.2,
    seed: 42,
    modelDir: path.join(tmp, 'model'),
  })
  build = await buildImage({
    dockerfile: path.join(context, 'Dockerfile'),
    context,
    image,
    buildArgs: { BASE_IMAGE: MLSECOPS_BASE_IMAGE },
    modelDir: train.modelDir,
    modelName: 'iris-classifier',
    revision: SHA,
    source: 'https://github.com/example/iris',
    datasetDigest: train.dataset.digest,
    accuracy: train.metrics.accuracy,
    runId: 'abc123run',
    modelVersion: '7',
    modelUri: 'models:/iris-classifier/7',
    created: new Date('2026-01-02T03:04:05.000Z'),
  })
})

afterAll(() => {
  // The legacy builder keeps the container of a failed RUN step: remove the ones our failing build left.
  const leftovers = docker([
    'ps',
    '--all',
    '--filter',
    'status=exited',
    '--no-trunc',
    '--format',
    '{{.ID}}\t{{.Command}}',
  ])
    .split('\n')
    .filter((line) => line.includes('the step failed on purpose'))
    .map((line) => line.split('\t')[0])
  removeContainers(container, ...leftovers)
  removeImages(image, failingImage)
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

describe('buildImage on the real engine', () => {
  it('returns the id docker reports, and removes the staged model from the context', () => {
    const id = docker(['image', 'inspect', '--format', '{{.Id}}', image]).trim()
    expect(build.imageId).toBe(id)
    expect(build.imageId).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(build.image).toBe(image)
    expect(fs.existsSync(path.join(context, '.mlsecops'))).toBe(false)
  })

  it('labels the image with the commit, the source, the MLflow run and the model', () => {
    const labels = JSON.parse(
      docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', image]),
    ) as Record<string, string>
    expect(labels).toMatchObject({
      'org.opencontainers.image.revision': SHA,
      'org.opencontainers.image.source': 'https://github.com/example/iris',
      'org.opencontainers.image.created': '2026-01-02T03:04:05.000Z',
      'org.opencontainers.image.title': 'iris-classifier',
      'io.mlsecops.mlflow.run-id': 'abc123run',
      'io.mlsecops.model-name': 'iris-classifier',
      'io.mlsecops.model-version': '7',
      'io.mlsecops.model-uri': 'models:/iris-classifier/7',
      'io.mlsecops.dataset-digest': train.dataset.digest,
      'io.mlsecops.accuracy': String(train.metrics.accuracy),
    })
    expect(build.labels).toMatchObject(build.requestedLabels)
  })

  it('puts the trained model directory into the image, byte for byte', () => {
    const inImage = docker([
      'run',
      '--rm',
      '--network',
      'none',
      '--entrypoint',
      'cat',
      image,
      '/app/model/model.json',
    ])
    expect(inImage).toBe(fs.readFileSync(path.join(train.modelDir, 'model.json'), 'utf8'))
  })

  it('serves /health and /predict with the same labels as the TypeScript model', async () => {
    docker(['run', '--detach', '--network', 'none', '--name', container, image])
    const health = (await waitForHealth()) as { status: string; classes: string[] }
    expect(health.status).toBe('ok')
    expect(health.classes).toEqual(train.model.file.classLabels)

    const rows = train.holdout.rows
    const script = `fetch('http://127.0.0.1:8080/predict', {method: 'POST', headers: {'content-type': 'application/json'}, body: process.argv[1]}).then(r => r.text()).then(t => process.stdout.write(t))`
    const answer = JSON.parse(
      docker(['exec', container, 'node', '-e', script, JSON.stringify({ rows })]),
    ) as { labels: string[] }
    expect(answer.labels).toEqual(train.model.predict(rows))
    expect(answer.labels).toEqual(train.holdout.predicted)
    // The process runs as the image's unprivileged user.
    expect(docker(['exec', container, 'id', '-u']).trim()).toBe('10001')
  })

  it('fails with a CommandError that quotes the last lines of the build output', async () => {
    const failContext = path.join(tmp, 'failing')
    fs.cpSync(path.join(REPO_ROOT, '__fixtures__', 'images', 'failing-build'), failContext, {
      recursive: true,
    })
    const attempt = buildImage({
      dockerfile: path.join(failContext, 'Dockerfile'),
      context: failContext,
      image: failingImage,
      buildArgs: { BASE_IMAGE: MLSECOPS_BASE_IMAGE },
      modelDir: train.modelDir,
      modelName: 'iris-classifier',
    })
    await expect(attempt).rejects.toBeInstanceOf(CommandError)
    const message = await attempt.catch((e: Error) => e.message)
    expect(message).toMatch(/^docker build failed \(exit \d+\)/)
    expect(message).toContain('the step failed on purpose')
    expect(message).toContain('build line 40')
    expect(message).not.toContain('build line 2 |')
    expect(fs.existsSync(path.join(failContext, '.mlsecops'))).toBe(false)
  })
})
