import * as fs from 'node:fs'
import * as path from 'node:path'

/**
 * A work directory of this step's own under RUNNER_TEMP: `<RUNNER_TEMP>/mlsecops/<step id>-<random>`, created
 * fresh (never reused), so two uses of the action in one job keep their own model directory and reports, and
 * nothing left by an earlier job on a self-hosted runner is taken for this one's.
 */
export function createWorkDirectory(
  runnerTemp: string,
  stepId: string = process.env.GITHUB_ACTION ?? '',
): string {
  const parent = path.join(runnerTemp, 'mlsecops')
  fs.mkdirSync(parent, { recursive: true })
  const prefix = stepId.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 40) || 'step'
  return fs.mkdtempSync(path.join(parent, `${prefix}-`))
}
