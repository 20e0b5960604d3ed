// The exec wrapper: child environments, the fenced log, deadlines, bounded capture, hidden build-arg values.
import { afterAll, afterEach, describe, expect, it, jest } from '@jest/globals'
import {
  TRIVY_KEPT_VARIABLES,
  childEnvironment,
  formatCommandLine,
  runCommand,
  toolOf,
} from '../src/exec.js'

const written: string[] = []
const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
  written.push(String(chunk))
  return true
})
afterEach(() => {
  written.length = 0
})

const JOB_ENV = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/runner',
  HTTPS_PROXY: 'http://proxy:3128',
  no_proxy: 'localhost',
  LC_ALL: 'C.UTF-8',
  INPUT_MLFLOW_PASSWORD: 'pw',
  'INPUT_GITHUB-TOKEN': 'ghs_x',
  GITHUB_TOKEN: 'ghs_y',
  ACTIONS_RUNTIME_TOKEN: 'jwt',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc',
  MLFLOW_TRACKING_PASSWORD: 'pw2',
  AWS_SECRET_ACCESS_KEY: 'aws',
  DOCKER_HOST: 'unix:///run/docker.sock',
  DOCKER_CONFIG: '/home/runner/.docker',
  BUILDKIT_PROGRESS: 'plain',
  TRIVY_SEVERITY: 'LOW',
  TRIVY_PKG_TYPES: 'library',
  TRIVY_SKIP_DIRS: '/usr',
  TRIVY_IGNOREFILE: '/tmp/x',
  TRIVY_USERNAME: 'u',
  TRIVY_PASSWORD: 'p',
  TRIVY_INSECURE: 'true',
  TRIVY_CACERT: '/ca.pem',
  TRIVY_DB_REPOSITORY: 'mirror.example/trivy-db:2',
}

describe('childEnvironment', () => {
  it('docker gets the common and Docker variables, never inputs, tokens or TRIVY_', () => {
    const { env, scrubbed } = childEnvironment('docker', JOB_ENV)
    expect(Object.keys(env).sort()).toEqual(
      [
        'PATH',
        'HOME',
        'HTTPS_PROXY',
        'no_proxy',
        'LC_ALL',
        'DOCKER_HOST',
        'DOCKER_CONFIG',
        'BUILDKIT_PROGRESS',
      ].sort(),
    )
    expect(scrubbed).toEqual([])
  })

  it('trivy keeps registry, mirror, credential, CA and insecure variables and drops the finding-changing ones', () => {
    const { env, scrubbed } = childEnvironment('trivy', JOB_ENV)
    expect(scrubbed).toEqual([
      'TRIVY_IGNOREFILE',
      'TRIVY_PKG_TYPES',
      'TRIVY_SEVERITY',
      'TRIVY_SKIP_DIRS',
    ])
    for (const kept of [
      'TRIVY_USERNAME',
      'TRIVY_PASSWORD',
      'TRIVY_INSECURE',
      'TRIVY_CACERT',
      'TRIVY_DB_REPOSITORY',
      'DOCKER_HOST',
    ])
      expect(env[kept]).toBeDefined()
    for (const gone of [
      'INPUT_MLFLOW_PASSWORD',
      'GITHUB_TOKEN',
      'ACTIONS_RUNTIME_TOKEN',
      'BUILDKIT_PROGRESS',
    ])
      expect(env[gone]).toBeUndefined()
    expect(TRIVY_KEPT_VARIABLES.has('TRIVY_SCANNERS')).toBe(false)
  })

  it('knows the tool by its file name', () => {
    expect(toolOf('/opt/hostedtoolcache/trivy/0.74.0/x64/trivy')).toBe('trivy')
    expect(toolOf('docker')).toBe('docker')
    expect(toolOf('C:\\tools\\trivy.exe')).toBe('trivy')
    expect(toolOf('sh')).toBe('other')
  })
})

describe('formatCommandLine', () => {
  it('hides build-arg values and passwords, and stays one line', () => {
    const line = formatCommandLine('docker', [
      'build',
      '--build-arg',
      'NPM_TOKEN=s3cret',
      '--password',
      'hunter2',
      '--label',
      'x=a\nb',
      '.',
    ])
    expect(line).toBe(
      String.raw`docker build --build-arg NPM_TOKEN=*** --password *** --label "x=a\nb" .`,
    )
    expect(line).not.toContain('s3cret')
    expect(line).not.toContain('hunter2')
  })
})

describe('runCommand', () => {
  it('fences streamed output with a random stop-commands token and strips ANSI escapes', async () => {
    const result = await runCommand('sh', [
      '-c',
      'printf "\\033[31mred\\033[0m\\n::add-mask::x\\n::warning::injected\\n"; echo err >&2',
    ])
    expect(result.exitCode).toBe(0)
    const log = written.join('')
    const token = /^::stop-commands::([0-9a-f]{32})$/m.exec(log)?.[1]
    expect(token).toBeDefined()
    const lines = log.split('\n').filter((l) => !l.startsWith('::debug::'))
    const start = lines.indexOf(`::stop-commands::${token}`)
    const end = lines.indexOf(`::${token}::`)
    expect(start).toBeGreaterThanOrEqual(0)
    expect(end).toBeGreaterThan(start)
    const inside = lines.slice(start + 1, end)
    expect(inside).toEqual(
      expect.arrayContaining(['red', '::add-mask::x', '::warning::injected', 'err']),
    )
    // Every tool line is inside the fence.
    expect(lines.filter((l) => l.startsWith('::') && !inside.includes(l))).toEqual([
      `::stop-commands::${token}`,
      `::${token}::`,
    ])
    expect(log).not.toContain('\u001b')
    expect(result.tail).toContain('red')
  })

  it('gives the child no INPUT_ values or tokens and no stdin', async () => {
    process.env.INPUT_MLFLOW_PASSWORD = 'from-input'
    process.env.ACTIONS_RUNTIME_TOKEN = 'runtime'
    try {
      const result = await runCommand('sh', ['-c', 'env; cat; echo done'], { silent: true })
      expect(result.stdout).not.toContain('from-input')
      expect(result.stdout).not.toContain('runtime')
      expect(result.stdout).toContain('done')
      expect(written.join('')).not.toContain('stop-commands')
    } finally {
      delete process.env.INPUT_MLFLOW_PASSWORD
      delete process.env.ACTIONS_RUNTIME_TOKEN
    }
  })

  it('ends a command at its deadline: SIGTERM, then SIGKILL when ignored', async () => {
    const started = Date.now()
    const result = await runCommand('sh', ['-c', 'trap "" TERM; sleep 30'], {
      silent: true,
      timeoutMs: 300,
      killGraceMs: 300,
    })
    expect(result.timedOut).toBe(true)
    expect(result.exitCode).toBeNull()
    expect(result.signal).toBe('SIGKILL')
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('keeps at most maxCaptureBytes of output', async () => {
    const result = await runCommand('sh', ['-c', 'head -c 1000000 /dev/zero | tr "\\0" a'], {
      silent: true,
      maxCaptureBytes: 1000,
    })
    expect(result.stdout).toHaveLength(1000)
    expect(result.truncated).toBe(true)
  })

  it('rejects when the tool cannot be started', async () => {
    await expect(runCommand('/nonexistent/tool', [], { silent: true })).rejects.toThrow(
      /Unable to run \/nonexistent\/tool/,
    )
  })
})

afterAll(() => write.mockRestore())
