import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import type { ClusterCa } from './cluster-ca';
import { CliError, EXIT } from './io';

/**
 * Short-lived client certificates for a fabric's Kubernetes API, as `kops export kubeconfig
 * --admin=<duration>` issues them (a client certificate signed by the cluster CA, group
 * `system:masters`), handed to kubectl as a client-go ExecCredential each time it asks, so that no
 * long-lived credential is ever written to a kubeconfig.
 *
 * node-forge builds and signs the certificate (it is already the project's X.509 library); the
 * RSA key comes from node:crypto, which generates it much faster than forge.
 */

/** The group kube-apiserver's RBAC binds to cluster-admin (what kops gives its admin user). */
export const ADMIN_GROUP = 'system:masters';

export const DEFAULT_TTL_MS = 3600_000;
/** Longest lifetime we mint: a day, so a leaked certificate stops working soon (there is no revocation). */
export const MAX_TTL_MS = 24 * 3600_000;
/** Shortest: kubectl asks again only when one expires, and a command must outlive its handshake. */
export const MIN_TTL_MS = 5 * 60_000;
/** notBefore is set this far back: a server whose clock is behind still accepts a fresh certificate. */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** kubectl is told the credential expires this much before notAfter, so it asks again in time. */
export const REFRESH_MARGIN_MS = 60_000;

export class TtlInvalid extends CliError {
  constructor(received: string) {
    super(
      EXIT.USAGE,
      'TtlInvalid',
      `--ttl ${JSON.stringify(received)}: give a duration from 5m to 24h such as 30m, 1h or 1h30m (the default is 1h)`,
    );
  }
}

/** `--ttl`: hours, minutes and seconds as Go and kops write durations (`1h`, `90m`, `1h30m`). */
export function parseTtl(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TTL_MS;
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  if (!match || text.trim() === '') throw new TtlInvalid(text);
  const ms = (Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)) * 1000;
  if (ms < MIN_TTL_MS || ms > MAX_TTL_MS) throw new TtlInvalid(text);
  return ms;
}

export interface Identity {
  /** The certificate's CN: kube-apiserver's user name (shown in its audit log). */
  readonly commonName: string;
  /** The certificate's O values: kube-apiserver's groups. */
  readonly groups: readonly string[];
}

export interface MintedCredential {
  readonly certPem: string;
  /** PKCS#8 PEM. */
  readonly keyPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

function serialNumber(): string {
  // 16 random bytes, high bit clear so the DER integer is positive.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

/** Pure but for the key and serial: a client certificate for `identity`, signed by the cluster CA, valid `ttlMs` from `now`. */
export function mintClientCertificate(ca: ClusterCa, identity: Identity, ttlMs: number, now: Date): MintedCredential {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = serialNumber();
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  const notAfter = new Date(now.getTime() + ttlMs);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  // UTF8String: IAM ARNs may hold `@` and `_`, which forge's default PrintableString cannot carry.
  // (@types/node-forge types valueTagClass as an asn1.Class; forge's x509.js reads an asn1.Type.)
  const utf8 = forge.asn1.Type.UTF8;
  const subject = [
    ...identity.groups.map((group) => ({ name: 'organizationName', value: group, valueTagClass: utf8 })),
    { name: 'commonName', value: identity.commonName, valueTagClass: utf8 },
  ];
  cert.setSubject(subject as unknown as forge.pki.CertificateField[]);
  cert.setIssuer(caCert.subject.attributes);
  const caKeyId = (caCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined)?.subjectKeyIdentifier;
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
    {
      name: 'authorityKeyIdentifier',
      keyIdentifier: caKeyId === undefined ? caCert.generateSubjectKeyIdentifier().getBytes() : forge.util.hexToBytes(caKeyId),
    },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  // forge writes PEM with CRLF line ends; node:crypto and kubectl write LF.
  return { certPem: forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n'), keyPem: privateKey, notBefore, notAfter };
}

/** The ExecCredential versions client-go speaks; the kubeconfig we write asks for v1. */
export const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'] as const;
export type ExecApiVersion = (typeof EXEC_API_VERSIONS)[number];

export interface ExecCredential {
  readonly apiVersion: ExecApiVersion;
  readonly kind: 'ExecCredential';
  readonly status: {
    /** RFC 3339: client-go runs the plugin again once this has passed. */
    readonly expirationTimestamp: string;
    readonly clientCertificateData: string;
    readonly clientKeyData: string;
  };
}

/**
 * The apiVersion kubectl asked for, from the KUBERNETES_EXEC_INFO it sets for the plugin (v1 when
 * it is absent: the kubeconfig we write names v1).
 */
export function requestedExecApiVersion(execInfo: string | undefined): ExecApiVersion {
  if (execInfo === undefined || execInfo === '') return 'client.authentication.k8s.io/v1';
  let apiVersion: unknown;
  try {
    apiVersion = (JSON.parse(execInfo) as { apiVersion?: unknown }).apiVersion;
  } catch {
    throw new CliError(
      EXIT.USAGE,
      'ExecInfoInvalid',
      `KUBERNETES_EXEC_INFO is not JSON: ${execInfo.slice(0, 80)} (kubectl sets it; unset it to run the credential command by hand)`,
    );
  }
  const known = EXEC_API_VERSIONS.find((v) => v === apiVersion);
  if (known === undefined)
    throw new CliError(
      EXIT.USAGE,
      'ExecInfoInvalid',
      `kubectl asked for ExecCredential ${String(apiVersion)}; fabricctl answers ${EXEC_API_VERSIONS.join(' or ')}`,
    );
  return known;
}

/** Pure: what the plugin prints for kubectl. Expiry is a margin before notAfter, so kubectl asks again before the server refuses it. */
export function execCredential(minted: MintedCredential, apiVersion: ExecApiVersion = 'client.authentication.k8s.io/v1'): ExecCredential {
  const expiresAt = new Date(Math.max(minted.notBefore.getTime(), minted.notAfter.getTime() - REFRESH_MARGIN_MS));
  return {
    apiVersion,
    kind: 'ExecCredential',
    status: {
      // Whole seconds: RFC 3339 as Kubernetes's metav1.Time writes it.
      expirationTimestamp: `${expiresAt.toISOString().slice(0, 19)}Z`,
      clientCertificateData: minted.certPem,
      clientKeyData: minted.keyPem,
    },
  };
}
