import type { BuildResult } from '../docker/build-image.js'
import type { Inputs } from '../inputs.js'
import type { PublishResult } from '../publish/publish-stage.js'
import { promoteImage, renderPromoteSection, type PromoteResult } from '../push/promote-stage.js'
import type { SbomResult } from '../sbom/write-sbom.js'
import type { Stage } from '../stage.js'
import type { StageContext } from './context.js'
import type { ScanStageResult } from './scan.js'

export type PromoteStageInput = Pick<
  Inputs,
  'push' | 'cosignKey' | 'cosignPassword' | 'cosignKeyless' | 'cosignVersion' | 'cosignTlogUpload'
>

/**
 * After the gates, before the alias moves: push the scanned image when every gate passed and every upload
 * succeeded, then sign its digest and attest the SBOM and the scan. A failed push or signing is deferred (the
 * job fails with one line after the verdict; the verdict stage leaves the alias where it was).
 */
export async function promoteStage(
  input: PromoteStageInput,
  ctx: StageContext,
  earlier: {
    build?: BuildResult
    scan?: ScanStageResult
    sbom?: SbomResult
    published: PublishResult
    gatesPassed: boolean
  },
): Promise<Stage<PromoteResult>> {
  const { published, gatesPassed } = earlier
  const promotion = await promoteImage({
    ...input,
    promote: gatesPassed && published.failure === undefined,
    notPromotedReason: gatesPassed ? 'an upload failed' : 'a gate failed',
    image: earlier.build?.image,
    scan: earlier.scan?.scan,
    sbom: earlier.sbom,
    runnerTemp: ctx.runnerTemp,
  })
  return {
    result: promotion,
    outputs: {
      digest: promotion.pushed?.digest ?? '',
      'image-ref': promotion.pushed?.imageRef ?? '',
    },
    summary: input.push || earlier.sbom ? renderPromoteSection(promotion) : '',
    deferred: promotion.failure,
  }
}
