// Unit tests of what the register stage sends (tags, params, metrics, dataset input), the summary section, and
// the MLflow Model files written into the model directory (read back with the yaml package).
import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parse as parseYaml } from 'yaml'
import { getRunContext } from '../src/context.js'
import {
  datasetInput,
  runMetrics,
  runParams,
  runTags,
  type Registration,
} from '../src/mlflow/registration.js'
import { mlmodelDocument, renderMlmodel } from '../src/mlflow/mlmodel.js'
import { renderRegistrationSection } from '../src/mlflow/registration-summary.js'
import { trainModel } from '../src/train/train-stage.js'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-registration-'))
const train = trainModel({
  dataset: '',
  targetColumn: '',
  testSize: 0.2,
  seed: 42,
  modelDir: path.join(tmp, 'model'),
})

describe('runTags', () => {
  it('carries MLflow source/git tags and the workflow run, and leaves out empty values', () => {
    const context = getRunContext({
      GITHUB_REPOSITORY: 'acme/iris',
      GITHUB_SHA: 'abc123',
      GITHUB_REF: 'refs/heads/feature/x',
      GITHUB_ACTOR: 'octocat',
      GITHUB_RUN_ID: '99',
      GITHUB_RUN_ATTEMPT: '2',
    })
    const tags = Object.fromEntries(runTags(context, 'name', 'tok').map((t) => [t.key, t.value]))
    expect(tags).toMatchObject({
      'mlflow.runName': 'name',
      'mlflow.user': 'octocat',
      'mlflow.source.type': 'JOB',
      'mlflow.source.name': 'https://github.com/acme/iris/actions/runs/99',
      'mlflow.source.git.commit': 'abc123',
      'mlflow.source.git.branch': 'feature/x',
      'mlflow.source.git.repoURL': 'https://github.com/acme/iris',
      'github.workflow_run_url': 'https://github.com/acme/iris/actions/runs/99',
      'github.run_id': '99',
      'github.run_attempt': '2',
      'mlsecops.token': 'tok',
    })
    expect(Object.values(tags)).not.toContain('')
    expect(tags['github.workflow']).toBeUndefined()
  })
})

describe('params, metrics and dataset input', () => {
  it('logs every training param and every holdout metric, per class too', () => {
    expect(Object.fromEntries(runParams(train).map((p) => [p.key, p.value]))).toEqual(train.params)
    const metrics = Object.fromEntries(runMetrics(train, 5).map((m) => [m.key, m.value]))
    expect(metrics.accuracy).toBe(train.metrics.accuracy)
    expect(metrics.f1_macro).toBe(train.metrics.f1Macro)
    expect(metrics['recall.virginica']).toBe(
      train.metrics.perClass.find((c) => c.label === 'virginica')!.recall,
    )
    expect(Object.keys(metrics)).toHaveLength(6 + 4 * 3)
  })

  it('describes the dataset with a short digest, its source, schema and profile', () => {
    const input = datasetInput(train)
    expect(input.tags).toEqual([{ key: 'mlflow.data.context', value: 'training' }])
    expect(input.dataset.digest).toBe(train.dataset.digest.slice(0, 16))
    expect(input.dataset.source_type).toBe('code')
    expect(JSON.parse(input.dataset.source)).toEqual({ uri: 'builtin:iris' })
    const schema = JSON.parse(input.dataset.schema!) as {
      mlflow_colspec: { name: string; type: string }[]
    }
    expect(schema.mlflow_colspec.map((c) => `${c.name}:${c.type}`)).toEqual([
      'sepal_length:double',
      'sepal_width:double',
      'petal_length:double',
      'petal_width:double',
      'species:string',
    ])
    expect(JSON.parse(input.dataset.profile!)).toMatchObject({
      num_rows: 150,
      sha256: train.dataset.digest,
    })
  })
})

describe('renderRegistrationSection', () => {
  it('links the run and the version in the MLflow UI', () => {
    const text = renderRegistrationSection({
      runName: 'r',
      runUrl: 'https://mlflow.example.com/#/experiments/1/runs/abc',
      experimentName: 'e',
      modelName: 'm',
      modelVersion: '3',
      versionUrl: 'https://mlflow.example.com/#/models/m/versions/3',
      modelUri: 'models:/m/3',
    } as Registration)
    expect(text).toContain('[r](https://mlflow.example.com/#/experiments/1/runs/abc)')
    expect(text).toContain('[m version 3](https://mlflow.example.com/#/models/m/versions/3)')
  })
})

describe('MLflow Model files in the model directory', () => {
  it('writes model.onnx, MLmodel, requirements.txt, python_env.yaml and conda.yaml', () => {
    for (const name of [
      'model.onnx',
      'MLmodel',
      'requirements.txt',
      'python_env.yaml',
      'conda.yaml',
    ]) {
      expect(train.files).toContain(path.join(train.modelDir, name))
    }
  })

  it('MLmodel has the onnx and python_function flavors and the column signature', () => {
    const doc = parseYaml(fs.readFileSync(path.join(train.modelDir, 'MLmodel'), 'utf8')) as Record<
      string,
      Record<string, Record<string, unknown>>
    >
    expect(doc).toEqual(parseYaml(renderMlmodel(train.model.file)))
    expect(doc.flavors.python_function).toMatchObject({
      loader_module: 'mlflow.onnx',
      data: 'model.onnx',
      env: { conda: 'conda.yaml', virtualenv: 'python_env.yaml' },
    })
    expect(doc.flavors.onnx).toMatchObject({
      data: 'model.onnx',
      providers: ['CPUExecutionProvider'],
    })
    const inputs = JSON.parse(doc.signature.inputs as unknown as string) as { name: string }[]
    expect(inputs.map((i) => i.name)).toEqual(train.dataset.featureNames)
    const env = parseYaml(fs.readFileSync(path.join(train.modelDir, 'python_env.yaml'), 'utf8'))
    expect(env).toEqual({
      python: '3.11',
      build_dependencies: ['pip', 'setuptools', 'wheel'],
      dependencies: ['-r requirements.txt'],
    })
    const conda = parseYaml(fs.readFileSync(path.join(train.modelDir, 'conda.yaml'), 'utf8')) as {
      dependencies: unknown[]
    }
    expect(conda.dependencies[2]).toEqual({
      pip: fs
        .readFileSync(path.join(train.modelDir, 'requirements.txt'), 'utf8')
        .trim()
        .split('\n'),
    })
  })

  it('names the run and the logged model once logged', () => {
    const doc = mlmodelDocument(train.model.file, { runId: 'r1', modelId: 'm-1' })
    expect(doc).toMatchObject({ run_id: 'r1', model_id: 'm-1' })
  })
})
