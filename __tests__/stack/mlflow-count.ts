/**
 * Counts what action runs left in MLflow, read by MLflow's own Python client (mlflow_count.py in the server's
 * venv): runs per workflow run id with their status, logged models per experiment, versions per model. The
 * robustness tests derive duplicates and runs left RUNNING from it.
 */
import { runMlflowPythonScript } from './mlflow-server.js'

export interface CountCheck {
  experiment: string
  /** Only runs tagged github.run_id = this. */
  runIdTag?: string
  model?: string
}

export interface CountedRun {
  run_id: string
  status: string
  /** 'active', or 'deleted' for a late duplicate the action removed. */
  lifecycle_stage: string
  dataset_inputs: number
  accuracy_entries: number
  error: string | null
}

export interface Counted {
  experiment: string
  runs: CountedRun[]
  logged_models: string[]
  versions: { version: string; status: string; run_id: string }[]
}

export function countInMlflow(
  trackingUri: string,
  checks: CountCheck[],
  env: NodeJS.ProcessEnv = {},
): Counted[] {
  const request = {
    checks: checks.map((c) => ({
      experiment: c.experiment,
      run_id_tag: c.runIdTag,
      model: c.model,
    })),
  }
  return (
    runMlflowPythonScript('mlflow_count.py', trackingUri, request, env) as { checks: Counted[] }
  ).checks
}

/** Runs the action deleted as late duplicates (soft-deleted: no longer in searches, UI or registry). */
export function removedDuplicatesIn(counted: Counted): number {
  return counted.runs.filter((r) => r.lifecycle_stage === 'deleted').length
}

/**
 * Records beyond one per try that are still there: extra active runs for the workflow run, extra logged
 * models, extra versions made by one run, and repeated dataset inputs or metric entries within a run.
 */
export function duplicatesIn(all: Counted): number {
  const counted = { ...all, runs: all.runs.filter((r) => r.lifecycle_stage !== 'deleted') }
  const extra = (n: number): number => Math.max(0, n - 1)
  const perRunVersions = new Map<string, number>()
  for (const v of counted.versions)
    perRunVersions.set(v.run_id, (perRunVersions.get(v.run_id) ?? 0) + 1)
  return (
    extra(counted.runs.length) +
    extra(counted.logged_models.length) +
    [...perRunVersions.values()].reduce((sum, n) => sum + extra(n), 0) +
    counted.runs.reduce((sum, r) => sum + extra(r.dataset_inputs) + extra(r.accuracy_entries), 0)
  )
}
