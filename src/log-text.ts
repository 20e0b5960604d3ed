/**
 * The one door from untrusted text to the log. A value from an input, a dataset, a server or a tool printed with
 * core.info lands on its own line, where the runner reads `::command::` lines as workflow commands. inertLine
 * makes any text one line that the runner cannot take for a command: control characters (line breaks, ANSI
 * escapes, NUL) are shown as escapes, and a leading `::` is broken.
 */

/** ANSI escape sequences (CSI, OSC and two-character ones), as terminals and progress bars print them. */
const ANSI_ESCAPE =
  // eslint-disable-next-line no-control-regex
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g

/** Removes ANSI escape sequences (colours, cursor moves) from tool output. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_ESCAPE, '')
}

// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

function escapeControl(ch: string): string {
  switch (ch) {
    case '\n':
      return '\\n'
    case '\r':
      return '\\r'
    case '\t':
      return '\\t'
    default: {
      const code = ch.charCodeAt(0)
      return code > 0xff
        ? `\\u${code.toString(16).padStart(4, '0')}`
        : `\\x${code.toString(16).padStart(2, '0')}`
    }
  }
}

/**
 * `text` as one inert log line: control characters escaped (`\n`, `\x1b`), a leading `::` broken so the runner
 * never reads it as a workflow command, and cut to `maxLength` characters with a note of how much was left out.
 */
export function inertLine(text: string, maxLength = 1000): string {
  let out = text.replace(CONTROL, escapeControl)
  if (out.length > maxLength) {
    out = `${out.slice(0, maxLength)}… (${out.length - maxLength} more characters)`
  }
  return /^\s*::/.test(out) ? out.replace('::', '\\x3a:') : out
}

/**
 * Error text for one value a user may have mistyped: quoted and inert, cut short. For messages that name a bad
 * input value or a data value (a column, a label).
 */
export function quoteValue(text: string, maxLength = 200): string {
  return `'${inertLine(text, maxLength)}'`
}

/** A list of names for a message: the first `shown`, then "and N more", each inert. */
export function listSome(items: readonly string[], shown = 10, maxEach = 80): string {
  const head = items.slice(0, shown).map((s) => inertLine(s, maxEach))
  const rest = items.length - head.length
  return rest > 0 ? `${head.join(', ')} and ${rest} more` : head.join(', ')
}
