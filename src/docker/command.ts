import * as core from '@actions/core'
import * as exec from '@actions/exec'

/**
 * The one seam for external commands (docker, trivy): @actions/exec with an argument list, never a shell.
 * The command line goes to core.debug; the output is kept so a failure can quote its last lines.
 */
export interface CommandOptions {
  cwd?: string
  /** Extra environment variables, added to the action's own environment. */
  env?: Record<string, string>
  /** false: the tool gets `env` alone, none of the action's environment (e.g. cosign and its key). */
  inheritEnv?: boolean
  /** false: stream the command's output to the log (the default); true: keep it out of the log. */
  silent?: boolean
  /** How many of the last output lines to keep for error messages (default 20). */
  tailLines?: number
}

export interface CommandResult {
  exitCode: number
  stdout: string
  stderr: string
  /** The last lines of stdout and stderr as they arrived, for error messages. */
  tail: string[]
}

/** Keeps the last `size` non-empty lines of a stream of chunks. */
export class LineTail {
  private lines: string[] = []
  private partial = ''

  constructor(private readonly size: number) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split(/\r?\n|\r/)
    this.partial = parts.pop() ?? ''
    for (const line of parts) this.add(line)
  }

  private add(line: string): void {
    if (line.trim() === '') return
    this.lines.push(line.trimEnd())
    if (this.lines.length > this.size) this.lines.shift()
  }

  result(): string[] {
    const out = [...this.lines]
    if (this.partial.trim() !== '') out.push(this.partial.trimEnd())
    return out.slice(-this.size)
  }
}

function definedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v
  return out
}

/** Quotes an argument for the debug log only (nothing is ever run through a shell). */
export function formatCommandLine(tool: string, args: readonly string[]): string {
  return [tool, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')
}

/**
 * Runs `tool args...` and resolves with its exit code and output; a non-zero exit code is returned, not thrown
 * (callers turn it into their own typed error). Rejects when the tool cannot be started (e.g. not installed).
 */
export async function runCommand(
  tool: string,
  args: readonly string[],
  options: CommandOptions = {},
): Promise<CommandResult> {
  core.debug(`exec: ${formatCommandLine(tool, args)}`)
  const tail = new LineTail(options.tailLines ?? 20)
  const stdout: string[] = []
  const stderr: string[] = []
  const exitCode = await exec.exec(tool, [...args], {
    cwd: options.cwd,
    env:
      options.inheritEnv === false
        ? { ...options.env }
        : options.env
          ? { ...definedEnv(process.env), ...options.env }
          : undefined,
    silent: options.silent ?? false,
    ignoreReturnCode: true,
    listeners: {
      stdout: (data: Buffer) => {
        const text = data.toString('utf8')
        stdout.push(text)
        tail.push(text)
      },
      stderr: (data: Buffer) => {
        const text = data.toString('utf8')
        stderr.push(text)
        tail.push(text)
      },
    },
  })
  return { exitCode, stdout: stdout.join(''), stderr: stderr.join(''), tail: tail.result() }
}
