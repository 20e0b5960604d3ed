/**
 * Pure argument and environment building for cosign (no I/O): unit-tested on its own, including the keyless
 * contract, which cannot run outside a GitHub-hosted workflow.
 */
import { ConfigurationError } from '../errors.js'
import { cosignMajor } from './release.js'

/** How the image is signed. */
export type SigningMethod = 'key' | 'kms' | 'keyless'

/** KMS and other key-reference schemes cosign resolves itself (`--key <scheme>://...`). */
const KEY_REFERENCE = /^(awskms|gcpkms|azurekms|hashivault|k8s|gitlab|pkcs11):\/\/\S+$/

/** Classifies the cosign-key input without ever quoting it: a PEM private key, or a KMS URI. */
export function cosignKeyKind(key: string): 'pem' | 'kms' {
  const text = key.trim()
  if (/^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) return 'pem'
  if (KEY_REFERENCE.test(text)) return 'kms'
  throw new ConfigurationError(
    'cosign-key',
    "Input 'cosign-key' is neither a PEM private key (-----BEGIN ... PRIVATE KEY-----) nor a KMS URI (awskms://, gcpkms://, azurekms://, hashivault://, k8s://); pass the contents of cosign.key from a secret.",
  )
}

export interface CosignArgsOptions {
  /** The key file or KMS URI given to --key; undefined for keyless. */
  keyRef?: string
  /** Upload to the Rekor transparency log (keyless always does). */
  tlogUpload: boolean
  /** The registry speaks plain HTTP (a loopback registry). */
  allowHttpRegistry: boolean
  /** cosign's version: 3 and later sign with a signing config by default, which needs its TUF root. */
  version: string
}

function commonArgs(options: CosignArgsOptions): string[] {
  const args = ['--yes']
  if (options.keyRef) args.push('--key', options.keyRef)
  if (!options.tlogUpload) {
    args.push('--tlog-upload=false')
    // cosign 3 takes its Rekor from a signing config by default; without a log there is nothing to fetch.
    if (cosignMajor(options.version) >= 3) args.push('--use-signing-config=false')
  }
  if (options.allowHttpRegistry) args.push('--allow-http-registry=true')
  return args
}

/** `cosign sign` of one digest reference (`repo@sha256:...`, never a tag). */
export function cosignSignArgs(options: CosignArgsOptions, imageRef: string): string[] {
  assertDigestReference(imageRef)
  return ['sign', ...commonArgs(options), imageRef]
}

/** `cosign attest` of a predicate file (cyclonedx, spdxjson, vuln) to one digest reference. */
export function cosignAttestArgs(
  options: CosignArgsOptions,
  type: string,
  predicate: string,
  imageRef: string,
): string[] {
  assertDigestReference(imageRef)
  return ['attest', ...commonArgs(options), '--type', type, '--predicate', predicate, imageRef]
}

function assertDigestReference(imageRef: string): void {
  if (!/@sha256:[a-f0-9]{64}$/.test(imageRef)) {
    throw new Error(`cosign signs digests only, not ${imageRef}`)
  }
}

/** Variables cosign may need from the runner: where it runs, the Docker login, proxies, certificates. */
const PASSED_VARIABLES = [
  'PATH',
  'HOME',
  'TMPDIR',
  'DOCKER_CONFIG',
  'HTTPS_PROXY',
  'HTTP_PROXY',
  'NO_PROXY',
  'https_proxy',
  'http_proxy',
  'no_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
]
/** KMS providers' credentials and cosign's/Sigstore's own settings (e.g. SIGSTORE_REKOR_URL). */
const KMS_PREFIXES = ['AWS_', 'GOOGLE_', 'CLOUDSDK_', 'AZURE_', 'VAULT_', 'GITLAB_']
const COSIGN_PREFIXES = ['COSIGN_', 'SIGSTORE_', 'TUF_']
/** GitHub's OIDC token request: set when the job has `permissions: id-token: write`. */
export const OIDC_REQUEST_VARIABLES = [
  'ACTIONS_ID_TOKEN_REQUEST_URL',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
] as const

/**
 * The environment cosign runs with, built from nothing: the runner variables above, the KMS credentials only
 * for a KMS key, the OIDC request only for keyless, and COSIGN_PASSWORD only for a key (an empty password when
 * none is given, so cosign never prompts). Nothing else of the action's environment (tokens, MLflow secrets).
 */
export function cosignEnvironment(
  method: SigningMethod,
  env: NodeJS.ProcessEnv,
  password: string,
): Record<string, string> {
  const out: Record<string, string> = {}
  const take = (name: string): void => {
    const value = env[name]
    if (value !== undefined) out[name] = value
  }
  for (const name of PASSED_VARIABLES) take(name)
  for (const name of Object.keys(env)) {
    if (COSIGN_PREFIXES.some((p) => name.startsWith(p))) take(name)
    if (method === 'kms' && KMS_PREFIXES.some((p) => name.startsWith(p))) take(name)
  }
  delete out.COSIGN_PASSWORD
  if (method === 'keyless') {
    const missing = OIDC_REQUEST_VARIABLES.filter((name) => !env[name])
    if (missing.length > 0) {
      throw new ConfigurationError(
        'cosign-keyless',
        `cosign-keyless is true but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set: give the job \`permissions: id-token: write\` (keyless signing uses the workflow's OIDC identity).`,
      )
    }
    for (const name of OIDC_REQUEST_VARIABLES) take(name)
    take('GITHUB_ACTIONS')
  } else {
    out.COSIGN_PASSWORD = password
  }
  return out
}
