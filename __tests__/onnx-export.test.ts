// The ONNX export checked from the Node side: onnxruntime-web (its wasm backend, in Node) runs the exported
// graph and must predict the same labels as TrainedModel.predict on every row of the dataset.
import { describe, expect, it, beforeAll } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as ort from 'onnxruntime-web'
import onnxProto from 'onnx-proto'
import { loadDataset, type Dataset } from '../src/train/csv-dataset.js'
import { trainModel, type TrainResult } from '../src/train/train-stage.js'
import {
  ONNX_FILE,
  ONNX_INPUT,
  ONNX_OUTPUT,
  exportOnnxModel,
  labelType,
} from '../src/train/onnx-export.js'

beforeAll(() => {
  ort.env.wasm.numThreads = 1
})

function rowsOf(data: Dataset): number[][] {
  const nf = data.featureNames.length
  return Array.from({ length: data.rows }, (_, i) =>
    Array.from(data.features.subarray(i * nf, (i + 1) * nf)),
  )
}

async function predictWithOnnxRuntime(
  bytes: Uint8Array,
  rows: number[][],
): Promise<(string | number | bigint)[]> {
  const session = await ort.InferenceSession.create(bytes)
  try {
    const nf = rows[0].length
    const input = new ort.Tensor('float64', Float64Array.from(rows.flat()), [rows.length, nf])
    const out = await session.run({ [ONNX_INPUT]: input })
    return Array.from(out[ONNX_OUTPUT].data as ArrayLike<string | number | bigint>)
  } finally {
    await session.release()
  }
}

function train(dataset: string, dir: string): TrainResult {
  return trainModel({ dataset, targetColumn: '', testSize: 0.2, seed: 42, modelDir: dir })
}

describe('exportOnnxModel', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-export-'))

  it('predicts what TrainedModel.predict predicts on every Iris row', async () => {
    const result = train('', path.join(tmp, 'iris'))
    const data = loadDataset('', '')
    const rows = rowsOf(data)
    const bytes = exportOnnxModel(result.model.file)
    const onnxLabels = await predictWithOnnxRuntime(bytes, rows)
    expect(onnxLabels).toHaveLength(150)
    expect(onnxLabels).toEqual(result.model.predict(rows))
    // The exported file in the model directory is the same graph.
    expect(new Uint8Array(fs.readFileSync(path.join(result.modelDir, ONNX_FILE)))).toEqual(bytes)
  })

  it('predicts string labels of a CSV with awkward labels and columns, row by row', async () => {
    const csv = path.join(tmp, 'fruit.csv')
    const lines = ['weight g,colour index,"sweet, sour",kind']
    const kinds = ['äpfel "red"', 'banana', 'cherry / small', '10']
    let state = 7
    const next = (): number => {
      state = (state * 1103515245 + 12345) % 2 ** 31
      return state / 2 ** 31
    }
    for (let i = 0; i < 120; i++) {
      const k = i % kinds.length
      const w = 100 + k * 40 + next() * 60
      const c = k * 2 + next() * 3
      const s = (k % 2) * 5 + next() * 4
      lines.push(
        `${w.toFixed(2)},${c.toFixed(3)},${s.toFixed(1)},"${kinds[k].replace(/"/g, '""')}"`,
      )
    }
    fs.writeFileSync(csv, lines.join('\n') + '\n')
    const result = train(csv, path.join(tmp, 'fruit'))
    const data = loadDataset(csv, '')
    const rows = rowsOf(data)
    const ts = result.model.predict(rows)
    const onnxLabels = await predictWithOnnxRuntime(exportOnnxModel(result.model.file), rows)
    expect(onnxLabels).toEqual(ts)
    expect(new Set(ts).size).toBeGreaterThan(1)
    // Single rows too (batch of one).
    for (const i of [0, 1, 2, 3, 57]) {
      expect(await predictWithOnnxRuntime(exportOnnxModel(result.model.file), [rows[i]])).toEqual([
        ts[i],
      ])
    }
  })

  it('numeric class labels give a numeric output (int64, or double), as scikit-learn gives them back', async () => {
    expect(labelType(['0', '1', '2'])).toBe('int64')
    expect(labelType(['-1', '1'])).toBe('int64')
    expect(labelType(['0.5', '1'])).toBe('double')
    // Not exactly a number's text: strings (01 and 1 would become one class).
    expect(labelType(['01', '1'])).toBe('string')
    expect(labelType(['1e3', '2'])).toBe('string')
    expect(labelType(['setosa', '1'])).toBe('string')
    const csv = path.join(tmp, 'iris-numeric.csv')
    const [header, ...rows] = fs
      .readFileSync(path.join('model', 'iris.csv'), 'utf8')
      .trim()
      .split('\n')
    const species = [...new Set(rows.map((r) => r.split(',').at(-1)))]
    fs.writeFileSync(
      csv,
      [header, ...rows.map((r) => r.replace(/[^,]+$/, (s) => String(species.indexOf(s))))].join(
        '\n',
      ),
    )
    const result = train(csv, path.join(tmp, 'iris-numeric'))
    const bytes = exportOnnxModel(result.model.file)
    const model = onnxProto.onnx.ModelProto.decode(bytes)
    expect(model.graph?.output?.[0]?.type?.tensorType?.elemType).toBe(
      onnxProto.onnx.TensorProto.DataType.INT64,
    )
    const data = rowsOf(loadDataset(csv, ''))
    const predicted = await predictWithOnnxRuntime(bytes, data)
    expect(predicted.every((p) => typeof p === 'bigint')).toBe(true)
    expect(predicted.map(String)).toEqual(result.model.predict(data))
  })

  it('agrees on 5000 random rows, far outside the training range too', async () => {
    const result = train('', path.join(tmp, 'iris-random'))
    let state = 3
    const next = (): number => {
      state = (state * 1103515245 + 12345) % 2 ** 31
      return state / 2 ** 31
    }
    const rows = Array.from({ length: 5000 }, () =>
      result.model.file.means.map((m, j) => m + (next() - 0.5) * 12 * result.model.file.scales[j]),
    )
    const onnxLabels = await predictWithOnnxRuntime(exportOnnxModel(result.model.file), rows)
    expect(onnxLabels).toEqual(result.model.predict(rows))
  })

  it('writes a graph made of the documented operators with the expected signature', () => {
    const result = train('', path.join(tmp, 'iris-graph'))
    const model = onnxProto.onnx.ModelProto.decode(exportOnnxModel(result.model.file))
    expect(model.graph?.node?.map((n: { opType?: string | null }) => n.opType)).toEqual([
      'Sub',
      'Div',
      'MatMul',
      'Add',
      'Sigmoid',
      'ArgMin',
      'Gather',
    ])
    expect(model.graph?.input?.map((i: { name?: string | null }) => i.name)).toEqual([ONNX_INPUT])
    expect(model.graph?.output?.map((o: { name?: string | null }) => o.name)).toEqual([ONNX_OUTPUT])
    expect(Number(model.opsetImport[0]?.version)).toBe(13)
  })

  it('rejects a model.json whose classifiers do not match its labels', () => {
    const result = train('', path.join(tmp, 'iris-bad'))
    const file = structuredClone(result.model.file)
    file.classLabels = file.classLabels.slice(0, 2)
    expect(() => exportOnnxModel(file)).toThrow('3 classifiers for 2 class labels')
  })
})
