import { getRunContext, type RunContext } from '../context.js'
import { createWorkDirectory } from '../work-directory.js'

/** What every stage gets besides its input: the workflow run, and the step's own work directory. */
export interface StageContext extends RunContext {
  /** This step's own: the model directory, reports and report.md (<RUNNER_TEMP>/mlsecops/<step>-<random>). */
  workDir: string
}

export function getStageContext(env: NodeJS.ProcessEnv = process.env): StageContext {
  const run = getRunContext(env)
  return { ...run, workDir: createWorkDirectory(run.runnerTemp) }
}
