import * as core from '@actions/core'
import * as path from 'node:path'
import type { RunContext } from '../context.js'
import type { PublishInputs } from '../inputs.js'
import { errorMessage } from '../errors.js'
import type { Metrics } from '../train/metrics.js'
import type { ScanResult } from '../trivy/findings.js'
import { uploadReportArtifact } from './artifact-upload.js'
import { uploadSarifToCodeScanning } from './code-scanning.js'
import type { VerdictSectionInput } from './job-summary.js'
import { writeScanReport } from './report-text.js'

/**
 * The publish stage: the readable report, the workflow artifact, then code scanning (artifact first, so the
 * reports are kept even when code scanning fails). Skips (no runner, a fork, Dependabot, a 403) are notices.
 * An upload error does not stop the pipeline here: it comes back as `failure`, for the caller to throw once
 * the verdict is recorded.
 */

/** Where the results go: the publish inputs, and what the earlier stages made. */
export interface PublishOptions extends PublishInputs {
  workDir: string
  context: RunContext
  metrics: Metrics
  /** metrics.json of the model directory (goes into the artifact). */
  metricsFile: string
  scan?: ScanResult
  /** The SBOM converted from the scan, when one was written: goes with the reports. */
  sbomReport?: string
  image?: string
  imageId?: string
  modelName: string
  modelVersion?: string
}

export interface PublishResult {
  /** The readable report (report.md). */
  reportFile: string
  /** The scan's JSON and SARIF reports and the SBOM (empty when no scan ran). */
  scanReports: string[]
  artifact: NonNullable<VerdictSectionInput['artifact']>
  codeScanning?: VerdictSectionInput['codeScanning']
  /** The first upload error, thrown by the caller after the verdict is recorded. */
  failure?: unknown
}

/** Runs the publish stage; sets the outputs artifact-id and sarif-id (empty when not uploaded). */
export async function publishReports(options: PublishOptions): Promise<PublishResult> {
  const { scan, context } = options
  const reportFile = writeScanReport(path.join(options.workDir, 'report.md'), {
    metrics: options.metrics,
    scan,
    image: options.image,
    imageId: options.imageId,
    repository: context.repository,
    sha: context.sha,
    runUrl: context.runUrl,
    modelName: options.modelName,
    modelVersion: options.modelVersion,
  })
  core.info(`Wrote the readable report ${reportFile}`)
  const scanReports = scan ? [scan.jsonReport, scan.sarifReport] : []
  if (scan && options.sbomReport) scanReports.push(options.sbomReport)
  const result: PublishResult = { reportFile, scanReports, artifact: { status: 'off' } }

  if (options.uploadArtifact) {
    try {
      result.artifact = await uploadReportArtifact({
        name: options.artifactName,
        files: [...scanReports, options.metricsFile, reportFile],
        retentionDays: options.retentionDays,
      })
    } catch (error) {
      result.failure = error
      result.artifact = { status: 'error', message: errorMessage(error) }
    }
  } else {
    core.info('upload-artifact is false: the reports stay on disk.')
  }
  if (result.artifact.status !== 'uploaded') core.setOutput('artifact-id', '')

  if (!scan) {
    result.codeScanning = undefined
  } else if (!options.uploadSarif) {
    result.codeScanning = { status: 'off', reason: 'upload-sarif is false' }
  } else {
    try {
      result.codeScanning = await uploadSarifToCodeScanning(
        {
          sarifFile: scan.sarifReport,
          category: options.sarifCategory,
          image: options.image,
          token: options.githubToken,
        },
        context,
      )
    } catch (error) {
      result.failure ??= error
      result.codeScanning = { status: 'error', message: errorMessage(error) }
    }
  }
  if (result.codeScanning?.status !== 'uploaded') core.setOutput('sarif-id', '')
  return result
}
