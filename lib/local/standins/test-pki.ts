/**
 * Throwaway X.509 certificates for the stand-ins (local mode and tests only): a cluster CA, the API
 * server's certificate, and admin client certificates as `kops export kubeconfig --admin` issues
 * them (CN `kubecfg-<user>`, O `system:masters`, signed by the cluster CA, with a lifetime).
 *
 * node-forge builds the certificates (pure JavaScript: no openssl binary on PATH needed); the RSA
 * keys come from node:crypto, which is much faster than forge's own key generation.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** A certificate and its private key, PEM. */
export interface Issued {
  readonly certPem: string;
  readonly keyPem: string;
}

function rsaKeys(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return {
    privateKey: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey,
    publicKey: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey,
    keyPem: privateKey,
  };
}

function serial(): string {
  // Positive (high bit clear), 16 bytes: unique enough for throwaway certificates.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

type Attributes = forge.pki.CertificateField[];

function certificate(subject: Attributes, lifetimeMs: number, publicKey: forge.pki.rsa.PublicKey): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + lifetimeMs);
  cert.setSubject(subject);
  return cert;
}

const DAY_MS = 24 * 3600_000;

/** A self-signed CA valid for a day. */
export function createTestCa(commonName: string): Issued {
  const keys = rsaKeys();
  const subject = [{ name: 'commonName', value: commonName }];
  const ca = certificate(subject, DAY_MS, keys.publicKey);
  ca.setIssuer(subject);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(ca), keyPem: keys.keyPem };
}

function issue(ca: Issued, subject: Attributes, lifetimeMs: number, usage: Record<string, unknown>[]): Issued {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const keys = rsaKeys();
  const cert = certificate(subject, lifetimeMs, keys.publicKey);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    ...usage,
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}

/** The API server's certificate for `dnsName`, signed by `ca`. */
export function issueServerCertificate(ca: Issued, dnsName: string): Issued {
  return issue(ca, [{ name: 'commonName', value: dnsName }], DAY_MS, [
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: dnsName }] },
  ]);
}

export interface ClientIdentity {
  readonly commonName: string;
  /** Kubernetes groups (the certificate's O attributes), e.g. `system:masters`. */
  readonly groups: readonly string[];
}

/** A client certificate for `identity`, signed by `ca`, valid for `lifetimeMs`. */
export function issueClientCertificate(ca: Issued, identity: ClientIdentity, lifetimeMs: number): Issued {
  const subject: Attributes = [
    ...identity.groups.map((group) => ({ name: 'organizationName', value: group })),
    { name: 'commonName', value: identity.commonName },
  ];
  return issue(ca, subject, lifetimeMs, [{ name: 'extKeyUsage', clientAuth: true }]);
}
