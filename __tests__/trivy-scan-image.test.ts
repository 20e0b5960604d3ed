/**
 * Unit: the scan stage's flow with the commands, the Trivy locator and @actions/cache replaced (no process, no
 * network): the DB is restored, refreshed and saved right after a download (before the scan), cache trouble is
 * a debug line or a warning, and every scanner failure is a ScannerError.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as core from '../__fixtures__/core.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const reportFixture = fs.readFileSync(
  path.join(here, '..', '__fixtures__', 'trivy', 'report.json'),
  'utf8',
)

const events: string[] = []
core.debug.mockImplementation((m: string) => void events.push(`debug:${m}`))
core.info.mockImplementation((m: string) => void events.push(`info:${m}`))
core.warning.mockImplementation((m: string | Error) => void events.push(`warning:${String(m)}`))
jest.unstable_mockModule('@actions/core', () => core)
const { debug, info, warning } = core

const isFeatureAvailable = jest.fn(() => false)
const restoreCache = jest.fn(
  async (_paths: string[], _key: string, _restore?: string[]): Promise<string | undefined> =>
    undefined,
)
const saveCache = jest.fn(async (_paths: string[], key: string): Promise<number> => {
  events.push(`save:${key}`)
  return 1
})
jest.unstable_mockModule('@actions/cache', () => ({ isFeatureAvailable, restoreCache, saveCache }))

interface FakeResult {
  exitCode: number
  stdout: string
  stderr: string
  tail: string[]
}
type Behaviour = (args: readonly string[]) => FakeResult
let behaviour: Behaviour
const runCommand = jest.fn(async (_tool: string, args: readonly string[]) => {
  events.push(`exec:${args[0]} ${args[1]}`)
  return behaviour(args)
})
jest.unstable_mockModule('../src/exec.js', () => ({ runCommand }))

const locateOrInstallTrivy = jest.fn(async () => ({
  path: '/opt/trivy',
  version: '0.74.0',
  origin: 'path' as const,
}))
jest.unstable_mockModule('../src/trivy/install.js', () => ({ locateOrInstallTrivy }))

const { scanImage } = await import('../src/trivy/scan-image.js')
const { dbCacheKeys } = await import('../src/trivy/db-cache.js')
const { layerCacheKeys, layerCachePaths } = await import('../src/trivy/scan-cache.js')
const { ScannerError } = await import('../src/errors.js')
type ScanOptions = import('../src/trivy/scan-image.js').ScanOptions

let tmp: string
let cacheDir: string

function ok(stdout = ''): FakeResult {
  return { exitCode: 0, stdout, stderr: '', tail: [] }
}

function writeDb(downloadedAt: string): void {
  fs.mkdirSync(path.join(cacheDir, 'db'), { recursive: true })
  fs.writeFileSync(path.join(cacheDir, 'db', 'trivy.db'), 'bolt')
  fs.writeFileSync(
    path.join(cacheDir, 'db', 'metadata.json'),
    JSON.stringify({ Version: 2, UpdatedAt: '2026-11-25T00:00:00Z', DownloadedAt: downloadedAt }),
  )
}

function argAfter(args: readonly string[], flag: string): string {
  return args[args.indexOf(flag) + 1]
}

const LAYERS = ['sha256:' + 'a'.repeat(64), 'sha256:' + 'b'.repeat(64)]

/** Trivy as the tests want it: download writes a DB, the scan writes the fixture report, convert writes SARIF. */
function healthyTrivy(download: () => void = () => writeDb(new Date().toISOString())): Behaviour {
  return (args) => {
    if (args[0] === 'image' && args[1] === 'inspect') {
      return ok(JSON.stringify([{ Id: 'sha256:1', RootFS: { Layers: LAYERS } }]))
    }
    if (args.includes('--download-db-only')) {
      download()
      return ok()
    }
    if (args[0] === 'image') {
      // Trivy keeps its layer analysis under <cache>/fanal.
      fs.mkdirSync(path.join(argAfter(args, '--cache-dir'), 'fanal'), { recursive: true })
      fs.writeFileSync(path.join(argAfter(args, '--cache-dir'), 'fanal', 'fanal.db'), 'bolt')
      fs.writeFileSync(argAfter(args, '--output'), reportFixture)
      return ok()
    }
    if (args[0] === 'convert') {
      fs.writeFileSync(argAfter(args, '--output'), '{"version":"2.1.0","runs":[]}')
      return ok()
    }
    throw new Error(`unexpected trivy ${args.join(' ')}`)
  }
}

function options(overrides: Partial<ScanOptions> = {}): ScanOptions {
  return {
    image: 'iris:abc1234',
    reportsDir: path.join(tmp, 'reports'),
    runnerTemp: tmp,
    trivyVersion: '0.74.0',
    scanners: ['vuln', 'secret', 'misconfig'],
    cacheDir,
    skipDbUpdate: false,
    dbRepositories: [],
    server: '',
    timeout: '10m',
    ...overrides,
  }
}

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scan-unit-'))
  cacheDir = path.join(tmp, 'cache')
  events.length = 0
  jest.clearAllMocks()
  isFeatureAvailable.mockReturnValue(false)
  restoreCache.mockResolvedValue(undefined)
  behaviour = healthyTrivy()
})

afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe('the vulnerability DB and the cache', () => {
  it('without a cache service (local run): no cache calls, a debug line, then download and one scan', async () => {
    const scan = await scanImage(options())
    expect(restoreCache).not.toHaveBeenCalled()
    expect(saveCache).not.toHaveBeenCalled()
    expect(debug.mock.calls.map((c) => c[0]).join('\n')).toMatch(
      /ACTIONS_CACHE_URL \/ ACTIONS_RESULTS_URL unset/,
    )
    expect(warning).not.toHaveBeenCalled()
    expect(events.filter((e) => e.startsWith('exec:'))).toEqual([
      'exec:image --download-db-only',
      'exec:image --image-src',
      'exec:convert --format',
    ])
    expect(scan.dbUpdatedAt).toBe('2026-11-25T00:00:00Z')
    expect(scan.counts).toEqual({ CRITICAL: 1, HIGH: 5, MEDIUM: 1, LOW: 2, UNKNOWN: 1 })
  })

  it('saves a fresh download under the day key right away, before the scan runs', async () => {
    isFeatureAvailable.mockReturnValue(true)
    restoreCache.mockImplementation(async (paths) => {
      if (!paths[0].endsWith('db')) return undefined // no layer cache yet
      writeDb('2026-11-24T00:00:00Z') // yesterday's DB comes back
      return 'mlsecops-trivy-db-2026-11-24'
    })
    await scanImage(options())
    const key = dbCacheKeys().primary
    const layers = layerCacheKeys('0.74.0', LAYERS)
    expect(restoreCache).toHaveBeenCalledWith([path.join(cacheDir, 'db')], key, [
      'mlsecops-trivy-db-',
    ])
    expect(restoreCache).toHaveBeenCalledWith(
      layerCachePaths(cacheDir),
      layers.primary,
      layers.restore,
    )
    expect(saveCache).toHaveBeenCalledWith([path.join(cacheDir, 'db')], key)
    // The layer cache is saved right after the scan, before the SARIF conversion and the gate.
    expect(events.filter((e) => e.startsWith('exec:') || e.startsWith('save:'))).toEqual([
      'exec:image inspect',
      'exec:image --download-db-only',
      `save:${key}`,
      'exec:image --image-src',
      `save:${layers.primary}`,
      'exec:convert --format',
    ])
  })

  it('does not save when the DB did not change or today’s key was restored', async () => {
    isFeatureAvailable.mockReturnValue(true)
    restoreCache.mockImplementation(async () => {
      writeDb('2026-11-25T01:00:00Z')
      return dbCacheKeys().primary
    })
    behaviour = healthyTrivy(() => undefined) // Trivy found the DB fresh: nothing downloaded
    await scanImage(options())
    expect(saveCache.mock.calls.map((c) => c[0])).not.toContainEqual([path.join(cacheDir, 'db')])
  })

  it('a cache that fails to restore or save is a warning, never a failure', async () => {
    isFeatureAvailable.mockReturnValue(true)
    restoreCache.mockRejectedValue(new Error('cache service 503'))
    saveCache.mockRejectedValueOnce(new Error('upload failed'))
    await expect(scanImage(options())).resolves.toBeDefined()
    const warnings = warning.mock.calls.map((c) => String(c[0]))
    expect(warnings).toEqual([
      'Could not restore the Trivy layer cache: cache service 503',
      'Could not restore the Trivy DB from the cache: cache service 503',
      'Could not save the Trivy DB to the cache: upload failed',
    ])
  })

  it('cache false: no cache call at all, even with a cache service', async () => {
    isFeatureAvailable.mockReturnValue(true)
    await scanImage(options({ cache: false }))
    expect(restoreCache).not.toHaveBeenCalled()
    expect(saveCache).not.toHaveBeenCalled()
    expect(events.filter((e) => e.startsWith('exec:'))).toEqual([
      'exec:image --download-db-only',
      'exec:image --image-src',
      'exec:convert --format',
    ])
  })

  it('skip-db-update: the layer cache is still restored and saved, an exact hit is not saved again', async () => {
    isFeatureAvailable.mockReturnValue(true)
    writeDb('2026-11-25T01:00:00Z')
    const layers = layerCacheKeys('0.74.0', LAYERS)
    restoreCache.mockImplementation(async (paths) =>
      paths[0].endsWith('fanal') ? layers.primary : undefined,
    )
    await scanImage(options({ skipDbUpdate: true }))
    expect(restoreCache.mock.calls.map((c) => c[1])).toEqual([
      layers.primary,
      dbCacheKeys().primary,
    ])
    expect(saveCache).not.toHaveBeenCalled()
    restoreCache.mockResolvedValue(layers.restore[0] + 'otherimage')
    await scanImage(options({ skipDbUpdate: true }))
    expect(saveCache).toHaveBeenCalledWith(layerCachePaths(cacheDir), layers.primary)
  })

  it('a key another job saved first is only a notice', async () => {
    isFeatureAvailable.mockReturnValue(true)
    const reserve = new Error('Unable to reserve cache with key mlsecops-trivy-db-x')
    reserve.name = 'ReserveCacheError'
    saveCache.mockRejectedValueOnce(reserve)
    await scanImage(options())
    expect(warning).not.toHaveBeenCalled()
    expect(info.mock.calls.map((c) => c[0]).join('\n')).toMatch(/already exists/)
  })

  it('a failed DB download is a ScannerError that points at mirrors and offline use; no scan runs', async () => {
    behaviour = (args) =>
      args.includes('--download-db-only')
        ? {
            exitCode: 1,
            stdout: '',
            stderr: '',
            tail: ['FATAL failed to download vulnerability DB', 'dial tcp: i/o timeout'],
          }
        : ok()
    const attempt = scanImage(options())
    await expect(attempt).rejects.toBeInstanceOf(ScannerError)
    await expect(attempt).rejects.toThrow(
      /Trivy failed \(exit 1\) during the vulnerability DB download \(use trivy-db-repository .*\): FATAL failed to download vulnerability DB \| dial tcp: i\/o timeout/,
    )
    expect(events.filter((e) => e.startsWith('exec:'))).toEqual(['exec:image --download-db-only'])
  })

  it('trivy-skip-db-update with no DB: a ScannerError before Trivy runs', async () => {
    await expect(scanImage(options({ skipDbUpdate: true }))).rejects.toThrow(
      /trivy-skip-db-update is true but there is no vulnerability DB in .*cache\/db/,
    )
    expect(runCommand).not.toHaveBeenCalled()
  })

  it('trivy-skip-db-update with a DB: no download, the scan goes fully offline', async () => {
    writeDb('2026-11-20T00:00:00Z')
    await scanImage(options({ skipDbUpdate: true }))
    const scanArgs = runCommand.mock.calls.map((c) => c[1]).find((a) => a[1] === '--image-src')!
    expect(scanArgs).toEqual(
      expect.arrayContaining(['--skip-db-update', '--skip-java-db-update', '--skip-check-update']),
    )
    expect(events.some((e) => e.includes('--download-db-only'))).toBe(false)
  })

  it('client/server mode and scans without vuln need no local DB', async () => {
    await scanImage(options({ server: 'http://trivy:4954' }))
    await scanImage(options({ scanners: ['secret', 'misconfig'] }))
    expect(events.some((e) => e.includes('--download-db-only'))).toBe(false)
    expect(restoreCache).not.toHaveBeenCalled()
  })
})

describe('scanner failures are ScannerErrors, never a pass', () => {
  it('a crash in the scan quotes Trivy’s last lines, and no stale report survives', async () => {
    fs.mkdirSync(path.join(tmp, 'reports'), { recursive: true })
    fs.writeFileSync(path.join(tmp, 'reports', 'trivy-report.json'), reportFixture) // from an earlier run
    behaviour = (args) =>
      args.includes('--download-db-only')
        ? (writeDb('x'), ok())
        : { exitCode: 2, stdout: '', stderr: '', tail: ['panic: runtime error'] }
    await expect(scanImage(options())).rejects.toThrow(
      /^Trivy failed \(exit 2\) during the scan of iris:abc1234: panic: runtime error$/,
    )
    expect(fs.existsSync(path.join(tmp, 'reports', 'trivy-report.json'))).toBe(false)
  })

  it('Trivy that cannot be started', async () => {
    runCommand.mockRejectedValueOnce(new Error('Unable to locate executable file: /opt/trivy'))
    await expect(scanImage(options())).rejects.toThrow(/Could not run Trivy \(\/opt\/trivy\)/)
  })

  it('no report, or a report that is not JSON', async () => {
    writeDb('x')
    behaviour = (args) => (args[0] === 'image' ? ok() : ok())
    await expect(scanImage(options({ skipDbUpdate: true }))).rejects.toThrow(/wrote no JSON report/)
    behaviour = (args) => {
      if (args[0] === 'image')
        fs.writeFileSync(argAfter(args, '--output'), '{"SchemaVersion": 2, "Resu')
      return ok()
    }
    await expect(scanImage(options({ skipDbUpdate: true }))).rejects.toThrow(/not valid JSON/)
  })

  it('a SARIF conversion that fails or writes garbage', async () => {
    writeDb('x')
    behaviour = (args) => {
      if (args[0] === 'image') {
        fs.writeFileSync(argAfter(args, '--output'), reportFixture)
        return ok()
      }
      fs.writeFileSync(argAfter(args, '--output'), 'not json')
      return ok()
    }
    await expect(scanImage(options({ skipDbUpdate: true }))).rejects.toThrow(
      /SARIF report .* is unreadable/,
    )
  })

  it('Trivy ERROR lines on a successful scan become warnings', async () => {
    writeDb('x')
    const healthy = healthyTrivy()
    behaviour = (args) => {
      const r = healthy(args)
      return args[1] === '--image-src'
        ? {
            ...r,
            stderr: '2026-01-01T00:00:00Z\tERROR\t[dockerfile scanner] Failed to parse file\n',
          }
        : r
    }
    await scanImage(options({ skipDbUpdate: true }))
    expect(warning).toHaveBeenCalledWith(
      'Trivy reported an error: [dockerfile scanner] Failed to parse file',
    )
  })
})
