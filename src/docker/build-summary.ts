import { markdownTable } from '../summary.js'
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
    markdownTable(
      ['Image', 'Id', 'Build time'],
      [[`\`${build.image}\``, `\`${build.imageId}\``, `${(build.durationMs / 1000).toFixed(1)} s`]],
    ),
    '',
    '<details><summary>Labels</summary>',
    '',
    markdownTable(
      ['Label', 'Value'],
      labels.map(([k, v]) => [`\`${k}\``, v]),
    ),
    '',
    '</details>',
  ].join('\n')
}
