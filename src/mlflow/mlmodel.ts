import * as fs from 'node:fs'
import * as path from 'node:path'
import type { ModelFile } from '../train/logistic-model.js'
import { INPUT_EXAMPLE_FILE } from '../train/model-directory.js'
import { ONNX_FILE, exportOnnxModel, labelType } from '../train/onnx-export.js'

/**
 * The MLflow Model format around model.onnx, so that MLflow's own tools load the model directory:
 * `mlflow.pyfunc.load_model(...)` (python_function flavor, loader mlflow.onnx) and `mlflow.onnx.load_model(...)`.
 */
export const MLMODEL_FILE = 'MLmodel'
export const REQUIREMENTS_FILE = 'requirements.txt'
export const PYTHON_ENV_FILE = 'python_env.yaml'
export const CONDA_FILE = 'conda.yaml'

/**
 * The Python side the model was checked with (tests load it with these); lower bounds, not pins. MLflow's
 * bound is the oldest supported server's release: a client never warns that the model wants a newer MLflow
 * than the server it came from (`npm run compat` loads it with 2.9.2 to 3.17.2).
 */
export const PYTHON_VERSION = '3.11'
export const PYTHON_REQUIREMENTS = [
  'mlflow>=2.9',
  'onnx>=1.15',
  'onnxruntime>=1.17',
  'numpy',
  'pandas',
]
/** MLflow version the MLmodel layout follows; the server's release replaces it when the model is logged. */
export const MLFLOW_FORMAT_VERSION = '3.17.2'
export const ONNX_FORMAT_VERSION = '1.23.2'

type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml }

/**
 * A small YAML writer for plain maps, lists and scalars. Strings are written as JSON strings, which YAML
 * reads as double-quoted scalars, so no value can change meaning.
 */
export function toYaml(value: Yaml, indent = ''): string {
  const scalar = (v: Yaml): string =>
    v === null ? 'null' : typeof v === 'string' ? JSON.stringify(v) : String(v)
  const isScalar = (v: Yaml): boolean => v === null || typeof v !== 'object'
  const isEmpty = (v: Yaml): boolean =>
    Array.isArray(v)
      ? v.length === 0
      : typeof v === 'object' && v !== null && !Object.keys(v).length
  const lines: string[] = []
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isScalar(item) || isEmpty(item)) lines.push(`${indent}- ${inline(item)}`)
      else lines.push(`${indent}-\n${toYaml(item, indent + '  ')}`)
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const k = /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key) ? key : JSON.stringify(key)
      if (isScalar(item) || isEmpty(item)) lines.push(`${indent}${k}: ${inline(item)}`)
      else lines.push(`${indent}${k}:\n${toYaml(item, indent + '  ')}`)
    }
  } else {
    lines.push(indent + scalar(value))
  }
  return lines.join('\n')

  function inline(v: Yaml): string {
    if (Array.isArray(v)) return '[]'
    if (v !== null && typeof v === 'object') return '{}'
    return scalar(v)
  }
}

/**
 * The MLmodel document; run_id/model_id (and artifact_path on MLflow 2) are added when the model is logged to
 * a server. Written for the oldest supported client: no `required` in the signature's columns (MLflow 2.9
 * cannot read it; every column is required by default in later releases).
 */
export function mlmodelDocument(
  file: ModelFile,
  ids: {
    runId?: string
    modelId?: string
    artifactPath?: string
    mlflowVersion?: string
    createdAt?: Date
  } = {},
): { [key: string]: Yaml } {
  const inputs = file.featureNames.map((name) => ({ type: 'double', name }))
  const type = labelType(file.classLabels)
  const dtype = type === 'string' ? 'str' : type === 'int64' ? 'int64' : 'float64'
  const outputs = [{ type: 'tensor', 'tensor-spec': { dtype, shape: [-1] } }]
  const doc: { [key: string]: Yaml } = {
    ...(ids.artifactPath ? { artifact_path: ids.artifactPath } : {}),
    flavors: {
      onnx: {
        code: null,
        data: ONNX_FILE,
        onnx_session_options: null,
        onnx_version: ONNX_FORMAT_VERSION,
        providers: ['CPUExecutionProvider'],
      },
      python_function: {
        data: ONNX_FILE,
        env: { conda: CONDA_FILE, virtualenv: PYTHON_ENV_FILE },
        loader_module: 'mlflow.onnx',
        python_version: PYTHON_VERSION,
      },
    },
    mlflow_version: ids.mlflowVersion ?? MLFLOW_FORMAT_VERSION,
    saved_input_example_info: {
      artifact_path: INPUT_EXAMPLE_FILE,
      pandas_orient: 'split',
      type: 'dataframe',
    },
    signature: {
      inputs: JSON.stringify(inputs),
      outputs: JSON.stringify(outputs),
      params: null,
    },
  }
  if (ids.runId) doc.run_id = ids.runId
  if (ids.modelId) {
    doc.model_id = ids.modelId
    doc.model_uuid = ids.modelId
  }
  if (ids.createdAt)
    doc.utc_time_created = ids.createdAt.toISOString().replace('T', ' ').slice(0, 26)
  return doc
}

export function renderMlmodel(
  file: ModelFile,
  ids: Parameters<typeof mlmodelDocument>[1] = {},
): string {
  return toYaml(mlmodelDocument(file, ids)) + '\n'
}

/**
 * Adds the MLflow Model files to a model directory written by writeModelDirectory: model.onnx, MLmodel
 * (onnx + python_function flavors, signature, input example), requirements.txt, python_env.yaml and
 * conda.yaml. Returns the paths written.
 */
export function writeMlflowModelFiles(dir: string, file: ModelFile): string[] {
  const requirements = PYTHON_REQUIREMENTS.join('\n') + '\n'
  const pythonEnv = toYaml({
    python: PYTHON_VERSION,
    build_dependencies: ['pip', 'setuptools', 'wheel'],
    dependencies: [`-r ${REQUIREMENTS_FILE}`],
  })
  const conda = toYaml({
    name: 'mlflow-env',
    channels: ['conda-forge'],
    dependencies: [`python=${PYTHON_VERSION}`, 'pip', { pip: PYTHON_REQUIREMENTS }],
  })
  const files: [string, string | Uint8Array][] = [
    [ONNX_FILE, exportOnnxModel(file)],
    [MLMODEL_FILE, renderMlmodel(file)],
    [REQUIREMENTS_FILE, requirements],
    [PYTHON_ENV_FILE, pythonEnv + '\n'],
    [CONDA_FILE, conda + '\n'],
  ]
  return files.map(([name, content]) => {
    const target = path.join(dir, name)
    fs.writeFileSync(target, content)
    return target
  })
}
