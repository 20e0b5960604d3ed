import * as core from '@actions/core'
import * as path from 'node:path'
import { getRunContext } from './context.js'
import { ConfigurationError, GateError, errorMessage } from './errors.js'
import { renderBuildSection } from './docker/build-summary.js'
import { buildImage, type BuildResult } from './docker/build-image.js'
import { evaluateSeverityGate, type SeverityGateDecision } from './gate.js'
import { SEVERITIES, getInputs } from './inputs.js'
import type { ScanResult } from './trivy/findings.js'
import { scanImage } from './trivy/scan-image.js'
import { renderScanSection } from './trivy/scan-summary.js'
import { renderModelSection, writeJobSummary } from './summary.js'
import {
  JOB_SUMMARY_LIMIT_BYTES,
  renderFindingsSection,
  renderVerdictSection,
} from './publish/job-summary.js'
import { recordVerdict, type VerdictRecord } from './publish/mlflow-verdict.js'
import { publishReports } from './publish/publish-stage.js'
import { METRICS_FILE } from './train/model-directory.js'
import {
  registerModel,
  renderRegistrationSection,
  type Registration,
} from './mlflow/registration.js'
import { trainModel, type TrainResult } from './train/train-stage.js'
import { promoteImage, renderPromoteSection } from './push/promote-stage.js'
import { describeModel } from './sbom/model-card.js'
import { writeSbom, type SbomResult } from './sbom/write-sbom.js'

/**
 * The pipeline: inputs -> train -> register -> build -> scan -> publish -> gate.
 * Only this function catches. It sets every output it can, writes the summary once, reports a failure to
 * whoever registered for it (the MLflow run), then fails the job once.
 */
export async function run(): Promise<void> {
  const summary: string[] = ['## mlsecops']
  const gateFailures: string[] = []
  /** Called with the failure message when any stage or gate fails (e.g. marks the MLflow run FAILED). */
  const failureReporters: ((message: string) => Promise<void>)[] = []
  let failure: unknown

  try {
    const inputs = getInputs()
    const context = getRunContext()
    const workDir = path.join(context.runnerTemp, 'mlsecops')

    // --- train ---
    const train: TrainResult = await core.group('Train model', async () => {
      const result = trainModel({
        dataset: inputs.dataset,
        targetColumn: inputs.targetColumn,
        testSize: inputs.testSize,
        seed: inputs.seed,
        modelDir: path.join(workDir, 'model'),
      })
      core.info(
        `Holdout accuracy ${result.metrics.accuracy} on ${result.metrics.testSize} rows (${result.metrics.trainSize} for training)`,
      )
      return result
    })
    core.setOutput('accuracy', String(train.metrics.accuracy))
    core.setOutput('model-dir', train.modelDir)
    summary.push(renderModelSection(train, inputs.minAccuracy))
    if (train.metrics.accuracy < inputs.minAccuracy) {
      gateFailures.push(
        `Model accuracy ${train.metrics.accuracy} is below min-accuracy ${inputs.minAccuracy}.`,
      )
    }

    // --- register ---
    let registration: Registration | undefined
    if (inputs.mlflowTrackingUri === '') {
      core.notice(
        'No MLflow tracking URI (input mlflow-tracking-uri or env MLFLOW_TRACKING_URI): the model is not registered.',
      )
      for (const name of ['run-id', 'model-version', 'model-uri']) core.setOutput(name, '')
    } else {
      registration = await core.group('Register in MLflow', () =>
        registerModel({
          trackingUri: inputs.mlflowTrackingUri,
          auth: inputs.mlflowAuth,
          experimentName: inputs.mlflowExperiment,
          modelName: inputs.modelName,
          train,
          context,
        }),
      )
      const registered = registration
      failureReporters.push((message) => registered.fail(message))
      core.setOutput('run-id', registered.runId)
      core.setOutput('model-version', registered.modelVersion)
      core.setOutput('model-uri', registered.modelUri)
      summary.push(renderRegistrationSection(registered))
    }

    // --- build ---
    let build: BuildResult | undefined
    if (inputs.build) {
      build = await core.group('Build image', () =>
        buildImage({
          dockerfile: inputs.dockerfile,
          context: inputs.context,
          image: inputs.image,
          buildArgs: inputs.buildArgs,
          modelDir: train.modelDir,
          modelName: inputs.modelName,
          revision: context.sha,
          source: context.repositoryUrl,
          datasetDigest: train.dataset.digest,
          accuracy: train.metrics.accuracy,
          // From the register stage when it ran: its run id, model version and models:/ URI.
          runId: registration?.runId,
          modelVersion: registration?.modelVersion,
          modelUri: registration?.modelUri,
        }),
      )
      core.setOutput('image', build.image)
      core.setOutput('image-id', build.imageId)
      summary.push(renderBuildSection(build))
    } else {
      core.info('build is false: no image is built or scanned.')
      for (const name of ['image', 'image-id']) core.setOutput(name, '')
    }

    // --- scan ---
    let scan: ScanResult | undefined
    let severityGate: SeverityGateDecision | undefined
    if (build && inputs.scan) {
      const image = build.image
      scan = await core.group('Scan image with Trivy', () =>
        scanImage({
          image,
          reportsDir: path.join(workDir, 'reports'),
          runnerTemp: context.runnerTemp,
          trivyVersion: inputs.trivyVersion,
          scanners: inputs.scanners,
          cacheDir: inputs.trivyCacheDir,
          ignoreFile: inputs.trivyignore,
          skipDbUpdate: inputs.trivySkipDbUpdate,
          dbRepositories: inputs.trivyDbRepositories,
          server: inputs.trivyServer,
          timeout: inputs.trivyTimeout,
          listAllPackages: inputs.sbomFormat !== 'none',
        }),
      )
      core.setOutput('json-report', scan.jsonReport)
      core.setOutput('sarif-report', scan.sarifReport)
      for (const severity of SEVERITIES) {
        core.setOutput(severity.toLowerCase(), String(scan.counts[severity]))
      }
      severityGate = evaluateSeverityGate(scan.findings, {
        failOnSeverity: inputs.failOnSeverity,
        ignoreUnfixed: inputs.ignoreUnfixed,
      })
      summary.push(renderScanSection(scan, severityGate))
      if (!severityGate.passed && severityGate.message) gateFailures.push(severityGate.message)
    } else {
      if (build) core.info('scan is false: the image is not scanned.')
      for (const name of [
        'json-report',
        'sarif-report',
        ...SEVERITIES.map((s) => s.toLowerCase()),
      ]) {
        core.setOutput(name, '')
      }
    }

    // --- sbom --- (from the same JSON report: no second scan)
    let sbom: SbomResult | undefined
    if (scan?.trivyPath && inputs.sbomFormat !== 'none') {
      const scanned = { trivyPath: scan.trivyPath, jsonReport: scan.jsonReport }
      const format = inputs.sbomFormat
      sbom = await core.group('Write the SBOM', () =>
        writeSbom({
          ...scanned,
          format,
          reportsDir: path.dirname(scanned.jsonReport),
          model: describeModel(train, inputs.modelName, registration),
        }),
      )
    }
    core.setOutput('sbom-report', sbom?.file ?? '')

    // --- publish ---
    // The readable report, the artifact, then code scanning. An upload error is held until the verdict is
    // recorded (published.failure); skips are notices and a summary line.
    const published = await publishReports({
      workDir,
      context,
      metrics: train.metrics,
      metricsFile: path.join(train.modelDir, METRICS_FILE),
      scan,
      sbomReport: sbom?.file,
      image: build?.image,
      imageId: build?.imageId,
      modelName: inputs.modelName,
      modelVersion: registration?.modelVersion,
      uploadArtifact: inputs.uploadArtifact,
      artifactName: inputs.artifactName,
      retentionDays: inputs.retentionDays,
      uploadSarif: inputs.uploadSarif,
      sarifCategory: inputs.sarifCategory,
      githubToken: inputs.githubToken,
    })

    // --- gate ---
    // The decision and its output, the verdict in MLflow, the alias only when every gate passed (and nothing
    // else failed), the summary, the run FINISHED; only then the failure.
    const gatePassed = gateFailures.length === 0
    core.setOutput('gate', gatePassed ? 'passed' : 'failed')
    // --- promote --- after the gates, before the alias moves: push, sign, attest.
    const promotion = await promoteImage({
      push: inputs.push,
      promote: gatePassed && published.failure === undefined,
      notPromotedReason: gatePassed ? 'an upload failed' : 'a gate failed',
      image: build?.image,
      scan,
      sbom,
      cosignKey: inputs.cosignKey,
      cosignPassword: inputs.cosignPassword,
      cosignKeyless: inputs.cosignKeyless,
      cosignVersion: inputs.cosignVersion,
      cosignTlogUpload: inputs.cosignTlogUpload,
      runnerTemp: context.runnerTemp,
    })
    core.setOutput('digest', promotion.pushed?.digest ?? '')
    core.setOutput('image-ref', promotion.pushed?.imageRef ?? '')
    let verdict: VerdictRecord | undefined
    let verdictError: unknown
    if (registration) {
      const registered = registration
      try {
        verdict = await core.group('Record the verdict in MLflow', () =>
          recordVerdict(registered, {
            verdict: {
              scan,
              severityGatePassed: severityGate?.passed,
              failOnSeverity: inputs.failOnSeverity,
              gatePassed,
              gateFailures,
              image: build?.image,
              imageId: build?.imageId,
              imageRef: promotion.pushed?.imageRef,
              signature: promotion.signed?.method,
              sbomFormat: sbom?.format,
              sbomSha256: sbom?.sha256,
            },
            reportFiles: published.scanReports,
            alias: inputs.modelAlias,
            promote:
              gatePassed && published.failure === undefined && promotion.failure === undefined,
          }),
        )
      } catch (error) {
        verdictError = error
      }
    }
    const verdictSection = renderVerdictSection({
      accuracy: train.metrics.accuracy,
      minAccuracy: inputs.minAccuracy,
      scan,
      severityGate,
      gatePassed,
      artifact: published.artifact,
      codeScanning: published.codeScanning,
      mlflow: registration && {
        modelName: registration.modelName,
        modelVersion: registration.modelVersion,
        versionUrl: registration.versionUrl,
        runUrl: registration.runUrl,
        alias: inputs.modelAlias,
        record: verdict,
        error: verdictError === undefined ? undefined : errorMessage(verdictError),
      },
    })
    if (scan) {
      const used = Buffer.byteLength([...summary, verdictSection].join('\n\n'))
      summary.push(
        renderFindingsSection(scan, {
          budgetBytes: JOB_SUMMARY_LIMIT_BYTES - used - 8192,
          fullReportHint: `report.md and ${path.basename(scan.jsonReport)}${published.artifact.status === 'uploaded' ? ` (artifact ${published.artifact.name})` : ''}`,
        }),
      )
    }
    if (inputs.push || sbom) summary.push(renderPromoteSection(promotion))
    summary.push(verdictSection)
    // The verdict record matters: failing to write it fails the job, like an upload error or a failed push.
    const errors = [promotion.failure, verdictError, published.failure].filter(
      (e) => e !== undefined,
    )
    if (!gatePassed) {
      for (const error of errors) core.error(errorMessage(error))
      throw new GateError(gateFailures.join(' '))
    }
    for (const error of errors.slice(1)) core.error(errorMessage(error))
    if (errors.length > 0) throw errors[0]
    // Every stage and gate passed: the MLflow run ends FINISHED (a failure above leaves it FAILED).
    await registration?.finish()
  } catch (error) {
    failure = error
  }

  await writeJobSummary(summary.join('\n\n'))
  if (failure === undefined) return
  const message = errorMessage(failure)
  for (const report of failureReporters) {
    try {
      await report(message)
    } catch (error) {
      core.warning(`Could not record the failure: ${errorMessage(error)}`)
    }
  }
  const plain = failure instanceof ConfigurationError || failure instanceof GateError
  core.setFailed(plain ? message : `${(failure as Error).name ?? 'Error'}: ${message}`)
}
