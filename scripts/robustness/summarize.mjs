// Prints the robustness table from what scripts/robustness.sh collected in DIR: jest's JSON output of the
// bad-input corpus and of the integration tests, the figures the integration tests appended
// (figures.jsonl), and npm audit's JSON. Exits 1 when a test failed, a figure is missing, or a figure is not
// what it must be (a run that neither completed nor failed cleanly, a duplicate, a run left RUNNING, a secret).
import * as fs from 'node:fs'
import * as path from 'node:path'

const [dir, auditStatus] = process.argv.slice(2)
let ok = true
const read = (name) => {
  const file = path.join(dir, name)
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined
}

// --- bad input: one test per kind, grouped by describe block ---
const badInput = read('bad-input.json')
const cases = (badInput?.testResults ?? [])
  .flatMap((r) => r.assertionResults)
  .filter((a) => !a.ancestorTitles.some((t) => /harness/.test(t)))
const valid = cases.filter((a) => a.ancestorTitles.some((t) => /valid/.test(t)))
const broken = cases.filter((a) => !valid.includes(a))
const passed = (list) => list.filter((a) => a.status === 'passed').length
if (!badInput || !badInput.success) ok = false

// --- integration figures ---
const figures = fs.existsSync(path.join(dir, 'figures.jsonl'))
  ? fs
      .readFileSync(path.join(dir, 'figures.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l))
  : []
const integration = read('integration.json')
if (!integration || !integration.success) ok = false

const rows = [
  {
    check: 'bad input (kinds tried)',
    faults: cases.length,
    runs: cases.length,
    completed: passed(valid),
    failedCleanly: passed(broken),
    duplicates: 0,
    runningLeft: 0,
    secretsFound: 0,
  },
]
for (const kind of ['faults', 'concurrency', 'secrets', 'fail-closed', 'hostile']) {
  const records = figures.filter((f) => f.kind === kind)
  if (records.length === 0) {
    ok = false
    rows.push({ check: kind, missing: true })
    continue
  }
  const sum = (key) => records.reduce((n, r) => n + (r[key] ?? 0), 0)
  rows.push({
    check: kind,
    faults: sum('faultsInjected'),
    runs: sum('runs'),
    completed: sum('completed'),
    failedCleanly: sum('failedCleanly'),
    duplicates: sum('duplicates'),
    runningLeft: sum('runningLeft'),
    secretsFound: sum('secretsFound'),
  })
}
const present = rows.filter((r) => !r.missing)
const total = (key) => present.reduce((n, r) => n + r[key], 0)
for (const r of present) {
  if (r.completed + r.failedCleanly !== r.runs) ok = false
}
if (total('duplicates') + total('runningLeft') + total('secretsFound') > 0) ok = false

const header = [
  'Check',
  'Bad inputs / faults',
  'Runs',
  'Completed',
  'Failed cleanly',
  'Duplicates',
  'Left RUNNING',
  'Secrets found',
]
const cell = (r, key) => (r.missing ? 'missing' : String(r[key]))
const table = [
  `| ${header.join(' | ')} |`,
  `| ${header.map(() => '---').join(' | ')} |`,
  ...rows.map(
    (r) =>
      `| ${r.check} | ${['faults', 'runs', 'completed', 'failedCleanly', 'duplicates', 'runningLeft', 'secretsFound'].map((k) => cell(r, k)).join(' | ')} |`,
  ),
  `| **total** | ${['faults', 'runs', 'completed', 'failedCleanly', 'duplicates', 'runningLeft', 'secretsFound'].map((k) => total(k)).join(' | ')} |`,
]
console.log('\n' + table.join('\n') + '\n')
const faultRow = present.find((r) => r.check === 'faults')
console.log(`kinds of bad input tried: ${cases.length}`)
console.log(`faults injected (MLflow proxy): ${faultRow ? faultRow.faults : 'missing'}`)
console.log(
  `scanner breakages (fail-closed): ${present.find((r) => r.check === 'fail-closed')?.faults ?? 'missing'}`,
)
console.log(`runs: ${total('runs')}`)
console.log(`runs completed: ${total('completed')}`)
console.log(`failed cleanly: ${total('failedCleanly')}`)
console.log(`duplicates: ${total('duplicates')}`)
console.log(
  `late duplicates removed by the action (held creates that landed after their retry): ${figures.reduce((n, f) => n + (f.duplicatesRemoved ?? 0), 0)}`,
)
console.log(`runs left RUNNING: ${total('runningLeft')}`)
console.log(`secrets found: ${total('secretsFound')}`)

// --- hostile input (issue 12): kinds tried, held, and the four invariants ---
const hostile = figures.filter((f) => f.kind === 'hostile')
if (hostile.length > 0) {
  const h = (key) => hostile.reduce((n, r) => n + (r[key] ?? 0), 0)
  const held = h('completed') + h('failedCleanly')
  console.log(
    `hostile input: ${h('kindsTried')} kinds tried, ${held} of ${h('runs')} runs held; files read outside the workspace: ${h('readOutside')}, changed outside: ${h('changedOutside')}, injected commands: ${h('injected')}, hangs: ${h('hangs')}, secrets printed: ${h('secretsFound')}`,
  )
  if (h('readOutside') + h('changedOutside') + h('injected') + h('hangs') + h('secretsFound') > 0)
    ok = false
  if (held !== h('runs')) ok = false
}

// --- npm audit ---
const auditFile = path.join(dir, 'audit.json')
let audit
try {
  audit = JSON.parse(fs.readFileSync(auditFile, 'utf8'))
} catch {
  audit = undefined
}
const counts = audit?.metadata?.vulnerabilities
if (counts) {
  const serious = Object.entries(audit.vulnerabilities ?? {}).filter(([, v]) =>
    ['high', 'critical'].includes(v.severity),
  )
  console.log(
    `npm audit --omit=dev: ${counts.critical} critical, ${counts.high} high, ${counts.moderate} moderate, ${counts.low} low`,
  )
  for (const [name, v] of serious) {
    const via = v.via.map((x) => (typeof x === 'string' ? x : `${x.title} (${x.url})`)).join('; ')
    console.log(`  ${v.severity} ${name} ${v.range}: ${via}`)
  }
} else {
  const err = fs.existsSync(path.join(dir, 'audit.err'))
    ? fs
        .readFileSync(path.join(dir, 'audit.err'), 'utf8')
        .split('\n')
        .find((l) => /error|warn/.test(l))
    : ''
  console.log(`npm audit --omit=dev: unavailable (exit ${auditStatus}): ${err ?? 'no answer'}`)
}
console.log(
  ok
    ? '\nrobustness: all checks passed'
    : '\nrobustness: FAILED (see above and .tmp/robustness/*.log)',
)
process.exit(ok ? 0 : 1)
