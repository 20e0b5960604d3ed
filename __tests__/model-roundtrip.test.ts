import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { ModelFile } from '../src/train/logistic-model.js'
import {
  MODEL_FILE,
  loadModelDirectory,
  stableJson,
  writeModelDirectory,
} from '../src/train/model-directory.js'
import { seededRandom } from '../src/train/split.js'
import { trainModel, type TrainResult } from '../src/train/train-stage.js'

const ROOT = process.cwd()

/** The example model's server (model/server.mjs), loaded as the image loads it: plain JavaScript. */
interface ModelServer {
  loadModel(dir: string): ModelFile
  predictRow(model: ModelFile, row: number[]): string
}
const serverPath = path.join(ROOT, 'model/server.mjs')
const server = (await import(serverPath)) as ModelServer

let tmp: string
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-roundtrip-'))
})
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** Random rows spread over (and beyond) the range of each feature seen in `rows`. */
function randomRows(rows: number[][], count: number, seed: number): number[][] {
  const random = seededRandom(seed)
  const nf = rows[0].length
  const lo = Array.from({ length: nf }, (_, j) => Math.min(...rows.map((r) => r[j])))
  const hi = Array.from({ length: nf }, (_, j) => Math.max(...rows.map((r) => r[j])))
  return Array.from({ length: count }, () => lo.map((l, j) => l + (hi[j] - l) * (random() * 3 - 1)))
}

const CASES: [string, string, string][] = [
  ['iris (built-in)', '', ''],
  ['wine', path.join(ROOT, '__fixtures__/train/wine.csv'), 'cultivar'],
  ['breast cancer', path.join(ROOT, '__fixtures__/train/breast-cancer.csv'), 'diagnosis'],
]

describe.each(CASES)('model directory round trip: %s', (name, dataset, targetColumn) => {
  let result: TrainResult
  beforeAll(() => {
    result = trainModel({
      dataset,
      targetColumn,
      testSize: 0.2,
      seed: 42,
      modelDir: path.join(tmp, name.replace(/\W+/g, '-')),
    })
  })

  test('loadModelDirectory reproduces the holdout predictions exactly', () => {
    const loaded = loadModelDirectory(result.modelDir)
    expect(loaded.predict(result.holdout.rows)).toEqual(result.holdout.predicted)
    expect(result.model.predict(result.holdout.rows)).toEqual(result.holdout.predicted)
    expect(loaded.file).toEqual(result.model.file)
  })

  test('writeModelDirectory of the loaded model gives the same bytes', () => {
    const loaded = loadModelDirectory(result.modelDir)
    const again = path.join(tmp, `${name.replace(/\W+/g, '-')}-again`)
    const metrics = JSON.parse(fs.readFileSync(path.join(result.modelDir, 'metrics.json'), 'utf8'))
    const example = JSON.parse(
      fs.readFileSync(path.join(result.modelDir, 'input_example.json'), 'utf8'),
    )
    writeModelDirectory(again, loaded.file, metrics, example)
    for (const f of [MODEL_FILE, 'metrics.json', 'input_example.json']) {
      expect(fs.readFileSync(path.join(again, f))).toEqual(
        fs.readFileSync(path.join(result.modelDir, f)),
      )
    }
  })

  test("model/server.mjs's predictRow gives the same labels as TrainedModel.predict", () => {
    const served = server.loadModel(result.modelDir)
    const rows = [...result.holdout.rows, ...randomRows(result.holdout.rows, 2000, 7)]
    const ours = result.model.predict(rows)
    const theirs = rows.map((r) => server.predictRow(served, r))
    const differ = theirs.filter((l, i) => l !== ours[i]).length
    expect(differ).toBe(0)
    expect(theirs.slice(0, result.holdout.rows.length)).toEqual(result.holdout.predicted)
  })
})

describe('loadModelDirectory', () => {
  test('refuses a model.json of another format, naming the file', () => {
    const dir = path.join(tmp, 'other-format')
    fs.mkdirSync(dir, { recursive: true })
    fs.writeFileSync(path.join(dir, MODEL_FILE), stableJson({ format: 'something-else/9' }))
    expect(() => loadModelDirectory(dir)).toThrow(/model\.json is not a .* model/)
  })

  test('stableJson: two-space indent and a final newline', () => {
    expect(stableJson({ a: [1, 2] })).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}\n')
  })
})
