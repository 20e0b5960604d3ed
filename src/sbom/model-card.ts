/**
 * The model in the SBOM (pure): what the image serves, next to what the image holds. CycloneDX (1.5 on) gets a
 * `machine-learning-model` component with a model card and the training data as a `data` component with its
 * SHA-256; SPDX 2.3, which has no model type, gets two packages (the model, the dataset with its checksum) and the
 * relationships that tie them to the image.
 */
import type { Registration } from '../mlflow/registration.js'
import type { TrainResult } from '../train/train-stage.js'

/** What the SBOM says about the model: from the train stage and, when it ran, the register stage. */
export interface ModelDescription {
  name: string
  /** The registered version, or undefined when the model was not registered. */
  version?: string
  /** `models:/<name>/<version>`, when registered. */
  uri?: string
  /** e.g. 'multinomial logistic regression' */
  algorithm: string
  task: 'classification'
  /** Holdout metrics by name (accuracy, precision_macro, ...), as the action reports them. */
  metrics: Record<string, number>
  /** Rows held out for the metrics. */
  holdoutRows: number
  dataset: {
    name: string
    /** SHA-256 of the dataset file, hex. */
    sha256: string
    rows: number
    features: string[]
    target: string
  }
}

type Json = Record<string, unknown>

export const MODEL_BOM_REF = 'mlsecops:model'
export const DATASET_BOM_REF = 'mlsecops:dataset'

function modelVersion(model: ModelDescription): string {
  return model.version ?? 'unregistered'
}

function datasetDescription(model: ModelDescription): string {
  const d = model.dataset
  return `${d.rows} rows, ${d.features.length} features (${d.features.join(', ')}), target ${d.target}`
}

/** The two CycloneDX components: the model with its model card, and the dataset it was trained on. */
export function cycloneDxModelComponents(model: ModelDescription): Json[] {
  const properties = [
    { name: 'mlsecops:algorithm', value: model.algorithm },
    { name: 'mlsecops:holdout_rows', value: String(model.holdoutRows) },
  ]
  if (model.uri) properties.unshift({ name: 'mlflow:model_uri', value: model.uri })
  const modelComponent: Json = {
    'bom-ref': MODEL_BOM_REF,
    type: 'machine-learning-model',
    name: model.name,
    version: modelVersion(model),
    description: `${model.algorithm} (${model.task}), trained and gated by mlsecops-action`,
    properties,
    modelCard: {
      modelParameters: {
        approach: { type: 'supervised' },
        task: model.task,
        architectureFamily: 'logistic regression',
        modelArchitecture: model.algorithm,
        datasets: [{ ref: DATASET_BOM_REF }],
        inputs: [{ format: `${model.dataset.features.length} numeric features` }],
        outputs: [{ format: `class label (${model.dataset.target})` }],
      },
      quantitativeAnalysis: {
        performanceMetrics: Object.entries(model.metrics).map(([type, value]) => ({
          type,
          value: String(value),
          slice: `holdout (${model.holdoutRows} rows)`,
        })),
      },
    },
  }
  const dataComponent: Json = {
    'bom-ref': DATASET_BOM_REF,
    type: 'data',
    name: model.dataset.name,
    hashes: [{ alg: 'SHA-256', content: model.dataset.sha256 }],
    data: [
      {
        type: 'dataset',
        name: model.dataset.name,
        description: datasetDescription(model),
      },
    ],
  }
  return [modelComponent, dataComponent]
}

/**
 * Adds the model and dataset components to a CycloneDX document (in place) and says that the image (the
 * metadata component) holds the model and the model was trained on the dataset. Returns the document.
 */
export function addModelToCycloneDx(bom: Json, model: ModelDescription): Json {
  const components = Array.isArray(bom.components) ? (bom.components as Json[]) : []
  bom.components = [
    ...components.filter((c) => c['bom-ref'] !== MODEL_BOM_REF && c['bom-ref'] !== DATASET_BOM_REF),
    ...cycloneDxModelComponents(model),
  ]
  const dependencies = Array.isArray(bom.dependencies) ? (bom.dependencies as Json[]) : []
  const root = (bom.metadata as Json | undefined)?.component as Json | undefined
  const rootRef = typeof root?.['bom-ref'] === 'string' ? root['bom-ref'] : undefined
  if (rootRef) {
    const entry = dependencies.find((d) => d.ref === rootRef)
    if (entry) {
      const dependsOn = Array.isArray(entry.dependsOn) ? (entry.dependsOn as string[]) : []
      if (!dependsOn.includes(MODEL_BOM_REF)) entry.dependsOn = [...dependsOn, MODEL_BOM_REF]
    } else {
      dependencies.push({ ref: rootRef, dependsOn: [MODEL_BOM_REF] })
    }
  }
  dependencies.push({ ref: MODEL_BOM_REF, dependsOn: [DATASET_BOM_REF] }, { ref: DATASET_BOM_REF })
  bom.dependencies = dependencies
  return bom
}

export const SPDX_MODEL_ID = 'SPDXRef-mlsecops-model'
export const SPDX_DATASET_ID = 'SPDXRef-mlsecops-dataset'

/**
 * Adds the model and the dataset as SPDX 2.3 packages (in place): the model with its algorithm and metrics in
 * the summary, the dataset with its SHA-256; the document's described package (the image) CONTAINS the model,
 * which was GENERATED_FROM the dataset (SPDX: "A GENERATED_FROM B": A was generated from B).
 */
export function addModelToSpdx(doc: Json, model: ModelDescription): Json {
  const packages = (Array.isArray(doc.packages) ? (doc.packages as Json[]) : []).filter(
    (p) => p.SPDXID !== SPDX_MODEL_ID && p.SPDXID !== SPDX_DATASET_ID,
  )
  const metrics = Object.entries(model.metrics)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')
  packages.push(
    {
      SPDXID: SPDX_MODEL_ID,
      name: model.name,
      versionInfo: modelVersion(model),
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      primaryPackagePurpose: 'OTHER',
      summary: `machine-learning model: ${model.algorithm} (${model.task})`,
      description: `Holdout metrics (${model.holdoutRows} rows): ${metrics}.${model.uri ? ` MLflow: ${model.uri}.` : ''}`,
      ...(model.uri
        ? {
            externalRefs: [
              { referenceCategory: 'OTHER', referenceType: 'mlflow', referenceLocator: model.uri },
            ],
          }
        : {}),
    },
    {
      SPDXID: SPDX_DATASET_ID,
      name: model.dataset.name,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      primaryPackagePurpose: 'FILE',
      checksums: [{ algorithm: 'SHA256', checksumValue: model.dataset.sha256 }],
      description: `Training data: ${datasetDescription(model)}`,
    },
  )
  doc.packages = packages
  const relationships = Array.isArray(doc.relationships) ? (doc.relationships as Json[]) : []
  const described = relationships.find(
    (r) => r.spdxElementId === 'SPDXRef-DOCUMENT' && r.relationshipType === 'DESCRIBES',
  )?.relatedSpdxElement
  if (typeof described === 'string') {
    relationships.push({
      spdxElementId: described,
      relationshipType: 'CONTAINS',
      relatedSpdxElement: SPDX_MODEL_ID,
    })
  } else {
    relationships.push({
      spdxElementId: 'SPDXRef-DOCUMENT',
      relationshipType: 'DESCRIBES',
      relatedSpdxElement: SPDX_MODEL_ID,
    })
  }
  relationships.push({
    spdxElementId: SPDX_MODEL_ID,
    relationshipType: 'GENERATED_FROM',
    relatedSpdxElement: SPDX_DATASET_ID,
  })
  doc.relationships = relationships
  return doc
}

/** The model as the train stage and (when it ran) the register stage describe it. */
export function describeModel(
  train: Pick<TrainResult, 'metrics' | 'dataset'>,
  modelName: string,
  registration?: Pick<Registration, 'modelVersion' | 'modelUri'>,
): ModelDescription {
  const m = train.metrics
  return {
    name: modelName,
    version: registration?.modelVersion,
    uri: registration?.modelUri,
    algorithm: 'multinomial logistic regression (standardized features, L-BFGS)',
    task: 'classification',
    metrics: {
      accuracy: m.accuracy,
      precision_macro: m.precisionMacro,
      recall_macro: m.recallMacro,
      f1_macro: m.f1Macro,
    },
    holdoutRows: m.testSize,
    dataset: {
      name: train.dataset.name,
      sha256: train.dataset.digest,
      rows: train.dataset.rows,
      features: train.dataset.featureNames,
      target: train.dataset.targetColumn,
    },
  }
}
