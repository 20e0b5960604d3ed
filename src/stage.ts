import * as core from '@actions/core'
import { ConfigurationError, GateError, errorMessage } from './errors.js'
import { writeJobSummary } from './summary.js'
import { StageTimer, renderStageTimes } from './timing.js'

/**
 * One shape for every stage of the pipeline. A stage is a function `(input, ctx) => Promise<Stage<T>>`: it
 * takes the parsed inputs it needs and earlier stages' results, and gives back
 * - `result`: what later stages take (plain data, no live clients unless the stage owns one),
 * - `outputs`: every action output it owns ('' when it could not compute one),
 * - `summary`: its section of the job summary ('' for none),
 * - `gateFailures`: policy said no (accuracy, severity); the job fails last, after every stage ran,
 * - `deferred`: an error that must not stop later stages (an upload failed): thrown at the very end.
 * A stage that cannot go on throws; `run()` then still writes the summary and reports the failure.
 */
export interface Stage<T> {
  result: T
  outputs?: Record<string, string>
  summary?: string
  gateFailures?: string[]
  deferred?: unknown
}

/** Something to tell about a failure before the job ends (e.g. end the MLflow run FAILED). */
export type FailureReporter = (message: string) => Promise<void>

/**
 * Runs stages in the order main.ts calls them and keeps what they hand back: outputs are set at once, summary
 * sections, gate failures and deferred errors are kept for the end. Only `finish` ends the job.
 */
export class Pipeline {
  private readonly sections: string[] = ['## mlsecops']
  readonly gateFailures: string[] = []
  readonly deferred: unknown[] = []
  private readonly reporters: FailureReporter[] = []
  private readonly timer: StageTimer

  constructor(now?: () => number) {
    this.timer = new StageTimer(now)
  }

  /**
   * Runs one stage inside a log group titled `title`, timed under `name` (the summary's time per stage, also
   * when it throws), and takes its outputs, summary, gate failures and deferred error.
   */
  async run<T>(name: string, title: string, stage: () => Promise<Stage<T>>): Promise<T> {
    const done = await this.timer.time(name, () => core.group(title, stage))
    for (const [name, value] of Object.entries(done.outputs ?? {})) core.setOutput(name, value)
    if (done.summary) this.sections.push(done.summary)
    this.gateFailures.push(...(done.gateFailures ?? []))
    if (done.deferred !== undefined) this.deferred.push(done.deferred)
    return done.result
  }

  /** The summary so far, for a stage that sizes its section to what is left of GitHub's limit. */
  summarySoFar(): string {
    return this.sections.join('\n\n')
  }

  /** Adds a section that no stage owns (written last). */
  addSection(markdown: string): void {
    if (markdown) this.sections.push(markdown)
  }

  onFailure(reporter: FailureReporter): void {
    this.reporters.push(reporter)
  }

  /** Every gate passed so far. */
  get gatesPassed(): boolean {
    return this.gateFailures.length === 0
  }

  /**
   * The error that ends the job after every stage ran: a failed gate first (deferred errors are printed as
   * their own error lines), else the first deferred error (the others printed), else none.
   */
  settle(): unknown {
    if (!this.gatesPassed) {
      for (const error of this.deferred) core.error(errorMessage(error))
      return new GateError(this.gateFailures.join(' '))
    }
    for (const error of this.deferred.slice(1)) core.error(errorMessage(error))
    return this.deferred[0]
  }

  /**
   * Ends the job: writes the summary once, tells the failure reporters, then fails the job once with one
   * line. A user mistake or a gate is its message alone; anything else is prefixed with its error type.
   */
  async finish(failure: unknown): Promise<void> {
    // Where the minutes went: one line under the heading.
    const times = renderStageTimes(this.timer.entries())
    const [heading, ...rest] = this.sections
    await writeJobSummary([heading, ...(times ? [times] : []), ...rest].join('\n\n'))
    if (failure === undefined) return
    const message = errorMessage(failure)
    for (const report of this.reporters) {
      try {
        await report(message)
      } catch (error) {
        core.warning(`Could not record the failure: ${errorMessage(error)}`)
      }
    }
    const plain = failure instanceof ConfigurationError || failure instanceof GateError
    core.setFailed(plain ? message : `${(failure as Error).name ?? 'Error'}: ${message}`)
  }
}
