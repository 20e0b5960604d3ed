import * as core from '@actions/core'
import { fitJobSummary } from './publish/job-summary.js'
import type { TrainResult } from './train/train-stage.js'

/** Fixed decimals for the tables. */
export function formatNumber(x: number, digits = 4): string {
  return x.toFixed(digits)
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
}

/** A Markdown table. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]): string =>
    `| ${cells.map((c) => escapeCell(String(c))).join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

/** The model part of the job summary: metrics, the per-class table and the confusion matrix. */
export function renderModelSection(train: TrainResult, minAccuracy: number): string {
  const m = train.metrics
  const verdict = m.accuracy >= minAccuracy ? 'passed' : 'failed'
  const parts = [
    '### Model',
    `Trained on **${escapeCell(train.dataset.name)}** (${train.dataset.rows} rows, ${train.dataset.featureNames.length} features, target \`${escapeCell(train.dataset.targetColumn)}\`); ${m.trainSize} rows for training, ${m.testSize} held out.`,
    '',
    markdownTable(
      ['Metric', 'Value'],
      [
        ['Accuracy', formatNumber(m.accuracy)],
        ['Precision (macro)', formatNumber(m.precisionMacro)],
        ['Recall (macro)', formatNumber(m.recallMacro)],
        ['F1 (macro)', formatNumber(m.f1Macro)],
        ['Accuracy gate', `${verdict} (min-accuracy ${minAccuracy})`],
      ],
    ),
    '',
    '<details><summary>Per class</summary>',
    '',
    markdownTable(
      ['Class', 'Precision', 'Recall', 'F1', 'Support'],
      m.perClass.map((c) => [
        c.label,
        formatNumber(c.precision),
        formatNumber(c.recall),
        formatNumber(c.f1),
        c.support,
      ]),
    ),
    '',
    '</details>',
    '',
    '<details><summary>Confusion matrix (rows: true class, columns: predicted)</summary>',
    '',
    markdownTable(
      ['True \\ predicted', ...m.classLabels],
      m.confusionMatrix.map((row, i) => [m.classLabels[i], ...row]),
    ),
    '',
    '</details>',
  ]
  return parts.join('\n')
}

/**
 * Writes the job summary, cut to GitHub's 1 MiB limit if it is longer; a summary that cannot be written is a
 * warning, never a failed job.
 */
export async function writeJobSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) {
    core.debug('GITHUB_STEP_SUMMARY is not set; no job summary written')
    return
  }
  try {
    await core.summary.addRaw(fitJobSummary(markdown), true).write()
  } catch (error) {
    core.warning(`Could not write the job summary: ${(error as Error).message}`)
  }
}
