import { existsSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { KubeCredentials, parseKubeconfig } from '../../../../../lambdas/shared/kube-api';
import { API_SERVER_AUTH } from '../../contracts';
import type { Issued } from '../../test-pki';
import { KopsError } from './cli';

/**
 * Cluster credentials as kops handles them: the cluster CA (local mode hands the API stand-in's CA
 * over in files; update cluster stores it in the state store as kops does, see keystore.ts), admin
 * client certificates issued from it for `export kubeconfig --admin` and `rolling-update`'s
 * validation, and the kubeconfig a `--use-kubeconfig` command reads.
 */

/**
 * The cluster CA local mode hands over (the API stand-in's), certificate and key, or undefined when
 * neither file is named. Naming one without the other, or a file that is not there, is an error.
 */
export function handedOverCa(env: NodeJS.ProcessEnv): Issued | undefined {
  const certFile = env.KOPS_STANDIN_API_CA_FILE;
  const keyFile = env.KOPS_STANDIN_API_CA_KEY_FILE;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) {
    throw new KopsError(
      'the stand-in needs both KOPS_STANDIN_API_CA_FILE and KOPS_STANDIN_API_CA_KEY_FILE ' +
        "(the cluster CA's certificate and key), or neither",
    );
  }
  for (const file of [certFile, keyFile]) if (!existsSync(file)) throw new KopsError(`cluster CA file ${file} does not exist`);
  return { certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
}

/** The cluster CA, certificate and key, from the files local mode writes. */
export function clusterCa(env: NodeJS.ProcessEnv): Issued {
  const ca = handedOverCa(env);
  if (ca === undefined) {
    throw new KopsError(
      'the stand-in has no cluster CA: set KOPS_STANDIN_API_CA_FILE and KOPS_STANDIN_API_CA_KEY_FILE ' +
        '(local mode starts a TLS test API server and sets both)',
    );
  }
  return ca;
}

const GO_DURATION_UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration (`18h0m0s`, `90m`, `1.5h`) in milliseconds; the flag parser has checked its syntax. */
export function goDurationMs(text: string): number {
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g))
    total += Number(amount) * (GO_DURATION_UNIT_MS[unit ?? ''] ?? 0);
  return total;
}

/** The admin user kops puts in a kubeconfig: a client certificate of the cluster CA, group system:masters. */
export async function adminCredential(
  ca: Issued,
  lifetime: string,
): Promise<KubeCredentials & { kind: 'client-certificate'; commonName: string }> {
  const lifetimeMs = goDurationMs(lifetime);
  if (lifetimeMs <= 0) throw new KopsError(`--admin must be a positive duration to issue a credential, got ${lifetime}`);
  const commonName = `kubecfg-${userInfo().username}`;
  // Loaded when a certificate is issued (most calls issue none): node-forge takes 0.03 of the 0.19 CPU-s of `kops version`.
  const { issueClientCertificate } = await import('../../test-pki');
  const issued = issueClientCertificate(ca, { commonName, groups: [API_SERVER_AUTH.adminGroup] }, lifetimeMs);
  return { kind: 'client-certificate', certPem: issued.certPem, keyPem: issued.keyPem, commonName };
}

/** The kubeconfig file kubectl would read: `--kubeconfig`, else the first of KUBECONFIG, else ~/.kube/config. */
export function kubeconfigPath(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  return explicit ?? env.KUBECONFIG?.split(':')[0] ?? join(homedir(), '.kube', 'config');
}

/** Server, CA and credentials of the kubeconfig context named after the cluster, as kops looks it up. */
export function kubeconfigContext(file: string, cluster: string): ReturnType<typeof parseKubeconfig> {
  if (!existsSync(file))
    throw new KopsError(`cannot load kubecfg settings for "${cluster}": ${file} does not exist (run kops export kubeconfig first)`);
  const text = readFileSync(file, 'utf8');
  const doc = parseYaml(text) as { contexts?: { name?: string }[] } | null;
  if (!(doc?.contexts ?? []).some((c) => c.name === cluster)) {
    throw new KopsError(`cannot load kubecfg settings for "${cluster}": context "${cluster}" does not exist in ${file}`);
  }
  // The cluster's context decides, whatever the file's current context is.
  return parseKubeconfig(text, cluster);
}
