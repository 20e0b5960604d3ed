/**
 * npm run bench:job: the whole action on the example model as a fresh GitHub-hosted runner sees it, against the
 * anchors' steps, side by side in one invocation. Run through scripts/bench-job.sh (it compiles this file and
 * bundles the action into build/bench/bundle).
 *
 *   node build/bench/scripts/bench/job.js [--reps N] [--work DIR]
 *
 * Each repetition, in alternating order:
 * - the action (`node bundle/index.js`, upload-artifact and upload-sarif off, no MLflow, trivy-skip-db-update
 *   with the test DB provisioned): run 1 on an empty runner (empty RUNNER_TEMP, tool cache and Trivy directory,
 *   Trivy downloaded from a local release mirror) and an empty Actions cache (a local CacheService v2 in front
 *   of Azurite); the runner wiped and the image removed; run 2 on the empty runner with what run 1 saved. Then
 *   a warm local scan: the same trivy command again on run 2's image with run 2's Trivy cache (every layer
 *   known), the floor a scan can reach.
 * - the anchors' steps, each its own process as workflow steps are: scikit-learn training in the MLflow venv
 *   (anchor_train.py), `docker build` of the example Dockerfile, `trivy image` to JSON and `trivy image` to
 *   SARIF, each on an empty Trivy cache (the DB provisioned) as a hosted runner has it.
 * Every build starts without Docker's build cache (a fresh nonce in the context per repetition, images removed
 * after each run), as on a fresh runner. Stage times of the action come from its job summary's time-per-stage
 * line. Prints a Markdown table of medians and writes the raw figures to WORK/results.json.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { runActionProcess } from '../../__tests__/stack/action-process.js'
import { startCacheService } from '../../__tests__/stack/cache-service.js'
import {
  MLSECOPS_BASE_IMAGE,
  MLSECOPS_TRIVY_DIR,
  MLSECOPS_TRIVY_VERSION,
  MLSECOPS_VENV,
  REPO_ROOT,
  TRIVY_BINARY,
} from '../../__tests__/stack/env.js'
import { writeTrivyTestDb } from '../../__tests__/stack/trivy-test-db.js'

const STAGES = ['train', 'register', 'build', 'scan', 'publish'] as const
const SCANNERS = 'vuln,secret,misconfig'

interface ActionRun {
  wallMs: number
  stages: Record<string, number>
  code: number | null
}

interface Rep {
  order: 'anchors-first' | 'action-first'
  first: ActionRun
  second: ActionRun
  warmScanMs: number
  anchors: { train: number; build: number; scanJson: number; scanSarif: number }
}

function argValue(name: string, fallback: string): string {
  const i = process.argv.indexOf(name)
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback
}

function log(message: string): void {
  process.stderr.write(`[bench:job] ${message}\n`)
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Runs a command to completion; returns its wall time in ms. Throws on a non-zero exit. */
function timed(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): number {
  const started = performance.now()
  const result = spawnSync(cmd, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  })
  const ms = performance.now() - started
  if (result.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${result.status}): ${(result.stderr ?? '').slice(-2000)}`,
    )
  }
  return ms
}

/** `**Time per stage:** train 0.4 s · build 1 min 05 s · … · total …` -> { train: 400, build: 65000, … } */
export function parseStageTimes(summary: string): Record<string, number> {
  const line = summary.split('\n').find((l) => l.startsWith('**Time per stage:**'))
  if (!line) throw new Error('the job summary has no time-per-stage line')
  const out: Record<string, number> = {}
  for (const part of line.replace('**Time per stage:**', '').split('·')) {
    const m = /^\s*(\S+)\s+(?:(\d+) min (\d+) s|([\d.]+) s)\s*$/.exec(part)
    if (!m) continue
    out[m[1]] = m[4] !== undefined ? Number(m[4]) * 1000 : (Number(m[2]) * 60 + Number(m[3])) * 1000
  }
  return out
}

function removeImage(image: string): void {
  spawnSync('docker', ['image', 'rm', '--force', image], { stdio: 'ignore' })
}

/** A Trivy cache directory with only the provisioned test DB in it. */
function freshTrivyCache(dir: string, dbTemplate: string): string {
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  fs.cpSync(path.join(dbTemplate, 'db'), path.join(dir, 'db'), { recursive: true })
  return dir
}

function trivyScanArgs(image: string, cacheDir: string, format: string, output: string): string[] {
  return [
    'image',
    '--image-src',
    'docker',
    '--format',
    format,
    '--output',
    output,
    '--scanners',
    SCANNERS,
    '--image-config-scanners',
    'misconfig,secret',
    '--cache-dir',
    cacheDir,
    '--timeout',
    '10m',
    '--no-progress',
    '--skip-db-update',
    '--skip-java-db-update',
    '--skip-check-update',
    '--skip-version-check',
    '--disable-telemetry',
    image,
  ]
}

async function main(): Promise<void> {
  const reps = Number(argValue('--reps', '3'))
  const work = path.resolve(argValue('--work', path.join(REPO_ROOT, '.tmp', 'bench-job')))
  for (const need of [TRIVY_BINARY, path.join(MLSECOPS_VENV, 'bin', 'python')]) {
    if (!fs.existsSync(need)) throw new Error(`${need} is missing: run scripts/stack/install.sh`)
  }
  fs.rmSync(work, { recursive: true, force: true })
  fs.mkdirSync(work, { recursive: true })
  const dbTemplate = path.join(work, 'db-template')
  writeTrivyTestDb(dbTemplate, '2026-11-20T06:00:00Z')

  // The release mirror: the real binary in a release-shaped archive and its checksums file.
  const version = MLSECOPS_TRIVY_VERSION
  const archName = process.arch === 'arm64' ? 'ARM64' : '64bit'
  const archive = `trivy_${version}_Linux-${archName}.tar.gz`
  const release = path.join(work, 'release')
  fs.mkdirSync(release)
  fs.copyFileSync(TRIVY_BINARY, path.join(release, 'trivy'))
  fs.chmodSync(path.join(release, 'trivy'), 0o755)
  fs.writeFileSync(path.join(release, 'LICENSE'), 'Apache License 2.0 (bench copy)\n')
  execFileSync('tar', ['-C', release, '-czf', path.join(work, archive), 'LICENSE', 'trivy'])
  const checksums = execFileSync('sha256sum', [archive], { cwd: work, encoding: 'utf8' })
  const archiveSha256 = checksums.split(/\s+/)[0]
  const mirror = http.createServer((req, res) => {
    if (req.url === `/v${version}/trivy_${version}_checksums.txt`) {
      res.end(checksums)
    } else if (req.url === `/v${version}/${archive}`) {
      fs.createReadStream(path.join(work, archive)).pipe(res)
    } else {
      res.writeHead(404)
      res.end()
    }
  })
  await new Promise<void>((resolve) => mirror.listen(0, '127.0.0.1', resolve))
  const mirrorUrl = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}`
  const service = await startCacheService(path.join(work, 'cache-service'))
  const pathWithoutTrivy = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((p) => p !== MLSECOPS_TRIVY_DIR)
    .join(path.delimiter)

  const runner = {
    temp: path.join(work, 'runner', 'temp'),
    toolCache: path.join(work, 'runner', 'tool-cache'),
  }
  const trivyCache = path.join(runner.toolCache, 'mlsecops-trivy')
  const wipeRunner = (): void => {
    fs.rmSync(path.join(work, 'runner'), { recursive: true, force: true })
    fs.mkdirSync(runner.temp, { recursive: true })
    freshTrivyCache(trivyCache, dbTemplate)
  }

  const results: Rep[] = []
  try {
    for (let rep = 0; rep < reps; rep++) {
      // A workspace like a fresh checkout; the nonce keeps Docker's build cache (and other builds on a shared
      // engine) out of this repetition.
      const nonce = `${process.pid}-${rep}-${Date.now().toString(36)}`
      const workspace = path.join(work, `workspace-${rep}`)
      fs.mkdirSync(path.join(workspace, 'model'), { recursive: true })
      for (const file of [
        'Dockerfile',
        '.dockerignore',
        'model/healthcheck.mjs',
        'model/iris.csv',
      ]) {
        fs.copyFileSync(path.join(REPO_ROOT, file), path.join(workspace, file))
      }
      fs.writeFileSync(
        path.join(workspace, 'model', 'server.mjs'),
        `${fs.readFileSync(path.join(REPO_ROOT, 'model', 'server.mjs'), 'utf8')}\n// bench nonce ${nonce}\n`,
      )

      const runAction = async (label: string, image: string): Promise<ActionRun> => {
        wipeRunner()
        const result = await runActionProcess({
          tmp: work,
          name: `${label}-${rep}`,
          workspace,
          inputs: {
            dataset: 'model/iris.csv',
            'target-column': 'species',
            'build-args': `BASE_IMAGE=${MLSECOPS_BASE_IMAGE}`,
            image,
            'trivy-skip-db-update': 'true',
            // The mirror's archive wraps the locally built binary: pinned as a user would pin it.
            'trivy-checksum': archiveSha256,
            'fail-on-severity': 'none',
            'upload-artifact': 'false',
            'upload-sarif': 'false',
          },
          env: {
            ...service.env(),
            RUNNER_TEMP: runner.temp,
            RUNNER_TOOL_CACHE: runner.toolCache,
            PATH: pathWithoutTrivy,
            MLSECOPS_TRIVY_DOWNLOAD_URL: mirrorUrl,
          },
        })
        if (result.code !== 0) {
          throw new Error(
            `the action (${label}) exited ${result.code}: ${result.stdout.slice(-3000)}`,
          )
        }
        return {
          wallMs: result.elapsedMs,
          stages: parseStageTimes(result.summary),
          code: result.code,
        }
      }

      const action = async (): Promise<Pick<Rep, 'first' | 'second' | 'warmScanMs'>> => {
        service.clear()
        const firstImage = `mlsecops-bench-job:${nonce}-1`
        const secondImage = `mlsecops-bench-job:${nonce}-2`
        const first = await runAction('first', firstImage)
        removeImage(firstImage)
        const second = await runAction('second', secondImage)
        const warmScanMs = timed(
          TRIVY_BINARY,
          trivyScanArgs(secondImage, trivyCache, 'json', path.join(work, 'warm.json')),
          { cwd: runner.temp },
        )
        removeImage(secondImage)
        return { first, second, warmScanMs }
      }

      const anchors = (): Rep['anchors'] => {
        const modelDir = path.join(workspace, '.mlsecops', 'model-anchor')
        fs.rmSync(modelDir, { recursive: true, force: true })
        const image = `mlsecops-bench-anchor:${nonce}`
        const train = timed(path.join(MLSECOPS_VENV, 'bin', 'python'), [
          path.join(REPO_ROOT, 'scripts', 'bench', 'anchor_train.py'),
          path.join(workspace, 'model', 'iris.csv'),
          'species',
          modelDir,
        ])
        const build = timed('docker', [
          'build',
          '--build-arg',
          `BASE_IMAGE=${MLSECOPS_BASE_IMAGE}`,
          '--build-arg',
          'MODEL_DIR=.mlsecops/model-anchor',
          '--tag',
          image,
          workspace,
        ])
        const scanDir = path.join(work, 'anchor-trivy')
        const scanJson = timed(
          TRIVY_BINARY,
          trivyScanArgs(
            image,
            freshTrivyCache(scanDir, dbTemplate),
            'json',
            path.join(work, 'a.json'),
          ),
          { cwd: work },
        )
        const scanSarif = timed(
          TRIVY_BINARY,
          trivyScanArgs(
            image,
            freshTrivyCache(scanDir, dbTemplate),
            'sarif',
            path.join(work, 'a.sarif'),
          ),
          { cwd: work },
        )
        removeImage(image)
        fs.rmSync(modelDir, { recursive: true, force: true })
        return { train, build, scanJson, scanSarif }
      }

      const order = rep % 2 === 0 ? 'anchors-first' : 'action-first'
      let record: Rep
      if (order === 'anchors-first') {
        const a = anchors()
        record = { order, anchors: a, ...(await action()) }
      } else {
        const b = await action()
        record = { order, anchors: anchors(), ...b }
      }
      results.push(record)
      log(
        `rep ${rep + 1}/${reps} (${order}): action ${(record.first.wallMs / 1000).toFixed(1)} s then ${(record.second.wallMs / 1000).toFixed(1)} s; anchors ${((record.anchors.train + record.anchors.build + record.anchors.scanJson + record.anchors.scanSarif) / 1000).toFixed(1)} s; load ${os.loadavg()[0].toFixed(1)}`,
      )
    }
  } finally {
    await service.stop()
    await new Promise<void>((resolve) => mirror.close(() => resolve()))
  }

  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`
  const stageMedian = (which: 'first' | 'second', stage: string): number =>
    median(results.map((r) => r[which].stages[stage] ?? 0))
  const anchorStage: Record<string, number | undefined> = {
    train: median(results.map((r) => r.anchors.train)),
    build: median(results.map((r) => r.anchors.build)),
    scan: median(results.map((r) => r.anchors.scanJson + r.anchors.scanSarif)),
  }
  const anchorsWhole = median(
    results.map(
      (r) => r.anchors.train + r.anchors.build + r.anchors.scanJson + r.anchors.scanSarif,
    ),
  )
  const firstWhole = median(results.map((r) => r.first.wallMs))
  const secondWhole = median(results.map((r) => r.second.wallMs))
  const warm = median(results.map((r) => r.warmScanMs))
  const secondScan = stageMedian('second', 'scan')
  const rows = STAGES.map((stage) => {
    const anchor = anchorStage[stage]
    return `| ${stage} | ${anchor === undefined ? '—' : s(anchor)} | ${s(stageMedian('first', stage))} | ${s(stageMedian('second', stage))} |`
  })
  const table = [
    `| Stage (median of ${reps}) | Anchors' steps | Action, first run | Action, second run |`,
    '|---|---|---|---|',
    ...rows,
    `| whole job (processes) | ${s(anchorsWhole)} | ${s(firstWhole)} | ${s(secondWhole)} |`,
    `| ratio to the anchors | 1.00 | ${(firstWhole / anchorsWhole).toFixed(2)} | ${(secondWhole / anchorsWhole).toFixed(2)} |`,
  ].join('\n')
  const load = os.loadavg().map((l) => l.toFixed(1))
  const notes = [
    `Anchors' scan = trivy JSON ${s(median(results.map((r) => r.anchors.scanJson)))} + trivy SARIF ${s(median(results.map((r) => r.anchors.scanSarif)))}, each on an empty Trivy cache.`,
    `Warm local scan (same trivy command, every layer cached): ${s(warm)}; the second run's scan stage ${s(secondScan)} = ${(secondScan / warm).toFixed(2)}x.`,
    `Load average at the end: ${load.join(', ')} on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown CPU'}).`,
  ]
  fs.writeFileSync(
    path.join(work, 'results.json'),
    JSON.stringify({ reps: results, table, notes, loadavg: os.loadavg() }, null, 2),
  )
  process.stdout.write(`${table}\n\n${notes.join('\n')}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench:job] ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
