/**
 * VEX documents (input `vex`): OpenVEX, CSAF VEX and CycloneDX VEX, read by the action to check them and to
 * find the statement behind each finding Trivy marks not_affected. Pure: text in, document out.
 *
 * Trivy 0.74 applies CycloneDX VEX only to CycloneDX SBOM scans and fails an image scan given one, so a
 * CycloneDX VEX document is translated into OpenVEX (the statements whose `affects` name a package URL) and
 * Trivy reads the translation.
 */
import { ConfigurationError } from '../errors.js'

export type VexFormat = 'openvex' | 'csaf' | 'cyclonedx'

export interface VexStatement {
  vulnerability: string
  status: string
  justification: string
  /** The free-text reason (OpenVEX impact_statement, CycloneDX analysis.detail, CSAF threats/remediations). */
  detail: string
  products: string[]
}

export interface VexDocument {
  format: VexFormat
  /** The file as the user named it (workspace-relative). */
  file: string
  statements: VexStatement[]
}

function bad(file: string, what: string): never {
  throw new ConfigurationError('vex', `VEX file ${file}: ${what}.`)
}

function str(value: unknown): string {
  return typeof value === 'string' ? value.trim() : ''
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}
}

function openVexStatements(doc: Record<string, unknown>, file: string): VexStatement[] {
  if (!Array.isArray(doc.statements)) bad(file, 'an OpenVEX document needs a statements list')
  return doc.statements.map((raw, i) => {
    const s = record(raw)
    const v = s.vulnerability
    const vulnerability = typeof v === 'string' ? v : str(record(v).name)
    if (!vulnerability) bad(file, `statement ${i + 1} names no vulnerability`)
    const status = str(s.status)
    if (!['not_affected', 'affected', 'fixed', 'under_investigation'].includes(status))
      bad(file, `statement ${i + 1} (${vulnerability}) has status '${status}'`)
    return {
      vulnerability,
      status,
      justification: str(s.justification),
      detail: str(s.impact_statement) || str(s.status_notes),
      products: list(s.products).map((p) => (typeof p === 'string' ? p : str(record(p)['@id']))),
    }
  })
}

const CDX_STATE_TO_OPENVEX: Record<string, string> = {
  not_affected: 'not_affected',
  false_positive: 'not_affected',
  resolved: 'fixed',
  resolved_with_pedigree: 'fixed',
  exploitable: 'affected',
  in_triage: 'under_investigation',
}

const CDX_JUSTIFICATION_TO_OPENVEX: Record<string, string> = {
  code_not_present: 'vulnerable_code_not_present',
  code_not_reachable: 'vulnerable_code_not_in_execute_path',
  requires_configuration: 'vulnerable_code_cannot_be_controlled_by_adversary',
  requires_dependency: 'component_not_present',
  requires_environment: 'vulnerable_code_cannot_be_controlled_by_adversary',
  protected_by_compiler: 'inline_mitigations_already_exist',
  protected_at_runtime: 'inline_mitigations_already_exist',
  protected_at_perimeter: 'inline_mitigations_already_exist',
  protected_by_mitigating_control: 'inline_mitigations_already_exist',
}

function cycloneDxStatements(doc: Record<string, unknown>, file: string): VexStatement[] {
  // bom-ref -> purl, for `affects` that point at a component of the document.
  const purls = new Map<string, string>()
  const walk = (components: unknown): void => {
    for (const c of list(components)) {
      const comp = record(c)
      if (str(comp['bom-ref']) && str(comp.purl)) purls.set(str(comp['bom-ref']), str(comp.purl))
      walk(comp.components)
    }
  }
  walk(doc.components)
  const out: VexStatement[] = []
  for (const raw of list(doc.vulnerabilities)) {
    const v = record(raw)
    const id = str(v.id)
    if (!id) bad(file, 'a vulnerability has no id')
    const analysis = record(v.analysis)
    const state = str(analysis.state)
    if (!state) continue
    const status = CDX_STATE_TO_OPENVEX[state]
    if (!status) bad(file, `${id} has analysis state '${state}'`)
    const products = list(v.affects)
      .map((a) => {
        const ref = str(record(a).ref)
        if (ref.startsWith('pkg:')) return ref
        return purls.get(ref.replace(/^urn:cdx:[^#]*#/, '')) ?? ''
      })
      .filter((p) => p !== '')
    if (products.length === 0)
      bad(file, `${id}: no 'affects' entry names a package URL (or a component with one)`)
    out.push({
      vulnerability: id,
      status,
      justification: CDX_JUSTIFICATION_TO_OPENVEX[str(analysis.justification)] ?? '',
      detail: str(analysis.detail) || str(analysis.justification),
      products,
    })
  }
  return out
}

function csafStatements(doc: Record<string, unknown>): VexStatement[] {
  const out: VexStatement[] = []
  for (const raw of list(doc.vulnerabilities)) {
    const v = record(raw)
    const id = str(v.cve) || str(record(list(v.ids)[0]).text)
    const status = record(v.product_status)
    const detail = list(v.threats)
      .map((t) => str(record(t).details))
      .filter((t) => t)
      .join(' ')
    for (const [key, openVex] of [
      ['known_not_affected', 'not_affected'],
      ['fixed', 'fixed'],
    ] as const) {
      const products = list(status[key]).map(str)
      if (products.length > 0)
        out.push({ vulnerability: id, status: openVex, justification: '', detail, products })
    }
  }
  return out
}

/** Reads a VEX document; anything else (not JSON, not one of the three formats) is a ConfigurationError. */
export function parseVexFile(text: string, file: string): VexDocument {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    bad(file, `not valid JSON (${(error as Error).message.split('\n')[0]})`)
  }
  const doc = record(json)
  if (str(doc['@context']).includes('openvex'))
    return { format: 'openvex', file, statements: openVexStatements(doc, file) }
  if (str(doc.bomFormat) === 'CycloneDX')
    return { format: 'cyclonedx', file, statements: cycloneDxStatements(doc, file) }
  if (str(record(doc.document).csaf_version))
    return { format: 'csaf', file, statements: csafStatements(doc) }
  bad(file, 'not an OpenVEX, CSAF or CycloneDX VEX document')
}

/** OpenVEX text holding a document's statements (the translation Trivy reads for CycloneDX VEX). */
export function renderOpenVex(doc: VexDocument, timestamp: string): string {
  return JSON.stringify(
    {
      '@context': 'https://openvex.dev/ns/v0.2.0',
      '@id': `mlsecops-action/translated/${doc.file}`,
      author: `mlsecops-action (translated from ${doc.file})`,
      timestamp,
      version: 1,
      statements: doc.statements.map((s) => ({
        vulnerability: { name: s.vulnerability },
        products: s.products.map((p) => ({ '@id': p })),
        status: s.status,
        ...(s.status === 'not_affected'
          ? s.justification
            ? { justification: s.justification, impact_statement: s.detail || undefined }
            : { impact_statement: s.detail || 'not affected' }
          : {}),
      })),
    },
    null,
    2,
  )
}

/** The last statement about a vulnerability that suppresses it (not_affected or fixed), as Trivy picks it. */
export function vexReason(docs: readonly VexDocument[], vulnerability: string): string | undefined {
  for (const doc of docs) {
    const found = doc.statements.filter(
      (s) =>
        s.vulnerability === vulnerability && (s.status === 'not_affected' || s.status === 'fixed'),
    )
    const s = found.at(-1)
    if (!s) continue
    const why = [s.justification, s.detail].filter((t, i, all) => t && all.indexOf(t) === i)
    return `${s.status}${why.length > 0 ? `: ${why.join(': ')}` : ''}`
  }
  return undefined
}
