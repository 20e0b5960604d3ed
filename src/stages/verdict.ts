import * as path from 'node:path'
import { errorMessage } from '../errors.js'
import type { Inputs } from '../inputs.js'
import type { Registration } from '../mlflow/registration.js'
import {
  JOB_SUMMARY_LIMIT_BYTES,
  renderFindingsSection,
  renderVerdictSection,
} from '../publish/job-summary.js'
import { recordVerdict, type VerdictRecord } from '../publish/mlflow-verdict.js'
import type { PublishResult } from '../publish/publish-stage.js'
import type { PromoteResult } from '../push/promote-stage.js'
import type { SbomResult } from '../sbom/write-sbom.js'
import type { Stage } from '../stage.js'
import type { TrainResult } from '../train/train-stage.js'
import type { BuildResult } from '../docker/build-image.js'
import type { ScanStageResult } from './scan.js'

export type VerdictStageInput = Pick<Inputs, 'failOnSeverity' | 'minAccuracy' | 'modelAlias'>

export interface VerdictStageEarlier {
  train: TrainResult
  registration?: Registration
  build?: BuildResult
  scan?: ScanStageResult
  published: PublishResult
  /** The SBOM, when one was written (its format and digest become tags). */
  sbom?: SbomResult
  /** Push and signatures, when asked for: the digest becomes a tag; a failure keeps the alias. */
  promotion?: PromoteResult
  /** What every gate said no to, so far (empty: every gate passed). */
  gateFailures: string[]
  /** The summary written so far, to size the findings list to what is left of GitHub's limit. */
  summarySoFar: string
}

/**
 * The verdict: the gate output, the verdict on the model version in MLflow (tags, reports, and the alias only
 * when every gate passed and every upload succeeded), the findings list and the verdict for the summary. A
 * verdict that cannot be written is deferred: it fails the job, like an upload error, after the summary.
 */
export async function verdictStage(
  input: VerdictStageInput,
  earlier: VerdictStageEarlier,
): Promise<Stage<VerdictRecord | undefined>> {
  const { train, registration, build, scan, published, gateFailures, sbom, promotion } = earlier
  const gatePassed = gateFailures.length === 0
  let record: VerdictRecord | undefined
  let verdictError: unknown
  if (registration) {
    try {
      record = await recordVerdict(registration, {
        verdict: {
          scan: scan?.scan,
          severityGatePassed: scan?.severityGate.passed,
          failOnSeverity: input.failOnSeverity,
          gatePassed,
          gateFailures,
          image: build?.image,
          imageId: build?.imageId,
          imageRef: promotion?.pushed?.imageRef,
          signature: promotion?.signed?.method,
          sbomFormat: sbom?.format,
          sbomSha256: sbom?.sha256,
        },
        reportFiles: published.scanReports,
        alias: input.modelAlias,
        promote: gatePassed && published.failure === undefined && promotion?.failure === undefined,
      })
    } catch (error) {
      verdictError = error
    }
  }
  const verdictSection = renderVerdictSection({
    accuracy: train.metrics.accuracy,
    minAccuracy: input.minAccuracy,
    scan: scan?.scan,
    severityGate: scan?.severityGate,
    gatePassed,
    artifact: published.artifact,
    codeScanning: published.codeScanning,
    mlflow: registration && {
      modelName: registration.modelName,
      modelVersion: registration.modelVersion,
      versionUrl: registration.versionUrl,
      runUrl: registration.runUrl,
      alias: input.modelAlias,
      record,
      error: verdictError === undefined ? undefined : errorMessage(verdictError),
    },
  })
  const sections = [verdictSection]
  if (scan) {
    const used = Buffer.byteLength([earlier.summarySoFar, verdictSection].join('\n\n'))
    const artifact =
      published.artifact.status === 'uploaded' ? ` (artifact ${published.artifact.name})` : ''
    sections.unshift(
      renderFindingsSection(scan.scan, {
        budgetBytes: JOB_SUMMARY_LIMIT_BYTES - used - 8192,
        fullReportHint: `report.md and ${path.basename(scan.scan.jsonReport)}${artifact}`,
      }),
    )
  }
  return {
    result: record,
    outputs: { gate: gatePassed ? 'passed' : 'failed' },
    summary: sections.join('\n\n'),
    deferred: verdictError,
  }
}
