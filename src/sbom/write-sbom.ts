import * as core from '@actions/core'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { runCommand } from '../exec.js'
import { ScannerError, errorMessage, oneLine } from '../errors.js'
import {
  countCycloneDxComponents,
  fixCycloneDxStrict,
  type StrictFixes,
} from './cyclonedx-strict.js'
import { addModelToCycloneDx, addModelToSpdx, type ModelDescription } from './model-card.js'

/**
 * The SBOM stage: the one Trivy JSON report converted with `trivy convert` (never a second scan), made valid
 * for strict CycloneDX consumers, with the model and its dataset added.
 */

export const SBOM_FORMATS = ['cyclonedx', 'spdx-json', 'none'] as const
export type SbomFormatInput = (typeof SBOM_FORMATS)[number]
export type SbomFormat = Exclude<SbomFormatInput, 'none'>

export const SBOM_FILE_NAMES: Record<SbomFormat, string> = {
  cyclonedx: 'sbom.cdx.json',
  'spdx-json': 'sbom.spdx.json',
}

export interface SbomOptions {
  trivyPath: string
  jsonReport: string
  format: SbomFormat
  /** Where the SBOM is written (the reports directory). */
  reportsDir: string
  model: ModelDescription
}

export interface SbomResult {
  file: string
  format: SbomFormat
  /** CycloneDX components or SPDX packages, the model and dataset included. */
  components: number
  /** SHA-256 of the file, hex. */
  sha256: string
  /** CycloneDX: what was changed to pass the strict schema. */
  fixes?: StrictFixes
}

/** `trivy convert` of the JSON report to another format (cyclonedx, spdx-json, cosign-vuln). */
export function trivyConvertArgs(format: string, jsonReport: string, output: string): string[] {
  return ['convert', '--format', format, '--output', output, jsonReport]
}

/** Packages listed in a Trivy JSON report (needs --list-all-pkgs; without it only vulnerable ones show). */
export function countReportPackages(report: unknown): number {
  const results = (report as { Results?: { Packages?: unknown[] | null }[] | null })?.Results
  return (results ?? []).reduce(
    (n, r) => n + (Array.isArray(r.Packages) ? r.Packages.length : 0),
    0,
  )
}

/** Runs `trivy convert`; a failure is a ScannerError with Trivy's last lines. */
export async function convertTrivyReport(
  trivyPath: string,
  format: string,
  jsonReport: string,
  output: string,
): Promise<void> {
  fs.rmSync(output, { force: true })
  let result
  try {
    result = await runCommand(trivyPath, trivyConvertArgs(format, jsonReport, output), {
      cwd: path.dirname(output),
      silent: true,
      tailLines: 10,
    })
  } catch (error) {
    throw new ScannerError(
      `Could not run Trivy (${trivyPath}) to convert the report to ${format}: ${errorMessage(error)}`,
    )
  }
  if (result.exitCode !== 0 || !fs.existsSync(output)) {
    throw new ScannerError(
      `trivy convert --format ${format} failed (exit ${result.exitCode}): ${oneLine(result.tail.join(' | '))}`,
    )
  }
}

function readJson(file: string, what: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>
  } catch (error) {
    throw new ScannerError(`${what} ${file} is unreadable: ${errorMessage(error)}`)
  }
}

/** Writes the SBOM of the scanned image and the model; returns where, what and its digest. */
export async function writeSbom(options: SbomOptions): Promise<SbomResult> {
  const report = readJson(options.jsonReport, "Trivy's JSON report")
  const packages = countReportPackages(report)
  if (packages === 0) {
    core.warning(
      `Trivy's JSON report lists no packages: the SBOM holds only the model (was the image scanned with --list-all-pkgs?).`,
    )
  }
  const file = path.join(options.reportsDir, SBOM_FILE_NAMES[options.format])
  await convertTrivyReport(options.trivyPath, options.format, options.jsonReport, file)
  const document = readJson(file, `Trivy's ${options.format} SBOM`)
  let components: number
  let fixes: StrictFixes | undefined
  if (options.format === 'cyclonedx') {
    fixes = fixCycloneDxStrict(document)
    addModelToCycloneDx(document, options.model)
    components = countCycloneDxComponents(document)
  } else {
    addModelToSpdx(document, options.model)
    components = Array.isArray(document.packages) ? document.packages.length : 0
  }
  const text = JSON.stringify(document, null, 2) + '\n'
  fs.writeFileSync(file, text)
  const sha256 = createHash('sha256').update(text).digest('hex')
  core.info(
    `SBOM (${options.format}): ${file}, ${components} components from ${packages} packages in the scan and the model, sha256 ${sha256}` +
      (fixes && fixes.licenseIdsToName + fixes.licenseIdsRespelled > 0
        ? `; ${fixes.licenseIdsToName} non-SPDX license ids moved to license.name, ${fixes.licenseIdsRespelled} respelled`
        : ''),
  )
  return { file, format: options.format, components, sha256, fixes }
}
