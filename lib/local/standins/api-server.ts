/**
 * STAND-IN for a Kubernetes API server, for local mode and tests only.
 *
 * Serves `GET /readyz` -> `ok` over TLS on 127.0.0.1, with a certificate for `api.<clusterName>`
 * signed by a test CA made afresh at every start. The readiness check then runs exactly as in
 * the cloud: TLS verified against the cluster CA taken from the kubeconfig, SNI `api.<clusterName>`.
 *
 * Certificates: node-forge builds the X.509 certificates (it is pure JavaScript with no native
 * or polyfill requirements, unlike @peculiar/x509 which needs a global reflect-metadata
 * polyfill, and unlike the openssl binary it needs no external program on PATH); the RSA keys
 * come from node:crypto, which is much faster than forge's pure-JS key generation.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import forge from 'node-forge';
import { createLogger, Logger } from '../../../lambdas/shared/logger';

export interface TestApiServerOptions {
  readonly clusterName: string;
  /** `/readyz` answers 503 until this many ms after start, as a booting API server does. */
  readonly readyAfterMs?: number;
  readonly logger?: Logger;
}

export interface TestApiServer {
  readonly port: number;
  /** The test CA, PEM: what the kubeconfig's certificate-authority-data carries (base64). */
  readonly caPem: string;
  /** `https://api.<clusterName>:<port>`, the kubeconfig's server URL. */
  readonly serverUrl: string;
  stop(): Promise<void>;
}

interface Issued {
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

function validity(cert: forge.pki.Certificate): void {
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
}

/** A self-signed CA and a server certificate for `api.<clusterName>` signed by it. */
function issueTestCertificates(clusterName: string): { ca: Issued; server: Issued } {
  const caKeys = rsaKeys();
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = serial();
  validity(ca);
  const caSubject = [{ name: 'commonName', value: `fabricctl test CA (stand-in) for ${clusterName}` }];
  ca.setSubject(caSubject);
  ca.setIssuer(caSubject);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const serverKeys = rsaKeys();
  const server = forge.pki.createCertificate();
  server.publicKey = serverKeys.publicKey;
  server.serialNumber = serial();
  validity(server);
  server.setSubject([{ name: 'commonName', value: `api.${clusterName}` }]);
  server.setIssuer(caSubject);
  server.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: `api.${clusterName}` }] },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  server.sign(caKeys.privateKey, forge.md.sha256.create());

  return {
    ca: { certPem: forge.pki.certificateToPem(ca), keyPem: caKeys.keyPem },
    server: { certPem: forge.pki.certificateToPem(server), keyPem: serverKeys.keyPem },
  };
}

export async function startTestApiServer(options: TestApiServerOptions): Promise<TestApiServer> {
  const logger = options.logger ?? createLogger({ fabric: options.clusterName });
  const { ca, server: issued } = issueTestCertificates(options.clusterName);
  const readyAt = Date.now() + (options.readyAfterMs ?? 0);

  const server: Server = createServer({ key: issued.keyPem, cert: issued.certPem }, (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/readyz') {
      if (Date.now() >= readyAt) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      } else {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('[-]etcd failed: reason withheld (stand-in still booting)\nreadyz check failed');
      }
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found (fabricctl test API server stand-in serves only /readyz)');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const serverUrl = `https://api.${options.clusterName}:${port}`;
  logger.info('test API server stand-in listening (not a Kubernetes API server)', { standIn: 'api-server', port, serverUrl });

  return {
    port,
    caPem: ca.certPem,
    serverUrl,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        logger.info('test API server stand-in stopped', { standIn: 'api-server', port });
      }),
  };
}
