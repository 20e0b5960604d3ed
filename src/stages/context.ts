import * as path from 'node:path'
import { getRunContext, type RunContext } from '../context.js'

/** What every stage gets besides its input: the workflow run, and the step's own work directory. */
export interface StageContext extends RunContext {
  /** Reports, the model directory and report.md go here: <RUNNER_TEMP>/mlsecops. */
  workDir: string
}

export function getStageContext(env: NodeJS.ProcessEnv = process.env): StageContext {
  const run = getRunContext(env)
  return { ...run, workDir: path.join(run.runnerTemp, 'mlsecops') }
}
