// Path inputs stay inside the workspace after symlinks; files are regular files checked on the opened descriptor.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ConfigurationError } from '../src/errors.js'
import { inertLine, listSome } from '../src/log-text.js'
import {
  openWorkspaceFile,
  readWorkspaceFile,
  resolveWorkspacePath,
} from '../src/workspace-paths.js'

let tmp: string
let ws: string
beforeAll(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ws-paths-')))
  ws = path.join(tmp, 'ws')
  fs.mkdirSync(path.join(ws, 'sub'), { recursive: true })
  fs.writeFileSync(path.join(ws, 'data.csv'), 'x,label\n1,a\n')
  fs.writeFileSync(path.join(tmp, 'secret.txt'), 'outside')
  fs.symlinkSync('/proc/self/environ', path.join(ws, 'environ.csv'))
  fs.symlinkSync('/dev/zero', path.join(ws, 'zero.csv'))
  fs.symlinkSync(path.join(tmp, 'secret.txt'), path.join(ws, 'escape.csv'))
  fs.symlinkSync('data.csv', path.join(ws, 'inside-link.csv'))
  fs.symlinkSync(tmp, path.join(ws, 'up'))
  execFileSync('mkfifo', [path.join(ws, 'fifo.csv')])
})
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

function failure(fn: () => unknown): ConfigurationError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError)
    const message = (error as Error).message
    expect(message).not.toMatch(/[\r\n]/)
    return error as ConfigurationError
  }
  throw new Error('expected a ConfigurationError')
}

describe('resolveWorkspacePath', () => {
  it('resolves a file and a symlink inside the workspace to their real paths', () => {
    expect(resolveWorkspacePath('dataset', 'data.csv', ws, 'file')).toBe(path.join(ws, 'data.csv'))
    expect(resolveWorkspacePath('dataset', 'inside-link.csv', ws, 'file')).toBe(
      path.join(ws, 'data.csv'),
    )
    expect(resolveWorkspacePath('context', 'sub', ws, 'directory')).toBe(path.join(ws, 'sub'))
  })

  it.each([
    ['a symlink to /proc/self/environ', 'environ.csv'],
    ['a symlink to a file outside', 'escape.csv'],
    ['..', '../secret.txt'],
    ['an absolute path outside', '/etc/passwd'],
    ['a path through a symlinked directory', 'up/secret.txt'],
    ['a symlink to /dev/zero', 'zero.csv'],
  ])('%s is refused as outside the workspace', (_what, value) => {
    const error = failure(() => resolveWorkspacePath('dataset', value, ws, 'file'))
    expect(error.input).toBe('dataset')
    expect(error.message).toContain(`Input 'dataset' is '${value}'`)
    expect(error.message).toMatch(
      /outside the workspace; give a file inside the repository checkout/,
    )
  })

  it('a FIFO, a directory and a missing path are refused with the fix', () => {
    expect(failure(() => resolveWorkspacePath('dataset', 'fifo.csv', ws, 'file')).message).toMatch(
      /not a regular file; give a regular file/,
    )
    expect(failure(() => resolveWorkspacePath('dataset', 'sub', ws, 'file')).message).toMatch(
      /is a directory/,
    )
    expect(failure(() => resolveWorkspacePath('dataset', 'nope.csv', ws, 'file')).message).toMatch(
      /does not exist/,
    )
    expect(resolveWorkspacePath('context', 'nope', ws, 'directory', { missingOk: true })).toBe(
      path.join(ws, 'nope'),
    )
  })

  it('a control character in the value is shown escaped, on one line', () => {
    const error = failure(() => resolveWorkspacePath('trivyignore', 'a\n::warning::x', ws, 'file'))
    expect(error.message).toContain(String.raw`'a\n::warning::x'`)
  })
})

describe('openWorkspaceFile', () => {
  it('checks the size on the opened descriptor and does not block on a FIFO', () => {
    const big = () => new ConfigurationError('dataset', 'too big')
    const opened = openWorkspaceFile('dataset', 'data.csv', path.join(ws, 'data.csv'), 100, big)
    expect(opened.size).toBe(12)
    fs.closeSync(opened.fd)
    expect(() =>
      openWorkspaceFile('dataset', 'data.csv', path.join(ws, 'data.csv'), 5, big),
    ).toThrow('too big')
    expect(
      failure(() => openWorkspaceFile('dataset', 'fifo.csv', path.join(ws, 'fifo.csv'), 100, big))
        .message,
    ).toMatch(/not a regular file/)
    // O_NOFOLLOW: a symlink in place of the resolved file is refused.
    expect(
      failure(() =>
        openWorkspaceFile('dataset', 'inside-link.csv', path.join(ws, 'inside-link.csv'), 100, big),
      ).message,
    ).toMatch(/symbolic link/)
    expect(readWorkspaceFile('trivyignore', 'data.csv', ws, 100).toString()).toBe('x,label\n1,a\n')
  })
})

describe('log-text', () => {
  it('inertLine escapes control characters and breaks a leading ::', () => {
    expect(inertLine('a\nb\r\u001b[31m')).toBe(String.raw`a\nb\r\x1b[31m`)
    expect(inertLine('::warning::x')).toBe(String.raw`\x3a:warning::x`)
    expect(inertLine('x'.repeat(20), 5)).toBe('xxxxx… (15 more characters)')
  })
  it('listSome names a few and counts the rest', () => {
    expect(listSome(['a', 'b', 'c', 'd'], 2)).toBe('a, b and 2 more')
  })
})
