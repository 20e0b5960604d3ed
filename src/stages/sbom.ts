import * as path from 'node:path'
import type { Inputs } from '../inputs.js'
import type { Registration } from '../mlflow/registration.js'
import { describeModel } from '../sbom/model-card.js'
import { writeSbom, type SbomResult } from '../sbom/write-sbom.js'
import type { Stage } from '../stage.js'
import type { TrainResult } from '../train/train-stage.js'
import type { ScanStageResult } from './scan.js'

export type SbomStageInput = Pick<Inputs, 'sbomFormat' | 'modelName'>

/**
 * The SBOM of the image and the model, converted from the scan's one JSON report (never a second scan). None
 * when sbom-format is none or nothing was scanned. Its section is the promote stage's (SBOM row).
 */
export async function sbomStage(
  input: SbomStageInput,
  earlier: { train: TrainResult; registration?: Registration; scan?: ScanStageResult },
): Promise<Stage<SbomResult | undefined>> {
  const scan = earlier.scan?.scan
  if (!scan?.trivyPath || input.sbomFormat === 'none') {
    return { result: undefined, outputs: { 'sbom-report': '' } }
  }
  const sbom = await writeSbom({
    trivyPath: scan.trivyPath,
    jsonReport: scan.jsonReport,
    format: input.sbomFormat,
    reportsDir: path.dirname(scan.jsonReport),
    model: describeModel(earlier.train, input.modelName, earlier.registration),
  })
  return { result: sbom, outputs: { 'sbom-report': sbom.file } }
}
