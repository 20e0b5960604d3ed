import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { runCommand } from '../exec.js'
import { CommandError, errorMessage, oneLine } from '../errors.js'
import type { CosignBinary } from './install.js'
import {
  cosignAttestArgs,
  cosignEnvironment,
  cosignKeyKind,
  cosignSignArgs,
  type CosignArgsOptions,
  type SigningMethod,
} from './sign-args.js'

/**
 * The sign stage: cosign signs the pushed digest and attaches the attestations (SBOM, vulnerability scan).
 * A PEM key lives in a 0600 file in a private directory for the signing only and is removed right after;
 * cosign runs with an environment built for it alone.
 */

export interface Attestation {
  /** cosign's predicate type: cyclonedx, spdxjson, vuln. */
  type: string
  predicate: string
}

export interface SignOptions {
  cosign: CosignBinary
  /** `<repository>@sha256:...` */
  imageRef: string
  /** cosign-key: PEM or KMS URI; '' for keyless. */
  key: string
  password: string
  keyless: boolean
  tlogUpload: boolean
  allowHttpRegistry: boolean
  attestations: Attestation[]
  /** Where the key file's private directory is made (RUNNER_TEMP). */
  tempDir: string
  env?: NodeJS.ProcessEnv
}

export interface SignResult {
  method: SigningMethod
  imageRef: string
  /** Attestation types attached. */
  attestations: string[]
  cosignVersion: string
  tlogUpload: boolean
}

/** Writes the PEM key to a 0600 file in a fresh 0700 directory; returns the file and its removal. */
export function writeTemporaryKey(key: string, tempDir: string): { file: string; remove(): void } {
  fs.mkdirSync(tempDir, { recursive: true })
  const dir = fs.mkdtempSync(path.join(tempDir, 'cosign-'))
  fs.chmodSync(dir, 0o700)
  const file = path.join(dir, 'cosign.key')
  fs.writeFileSync(file, key.trim() + os.EOL, { mode: 0o600, flag: 'wx' })
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

async function runCosign(
  binary: string,
  args: string[],
  env: Record<string, string>,
  what: string,
): Promise<void> {
  let result
  try {
    result = await runCommand(binary, args, { env, inheritEnv: false, tailLines: 5 })
  } catch (error) {
    throw new CommandError(`Could not run cosign (${binary}) to ${what}: ${errorMessage(error)}`)
  }
  if (result.exitCode !== 0) {
    const last = oneLine(result.tail.at(-1) ?? '')
    throw new CommandError(
      `cosign failed to ${what} (exit ${result.exitCode})${last ? `: ${last}` : ''}`,
    )
  }
}

/** Signs `imageRef` and attaches each attestation. Throws CommandError on the first failure. */
export async function signImage(options: SignOptions): Promise<SignResult> {
  const kind = options.keyless ? 'keyless' : cosignKeyKind(options.key)
  const method: SigningMethod = kind === 'pem' ? 'key' : kind
  const env = cosignEnvironment(method, options.env ?? process.env, options.password)
  const tlogUpload = method === 'keyless' ? true : options.tlogUpload
  const key = kind === 'pem' ? writeTemporaryKey(options.key, options.tempDir) : undefined
  try {
    const argsOptions: CosignArgsOptions = {
      keyRef: key ? key.file : method === 'kms' ? options.key.trim() : undefined,
      tlogUpload,
      allowHttpRegistry: options.allowHttpRegistry,
      version: options.cosign.version,
    }
    await runCosign(
      options.cosign.path,
      cosignSignArgs(argsOptions, options.imageRef),
      env,
      `sign ${options.imageRef}`,
    )
    const attached: string[] = []
    for (const attestation of options.attestations) {
      await runCosign(
        options.cosign.path,
        cosignAttestArgs(argsOptions, attestation.type, attestation.predicate, options.imageRef),
        env,
        `attest ${attestation.type} to ${options.imageRef}`,
      )
      attached.push(attestation.type)
    }
    core.info(
      `Signed ${options.imageRef} (${method}${tlogUpload ? '' : ', no transparency log'}) and attested ${attached.join(', ') || 'nothing'}`,
    )
    return {
      method,
      imageRef: options.imageRef,
      attestations: attached,
      cosignVersion: options.cosign.version,
      tlogUpload,
    }
  } finally {
    key?.remove()
  }
}
