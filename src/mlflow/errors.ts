import { oneLine } from '../errors.js'

/**
 * What an MLflow answer that is not MLflow's JSON means, on one line that says what to do: an HTML page (a
 * sign-in page, a proxy, a wrong path prefix), a redirect (SSO in front of the server), a 403 (which user
 * needs which permission on what), and the overload answers of a busy server (transient, unlike other 400s).
 * Pure: classifyAnswer is the HTTP client's classify hook (its verdict follows "MLflow <METHOD> <url>: ");
 * forbiddenDetail also reads the request (the names in its body or query). No message carries a query string.
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

/** An answer, as the HTTP client's classify hook sees it. */
export interface AnswerFacts {
  method: string
  /** The API path, without base URL or query string. */
  path: string
  status: number
  headers?: Record<string, unknown>
  text: string
}

/** A request, as the 403 reading needs it: its path and the names in its body or query. */
export interface RequestFacts {
  method: string
  path: string
  body?: unknown
  query?: Record<string, string | number | undefined>
}

/** The verdict: the text after "MLflow <METHOD> <url>: ", and whether another try may succeed. */
export interface Classified {
  detail: string
  transient: boolean
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
 * The one-line meaning of an answer this module knows better than the generic handling (a redirect, an HTML
 * page, a busy server); undefined leaves it to the generic handling (JSON body, error_code, status). A 403 is
 * read by forbiddenDetail, which needs the request.
 */
export function classifyAnswer(facts: AnswerFacts): Classified | undefined {
  const { status } = facts
  if (status >= 300 && status < 400) {
    const location = facts.headers?.location
    const where =
      typeof location === 'string' && location !== ''
        ? ` to ${printableUrl(location)}`
        : ' (no Location)'
    return {
      detail: `HTTP ${status} redirect${where}, likely a sign-in page in front of MLflow; the action needs MLflow's REST API itself: give mlflow-tracking-uri an address that answers the API without a browser sign-in (credentials in mlflow-token or mlflow-username/mlflow-password).`,
      transient: false,
    }
  }
  if (
    ((status >= 200 && status < 300) || status === 404 || status === 405) &&
    isHtmlAnswer(facts.headers, facts.text)
  ) {
    const why =
      status === 404 || status === 405
        ? `HTTP ${status} with an HTML page: no MLflow API at this address (a wrong path prefix, or an MLflow server without this call)`
        : `HTTP ${status} with an HTML page where MLflow's JSON API was expected (a sign-in page, a proxy, or a wrong path prefix)`
    return {
      detail: `${why}; if MLflow is served under a path, put it in mlflow-tracking-uri (e.g. https://host/mlflow).`,
      transient: false,
    }
  }
  if (isOverloadAnswer(status, facts.text)) {
    const kind = /database is locked/i.test(facts.text)
      ? "database is locked (sqlite's write lock)"
      : 'connection pool exhausted (QueuePool limit reached)'
    return { detail: `HTTP ${status} server busy: ${kind}`, transient: true }
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
  facts: RequestFacts,
  context: ErrorContext = {},
): Needed | undefined {
  const get = (key: string): string | undefined => field(facts.body, key) ?? field(facts.query, key)
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
  const p = facts.path
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

/**
 * What a 403 means for this request, after "HTTP 403 ": who needs which permission on what. `said` is the
 * server's own text (basic-auth's "Permission denied" adds nothing and is left out).
 */
export function forbiddenDetail(
  request: RequestFacts,
  said: string,
  context: ErrorContext = {},
): string {
  const who = context.user ? `user '${context.user}'` : 'the MLflow user of mlflow-token'
  const needed = neededPermission(request, context)
  const server = oneLine(said.replace(/<[^>]*>/g, ' ')).slice(0, 120)
  const note =
    server && !/^(permission denied|forbidden)\.?$/i.test(server) ? ` (server: ${server})` : ''
  if (!needed)
    return `permission denied: ${who} lacks a permission for this call${note}; see "MLflow permissions" in the README.`
  const action =
    needed.permission === 'CREATE'
      ? `may not create ${needed.resource}`
      : `needs ${needed.permission} on ${needed.resource}`
  return `permission denied: ${who} ${action}${note}; ask an MLflow admin to grant it (README: "MLflow permissions").`
}
