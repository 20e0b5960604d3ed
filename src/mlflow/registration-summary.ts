import { code, join, link, strong } from '../render/markdown.js'
import type { Registration } from './registration.js'

/** The job summary section: the run and the version, linked into the MLflow UI. */
export function renderRegistrationSection(r: Registration): string {
  return [
    '### MLflow',
    join(
      'Run ',
      link(r.runName, r.runUrl),
      ' in experiment ',
      strong(r.experimentName),
      ' registered ',
      link(`${r.modelName} version ${r.modelVersion}`, r.versionUrl),
      ' (',
      code(r.modelUri),
      ').',
    ).text,
  ].join('\n')
}
