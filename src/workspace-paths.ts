/**
 * Path inputs come from the repository, which a pull request controls: a dataset, a Dockerfile or an ignore
 * file may be a symlink to /proc/self/environ, ~/.docker/config.json or /dev/zero. Every path input resolves
 * here, after symlinks, inside realpath(GITHUB_WORKSPACE); a file must be a regular file, opened without
 * following a symlink and without blocking (a FIFO), and its size is checked on the opened descriptor.
 * Every error is one line naming the input and the fix.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ConfigurationError } from './errors.js'
import { quoteValue } from './log-text.js'

export type PathKind = 'file' | 'directory'

function pathError(input: string, value: string, problem: string, fix: string): ConfigurationError {
  return new ConfigurationError(
    input,
    `Input '${input}' is ${quoteValue(value)}: ${problem}; ${fix}.`,
  )
}

/** The workspace after symlinks; the action's own files and every path input must be under it. */
export function realWorkspace(workspace: string): string {
  try {
    return fs.realpathSync(workspace)
  } catch (error) {
    throw new ConfigurationError(
      'GITHUB_WORKSPACE',
      `The workspace ${quoteValue(workspace)} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}): run the action after actions/checkout, in the job's workspace.`,
    )
  }
}

/** True when `target` is `root` or inside it (both already real paths). */
export function isInside(root: string, target: string): boolean {
  const relative = path.relative(root, target)
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))
}

/**
 * Resolves a path input (relative to the workspace, or absolute) to its real path inside the workspace and
 * checks its kind. Throws ConfigurationError when it does not exist (unless missingOk), leaves the workspace after symlinks, or is
 * not a regular file / directory.
 */
export function resolveWorkspacePath(
  input: string,
  value: string,
  workspace: string,
  kind: PathKind,
  options: { missingOk?: boolean } = {},
): string {
  const root = realWorkspace(workspace)
  const candidate = path.resolve(root, value)
  let real: string
  try {
    real = fs.realpathSync(candidate)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      // missingOk: the stage that needs it says so later; a path that does not exist reads nothing.
      if (options.missingOk) return candidate
      throw pathError(input, value, 'it does not exist', `give a path relative to the workspace`)
    }
    if (code === 'ELOOP') {
      throw pathError(input, value, 'it is a symbolic link loop', 'give the real path')
    }
    throw pathError(input, value, `it cannot be read (${code ?? 'error'})`, 'check the path')
  }
  if (!isInside(root, real)) {
    throw pathError(
      input,
      value,
      'it resolves (after symbolic links) outside the workspace',
      `give a ${kind} inside the repository checkout`,
    )
  }
  const stat = fs.lstatSync(real)
  if (kind === 'directory' && !stat.isDirectory()) {
    throw pathError(input, value, 'it is not a directory', 'give a directory')
  }
  if (kind === 'file' && !stat.isFile()) {
    throw pathError(
      input,
      value,
      stat.isDirectory() ? 'it is a directory' : 'it is not a regular file',
      'give a regular file',
    )
  }
  return real
}

export interface OpenedFile {
  fd: number
  size: number
}

/**
 * Opens a file resolved by resolveWorkspacePath for reading: O_NOFOLLOW (a symlink swapped in since is refused),
 * O_NONBLOCK (a FIFO does not block), then checks on the descriptor that it is a regular file of at most
 * `maxBytes`. The caller closes the descriptor.
 */
export function openWorkspaceFile(
  input: string,
  value: string,
  real: string,
  maxBytes: number,
  sizeError: (size: number) => ConfigurationError,
): OpenedFile {
  const flags =
    fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0)
  let fd: number
  try {
    fd = fs.openSync(real, flags)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw pathError(
      input,
      value,
      code === 'ELOOP' ? 'it is a symbolic link' : `it cannot be opened (${code ?? 'error'})`,
      'give a regular file inside the workspace',
    )
  }
  const stat = fs.fstatSync(fd)
  if (!stat.isFile()) {
    fs.closeSync(fd)
    throw pathError(input, value, 'it is not a regular file', 'give a regular file')
  }
  if (stat.size > maxBytes) {
    fs.closeSync(fd)
    throw sizeError(stat.size)
  }
  return { fd, size: stat.size }
}

/** Reads a whole small workspace file (an ignore file, a config) through openWorkspaceFile. */
export function readWorkspaceFile(
  input: string,
  value: string,
  workspace: string,
  maxBytes: number,
): Buffer {
  const real = resolveWorkspacePath(input, value, workspace, 'file')
  const opened = openWorkspaceFile(input, value, real, maxBytes, (size) =>
    pathError(input, value, `it is ${size} bytes, over ${maxBytes}`, 'give a smaller file'),
  )
  try {
    return fs.readFileSync(opened.fd)
  } finally {
    fs.closeSync(opened.fd)
  }
}
