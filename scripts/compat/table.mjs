// Prints the compatibility table from the rows mlflow-compat.itest.ts wrote (JSON lines); exit 1 unless every
// release has every check.
import * as fs from 'node:fs'

const [file, releases] = process.argv.slice(2)
const rows = new Map(
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l))
    .map((r) => [r.release, r]),
)
const columns = ['register', 'ready', 'alias', 'pyfunc', 'serve']
const header = [
  'server',
  'register (build: false)',
  'version READY',
  'alias moved',
  'pyfunc = action (rows)',
  '`mlflow models serve` = action (rows)',
]
const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`]
let ok = true
for (const release of releases.split(',')) {
  const row = rows.get(release) ?? {}
  const cells = columns.map((c) => row[c] ?? '**fails**')
  if (columns.some((c) => row[c] === undefined)) ok = false
  lines.push(`| ${release} | ${cells.join(' | ')} |`)
}
console.log(lines.join('\n'))
process.exit(ok ? 0 : 1)
