/**
 * The one renderer for the job summary and report.md. Text that comes from data, inputs, tools or servers
 * (class labels, file names, advisory titles, error messages) is plain text: `table`, `join` and friends
 * escape it here and nowhere else. Markup the action makes itself (emphasis, code, links, details) is built
 * with `code`, `link`, `strong` and `markup`, which return a `Markup` that is passed through as is.
 */

/** Markdown or HTML the action made; passed through unescaped. */
export class Markup {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text
  }
}

/** Something to render: plain text (escaped), a number, or markup the action made. */
export type Cell = string | number | Markup | undefined

/** Marks text the action made itself as markup. Never call it on data. */
export function markup(text: string): Markup {
  return new Markup(text)
}

/** Line breaks, other control characters and Unicode line separators: each run becomes one space. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g

/**
 * Plain text as inert Markdown on one line: no line breaks or control characters, no HTML (& < > as entities),
 * no table pipes, no links, images, emphasis, code spans or headings (their characters backslash-escaped).
 * A bare URL stays visible text (GitHub may still make it clickable, but never hides where it goes).
 */
export function escape(text: string | number | undefined): string {
  return String(text ?? '')
    .replace(CONTROL, ' ')
    .replace(/[\\`*[\]#|~]/g, '\\$&')
    .replace(/_+/g, escapeUnderscores)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
}

/** Underscores inside a word (deploy_key, not_affected) are never emphasis in GFM; others are escaped. */
function escapeUnderscores(run: string, offset: number, text: string): string {
  const word = /[A-Za-z0-9]/
  const inside = word.test(text[offset - 1] ?? '') && word.test(text[offset + run.length] ?? '')
  return inside ? run : run.replace(/_/g, '\\_')
}

/** Renders a cell: text escaped, numbers as they are, markup passed through (folded onto one line). */
export function render(cell: Cell): string {
  if (cell instanceof Markup) return cell.text.replace(/\r?\n/g, ' ')
  if (typeof cell === 'number') return String(cell)
  return escape(cell)
}

/** Joins cells into one line of markup (each rendered). */
export function join(...cells: Cell[]): Markup {
  return new Markup(cells.map(render).join(''))
}

/**
 * Text in a code span: nothing inside is markup. The fence is one backtick more than the longest run of
 * backticks in the text; table pipes are backslash-escaped (GitHub reads them before the span).
 */
export function code(text: string | number): Markup {
  const inner = String(text).replace(CONTROL, ' ').replace(/\|/g, '\\|')
  const longest = Math.max(0, ...(inner.match(/`+/g) ?? []).map((run) => run.length))
  const fence = '`'.repeat(longest + 1)
  const pad = inner.startsWith('`') || inner.endsWith('`') ? ' ' : ''
  return new Markup(`${fence}${pad}${inner}${pad}${fence}`)
}

export function strong(text: Cell): Markup {
  return new Markup(`**${render(text)}**`)
}

/**
 * A link, only to an http(s) URL without spaces or characters that could end the link early; any other URL
 * leaves the text alone (escaped).
 */
export function link(text: Cell, url: string | undefined): Markup {
  const shown = render(text)
  if (url && /^https?:\/\/[^\s()<>"'`\\]+$/.test(url)) return new Markup(`[${shown}](${url})`)
  return new Markup(shown)
}

/** A Markdown table; every cell rendered by `render`. */
export function table(header: Cell[], rows: Cell[][]): string {
  const line = (cells: Cell[]): string => `| ${cells.map(render).join(' | ')} |`
  return [line(header), `|${header.map(() => ' --- ').join('|')}|`, ...rows.map(line)].join('\n')
}

/** One table row, for tables built a row at a time (within a byte budget). */
export function tableRow(cells: Cell[]): string {
  return `| ${cells.map(render).join(' | ')} |`
}

/** A collapsed block; the body is markup the caller rendered. */
export function details(summary: Cell, body: string): string {
  return ['<details><summary>', render(summary), '</summary>\n\n', body, '\n\n</details>'].join('')
}

/** Fixed decimals, the one number format of the tables. */
export function formatNumber(x: number, digits = 4): string {
  return x.toFixed(digits)
}

/** 1.5 KB, 2.3 MB: powers of 1024, one decimal. */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB']
  let value = n
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`
}

/** Seconds with one decimal. */
export function formatDuration(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

/** UTF-8 size, the unit of GitHub's summary limit. */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}
