/**
 * What the runner tells the action about the workflow run, read from the environment once.
 */
export interface RunContext {
  /** owner/name, or '' outside a workflow. */
  repository: string
  sha: string
  ref: string
  /** Branch name for branch refs, else ''. */
  branch: string
  actor: string
  serverUrl: string
  apiUrl: string
  runId: string
  runAttempt: string
  workflow: string
  job: string
  eventName: string
  eventPath: string
  workspace: string
  runnerTemp: string
  /** https://github.com/owner/name, or '' outside a workflow. */
  repositoryUrl: string
  /** The workflow run's page, or ''. */
  runUrl: string
}

export function getRunContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  const serverUrl = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '')
  const repository = env.GITHUB_REPOSITORY ?? ''
  const ref = env.GITHUB_REF ?? ''
  const runId = env.GITHUB_RUN_ID ?? ''
  const repositoryUrl = repository ? `${serverUrl}/${repository}` : ''
  return {
    repository,
    sha: env.GITHUB_SHA ?? '',
    ref,
    branch:
      env.GITHUB_HEAD_REF || (ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : ''),
    actor: env.GITHUB_ACTOR ?? '',
    serverUrl,
    apiUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''),
    runId,
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? '1',
    workflow: env.GITHUB_WORKFLOW ?? '',
    job: env.GITHUB_JOB ?? '',
    eventName: env.GITHUB_EVENT_NAME ?? '',
    eventPath: env.GITHUB_EVENT_PATH ?? '',
    workspace: env.GITHUB_WORKSPACE || process.cwd(),
    runnerTemp: env.RUNNER_TEMP || '/tmp',
    repositoryUrl,
    runUrl: repositoryUrl && runId ? `${repositoryUrl}/actions/runs/${runId}` : '',
  }
}
