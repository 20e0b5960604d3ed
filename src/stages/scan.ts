import * as core from '@actions/core'
import * as path from 'node:path'
import type { BuildResult } from '../docker/build-image.js'
import { evaluateSeverityGate, type SeverityGateDecision } from '../gate.js'
import type { Inputs } from '../inputs.js'
import type { Stage } from '../stage.js'
import { SEVERITIES, type ScanResult } from '../trivy/findings.js'
import { scanImage } from '../trivy/scan-image.js'
import { renderScanSection } from '../trivy/scan-summary.js'
import type { StageContext } from './context.js'

export type ScanStageInput = Pick<
  Inputs,
  | 'scan'
  | 'trivyVersion'
  | 'scanners'
  | 'trivyCacheDir'
  | 'trivyignore'
  | 'trivySkipDbUpdate'
  | 'trivyDbRepositories'
  | 'trivyServer'
  | 'trivyTimeout'
  | 'failOnSeverity'
  | 'ignoreUnfixed'
>

export interface ScanStageResult {
  scan: ScanResult
  severityGate: SeverityGateDecision
}

const OUTPUTS = ['json-report', 'sarif-report', ...SEVERITIES.map((s) => s.toLowerCase())]

/** Scans the built image once with Trivy and decides the severity gate (the job fails on it last). */
export async function scanStage(
  input: ScanStageInput,
  ctx: StageContext,
  build: BuildResult | undefined,
): Promise<Stage<ScanStageResult | undefined>> {
  if (!build || !input.scan) {
    if (build) core.info('scan is false: the image is not scanned.')
    return { result: undefined, outputs: Object.fromEntries(OUTPUTS.map((name) => [name, ''])) }
  }
  const scan = await scanImage({
    image: build.image,
    reportsDir: path.join(ctx.workDir, 'reports'),
    runnerTemp: ctx.runnerTemp,
    trivyVersion: input.trivyVersion,
    scanners: input.scanners,
    cacheDir: input.trivyCacheDir,
    ignoreFile: input.trivyignore,
    skipDbUpdate: input.trivySkipDbUpdate,
    dbRepositories: input.trivyDbRepositories,
    server: input.trivyServer,
    timeout: input.trivyTimeout,
  })
  const severityGate = evaluateSeverityGate(scan.findings, input)
  const outputs: Record<string, string> = {
    'json-report': scan.jsonReport,
    'sarif-report': scan.sarifReport,
  }
  for (const severity of SEVERITIES) outputs[severity.toLowerCase()] = String(scan.counts[severity])
  return {
    result: { scan, severityGate },
    outputs,
    summary: renderScanSection(scan, severityGate),
    gateFailures: !severityGate.passed && severityGate.message ? [severityGate.message] : [],
  }
}
