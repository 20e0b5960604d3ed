import * as core from '@actions/core'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as os from 'node:os'
import { inertLine, stripAnsi } from './log-text.js'

/**
 * The one seam for external commands (docker, trivy): an argument list, never a shell. Every command
 * - gets only the environment its tool needs (childEnvironment): no INPUT_ values, no runner tokens, and for
 *   Trivy none of the TRIVY_ variables that change which findings it reports;
 * - has no standard input and a deadline (SIGTERM, then SIGKILL after a grace period);
 * - keeps a bounded copy of its output (for JSON answers and error messages);
 * - when its output goes to the log, runs between `::stop-commands::<random token>` and `::<token>::`, so a line
 *   the tool prints (a Dockerfile's RUN echo, a scanned file's text) is never read as a workflow command, with
 *   ANSI escapes stripped.
 * The command line goes to core.debug with build-arg values and passwords hidden.
 */
export type ChildTool = 'docker' | 'trivy' | 'other'

export interface CommandOptions {
  cwd?: string
  /** Extra environment variables, added to the tool's environment (see childEnvironment). */
  env?: Record<string, string>
  /** false: the tool gets `env` alone, none of the action's environment (e.g. cosign and its key). */
  inheritEnv?: boolean
  /** Which environment the tool gets; by default from the tool's file name (docker, trivy, else other). */
  tool?: ChildTool
  /** false: stream the command's output to the log, fenced (the default); true: keep it out of the log. */
  silent?: boolean
  /** How many of the last output lines to keep for error messages (default 20). */
  tailLines?: number
  /** Wall-clock deadline in milliseconds (default 10 minutes). */
  timeoutMs?: number
  /** Between SIGTERM and SIGKILL once the deadline passed (default 10 s). */
  killGraceMs?: number
  /** Most bytes of stdout and of stderr kept in the result (default 32 MiB each); the rest is dropped. */
  maxCaptureBytes?: number
}

export interface CommandResult {
  /** null when the process was ended by a signal (the deadline, SIGKILL, the out-of-memory killer). */
  exitCode: number | null
  signal: NodeJS.Signals | null
  /** The deadline passed and the action ended the command. */
  timedOut: boolean
  stdout: string
  stderr: string
  /** true when stdout or stderr was longer than maxCaptureBytes and was cut. */
  truncated: boolean
  /** The last lines of stdout and stderr as they arrived, for error messages (ANSI escapes removed). */
  tail: string[]
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 10 * 60 * 1000
const DEFAULT_KILL_GRACE_MS = 10_000
const DEFAULT_MAX_CAPTURE_BYTES = 32 * 1024 * 1024

/** Keeps the last `size` non-empty lines of a stream of chunks. */
export class LineTail {
  private lines: string[] = []
  private partial = ''

  constructor(private readonly size: number) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split(/\r?\n|\r/)
    this.partial = parts.pop() ?? ''
    if (this.partial.length > 4096) this.partial = this.partial.slice(-4096)
    for (const line of parts) this.add(line)
  }

  private add(line: string): void {
    const clean = stripAnsi(line)
    if (clean.trim() === '') return
    this.lines.push(clean.trimEnd().slice(0, 1000))
    if (this.lines.length > this.size) this.lines.shift()
  }

  result(): string[] {
    const out = [...this.lines]
    const partial = stripAnsi(this.partial)
    if (partial.trim() !== '') out.push(partial.trimEnd().slice(0, 1000))
    return out.slice(-this.size)
  }
}

/** Variables every tool may need: where it runs, who it runs as, locale, proxies and CA certificates. */
const COMMON_VARIABLES = new Set(
  [
    'PATH',
    'HOME',
    'USER',
    'LOGNAME',
    'TMPDIR',
    'TEMP',
    'TMP',
    'LANG',
    'LANGUAGE',
    'TZ',
    'XDG_RUNTIME_DIR',
    'XDG_CONFIG_HOME',
    'XDG_CACHE_HOME',
    'SSL_CERT_FILE',
    'SSL_CERT_DIR',
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'NO_PROXY',
    'ALL_PROXY',
    // Windows
    'SYSTEMROOT',
    'SYSTEMDRIVE',
    'COMSPEC',
    'PATHEXT',
    'WINDIR',
    'PROGRAMDATA',
    'PROGRAMFILES',
    'APPDATA',
    'LOCALAPPDATA',
    'USERPROFILE',
  ].map((v) => v.toUpperCase()),
)

/** How the Docker CLI (and Trivy's Docker client) finds and authenticates to the engine. */
const DOCKER_CLIENT_VARIABLES = new Set([
  'DOCKER_HOST',
  'DOCKER_CONFIG',
  'DOCKER_CERT_PATH',
  'DOCKER_TLS_VERIFY',
  'DOCKER_CONTEXT',
  'DOCKER_API_VERSION',
])

/**
 * TRIVY_ variables Trivy keeps: they let it reach a registry, a DB mirror or a server (credentials, CA,
 * insecure TLS) or change only how it logs. Every other TRIVY_ variable is dropped, because Trivy reads each
 * flag from TRIVY_<FLAG> and many flags change which findings it reports: TRIVY_SEVERITY, TRIVY_PKG_TYPES,
 * TRIVY_SKIP_DIRS, TRIVY_SKIP_FILES, TRIVY_IGNOREFILE, TRIVY_IGNORE_UNFIXED, TRIVY_IGNORE_STATUS,
 * TRIVY_IGNORE_POLICY, TRIVY_SCANNERS, TRIVY_VEX, TRIVY_CONFIG, TRIVY_DISTRO, TRIVY_SERVER,
 * TRIVY_CACHE_BACKEND, TRIVY_DOCKER_HOST, TRIVY_INPUT, TRIVY_PLATFORM, TRIVY_DETECTION_PRIORITY,
 * TRIVY_IMAGE_CONFIG_SCANNERS, TRIVY_MISCONFIG_SCANNERS, TRIVY_CONFIG_CHECK, TRIVY_SECRET_CONFIG, ... A kept list
 * (rather than a dropped one) also covers flags a later Trivy adds.
 */
export const TRIVY_KEPT_VARIABLES = new Set([
  'TRIVY_USERNAME',
  'TRIVY_PASSWORD',
  'TRIVY_REGISTRY_TOKEN',
  'TRIVY_INSECURE',
  'TRIVY_CACERT',
  'TRIVY_DB_REPOSITORY',
  'TRIVY_JAVA_DB_REPOSITORY',
  'TRIVY_CHECKS_BUNDLE_REPOSITORY',
  'TRIVY_TOKEN',
  'TRIVY_TOKEN_HEADER',
  'TRIVY_CUSTOM_HEADERS',
  'TRIVY_DEBUG',
  'TRIVY_QUIET',
  'TRIVY_NO_PROGRESS',
  'TRIVY_DISABLE_TELEMETRY',
  'TRIVY_SKIP_VERSION_CHECK',
])

export interface ChildEnvironment {
  env: Record<string, string>
  /** TRIVY_ variables of the job that were dropped (names only). */
  scrubbed: string[]
}

/** The tool an executable is, by its file name. */
export function toolOf(executable: string): ChildTool {
  const base = (executable.split(/[\\/]/).pop() ?? '').toLowerCase().replace(/\.exe$/, '')
  if (base === 'docker') return 'docker'
  if (base === 'trivy') return 'trivy'
  return 'other'
}

/**
 * The environment a child tool gets, from the action's own: the common variables, the Docker client's for
 * docker and trivy, DOCKER_/BUILDX_/BUILDKIT_ for docker, the kept TRIVY_ variables for trivy. Never INPUT_
 * values, GITHUB_TOKEN, ACTIONS_ runtime tokens or MLflow credentials: no tool here uses them.
 */
export function childEnvironment(
  tool: ChildTool,
  source: NodeJS.ProcessEnv = process.env,
): ChildEnvironment {
  const env: Record<string, string> = {}
  const scrubbed: string[] = []
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined) continue
    const upper = name.toUpperCase()
    // MLSECOPS_: the action's own settings (mirrors, test hooks), never secrets.
    let keep =
      COMMON_VARIABLES.has(upper) || upper.startsWith('LC_') || upper.startsWith('MLSECOPS_')
    if (tool === 'docker') {
      keep ||= DOCKER_CLIENT_VARIABLES.has(upper) || /^(DOCKER|BUILDX|BUILDKIT)_/.test(upper)
    } else if (tool === 'trivy') {
      keep ||= DOCKER_CLIENT_VARIABLES.has(upper)
      if (upper.startsWith('TRIVY_')) {
        if (TRIVY_KEPT_VARIABLES.has(upper)) keep = true
        else scrubbed.push(name)
      }
    }
    if (keep) env[name] = value
  }
  return { env, scrubbed: scrubbed.sort() }
}

let scrubNoticeGiven = false

/** Arguments whose following value is hidden in the logged command line. */
const SECRET_VALUE_FLAGS = new Set([
  '--password',
  '--token',
  '--registry-token',
  '--custom-headers',
])

/** Quotes an argument for the debug log only (nothing is ever run through a shell); hides secret values. */
export function formatCommandLine(tool: string, args: readonly string[]): string {
  const shown = args.map((a, i) => {
    const previous = i > 0 ? args[i - 1] : ''
    if (previous === '--build-arg') return `${a.split('=')[0]}=***`
    if (SECRET_VALUE_FLAGS.has(previous)) return '***'
    return a
  })
  return inertLine(
    [tool, ...shown].map((a) => (/^[\w@%+=:,./*-]+$/.test(a) ? a : JSON.stringify(a))).join(' '),
    4000,
  )
}

/** Writes one stream's output to the log line by line, ANSI escapes removed. */
class LogLines {
  private partial = ''

  push(chunk: string): void {
    const parts = (this.partial + chunk).split(/\r?\n/)
    this.partial = parts.pop() ?? ''
    for (const line of parts) process.stdout.write(stripAnsi(line).replace(/\r/g, '') + os.EOL)
  }

  flush(): void {
    if (this.partial !== '') process.stdout.write(stripAnsi(this.partial) + os.EOL)
    this.partial = ''
  }
}

class BoundedText {
  private chunks: Buffer[] = []
  private size = 0
  truncated = false

  constructor(private readonly max: number) {}

  push(data: Buffer): void {
    if (this.size >= this.max) {
      this.truncated = true
      return
    }
    const room = this.max - this.size
    const part = data.length > room ? data.subarray(0, room) : data
    if (part.length < data.length) this.truncated = true
    this.chunks.push(part)
    this.size += part.length
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8')
  }
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
  const child = childEnvironment(options.tool ?? toolOf(tool))
  noticeScrubbed(child.scrubbed)
  core.debug(`exec: ${formatCommandLine(tool, args)}`)
  const output = new CommandOutput(options)
  return await new Promise<CommandResult>((resolve, reject) => {
    let started = false
    const proc = spawn(tool, [...args], {
      cwd: options.cwd,
      env: options.inheritEnv === false ? { ...options.env } : { ...child.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
      // Its own process group, so the deadline ends whatever it started too (a shell's children hold its pipes).
      detached: process.platform !== 'win32',
    })
    const deadline = startDeadline(proc, options)
    proc.on('spawn', () => {
      started = true
      output.open()
    })
    proc.stdout.on('data', (data: Buffer) => output.take('stdout', data))
    proc.stderr.on('data', (data: Buffer) => output.take('stderr', data))
    proc.on('error', (error) => {
      if (started) return
      deadline.clear()
      reject(new Error(`Unable to run ${inertLine(tool, 300)}: ${error.message}`))
    })
    proc.on('close', (code, signal) => {
      deadline.clear()
      if (!started) return
      output.close()
      resolve(output.result(code, signal, deadline.timedOut()))
    })
  })
}

/** Once per job: which TRIVY_ variables were kept from Trivy, and why. */
function noticeScrubbed(scrubbed: readonly string[]): void {
  if (scrubbed.length === 0 || scrubNoticeGiven) return
  scrubNoticeGiven = true
  core.notice(
    `Not passed to Trivy: ${scrubbed.join(', ')}. These variables would change which findings Trivy reports; the action sets the scan policy itself (inputs scanners, trivyignore, fail-on-severity, ignore-unfixed).`,
  )
}

/** SIGTERM to the child's process group at the deadline, SIGKILL after the grace period. */
function startDeadline(
  proc: ReturnType<typeof spawn>,
  options: CommandOptions,
): { timedOut: () => boolean; clear: () => void } {
  let timedOut = false
  let killTimer: NodeJS.Timeout | undefined
  const signal = (name: NodeJS.Signals): void => {
    try {
      if (process.platform !== 'win32' && proc.pid !== undefined) process.kill(-proc.pid, name)
      else proc.kill(name)
    } catch {
      // Already gone.
    }
  }
  const deadline = setTimeout(() => {
    timedOut = true
    signal('SIGTERM')
    killTimer = setTimeout(() => signal('SIGKILL'), options.killGraceMs ?? DEFAULT_KILL_GRACE_MS)
  }, options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS)
  return {
    timedOut: () => timedOut,
    clear: () => {
      clearTimeout(deadline)
      if (killTimer) clearTimeout(killTimer)
    },
  }
}

/**
 * What a command printed: kept (bounded) for the caller, its last lines for error messages, and written to
 * the log line by line between `::stop-commands::<token>` and `::<token>::`, so nothing it prints is a
 * workflow command.
 */
class CommandOutput {
  private readonly silent: boolean
  private readonly token = randomBytes(16).toString('hex')
  private readonly tail: LineTail
  private readonly kept: Record<'stdout' | 'stderr', BoundedText>
  private readonly log: Record<'stdout' | 'stderr', LogLines>

  constructor(options: CommandOptions) {
    this.silent = options.silent ?? false
    const maxCapture = options.maxCaptureBytes ?? DEFAULT_MAX_CAPTURE_BYTES
    this.tail = new LineTail(options.tailLines ?? 20)
    this.kept = { stdout: new BoundedText(maxCapture), stderr: new BoundedText(maxCapture) }
    this.log = { stdout: new LogLines(), stderr: new LogLines() }
  }

  open(): void {
    if (!this.silent) process.stdout.write(`::stop-commands::${this.token}${os.EOL}`)
  }

  take(stream: 'stdout' | 'stderr', data: Buffer): void {
    this.kept[stream].push(data)
    const text = data.toString('utf8')
    this.tail.push(text)
    if (!this.silent) this.log[stream].push(text)
  }

  close(): void {
    if (this.silent) return
    this.log.stdout.flush()
    this.log.stderr.flush()
    process.stdout.write(`::${this.token}::${os.EOL}`)
  }

  result(exitCode: number | null, signal: NodeJS.Signals | null, timedOut: boolean): CommandResult {
    const { stdout, stderr } = this.kept
    return {
      exitCode,
      signal,
      timedOut,
      stdout: stdout.text(),
      stderr: stderr.text(),
      truncated: stdout.truncated || stderr.truncated,
      tail: this.tail.result(),
    }
  }
}
