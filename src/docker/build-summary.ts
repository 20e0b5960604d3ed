import { code, details, formatDuration, table } from '../render/markdown.js'
import type { BuildResult } from './build-image.js'

/** The image part of the job summary. */
export function renderBuildSection(build: BuildResult): string {
  const labels = Object.entries(build.labels)
    .filter(
      ([key]) => key.startsWith('org.opencontainers.image.') || key.startsWith('io.mlsecops.'),
    )
    .sort(([a], [b]) => a.localeCompare(b))
  return [
    '### Image',
    table(
      ['Image', 'Id', 'Build time'],
      [[code(build.image), code(build.imageId), formatDuration(build.durationMs)]],
    ),
    '',
    details(
      'Labels',
      table(
        ['Label', 'Value'],
        labels.map(([k, v]) => [code(k), v]),
      ),
    ),
  ].join('\n')
}
