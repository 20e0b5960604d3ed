import { describe, expect, test } from '@jest/globals'
import { countCycloneDxComponents, fixCycloneDxStrict } from '../src/sbom/cyclonedx-strict.js'
import {
  DATASET_BOM_REF,
  MODEL_BOM_REF,
  SPDX_DATASET_ID,
  SPDX_MODEL_ID,
  addModelToCycloneDx,
  addModelToSpdx,
  type ModelDescription,
} from '../src/sbom/model-card.js'
import { countReportPackages, trivyConvertArgs } from '../src/sbom/write-sbom.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- walking a JSON document in assertions
type Loose = Record<string, any>

const MODEL: ModelDescription = {
  name: 'iris',
  version: '3',
  uri: 'models:/iris/3',
  algorithm: 'multinomial logistic regression',
  task: 'classification',
  metrics: { accuracy: 0.9667, f1_macro: 0.9666 },
  holdoutRows: 30,
  dataset: {
    name: 'iris.csv',
    sha256: 'a'.repeat(64),
    rows: 150,
    features: ['sepal_length', 'petal_width'],
    target: 'species',
  },
}

describe('CycloneDX strict fixes', () => {
  test('non-SPDX license ids move to license.name, wrong case is respelled, valid ones stay', () => {
    const bom = {
      components: [
        {
          name: 'libc6',
          licenses: [
            { license: { id: 'BSD-3-clause-Sun' } },
            { license: { id: 'Debian-custom' } },
            { license: { id: 'MIT' } },
            { license: { name: 'public-domain' } },
            { expression: 'GPL-2.0-only OR MIT' },
          ],
          components: [{ name: 'nested', licenses: [{ license: { id: 'GPL-2+' } }] }],
        },
      ],
    }
    expect(fixCycloneDxStrict(bom)).toEqual({ licenseIdsToName: 2, licenseIdsRespelled: 1 })
    expect(bom.components[0].licenses).toEqual([
      { license: { id: 'BSD-3-Clause-Sun' } },
      { license: { name: 'Debian-custom' } },
      { license: { id: 'MIT' } },
      { license: { name: 'public-domain' } },
      { expression: 'GPL-2.0-only OR MIT' },
    ])
    expect(bom.components[0].components[0].licenses).toEqual([{ license: { name: 'GPL-2+' } }])
    expect(countCycloneDxComponents(bom)).toBe(2)
  })
})

describe('the model in CycloneDX', () => {
  const bom = () => ({
    bomFormat: 'CycloneDX',
    specVersion: '1.7',
    metadata: { component: { 'bom-ref': 'pkg:oci/iris@sha256', type: 'container', name: 'iris' } },
    components: [{ 'bom-ref': 'pkg:deb/debian/libc6@2.36', type: 'library', name: 'libc6' }],
    dependencies: [{ ref: 'pkg:oci/iris@sha256', dependsOn: ['pkg:deb/debian/libc6@2.36'] }],
  })

  test('a machine-learning-model with a model card and the dataset as data with its digest', () => {
    const doc = addModelToCycloneDx(bom(), MODEL) as ReturnType<typeof bom>
    const model = doc.components.find((c) => c['bom-ref'] === MODEL_BOM_REF) as Loose
    expect(model).toMatchObject({ type: 'machine-learning-model', name: 'iris', version: '3' })
    expect(model.properties).toContainEqual({ name: 'mlflow:model_uri', value: 'models:/iris/3' })
    expect(model.modelCard.modelParameters).toMatchObject({
      approach: { type: 'supervised' },
      task: 'classification',
      datasets: [{ ref: DATASET_BOM_REF }],
    })
    expect(model.modelCard.quantitativeAnalysis.performanceMetrics).toContainEqual({
      type: 'accuracy',
      value: '0.9667',
      slice: 'holdout (30 rows)',
    })
    const data = doc.components.find((c) => c['bom-ref'] === DATASET_BOM_REF) as Loose
    expect(data).toMatchObject({
      type: 'data',
      name: 'iris.csv',
      hashes: [{ alg: 'SHA-256', content: 'a'.repeat(64) }],
    })
    expect(data.data[0]).toMatchObject({ type: 'dataset', name: 'iris.csv' })
    expect(doc.dependencies).toEqual([
      { ref: 'pkg:oci/iris@sha256', dependsOn: ['pkg:deb/debian/libc6@2.36', MODEL_BOM_REF] },
      { ref: MODEL_BOM_REF, dependsOn: [DATASET_BOM_REF] },
      { ref: DATASET_BOM_REF },
    ])
    expect(countCycloneDxComponents(doc)).toBe(3)
  })

  test('an unregistered model has no models:/ URI', () => {
    const doc = addModelToCycloneDx(bom(), { ...MODEL, version: undefined, uri: undefined })
    const model = (doc.components as Loose[]).find((c) => c.type === 'machine-learning-model')!
    expect(model.version).toBe('unregistered')
    expect(JSON.stringify(model)).not.toContain('models:/')
  })
})

describe('the model in SPDX', () => {
  test('two packages, the dataset checksum, and the image CONTAINS the model GENERATED_FROM the data', () => {
    const doc = {
      SPDXID: 'SPDXRef-DOCUMENT',
      packages: [{ SPDXID: 'SPDXRef-ContainerImage-1', name: 'iris' }],
      relationships: [
        {
          spdxElementId: 'SPDXRef-DOCUMENT',
          relationshipType: 'DESCRIBES',
          relatedSpdxElement: 'SPDXRef-ContainerImage-1',
        },
      ],
    }
    addModelToSpdx(doc, MODEL)
    expect(doc.packages).toHaveLength(3)
    expect(doc.packages[2]).toMatchObject({
      SPDXID: SPDX_DATASET_ID,
      checksums: [{ algorithm: 'SHA256', checksumValue: 'a'.repeat(64) }],
    })
    expect(doc.relationships).toContainEqual({
      spdxElementId: 'SPDXRef-ContainerImage-1',
      relationshipType: 'CONTAINS',
      relatedSpdxElement: SPDX_MODEL_ID,
    })
    expect(doc.relationships).toContainEqual({
      spdxElementId: SPDX_MODEL_ID,
      relationshipType: 'GENERATED_FROM',
      relatedSpdxElement: SPDX_DATASET_ID,
    })
  })
})

describe('conversion of the one JSON report', () => {
  test('trivy convert, never a second scan', () => {
    expect(trivyConvertArgs('cyclonedx', '/r/trivy-report.json', '/r/sbom.cdx.json')).toEqual([
      'convert',
      '--format',
      'cyclonedx',
      '--output',
      '/r/sbom.cdx.json',
      '/r/trivy-report.json',
    ])
  })

  test('counts the packages the report lists', () => {
    expect(countReportPackages({ Results: [{ Packages: [{}, {}] }, { Packages: null }, {}] })).toBe(
      2,
    )
    expect(countReportPackages({})).toBe(0)
  })
})
