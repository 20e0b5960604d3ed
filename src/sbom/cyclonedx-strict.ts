/**
 * Makes Trivy's CycloneDX pass CycloneDX's strict schema (pure). Trivy copies Debian's license names into
 * `license.id`, where the schema allows only SPDX identifiers (e.g. `BSD-3-clause-Sun`, `GPL-2+`): tools that
 * reject invalid SBOMs (Dependency-Track) then refuse the whole document. An id that is SPDX's in another case
 * gets SPDX's spelling; any other moves to `license.name`, which takes free text.
 */
import { CYCLONEDX_SPDX_IDS } from './spdx-license-ids.js'

const CANONICAL = new Map([...CYCLONEDX_SPDX_IDS].map((id) => [id.toLowerCase(), id]))

export interface StrictFixes {
  /** License ids moved to license.name (not SPDX). */
  licenseIdsToName: number
  /** License ids respelled to SPDX's case. */
  licenseIdsRespelled: number
}

function fixLicense(license: Record<string, unknown>, fixes: StrictFixes): void {
  const id = license.id
  if (typeof id !== 'string' || CYCLONEDX_SPDX_IDS.has(id)) return
  const canonical = CANONICAL.get(id.toLowerCase())
  if (canonical) {
    license.id = canonical
    fixes.licenseIdsRespelled += 1
    return
  }
  delete license.id
  // A license holds an id or a name, never both.
  license.name = id
  fixes.licenseIdsToName += 1
}

function walk(node: unknown, fixes: StrictFixes): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, fixes)
    return
  }
  if (node === null || typeof node !== 'object') return
  const record = node as Record<string, unknown>
  const license = record.license
  if (license !== null && typeof license === 'object' && !Array.isArray(license)) {
    fixLicense(license as Record<string, unknown>, fixes)
  }
  for (const value of Object.values(record)) walk(value, fixes)
}

/** Fixes the document in place; returns what was changed. */
export function fixCycloneDxStrict(bom: Record<string, unknown>): StrictFixes {
  const fixes: StrictFixes = { licenseIdsToName: 0, licenseIdsRespelled: 0 }
  walk(bom, fixes)
  return fixes
}

/** Every component, nested ones included (the metadata component is not counted). */
export function countCycloneDxComponents(bom: Record<string, unknown>): number {
  const count = (list: unknown): number =>
    Array.isArray(list)
      ? list.reduce<number>(
          (n, c) => n + 1 + count((c as Record<string, unknown> | null)?.components),
          0,
        )
      : 0
  return count(bom.components)
}
