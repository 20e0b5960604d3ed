import { oneLine } from '../errors.js'

/**
 * What an MLflow answer that is not MLflow's JSON means, on one line that says what to do: an HTML page (a
 * sign-in page, a proxy, a wrong path prefix), a redirect (SSO in front of the server), a 403 (which user
 * needs which permission on what), and the overload answers of a busy server (transient, unlike other 400s).
 * Pure: the client passes the answer in and throws what comes back. No message carries a query string.
 */

/** What the client knows that makes a 403 readable: the user, and names for the ids in the request. */
export interface ErrorContext {
  /** The basic-auth user (undefined with a token). */
  user?: string
  /** Experiment id -> name, as the register stage learns them. */
  experimentNames?: Record<string, string>
  /** Run id -> experiment id. */
  runExperiments?: Record<string, string>
}

export interface AnswerFacts {
  method: string
  /** The API path, without query string. */
  apiPath: string
  status: number
  /** Lower-case header names. */
  headers?: Record<string, unknown>
  body: string
  /** The request's JSON body and query (for the names a 403 mentions). */
  requestBody?: unknown
  query?: Record<string, string | number | undefined>
}

export interface Classified {
  message: string
  retryable: boolean
}

/** Overloaded server: SQLAlchemy's pool exhausted, sqlite's write lock. The write was not applied. */
const OVERLOAD = /QueuePool limit of size \d+ overflow -?\d+ reached|database is locked/i

/** True when an error answer only says the server is busy (another try will do). */
export function isOverloadAnswer(status: number, body: string): boolean {
  return status >= 400 && status < 600 && OVERLOAD.test(body)
}

/**
 * True when the body is an HTML page rather than JSON. By the body, not the Content-Type: MLflow answers
 * `GET /version` and its auth errors as text/html too.
 */
export function isHtmlAnswer(headers: Record<string, unknown> | undefined, body: string): boolean {
  const start = body.trimStart().slice(0, 64).toLowerCase()
  if (!start.startsWith('<')) return false
  return (
    /text\/html/i.test(String(headers?.['content-type'] ?? '')) ||
    /^<(!doctype html|html|head|body|title)\b/.test(start)
  )
}

/** A URL without its query string, fragment and any credentials, for messages. */
export function printableUrl(text: string): string {
  try {
    const url = new URL(text)
    url.username = ''
    url.password = ''
    const hidden = url.search !== '' ? '?…' : ''
    url.search = ''
    url.hash = ''
    return url.toString() + hidden
  } catch {
    const cut = text.split(/[?#]/)[0]
    return (cut.includes('@') ? `***${cut.slice(cut.lastIndexOf('@'))}` : cut) + '…'
  }
}

/**
 * The one-line meaning of an answer this module knows better than the generic handler; undefined when the
 * generic handling (JSON body, error_code, status) applies.
 */
export function classifyAnswer(
  facts: AnswerFacts,
  context: ErrorContext = {},
): Classified | undefined {
  const what = `MLflow ${facts.method} ${facts.apiPath}`
  const { status } = facts
  if (status >= 300 && status < 400) {
    const location = facts.headers?.location
    const where =
      typeof location === 'string' && location !== ''
        ? ` to ${printableUrl(location)}`
        : ' (no Location)'
    return {
      message: `${what}: HTTP ${status} redirect${where}, likely a sign-in page in front of MLflow; the action needs MLflow's REST API itself: give mlflow-tracking-uri an address that answers the API without a browser sign-in (credentials in mlflow-token or mlflow-username/mlflow-password).`,
      retryable: false,
    }
  }
  if (status === 403) {
    return { message: `${what}: HTTP 403 ${forbiddenDetail(facts, context)}`, retryable: false }
  }
  if (
    ((status >= 200 && status < 300) || status === 404 || status === 405) &&
    isHtmlAnswer(facts.headers, facts.body)
  ) {
    const why =
      status === 404 || status === 405
        ? `HTTP ${status} with an HTML page: no MLflow API at this address (a wrong path prefix, or an MLflow server without this call)`
        : `HTTP ${status} with an HTML page where MLflow's JSON API was expected (a sign-in page, a proxy, or a wrong path prefix)`
    return {
      message: `${what}: ${why}; if MLflow is served under a path, put it in mlflow-tracking-uri (e.g. https://host/mlflow).`,
      retryable: false,
    }
  }
  if (isOverloadAnswer(status, facts.body)) {
    const kind = /database is locked/i.test(facts.body)
      ? "database is locked (sqlite's write lock)"
      : 'connection pool exhausted (QueuePool limit reached)'
    return { message: `${what}: HTTP ${status} server busy: ${kind}`, retryable: true }
  }
  return undefined
}

interface Needed {
  permission: 'READ' | 'EDIT' | 'MANAGE' | 'CREATE'
  resource: string
}

function field(source: unknown, key: string): string | undefined {
  if (!source || typeof source !== 'object') return undefined
  const value = (source as Record<string, unknown>)[key]
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined
}

/** The permission MLflow's basic-auth app checks for this call, and on what (per its request validators). */
export function neededPermission(
  facts: AnswerFacts,
  context: ErrorContext = {},
): Needed | undefined {
  const get = (key: string): string | undefined =>
    field(facts.requestBody, key) ?? field(facts.query, key)
  const experiment = (id: string | undefined): string => {
    if (id === undefined) return 'the experiment'
    const name = context.experimentNames?.[id]
    return name ? `experiment '${name}' (${id})` : `experiment ${id}`
  }
  const ofRun = (): string => {
    const runId = get('run_id')
    const experimentId = runId ? context.runExperiments?.[runId] : undefined
    return experimentId ? experiment(experimentId) : `the experiment of run ${runId ?? '?'}`
  }
  const model = (): string => {
    const name = get('name')
    return name ? `registered model '${name}'` : 'the registered model'
  }
  const p = facts.apiPath
  const m = facts.method.toUpperCase()
  const artifact = /\/mlflow-artifacts\/artifacts\/([^/]+)\//.exec(p)
  if (artifact)
    return {
      permission: m === 'GET' ? 'READ' : 'EDIT',
      resource: experiment(decodeURIComponent(artifact[1])),
    }
  const endpoint = p.replace(/^.*\/api\/2\.0\/mlflow\//, '')
  if (endpoint === 'experiments/create') {
    return { permission: 'CREATE', resource: `experiment '${get('name') ?? '?'}'` }
  }
  if (endpoint === 'experiments/get-by-name') {
    const name = get('experiment_name')
    return { permission: 'READ', resource: name ? `experiment '${name}'` : 'the experiment' }
  }
  if (endpoint === 'experiments/restore')
    return { permission: 'MANAGE', resource: experiment(get('experiment_id')) }
  if (endpoint.startsWith('experiments/'))
    return { permission: 'READ', resource: experiment(get('experiment_id')) }
  if (endpoint === 'runs/create' || endpoint === 'logged-models')
    return { permission: 'EDIT', resource: experiment(get('experiment_id')) }
  if (endpoint === 'runs/get' || endpoint === 'runs/search' || endpoint === 'logged-models/search')
    return { permission: 'READ', resource: ofRun() }
  if (endpoint === 'runs/delete') return { permission: 'MANAGE', resource: ofRun() }
  if (endpoint.startsWith('runs/')) return { permission: 'EDIT', resource: ofRun() }
  if (endpoint.startsWith('logged-models/'))
    return {
      permission: m === 'DELETE' ? 'MANAGE' : 'EDIT',
      resource: 'the experiment of the logged model',
    }
  if (endpoint === 'registered-models/create') return { permission: 'CREATE', resource: model() }
  if (endpoint === 'model-versions/delete') return { permission: 'MANAGE', resource: model() }
  if (
    m === 'GET' &&
    (endpoint.startsWith('registered-models/') || endpoint.startsWith('model-versions/'))
  )
    return { permission: 'READ', resource: model() }
  if (endpoint.startsWith('registered-models/') || endpoint.startsWith('model-versions/'))
    return { permission: 'EDIT', resource: model() }
  return undefined
}

function forbiddenDetail(facts: AnswerFacts, context: ErrorContext): string {
  const who = context.user ? `user '${context.user}'` : 'the MLflow user of mlflow-token'
  const needed = neededPermission(facts, context)
  const server = oneLine(facts.body.replace(/<[^>]*>/g, ' ')).slice(0, 120)
  const said = server && !/^permission denied\.?$/i.test(server) ? ` (server: ${server})` : ''
  if (!needed)
    return `permission denied: ${who} lacks a permission for this call${said}; see "MLflow permissions" in the README.`
  const action =
    needed.permission === 'CREATE'
      ? `may not create ${needed.resource}`
      : `needs ${needed.permission} on ${needed.resource}`
  return `permission denied: ${who} ${action}${said}; ask an MLflow admin to grant it (README: "MLflow permissions").`
}
