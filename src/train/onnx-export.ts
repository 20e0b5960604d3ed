import onnxProto, { type onnx as proto } from 'onnx-proto'
import type { ModelFile } from './logistic-model.js'

const { onnx } = onnxProto

/** File name of the ONNX model inside the model directory. */
export const ONNX_FILE = 'model.onnx'
/** Graph input: raw (unstandardized) features, double, rows x features in featureNames order. */
export const ONNX_INPUT = 'features'
/**
 * Graph output: the predicted class label of each row: a number (int64 or double) when every class label is
 * one, as scikit-learn's model gives back numeric labels, otherwise a string.
 */
export const ONNX_OUTPUT = 'label'
/** Operator set of the default domain the graph uses (ArgMin's select_last_index needs 12+). */
export const ONNX_OPSET = 13
/** IR version 7 (ONNX 1.8): read by every onnxruntime since 1.6. */
const IR_VERSION = 7

const DOUBLE = onnx.TensorProto.DataType.DOUBLE
const STRING = onnx.TensorProto.DataType.STRING
const INT64 = onnx.TensorProto.DataType.INT64

/** The type of the output label: numbers when every label reads back as exactly itself ('3', '-1', '0.5'). */
export type LabelType = 'int64' | 'double' | 'string'

export function labelType(labels: string[]): LabelType {
  const numbers = labels.map(Number)
  if (labels.length === 0 || labels.some((l, i) => String(numbers[i]) !== l)) return 'string'
  return numbers.every((n) => Number.isSafeInteger(n)) ? 'int64' : 'double'
}

/** The class_labels initializer in the output's type. */
function labelTensor(labels: string[], type: LabelType): proto.ITensorProto {
  const dims = [labels.length]
  if (type === 'int64')
    return { name: 'class_labels', dataType: INT64, dims, int64Data: labels.map(Number) }
  if (type === 'double')
    return { name: 'class_labels', dataType: DOUBLE, dims, doubleData: labels.map(Number) }
  return {
    name: 'class_labels',
    dataType: STRING,
    dims,
    stringData: labels.map((l) => new TextEncoder().encode(l)),
  }
}

function doubleTensor(name: string, dims: number[], values: number[]): proto.ITensorProto {
  return { name, dataType: DOUBLE, dims, doubleData: values }
}

function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: proto.IAttributeProto[] = [],
): proto.INodeProto {
  return { opType, input: inputs, output: outputs, name: outputs[0], attribute: attributes }
}

function intAttribute(name: string, value: number): proto.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value }
}

function valueInfo(
  name: string,
  elemType: number,
  dims: (number | string)[],
): proto.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  }
}

/**
 * The trained model as an ONNX graph that predicts exactly what TrainedModel.predict does:
 *
 *   standardized = (features - means) / scales              Sub, Div
 *   scores       = standardized · W + intercepts            MatMul, Add (one column per per-class classifier)
 *   sigmoid      = 1 / (1 + exp(-scores))                   Sigmoid
 *   class index  = the column with the LOWEST sigmoid      ArgMin (first index on ties, as the library)
 *   label        = classLabels[class index]               Gather (numbers when every label is one)
 *
 * ml-logistic-regression trains classifier i with the class itself labelled 0 and the rest 1, so the
 * predicted class is the one whose classifier gives the lowest score. Everything is in double precision,
 * as the JavaScript model computes it.
 */
export function exportOnnxModel(file: ModelFile): Uint8Array {
  const nf = file.featureNames.length
  // Read the classifiers as model.json holds them: ml-logistic-regression's load() replaces the entries of
  // the array it is given with live objects (weights as ml-matrix Matrix), so go through JSON first.
  const { classifiers } = JSON.parse(
    JSON.stringify(file.logisticRegression),
  ) as ModelFile['logisticRegression']
  const k = classifiers.length
  if (k !== file.classLabels.length) {
    throw new Error(`model.json has ${k} classifiers for ${file.classLabels.length} class labels`)
  }
  const weights = new Array<number>(nf * k)
  const intercepts = new Array<number>(k)
  classifiers.forEach((c, j) => {
    const w = c.weights[0]
    if (w.length !== nf + 1) {
      throw new Error(
        `classifier ${j} has ${w.length} weights; expected ${nf + 1} (intercept first)`,
      )
    }
    intercepts[j] = w[0]
    for (let f = 0; f < nf; f++) weights[f * k + j] = w[f + 1]
  })

  const type = labelType(file.classLabels)
  const outputType = type === 'int64' ? INT64 : type === 'double' ? DOUBLE : STRING
  const graph: proto.IGraphProto = {
    name: 'mlsecops_logistic_regression',
    docString: `One-vs-rest logistic regression on standardized ${file.featureNames.join(', ')}; predicts ${file.targetColumn}.`,
    input: [valueInfo(ONNX_INPUT, DOUBLE, ['N', nf])],
    output: [valueInfo(ONNX_OUTPUT, outputType, ['N'])],
    initializer: [
      doubleTensor('means', [nf], file.means),
      doubleTensor('scales', [nf], file.scales),
      doubleTensor('weights', [nf, k], weights),
      doubleTensor('intercepts', [k], intercepts),
      labelTensor(file.classLabels, type),
    ],
    node: [
      node('Sub', [ONNX_INPUT, 'means'], ['centered']),
      node('Div', ['centered', 'scales'], ['standardized']),
      node('MatMul', ['standardized', 'weights'], ['linear']),
      node('Add', ['linear', 'intercepts'], ['scores']),
      node('Sigmoid', ['scores'], ['one_vs_rest']),
      node(
        'ArgMin',
        ['one_vs_rest'],
        ['class_index'],
        [
          intAttribute('axis', 1),
          intAttribute('keepdims', 0),
          intAttribute('select_last_index', 0),
        ],
      ),
      node('Gather', ['class_labels', 'class_index'], [ONNX_OUTPUT], [intAttribute('axis', 0)]),
    ],
  }
  const model: proto.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'mlsecops-action',
    producerVersion: '1',
    docString: 'Exported from model.json (ml-logistic-regression).',
    graph,
    metadataProps: [
      { key: 'feature_names', value: JSON.stringify(file.featureNames) },
      { key: 'target_column', value: file.targetColumn },
      { key: 'class_labels', value: JSON.stringify(file.classLabels) },
    ],
  }
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish()
}
