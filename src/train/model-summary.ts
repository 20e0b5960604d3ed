import { code, details, formatNumber, join, strong, table } from '../render/markdown.js'
import type { TrainResult } from './train-stage.js'

/** The model part of the job summary: metrics, the per-class table and the confusion matrix. */
export function renderModelSection(train: TrainResult, minAccuracy: number): string {
  const m = train.metrics
  const verdict = m.accuracy >= minAccuracy ? 'passed' : 'failed'
  const d = train.dataset
  return [
    '### Model',
    join(
      'Trained on ',
      strong(d.name),
      ` (${d.rows} rows, ${d.featureNames.length} features, target `,
      code(d.targetColumn),
      `); ${m.trainSize} rows for training, ${m.testSize} held out.`,
    ).text,
    '',
    table(
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
    details(
      'Per class',
      table(
        ['Class', 'Precision', 'Recall', 'F1', 'Support'],
        m.perClass.map((c) => [
          c.label,
          formatNumber(c.precision),
          formatNumber(c.recall),
          formatNumber(c.f1),
          c.support,
        ]),
      ),
    ),
    '',
    details(
      'Confusion matrix (rows: true class, columns: predicted)',
      table(
        ['True \\ predicted', ...m.classLabels],
        m.confusionMatrix.map((row, i) => [m.classLabels[i], ...row]),
      ),
    ),
  ].join('\n')
}
