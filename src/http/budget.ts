import { HttpError } from '../errors.js'
import type { Clock } from './retry.js'

/**
 * An overall time budget for the calls of one service in one job (the MLflow calls): the time spent inside
 * requests, retry waits included, counts against it; the time between calls (the build, the scan) does not.
 * Each request's deadline and each retry wait are cut to what is left, and a request that finds nothing left
 * fails at once with one line. Calls that must still go out when it is spent (ending a run) are sent exempt.
 */
export class TimeBudget {
  private spentMs = 0
  private active = 0
  private activeSince = 0

  constructor(
    /** Budget in ms. */
    readonly totalMs: number,
    /** Who owns it, for messages ("MLflow"). */
    readonly service: string,
    private readonly clock: Clock,
  ) {}

  /** Marks the start of a call; the returned function marks its end. Nested and parallel calls count once. */
  enter(): () => void {
    if (this.active === 0) this.activeSince = this.clock.now()
    this.active += 1
    let left = false
    return () => {
      if (left) return
      left = true
      this.active -= 1
      if (this.active === 0) this.spentMs += this.clock.now() - this.activeSince
    }
  }

  usedMs(): number {
    return this.spentMs + (this.active > 0 ? this.clock.now() - this.activeSince : 0)
  }

  remainingMs(): number {
    return Math.max(0, this.totalMs - this.usedMs())
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
