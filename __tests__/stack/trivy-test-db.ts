/**
 * The test vulnerability DB (scripts/trivy-test-db) and the findings it must produce, worked out independently
 * of Trivy: the image's own dpkg database says which binary packages come from each advisory's source package,
 * and `dpkg --compare-versions` inside the image says whether the installed version is below the fixed one.
 */
import { execFileSync, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { docker } from './docker.js'
import { REPO_ROOT, TRIVY_TEST_DB_BINARY } from './env.js'

export const TEST_DB_SPEC = path.join(REPO_ROOT, 'scripts', 'trivy-test-db', 'advisories.json')

export interface TestAdvisory {
  id: string
  sourcePackage: string
  fixedVersion: string
  severity: 'UNKNOWN' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL'
  title: string
}

export function testAdvisories(): TestAdvisory[] {
  return (JSON.parse(fs.readFileSync(TEST_DB_SPEC, 'utf8')) as { advisories: TestAdvisory[] })
    .advisories
}

/** Writes the test DB into <cacheDir>/db (trivy.db + metadata.json). */
export function writeTrivyTestDb(cacheDir: string, updatedAt?: string): void {
  if (!fs.existsSync(TRIVY_TEST_DB_BINARY)) {
    throw new Error(`${TRIVY_TEST_DB_BINARY} is missing: run scripts/stack/install.sh`)
  }
  const args = ['--spec', TEST_DB_SPEC, '--cache-dir', cacheDir]
  if (updatedAt) args.push('--updated-at', updatedAt)
  execFileSync(TRIVY_TEST_DB_BINARY, args, { stdio: 'pipe' })
}

export interface ExpectedVulnerability {
  id: string
  pkgName: string
  severity: TestAdvisory['severity']
  fixedVersion: string
}

/** The (advisory, binary package) pairs an image must show, from its own dpkg database. */
export function expectedVulnerabilities(image: string): ExpectedVulnerability[] {
  const installed = docker([
    'run',
    '--rm',
    '--network',
    'none',
    '--user',
    '0',
    '--entrypoint',
    'dpkg-query',
    image,
    '-W',
    '-f',
    '${Package}\\t${source:Package}\\t${source:Version}\\n',
  ])
    .trim()
    .split('\n')
    .map((line) => line.split('\t'))
  const candidates: { advisory: TestAdvisory; pkg: string; version: string }[] = []
  for (const advisory of testAdvisories()) {
    for (const [pkg, source, version] of installed) {
      if (source === advisory.sourcePackage) candidates.push({ advisory, pkg, version })
    }
  }
  const fixed = candidates.filter((c) => c.advisory.fixedVersion !== '')
  // One container answers every comparison: "lt" when the installed version is below the fixed one.
  const script =
    'while [ $# -gt 1 ]; do if dpkg --compare-versions "$1" lt "$2"; then echo lt; else echo ge; fi; shift 2; done'
  const answers = docker([
    'run',
    '--rm',
    '--network',
    'none',
    '--entrypoint',
    'sh',
    image,
    '-c',
    script,
    'sh',
    ...fixed.flatMap((c) => [c.version, c.advisory.fixedVersion]),
  ])
    .trim()
    .split('\n')
  const affected = candidates.filter((c) => {
    if (c.advisory.fixedVersion === '') return true
    return answers[fixed.indexOf(c)] === 'lt'
  })
  return affected
    .map((c) => ({
      id: c.advisory.id,
      pkgName: c.pkg,
      severity: c.advisory.severity,
      fixedVersion: c.advisory.fixedVersion,
    }))
    .sort((a, b) => `${a.id} ${a.pkgName}`.localeCompare(`${b.id} ${b.pkgName}`))
}

export interface TestDbRegistry {
  /** e.g. 127.0.0.1:41234/aquasecurity/trivy-db:2, for --db-repository / trivy-db-repository. */
  repository: string
  stop(): Promise<void>
}

/**
 * Serves the test DB the way Trivy publishes it (an OCI artifact) from go-containerregistry's registry, run by
 * scripts/trivy-test-db on a free port of 127.0.0.1. Trivy downloads it for real with --db-repository.
 */
export async function startTestDbRegistry(workDir: string): Promise<TestDbRegistry> {
  if (!fs.existsSync(TRIVY_TEST_DB_BINARY)) {
    throw new Error(`${TRIVY_TEST_DB_BINARY} is missing: run scripts/stack/install.sh`)
  }
  const child = spawn(
    TRIVY_TEST_DB_BINARY,
    ['--spec', TEST_DB_SPEC, '--cache-dir', workDir, '--serve', '--listen', '127.0.0.1:0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
  const repository = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(
      () => reject(new Error(`the test DB registry did not start: ${stderr}`)),
      30_000,
    )
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /^serving (\S+)$/m.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the test DB registry exited (${code}): ${stderr}`))
    })
  })
  return {
    repository,
    stop: async () => {
      child.kill('SIGTERM')
      await exited
    },
  }
}
