/**
 * STAND-IN for a Kubernetes API server, for local mode and tests only.
 *
 * Serves `GET /readyz` over TLS on 127.0.0.1 with a certificate for `api.<clusterName>` signed by a
 * cluster CA made afresh at every start, and authenticates as kops's API servers do
 * (`API_SERVER_AUTH`, read from kops's completed cluster spec in contracts.ts): with anonymous auth
 * off, a request without credentials gets 401; a client certificate counts only when the cluster CA
 * issued it (checked per request, as kube-apiserver's x509 authenticator does, so a foreign one is
 * a 401 too); a bearer token only when this server issued it.
 *
 * The CA's key is handed out (`ca.keyPem`) so that the kops stand-in can issue admin client
 * certificates, as real kops does from the CA in its state store.
 */
import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createLogger, Logger } from '../../../lambdas/shared/logger';
import { API_SERVER_AUTH } from './contracts';
import { createTestCa, issueServerCertificate, Issued } from './test-pki';

export interface TestApiServerOptions {
  readonly clusterName: string;
  /** `/readyz` answers 503 until this many ms after start, as a booting API server does. */
  readonly readyAfterMs?: number;
  readonly logger?: Logger;
}

export interface TestApiServer {
  readonly port: number;
  /** The cluster CA (certificate and key, PEM): the kubeconfig's certificate-authority-data carries its certificate. */
  readonly ca: Issued;
  /** The CA certificate, PEM (the same as `ca.certPem`). */
  readonly caPem: string;
  /** `https://api.<clusterName>:<port>`, the kubeconfig's server URL. */
  readonly serverUrl: string;
  /** A bearer token this server accepts, as a service account token would be. */
  issueToken(): string;
  stop(): Promise<void>;
}

/** kube-apiserver's answer to an unauthenticated request. */
const UNAUTHORIZED = JSON.stringify({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'Unauthorized',
  reason: 'Unauthorized',
  code: 401,
});

/** Who the request is, or undefined when it carries no credentials this server accepts. */
function authenticate(req: IncomingMessage, tokens: ReadonlySet<string>): string | undefined {
  const socket = req.socket as TLSSocket;
  const peer = socket.getPeerCertificate();
  // `authorized` is Node's verification of the presented chain against the cluster CA.
  if (peer.subject !== undefined && socket.authorized) return `x509:${peer.subject.CN ?? '?'}`;
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (bearer !== undefined && tokens.has(bearer)) return 'token';
  return API_SERVER_AUTH.anonymousAuth ? 'system:anonymous' : undefined;
}

export async function startTestApiServer(options: TestApiServerOptions): Promise<TestApiServer> {
  const logger = options.logger ?? createLogger({ fabric: options.clusterName });
  const ca = createTestCa(`fabricctl test CA (stand-in) for ${options.clusterName}`);
  const issued = issueServerCertificate(ca, `api.${options.clusterName}`);
  const readyAt = Date.now() + (options.readyAfterMs ?? 0);
  const tokens = new Set<string>();

  const server: Server = createServer(
    // Ask for a client certificate but let the request through without one: the authenticator decides.
    { key: issued.keyPem, cert: issued.certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      if (authenticate(req, tokens) === undefined) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(UNAUTHORIZED);
        return;
      }
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'GET' && path === '/readyz') {
        if (Date.now() >= readyAt) {
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        } else {
          res
            .writeHead(503, { 'content-type': 'text/plain' })
            .end('[-]etcd failed: reason withheld (stand-in still booting)\nreadyz check failed');
        }
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found (fabricctl test API server stand-in serves only /readyz)');
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const serverUrl = `https://api.${options.clusterName}:${port}`;
  logger.info('test API server stand-in listening (not a Kubernetes API server)', {
    standIn: 'api-server',
    port,
    serverUrl,
    anonymousAuth: API_SERVER_AUTH.anonymousAuth,
  });

  return {
    port,
    ca,
    caPem: ca.certPem,
    serverUrl,
    issueToken() {
      const token = `standin-${randomBytes(24).toString('hex')}`;
      tokens.add(token);
      return token;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        logger.info('test API server stand-in stopped', { standIn: 'api-server', port });
      }),
  };
}
