/**
 * Pure argument building for `docker build` and the image labels. No I/O here: unit-tested on its own.
 */

/**
 * The folder in the build context under which the build stage places the trained model directory, as
 * `.mlsecops/model-<unique id>` (MODEL_DIR build argument), so it never meets a directory of the user's.
 */
export const MODEL_CONTEXT_PARENT = '.mlsecops'
/** The MODEL_DIR default for Dockerfiles (and the value when no unique directory is given). */
export const MODEL_CONTEXT_DIR = '.mlsecops/model'

/** Our own label namespace. */
export const LABEL_PREFIX = 'io.mlsecops'

export interface ImageLabelValues {
  /** Git commit of the workflow run. */
  revision?: string
  /** Repository URL (https://github.com/owner/name). */
  source?: string
  /** RFC 3339 build time. */
  created: string
  modelName: string
  runId?: string
  modelVersion?: string
  modelUri?: string
  datasetDigest?: string
  accuracy?: number
}

/**
 * The OCI annotations (https://github.com/opencontainers/image-spec/blob/main/annotations.md) that link the image
 * to the commit, plus our own labels that link it to the MLflow run and the model version. Absent values are left
 * out (a label with an empty value would claim something that is not known).
 */
export function imageLabels(values: ImageLabelValues): Record<string, string> {
  const labels: Record<string, string> = {}
  const put = (key: string, value: string | number | undefined): void => {
    if (value === undefined) return
    const text = String(value).trim()
    if (text !== '') labels[key] = text
  }
  put('org.opencontainers.image.title', values.modelName)
  put('org.opencontainers.image.created', values.created)
  put('org.opencontainers.image.revision', values.revision)
  put('org.opencontainers.image.source', values.source)
  put(`${LABEL_PREFIX}.model-name`, values.modelName)
  put(`${LABEL_PREFIX}.mlflow.run-id`, values.runId)
  put(`${LABEL_PREFIX}.model-version`, values.modelVersion)
  put(`${LABEL_PREFIX}.model-uri`, values.modelUri)
  put(`${LABEL_PREFIX}.dataset-digest`, values.datasetDigest)
  put(`${LABEL_PREFIX}.accuracy`, values.accuracy)
  return labels
}

export interface DockerBuildArgsOptions {
  dockerfile: string
  context: string
  image: string
  labels: Record<string, string>
  /** The user's build-args; they come after ours, so a user value wins. */
  buildArgs: Record<string, string>
  /** The staged model directory relative to the context (default MODEL_CONTEXT_DIR). */
  modelContextDir?: string
}

/** The argument list of `docker build` (no shell: each value is one argument, whatever it contains). */
export function dockerBuildArgs(options: DockerBuildArgsOptions): string[] {
  const args = ['build', '--file', options.dockerfile, '--tag', options.image]
  for (const [key, value] of Object.entries(options.labels)) args.push('--label', `${key}=${value}`)
  const buildArgs: Record<string, string> = {
    MODEL_DIR: options.modelContextDir ?? MODEL_CONTEXT_DIR,
    ...options.buildArgs,
  }
  for (const [key, value] of Object.entries(buildArgs)) args.push('--build-arg', `${key}=${value}`)
  args.push(options.context)
  return args
}

/** `docker image inspect` for the id and the labels of the image just built. */
export function dockerInspectArgs(image: string): string[] {
  return ['image', 'inspect', image]
}
