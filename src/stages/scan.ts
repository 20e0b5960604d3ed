import * as core from '@actions/core'
import * as path from 'node:path'
import type { BuildResult } from '../docker/build-image.js'
import { evaluateSeverityGate, type SeverityGateDecision } from '../gate.js'
import type { ExceptionInputs, Inputs, ScanInputs } from '../inputs.js'
import type { Stage } from '../stage.js'
import { SEVERITIES, type ScanResult } from '../trivy/findings.js'
import { loadExceptions, type Exceptions } from '../trivy/exceptions.js'
import { scanImage } from '../trivy/scan-image.js'
import { renderSuppressedSection } from '../publish/job-summary.js'
import { renderScanSection } from '../trivy/scan-summary.js'
import type { StageContext } from './context.js'

export type ScanStageInput = ScanInputs & Pick<Inputs, 'sbomFormat'>

export type ExceptionsInput = ExceptionInputs & Pick<Inputs, 'build' | 'scan'>

/**
 * The ignore files and VEX documents, read and checked before anything runs (a malformed ignore file or a
 * missing reason fails at once); undefined when no scan will run.
 */
export function readExceptions(input: ExceptionsInput): Exceptions | undefined {
  if (!input.build || !input.scan) return undefined
  return loadExceptions({
    ignoreFiles: input.trivyignores,
    vexFiles: input.vex,
    warningDays: input.ignoreExpiryWarningDays,
    requireReason: input.requireIgnoreReason,
  })
}

export interface ScanStageResult {
  scan: ScanResult
  severityGate: SeverityGateDecision
}

const OUTPUTS = [
  'json-report',
  'sarif-report',
  'suppressed',
  ...SEVERITIES.map((s) => s.toLowerCase()),
]

/** Scans the built image once with Trivy and decides the severity gate (the job fails on it last). */
export async function scanStage(
  input: ScanStageInput,
  ctx: StageContext,
  earlier: { build?: BuildResult; exceptions?: Exceptions },
): Promise<Stage<ScanStageResult | undefined>> {
  const { build, exceptions } = earlier
  if (!build || !input.scan) {
    if (build) core.info('scan is false: the image is not scanned.')
    return { result: undefined, outputs: Object.fromEntries(OUTPUTS.map((name) => [name, ''])) }
  }
  const scan = await scanImage({
    image: build.image,
    reportsDir: path.join(ctx.workDir, 'reports'),
    runnerTemp: ctx.runnerTemp,
    trivyVersion: input.trivyVersion,
    trivyChecksum: input.trivyChecksum,
    scanners: input.scanners,
    cacheDir: input.trivyCacheDir,
    exceptions,
    skipDbUpdate: input.trivySkipDbUpdate,
    dbRepositories: input.trivyDbRepositories,
    server: input.trivyServer,
    timeout: input.trivyTimeout,
    cache: input.cache,
    // The SBOM is converted from this one report: it must list every package, not only vulnerable ones.
    listAllPackages: input.sbomFormat !== 'none',
  })
  const severityGate = evaluateSeverityGate(scan.findings, input)
  const outputs: Record<string, string> = {
    'json-report': scan.jsonReport,
    'sarif-report': scan.sarifReport,
    suppressed: String(scan.suppressed?.length ?? 0),
  }
  for (const severity of SEVERITIES) outputs[severity.toLowerCase()] = String(scan.counts[severity])
  return {
    result: { scan, severityGate },
    outputs,
    summary: [renderScanSection(scan, severityGate), renderSuppressedSection(scan)]
      .filter((section) => section !== '')
      .join('\n\n'),
    gateFailures: !severityGate.passed && severityGate.message ? [severityGate.message] : [],
  }
}
