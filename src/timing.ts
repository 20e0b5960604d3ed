/**
 * Wall-clock time per pipeline stage, for the one-line "time per stage" in the job summary. The clock is
 * injectable so the arithmetic is tested without waiting.
 */

export interface StageTime {
  stage: string
  ms: number
}

export class StageTimer {
  private readonly times: StageTime[] = []
  private last: number

  constructor(private readonly now: () => number = () => performance.now()) {
    this.last = now()
  }

  /** Records the time since the previous lap (or the start) under `stage`: one call after each stage. */
  lap(stage: string): void {
    const now = this.now()
    this.record(stage, now - this.last)
    this.last = now
  }

  /** Runs `work` and records how long it took under `stage`, also when it throws. */
  async time<T>(stage: string, work: () => Promise<T> | T): Promise<T> {
    const started = this.now()
    try {
      return await work()
    } finally {
      const now = this.now()
      this.record(stage, now - started)
      this.last = now
    }
  }

  /** Adds `ms` to `stage` (a stage timed in several parts is shown once). */
  record(stage: string, ms: number): void {
    const known = this.times.find((t) => t.stage === stage)
    if (known) known.ms += ms
    else this.times.push({ stage, ms })
  }

  entries(): StageTime[] {
    return this.times.map((t) => ({ ...t }))
  }
}

/** 0.4 s, 12.3 s, 2 min 05 s. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000
  if (seconds < 60) return `${seconds.toFixed(1)} s`
  const whole = Math.round(seconds)
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`
}

/** One summary line: `**Time per stage:** train 0.4 s · build 3.1 s · … · total 7.5 s`. Empty when nothing ran. */
export function renderStageTimes(times: readonly StageTime[]): string {
  if (times.length === 0) return ''
  const total = times.reduce((sum, t) => sum + t.ms, 0)
  const parts = times.map((t) => `${t.stage} ${formatDuration(t.ms)}`)
  return `**Time per stage:** ${parts.join(' · ')} · total ${formatDuration(total)}`
}
