import { code, details, formatNumber, join, strong, table } from '../render/markdown.js'
import type { TrainResult } from './train-stage.js'

/** Per-class rows shown in the summary; every class is in metrics.json. */
export const SUMMARY_CLASS_ROWS = 100
/** Above this many classes the k x k confusion matrix is left to metrics.json (a table would not be read). */
export const SUMMARY_CONFUSION_CLASSES = 30

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
        m.perClass
          .slice(0, SUMMARY_CLASS_ROWS)
          .map((c) => [
            c.label,
            formatNumber(c.precision),
            formatNumber(c.recall),
            formatNumber(c.f1),
            c.support,
          ]),
      ),
    ),
    ...(m.perClass.length > SUMMARY_CLASS_ROWS
      ? [
          '',
          `The first ${SUMMARY_CLASS_ROWS} of ${m.perClass.length} classes; every class is in metrics.json.`,
        ]
      : []),
    '',
    m.classLabels.length > SUMMARY_CONFUSION_CLASSES
      ? `Confusion matrix: ${m.classLabels.length} classes, in metrics.json.`
      : details(
          'Confusion matrix (rows: true class, columns: predicted)',
          table(
            ['True \\ predicted', ...m.classLabels],
            m.confusionMatrix.map((row, i) => [m.classLabels[i], ...row]),
          ),
        ),
  ].join('\n')
}
