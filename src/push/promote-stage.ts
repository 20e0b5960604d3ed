import * as core from '@actions/core'
import * as path from 'node:path'
import { locateOrInstallCosign } from '../cosign/install.js'
import { signImage, type Attestation, type SignResult } from '../cosign/sign-image.js'
import { errorMessage } from '../errors.js'
import { convertTrivyReport, type SbomResult } from '../sbom/write-sbom.js'
import { code, join, table, type Cell } from '../render/markdown.js'
import type { ScanResult } from '../trivy/findings.js'
import { imageRegistry, isLoopbackRegistry, pushImage, type PushResult } from './push-image.js'

/**
 * The promote stage, after the gates and before the alias moves: push the scanned image when every gate passed,
 * then sign its digest and attest the SBOM and the scan. A failure here is returned, for the caller to throw once
 * the verdict is recorded (the alias stays where it was).
 */

export interface PromoteOptions {
  push: boolean
  /** Every gate passed and nothing else failed. */
  promote: boolean
  /** Why not, when promote is false (for the log and the summary). */
  notPromotedReason?: string
  image?: string
  scan?: ScanResult
  sbom?: SbomResult
  cosignKey: string
  cosignPassword: string
  cosignKeyless: boolean
  cosignVersion: string
  cosignTlogUpload: boolean
  runnerTemp: string
}

export interface PromoteResult {
  pushed?: PushResult
  signed?: SignResult
  /** Why nothing was pushed (push false, a gate failed, ...). */
  skipped?: string
  /** A push or signing error, thrown by the caller after the verdict. */
  failure?: unknown
  /** Which step failed. */
  failedStep?: 'push' | 'sign'
  sbom?: SbomResult
}

/** cosign's predicate type for an SBOM format. */
export function sbomPredicateType(format: SbomResult['format']): string {
  return format === 'cyclonedx' ? 'cyclonedx' : 'spdxjson'
}

export const VULN_PREDICATE_NAME = 'trivy-vuln.cosign.json'

export async function promoteImage(options: PromoteOptions): Promise<PromoteResult> {
  const base = { sbom: options.sbom }
  if (!options.push) return { ...base, skipped: 'push is false' }
  if (!options.image || !options.scan) return { ...base, skipped: 'no image was built and scanned' }
  if (!options.promote) {
    const reason = options.notPromotedReason ?? 'a gate failed'
    core.info(`Not pushed: ${reason}.`)
    return { ...base, skipped: reason }
  }
  const image = options.image
  let pushed: PushResult
  try {
    pushed = await core.group(`Push ${image}`, () => pushImage(image))
  } catch (error) {
    return { ...base, failure: error, failedStep: 'push' }
  }
  if (!options.cosignKeyless && options.cosignKey.trim() === '') return { ...base, pushed }
  const scan = options.scan
  try {
    const signed = await core.group(`Sign ${pushed.imageRef}`, async () => {
      const cosign = await locateOrInstallCosign(options.cosignVersion, options.runnerTemp)
      core.info(`cosign ${cosign.version} (${cosign.origin}): ${cosign.path}`)
      const attestations: Attestation[] = []
      if (options.sbom) {
        attestations.push({
          type: sbomPredicateType(options.sbom.format),
          predicate: options.sbom.file,
        })
      }
      if (scan.trivyPath) {
        // cosign's vuln predicate from the same JSON report (trivy convert --format cosign-vuln).
        const predicate = path.join(path.dirname(scan.jsonReport), VULN_PREDICATE_NAME)
        await convertTrivyReport(scan.trivyPath, 'cosign-vuln', scan.jsonReport, predicate)
        attestations.push({ type: 'vuln', predicate })
      }
      return signImage({
        cosign,
        imageRef: pushed.imageRef,
        key: options.cosignKey,
        password: options.cosignPassword,
        keyless: options.cosignKeyless,
        tlogUpload: options.cosignTlogUpload,
        allowHttpRegistry: isLoopbackRegistry(imageRegistry(pushed.image)),
        attestations,
        tempDir: options.runnerTemp,
      })
    })
    return { ...base, pushed, signed }
  } catch (error) {
    return { ...base, pushed, failure: error, failedStep: 'sign' }
  }
}

const SIGNING_METHODS: Record<SignResult['method'], string> = {
  key: 'cosign key pair',
  kms: 'cosign with a KMS key',
  keyless: "cosign keyless (the workflow's OIDC identity)",
}

/** The promote part of the job summary: pushed (where, digest), signed (how), SBOM (format, components). */
export function renderPromoteSection(result: PromoteResult): string {
  const rows: Cell[][] = []
  if (result.pushed) {
    rows.push(['Pushed', join(code(result.pushed.image), ' as ', code(result.pushed.imageRef))])
  } else if (result.failedStep === 'push') {
    rows.push(['Pushed', `failed: ${errorMessage(result.failure)}`])
  } else {
    rows.push(['Pushed', `no (${result.skipped ?? 'not asked'})`])
  }
  if (result.signed) {
    const log = result.signed.tlogUpload ? 'recorded in Rekor' : 'no transparency log'
    const attestations = result.signed.attestations.join(', ') || 'none'
    rows.push([
      'Signed',
      `${SIGNING_METHODS[result.signed.method]}, cosign ${result.signed.cosignVersion}, ${log}; attestations: ${attestations}`,
    ])
  } else if (result.failedStep === 'sign') {
    rows.push(['Signed', `failed: ${errorMessage(result.failure)}`])
  } else {
    rows.push(['Signed', 'no'])
  }
  if (result.sbom) {
    const format = result.sbom.format === 'cyclonedx' ? 'CycloneDX' : 'SPDX (JSON)'
    rows.push([
      'SBOM',
      join(
        `${format}, ${result.sbom.components} components (image packages and the model), `,
        code(path.basename(result.sbom.file)),
        ', ',
        code(`sha256:${result.sbom.sha256}`),
      ),
    ])
  } else {
    rows.push(['SBOM', 'none'])
  }
  return ['### Promote', table(['Step', 'Result'], rows)].join('\n')
}
