import * as path from 'node:path'
import type { BuildResult } from '../docker/build-image.js'
import type { Inputs, PublishInputs } from '../inputs.js'
import type { Registration } from '../mlflow/registration.js'
import { publishReports, type PublishResult } from '../publish/publish-stage.js'
import type { SbomResult } from '../sbom/write-sbom.js'
import type { Stage } from '../stage.js'
import { METRICS_FILE } from '../train/model-directory.js'
import type { TrainResult } from '../train/train-stage.js'
import type { StageContext } from './context.js'
import type { ScanStageResult } from './scan.js'

export type PublishStageInput = PublishInputs & Pick<Inputs, 'modelName'>

/**
 * report.md, the workflow artifact, then code scanning. The upload functions set artifact-id and sarif-id as
 * soon as they know them; an upload error is deferred until the verdict is recorded.
 */
export async function publishStage(
  input: PublishStageInput,
  ctx: StageContext,
  earlier: {
    train: TrainResult
    registration?: Registration
    build?: BuildResult
    scan?: ScanStageResult
    sbom?: SbomResult
  },
): Promise<Stage<PublishResult>> {
  const { train, registration, build } = earlier
  const published = await publishReports({
    ...input,
    workDir: ctx.workDir,
    context: ctx,
    metrics: train.metrics,
    metricsFile: path.join(train.modelDir, METRICS_FILE),
    scan: earlier.scan?.scan,
    sbomReport: earlier.sbom?.file,
    image: build?.image,
    imageId: build?.imageId,
    modelVersion: registration?.modelVersion,
  })
  return { result: published, deferred: published.failure }
}
