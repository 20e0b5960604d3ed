/**
 * Typed errors. Inner code throws these; only run() in main.ts catches, and it calls core.setFailed once.
 * Every message is a single line meant for the person who reads the failed job.
 */

/** A user mistake in an input or in the data the inputs point at. */
export class ConfigurationError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(message)
    this.name = 'ConfigurationError'
  }
}

/** A policy said no: the model missed its accuracy bar or the scan holds findings at or above the threshold. */
export class GateError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'GateError'
  }
}

/** Where an HttpError happened: never a query string or credentials in the URL, the body cut to one line. */
export interface HttpErrorDetails {
  method?: string
  /** The request URL without userinfo, query or fragment. */
  url?: string
  /** The start of the answer's body on one line, capped in length. */
  excerpt?: string
}

/** An HTTP service answered with an error, or could not be reached after the bounded retries. */
export class HttpError extends Error {
  readonly method?: string
  readonly url?: string
  readonly excerpt?: string

  constructor(
    readonly service: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
    message: string,
    details: HttpErrorDetails = {},
  ) {
    super(message)
    this.name = 'HttpError'
    this.method = details.method
    this.url = details.url
    this.excerpt = details.excerpt
  }
}

/** The scanner broke: missing binary, missing DB, unreadable output, a crash or a timeout. Never a pass. */
export class ScannerError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ScannerError'
  }
}

/** A build or other external command failed. */
export class CommandError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CommandError'
  }
}

/** Folds any message onto one line, so a failure is always one line in the log. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim()
}

export function errorMessage(error: unknown): string {
  return oneLine(error instanceof Error ? error.message : String(error))
}
