// Fails when a function in src/ is longer than the limit, unless a comment inside it or just above it says
// "Why one function:" and why. Uses the TypeScript compiler's own parser, so it counts what the compiler sees.
import * as fs from 'node:fs'
import * as path from 'node:path'
import ts from 'typescript'

const LIMIT = Number(process.env.FUNCTION_LINES_LIMIT ?? 80)
const EXCUSE = /Why one function:/

function files(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) return files(p)
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : []
  })
}

function nameOf(node, source) {
  if (node.name) return node.name.getText(source)
  const parent = node.parent
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText(source)
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText(source)
  return '(anonymous)'
}

const long = []
for (const file of files('src')) {
  const text = fs.readFileSync(file, 'utf8')
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const visit = (node) => {
    if (ts.isFunctionLike(node) && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line
      const end = source.getLineAndCharacterOfPosition(node.end).line
      const lines = end - start + 1
      const comments = text.slice(node.getFullStart(), node.end)
      if (lines > LIMIT && !EXCUSE.test(comments)) {
        long.push(`${file}:${start + 1} ${nameOf(node, source)} is ${lines} lines (limit ${LIMIT})`)
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
}
if (long.length > 0) {
  console.error(long.join('\n'))
  console.error(
    `${long.length} function(s) over ${LIMIT} lines: split them, or say in a comment "Why one function: ..."`,
  )
  process.exit(1)
}
console.log(`function lengths: none over ${LIMIT} lines in src/`)
