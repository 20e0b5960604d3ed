import * as core from '@actions/core'
import { errorMessage } from './errors.js'
import { fitJobSummary } from './publish/job-summary.js'

/**
 * Writes the job summary, cut to GitHub's 1 MiB limit if it is longer; a summary that cannot be written is a
 * warning, never a failed job.
 */
export async function writeJobSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) {
    core.debug('GITHUB_STEP_SUMMARY is not set; no job summary written')
    return
  }
  try {
    await core.summary.addRaw(fitJobSummary(markdown), true).write()
  } catch (error) {
    core.warning(`Could not write the job summary: ${errorMessage(error)}`)
  }
}
