import { createHash } from 'node:crypto'
import type { SarifLog, SarifResult, SarifRun } from './sarif-limits.js'

/**
 * Stable `partialFingerprints` for code scanning, so that the same finding in two runs is one alert.
 *
 * A finding of an image scan has no line of source that could be hashed (the approach codeql-action takes for
 * source files), and its location is the image, so the identity is what the finding is about: the image name
 * without tag or digest, the rule, the package and the path. The tag is left out because each run builds a new
 * tag (the default image is `<model-name>:<short sha>`); the installed version is left out so that a finding
 * stays one alert while its package is upgraded but still affected. Results that share all four (two secrets
 * of one rule in one file) are told apart by their order, `:1`, `:2`, as codeql-action counts equal hashes.
 *
 * Our own key, not `primaryLocationLineHash`: that one is reserved for GitHub's own line hash, which
 * codeql-action's upload recomputes and warns about when it differs.
 */
export const FINGERPRINT_KEY = 'mlsecopsFinding/v1'

/** The repository part of an image reference: `ghcr.io/org/model:1.2@sha256:...` -> `ghcr.io/org/model`. */
export function imageNameWithoutTag(reference: string): string {
  const withoutDigest = reference.trim().replace(/@[^@/]*$/, '')
  const lastSlash = withoutDigest.lastIndexOf('/')
  const colon = withoutDigest.indexOf(':', lastSlash + 1)
  return colon >= 0 ? withoutDigest.slice(0, colon) : withoutDigest
}

/**
 * The image as a relative path, the way Trivy writes the location of OS-package findings: the reference
 * without tag, digest or registry host, Docker Hub's `library/` for a one-part name
 * (`ghcr.io/org/model:1` -> `org/model`, `model:abc` -> `library/model`; Docker's reference path).
 */
export function imagePathUri(reference: string): string {
  const parts = imageNameWithoutTag(reference).split('/')
  if (parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === 'localhost')) {
    return parts.slice(1).join('/')
  }
  return parts.length === 1 ? `library/${parts[0]}` : parts.join('/')
}

interface LocatedLocation {
  physicalLocation?: {
    artifactLocation?: { uri?: unknown; [key: string]: unknown }
    [key: string]: unknown
  }
  [key: string]: unknown
}

interface LocatedResult {
  locations?: LocatedLocation[]
}

/**
 * Trivy gives findings in the image's configuration (a root user, say) the image reference itself as location:
 * `model:abc` with uriBaseId ROOTPATH. That is not a relative URI (SARIF1004: `model` reads as a scheme), and it
 * carries the tag, which changes every run. Such locations become imagePathUri(reference), the path Trivy uses
 * for the same image's package findings. `image` as in addPartialFingerprints. Pure: returns a new log.
 */
export function relativizeImageLocations(sarif: SarifLog, image = ''): SarifLog {
  return {
    ...sarif,
    runs: sarif.runs.map((run) => {
      const references = new Set([image, runImage(run)].filter((r) => r !== ''))
      if (!run.results || references.size === 0) return run
      const isImage = (location: unknown): boolean => {
        const uri = (location as LocatedLocation).physicalLocation?.artifactLocation?.uri
        return typeof uri === 'string' && references.has(uri)
      }
      const results = run.results.map((result) => {
        const locations = (result as LocatedResult).locations
        if (!locations?.some(isImage)) return result
        return {
          ...result,
          locations: locations.map((location) => {
            if (!isImage(location)) return location
            const physical = location.physicalLocation!
            const artifact = physical.artifactLocation!
            const uri = imagePathUri(String(artifact.uri))
            return {
              ...location,
              physicalLocation: { ...physical, artifactLocation: { ...artifact, uri } },
            }
          }),
        }
      })
      return { ...run, results }
    }),
  }
}

export interface FindingIdentity {
  image: string
  rule: string
  package: string
  path: string
}

function ruleIdOf(result: SarifResult, run: SarifRun): string {
  if (result.ruleId) return result.ruleId
  if (result.rule?.id) return result.rule.id
  const index = result.ruleIndex ?? result.rule?.index
  return (index !== undefined && run.tool.driver.rules?.[index]?.id) || ''
}

/** Trivy writes the package as the line "Package: NAME" of a vulnerability's message (none for others). */
function packageOf(result: SarifResult): string {
  const text = (result.message as { text?: unknown } | undefined)?.text
  if (typeof text !== 'string') return ''
  return /^Package: (.*)$/m.exec(text)?.[1]?.trim() ?? ''
}

/** The first location's path; the image reference itself counts as the image's path (no tag). */
function pathOf(result: SarifResult, image: string): string {
  const uri = (result as LocatedResult).locations?.[0]?.physicalLocation?.artifactLocation?.uri
  if (typeof uri !== 'string') return ''
  return image !== '' && uri === image ? imagePathUri(uri) : uri
}

/** The image a run scanned, as Trivy records it in the run's properties. */
function runImage(run: SarifRun): string {
  const name = (run.properties as { imageName?: unknown } | undefined)?.imageName
  return typeof name === 'string' ? name : ''
}

export function findingIdentity(
  result: SarifResult,
  run: SarifRun,
  image: string,
): FindingIdentity {
  return {
    image: imageNameWithoutTag(image),
    rule: ruleIdOf(result, run),
    package: packageOf(result),
    path: pathOf(result, image),
  }
}

function hashIdentity(identity: FindingIdentity): string {
  const fields = [identity.image, identity.rule, identity.package, identity.path]
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex')
}

/**
 * Adds FINGERPRINT_KEY to every result's partialFingerprints (fingerprints already there are kept). `image` is
 * the scanned image reference; when empty, each run's `properties.imageName` (written by Trivy) is used.
 * Pure: returns a new log. Call it before results are dropped to fit GitHub's limits, so the counters of equal
 * identities do not depend on what was dropped.
 */
export function addPartialFingerprints(sarif: SarifLog, image = ''): SarifLog {
  return {
    ...sarif,
    runs: sarif.runs.map((run) => {
      if (!run.results) return run
      const seen = new Map<string, number>()
      const results = run.results.map((result) => {
        const hash = hashIdentity(findingIdentity(result, run, image || runImage(run)))
        const n = (seen.get(hash) ?? 0) + 1
        seen.set(hash, n)
        const existing = (result.partialFingerprints ?? {}) as Record<string, string>
        return {
          ...result,
          partialFingerprints: { ...existing, [FINGERPRINT_KEY]: `${hash}:${n}` },
        }
      })
      return { ...run, results }
    }),
  }
}
