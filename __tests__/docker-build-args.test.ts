import { describe, expect, it } from '@jest/globals'
import {
  MODEL_CONTEXT_DIR,
  dockerBuildArgs,
  dockerInspectArgs,
  imageLabels,
} from '../src/docker/build-args.js'
import { LineTail, formatCommandLine } from '../src/exec.js'

describe('imageLabels', () => {
  it('links the image to the commit, the repository, the MLflow run and the model', () => {
    expect(
      imageLabels({
        created: '2026-01-02T03:04:05.000Z',
        revision: 'abc123',
        source: 'https://github.com/o/r',
        modelName: 'iris',
        runId: 'run1',
        modelVersion: '3',
        modelUri: 'models:/iris/3',
        datasetDigest: 'deadbeef',
        accuracy: 0.9667,
      }),
    ).toEqual({
      'org.opencontainers.image.title': 'iris',
      'org.opencontainers.image.created': '2026-01-02T03:04:05.000Z',
      'org.opencontainers.image.revision': 'abc123',
      'org.opencontainers.image.source': 'https://github.com/o/r',
      'io.mlsecops.model-name': 'iris',
      'io.mlsecops.mlflow.run-id': 'run1',
      'io.mlsecops.model-version': '3',
      'io.mlsecops.model-uri': 'models:/iris/3',
      'io.mlsecops.dataset-digest': 'deadbeef',
      'io.mlsecops.accuracy': '0.9667',
    })
  })

  it('leaves out what is not known (no MLflow, no repository) instead of writing empty labels', () => {
    const labels = imageLabels({
      created: 'now',
      modelName: 'iris',
      revision: '',
      source: undefined,
    })
    expect(Object.keys(labels).sort()).toEqual([
      'io.mlsecops.model-name',
      'org.opencontainers.image.created',
      'org.opencontainers.image.title',
    ])
  })

  it('keeps an accuracy of 0', () => {
    expect(
      imageLabels({ created: 'now', modelName: 'm', accuracy: 0 })['io.mlsecops.accuracy'],
    ).toBe('0')
  })
})

describe('dockerBuildArgs', () => {
  it('builds one argument per value, the model directory first and the context last', () => {
    const args = dockerBuildArgs({
      dockerfile: '/ws/Dockerfile',
      context: '/ws',
      image: 'iris:abc1234',
      labels: { 'io.mlsecops.model-name': 'iris' },
      buildArgs: { BASE_IMAGE: 'local/debian-node:bookworm' },
    })
    expect(args).toEqual([
      'build',
      '--file',
      '/ws/Dockerfile',
      '--tag',
      'iris:abc1234',
      '--label',
      'io.mlsecops.model-name=iris',
      '--build-arg',
      `MODEL_DIR=${MODEL_CONTEXT_DIR}`,
      '--build-arg',
      'BASE_IMAGE=local/debian-node:bookworm',
      '/ws',
    ])
  })

  it('passes values with spaces, quotes and shell syntax as single arguments', () => {
    const nasty = `a b "c" $(rm -rf /) ; echo 'x' | y`
    const args = dockerBuildArgs({
      dockerfile: '/my dir/Dockerfile',
      context: '/my dir',
      image: 'x:y',
      labels: { 'io.mlsecops.model-name': nasty },
      buildArgs: { NOTE: nasty },
    })
    expect(args).toContain(`io.mlsecops.model-name=${nasty}`)
    expect(args).toContain(`NOTE=${nasty}`)
    expect(args.at(-1)).toBe('/my dir')
  })

  it("lets a user's MODEL_DIR build-arg come later, so it wins", () => {
    const args = dockerBuildArgs({
      dockerfile: 'D',
      context: 'C',
      image: 'i',
      labels: {},
      buildArgs: { MODEL_DIR: 'elsewhere' },
    })
    expect(args.filter((a) => a.startsWith('MODEL_DIR='))).toEqual(['MODEL_DIR=elsewhere'])
  })

  it('inspects one image', () => {
    expect(dockerInspectArgs('iris:1')).toEqual(['image', 'inspect', 'iris:1'])
  })
})

describe('LineTail', () => {
  it('keeps the last lines across chunk boundaries, skipping blank lines', () => {
    const tail = new LineTail(3)
    tail.push('one\ntw')
    tail.push('o\n\n  \nthree\r\nfour\nfi')
    tail.push('ve')
    expect(tail.result()).toEqual(['three', 'four', 'five'])
  })

  it('returns fewer lines when there are fewer', () => {
    const tail = new LineTail(20)
    tail.push('only\n')
    expect(tail.result()).toEqual(['only'])
  })
})

describe('formatCommandLine', () => {
  it('quotes what a reader would misread, for the debug log only', () => {
    expect(formatCommandLine('docker', ['build', '--label', 'a=b c', '.'])).toBe(
      'docker build --label "a=b c" .',
    )
  })
})
