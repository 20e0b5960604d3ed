import { HttpError } from '../errors.js'
import type { Clock } from './retry.js'

/**
 * An overall time budget shared by every request of one stage (the MLflow calls of a job): each request's
 * deadline and each retry wait are cut to what is left, and a request that finds nothing left fails at once
 * with one line. Calls that must still go out when the budget is spent (ending the run) are sent exempt.
 */
export class TimeBudget {
  private readonly start: number

  constructor(
    /** Budget in ms. */
    readonly totalMs: number,
    /** Who owns it, for messages ("MLflow"). */
    readonly service: string,
    private readonly clock: Clock,
  ) {
    this.start = clock.now()
  }

  remainingMs(): number {
    return Math.max(0, this.totalMs - (this.clock.now() - this.start))
  }

  /** Throws when nothing is left; `what` names the request ("GET http://host/path"). */
  check(what: string): void {
    if (this.remainingMs() > 0) return
    throw new HttpError(
      this.service,
      undefined,
      'budget_spent',
      `${this.service} ${what}: the ${this.service} calls of this job used up their time budget of ${formatDuration(this.totalMs)}`,
    )
  }
}

export function formatDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`
  if (ms >= 1000) return `${Math.round(ms / 100) / 10} s`
  return `${ms} ms`
}
