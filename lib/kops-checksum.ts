import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from './fabric-function';

/** The CDK context key the fabricctl app reads kops's checksum from (`-c fabricctl:kopsSha256=...`). */
export const KOPS_SHA256_CONTEXT_KEY = 'fabricctl:kopsSha256';

/** The cluster job's environment variable carrying the checksum; install-tools.sh prefers it over tools.env. */
export const KOPS_SHA256_ENV = 'KOPS_SHA256';

const TOOLS_ENV = path.join(PROJECT_ROOT, 'buildspecs', 'tools.env');

/** The kops version the build jobs install, as pinned in buildspecs/tools.env (the one place it is pinned). */
export function pinnedKopsVersion(toolsEnv = TOOLS_ENV): string {
  const version = /^KOPS_VERSION=(\S+)\s*$/m.exec(readFileSync(toolsEnv, 'utf8'))?.[1];
  if (!version) throw new Error(`${toolsEnv} has no KOPS_VERSION=<version> line`);
  return version;
}

/** The release's own checksum file: where a user reads the value of kopsSha256. */
export function kopsSha256Url(version: string): string {
  return `https://github.com/kubernetes/kops/releases/download/v${version}/kops-linux-amd64.sha256`;
}

/** Where to read the value and the two ways to pass it to `cdk synth`/`cdk deploy`. */
function howToPass(version: string): string {
  return (
    `Read it from ${kopsSha256Url(version)} and pass it: \`npx cdk deploy -c ${KOPS_SHA256_CONTEXT_KEY}=<64 hex characters>\`, ` +
    `or "${KOPS_SHA256_CONTEXT_KEY}": "<64 hex characters>" under "context" in cdk.json (README, Deploy).`
  );
}

/** No kops checksum was given: the cluster job could not download kops, so synth stops here rather than at the first ClusterJob. */
export class KopsChecksumMissing extends Error {
  constructor(version: string) {
    super(
      `FabricOrchestrator needs kopsSha256, the SHA-256 of kops ${version} (kops-linux-amd64) ` +
        `that the cluster job verifies its download of kops against. ${howToPass(version)}`,
    );
    this.name = 'KopsChecksumMissing';
  }
}

/** The kops checksum given is not a SHA-256, or is given where it would be ignored. */
export class KopsChecksumInvalid extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KopsChecksumInvalid';
  }
}

/**
 * The checksum as the cluster job gets it (lower case, as sha256sum prints it), or undefined when
 * kops comes from the build machine's PATH. Throws KopsChecksumMissing or KopsChecksumInvalid.
 * `value` is unknown on purpose: context values and plain JavaScript callers are not type-checked.
 */
export function checkKopsSha256(value: unknown, kopsFromPath: boolean): string | undefined {
  if (kopsFromPath) {
    if (value !== undefined) {
      throw new KopsChecksumInvalid(
        'kopsSha256 is set but kopsFromPath is true: a cluster job that takes kops from PATH downloads nothing, ' +
          'so the checksum would be ignored. Drop one of the two.',
      );
    }
    return undefined;
  }
  if (value === undefined || value === null || value === '') throw new KopsChecksumMissing(pinnedKopsVersion());
  if (typeof value !== 'string' || !/^[0-9a-fA-F]{64}$/.test(value)) {
    const version = pinnedKopsVersion();
    const shown = typeof value === 'string' ? `'${value}'` : `${JSON.stringify(value)} (a ${typeof value})`;
    throw new KopsChecksumInvalid(
      `kopsSha256 must be the 64 hexadecimal characters of kops ${version}'s SHA-256 (kops-linux-amd64); ` +
        `got ${shown}. ${howToPass(version)}`,
    );
  }
  return value.toLowerCase();
}
