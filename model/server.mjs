// The example model's HTTP server. No dependencies: it reads the model directory written by the action
// (model.json) and predicts the way ml-logistic-regression's predict() does: standardize, add the intercept,
// score each per-class classifier with the sigmoid, and pick the class with the lowest score. (The trainer stores
// negated softmax scores there, so the lowest sigmoid is the most likely class.)
//   GET  /health   -> {"status":"ok","model":...}
//   POST /predict  {"rows": [[f1, f2, ...], ...]} or {"instances": [{"name": value, ...}, ...]}
//                  -> {"labels": ["setosa", ...]}
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'

const MODEL_DIR = process.env.MODEL_DIR || new URL('./model', import.meta.url).pathname
const PORT = Number(process.env.PORT || 8080)
const MAX_BODY = 1 << 20

export function loadModel(dir) {
  const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'))
  if (model.format !== 'mlsecops-logistic-regression/1')
    throw new Error(`unknown model format ${model.format}`)
  return model
}

export function predictRow(model, row) {
  const x = [1]
  for (let j = 0; j < model.featureNames.length; j++)
    x.push((row[j] - model.means[j]) / model.scales[j])
  let best = 0
  let minimum = 100000
  model.logisticRegression.classifiers.forEach((classifier, k) => {
    const w = classifier.weights[0]
    let z = 0
    for (let j = 0; j < w.length; j++) z += w[j] * x[j]
    const score = 1 / (1 + Math.exp(-z))
    if (score < minimum) {
      minimum = score
      best = k
    }
  })
  return model.classLabels[best]
}

function toRows(model, body) {
  if (Array.isArray(body.rows)) return body.rows
  if (Array.isArray(body.instances))
    return body.instances.map((o) => model.featureNames.map((n) => o[n]))
  throw new Error('send {"rows": [[...], ...]} or {"instances": [{...}, ...]}')
}

function validRow(model, row) {
  return (
    Array.isArray(row) &&
    row.length === model.featureNames.length &&
    row.every((v) => typeof v === 'number' && Number.isFinite(v))
  )
}

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

export function startServer(model, port = PORT) {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health') {
      return send(res, 200, {
        status: 'ok',
        features: model.featureNames,
        classes: model.classLabels,
      })
    }
    if (req.method === 'POST' && req.url === '/predict') {
      let size = 0
      const chunks = []
      req.on('data', (c) => {
        size += c.length
        if (size > MAX_BODY) req.destroy()
        else chunks.push(c)
      })
      req.on('end', () => {
        try {
          const rows = toRows(model, JSON.parse(Buffer.concat(chunks).toString('utf8')))
          const bad = rows.findIndex((r) => !validRow(model, r))
          if (bad >= 0) {
            return send(res, 400, {
              error: `row ${bad} must be ${model.featureNames.length} finite numbers: ${model.featureNames.join(', ')}`,
            })
          }
          return send(res, 200, { labels: rows.map((r) => predictRow(model, r)) })
        } catch (error) {
          return send(res, 400, { error: error.message })
        }
      })
      return undefined
    }
    return send(res, 404, { error: 'not found: use GET /health or POST /predict' })
  })
  server.listen(port, '0.0.0.0')
  return server
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const model = loadModel(MODEL_DIR)
  const server = startServer(model)
  const stop = () => server.close(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.stdout.write(`serving ${MODEL_DIR} on :${PORT}\n`)
}
