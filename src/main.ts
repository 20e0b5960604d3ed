import { getInputs } from './inputs.js'
import { reportFailureToMlflow } from './publish/mlflow-verdict.js'
import { Pipeline } from './stage.js'
import { buildStage } from './stages/build.js'
import { getStageContext } from './stages/context.js'
import { promoteStage } from './stages/promote.js'
import { publishStage } from './stages/publish.js'
import { registerStage } from './stages/register.js'
import { readExceptions, scanStage } from './stages/scan.js'
import { sbomStage } from './stages/sbom.js'
import { trainStage } from './stages/train.js'
import { verdictStage } from './stages/verdict.js'

/**
 * The pipeline: inputs -> train -> register -> build -> scan -> sbom -> publish -> promote -> verdict, one
 * line a stage.
 * Every stage runs even when a gate said no (outputs first, failure last); a stage that cannot go on throws.
 * Only this function catches: the pipeline writes the summary once, ends the MLflow run FAILED through its
 * failure reporter, and fails the job once. See docs/architecture.md.
 */
export async function run(): Promise<void> {
  const pipeline = new Pipeline()
  let failure: unknown
  try {
    const inputs = getInputs()
    // Read and checked first: a malformed ignore file fails before anything runs.
    const exceptions = readExceptions(inputs)
    const ctx = getStageContext()

    const train = await pipeline.run('train', 'Train model', () => trainStage(inputs, ctx))
    const registration = await pipeline.run('register', 'Register in MLflow', () =>
      registerStage(inputs, ctx, train),
    )
    if (registration) pipeline.onFailure((message) => reportFailureToMlflow(registration, message))
    const build = await pipeline.run('build', 'Build image', () =>
      buildStage(inputs, ctx, { train, registration }),
    )
    const scan = await pipeline.run('scan', 'Scan image with Trivy', () =>
      scanStage(inputs, ctx, { build, exceptions }),
    )
    const sbom = await pipeline.run('sbom', 'Write the SBOM', () =>
      sbomStage(inputs, { train, registration, scan }),
    )
    const published = await pipeline.run('publish', 'Publish reports', () =>
      publishStage(inputs, ctx, { train, registration, build, scan, sbom }),
    )
    // After the gates, before the alias moves (verdict): push, sign, attest.
    const promotion = await pipeline.run('promote', 'Promote the image', () =>
      promoteStage(inputs, ctx, {
        build,
        scan,
        sbom,
        published,
        gatesPassed: pipeline.gatesPassed,
      }),
    )
    await pipeline.run('verdict', 'Record the verdict', () =>
      verdictStage(inputs, {
        train,
        registration,
        build,
        scan,
        published,
        sbom,
        promotion,
        gateFailures: pipeline.gateFailures,
        summarySoFar: pipeline.summarySoFar(),
      }),
    )

    failure = pipeline.settle()
    // Every stage and gate passed: the MLflow run ends FINISHED (a failure leaves it FAILED).
    if (failure === undefined) await registration?.finish()
  } catch (error) {
    failure = error
  }
  await pipeline.finish(failure)
}
