// One benchmark run of this project's trainer, as the train stage does it: load the CSV, standardize on the
// training rows, fit, predict the holdout. The split comes from a JSON file ({"train": [...], "test": [...]},
// row indices in file order) so that scikit-learn gets exactly the same rows. Prints one JSON line.
//   node build/bench/scripts/bench/fit-dataset.js DATA.csv SPLIT.json [MODEL_OUT.json]
import * as fs from 'node:fs'
import { performance } from 'node:perf_hooks'
import { loadDataset } from '../../src/train/csv-dataset.js'
import {
  TrainedModel,
  standardizedMatrix,
  trainLogisticRegression,
} from '../../src/train/logistic-model.js'
import { stableJson } from '../../src/train/model-directory.js'
import { fitStandardizer } from '../../src/train/standardizer.js'
import { buildModelFile, orderClassLabels } from '../../src/train/train-stage.js'

const [csvFile, splitFile, modelOut] = process.argv.slice(2)
if (!csvFile || !splitFile) {
  console.error('usage: fit-dataset.js DATA.csv SPLIT.json [MODEL_OUT.json]')
  process.exit(2)
}
const mb = (bytes: number): number => bytes / (1024 * 1024)
const baselineRss = mb(process.memoryUsage().rss)
const split = JSON.parse(fs.readFileSync(splitFile, 'utf8')) as { train: number[]; test: number[] }

let t = performance.now()
const data = loadDataset(csvFile, '')
const loadMs = performance.now() - t
const nf = data.featureNames.length
const classLabels = orderClassLabels(data.labels)
const classIndex = new Map(classLabels.map((l, i) => [l, i]))

t = performance.now()
const standardizer = fitStandardizer(data.features, split.train, nf)
const x = standardizedMatrix(data.features, split.train, nf, standardizer)
const { logisticRegression, fit } = trainLogisticRegression(
  x,
  split.train.map((i) => classIndex.get(data.labels[i])!),
  classLabels.length,
)
const fitMs = performance.now() - t

t = performance.now()
const file = buildModelFile(data, classLabels, standardizer, logisticRegression)
const predicted = new TrainedModel(file).predictIndices(data.features, split.test)
let correct = 0
split.test.forEach((row, i) => {
  if (classLabels[predicted[i]] === data.labels[row]) correct++
})
const predictMs = performance.now() - t
if (modelOut) fs.writeFileSync(modelOut, stableJson(file))

console.log(
  JSON.stringify({
    side: 'mlsecops',
    rows: data.rows,
    features: nf,
    classes: classLabels.length,
    accuracy: correct / split.test.length,
    loadMs,
    fitMs,
    predictMs,
    iterations: fit.iterations,
    converged: fit.converged,
    gradientNorm: fit.gradientNorm,
    baselineRssMB: baselineRss,
    peakRssMB: mb(process.resourceUsage().maxRSS * 1024),
  }),
)
