import { request } from 'node:https';
import { parse as parseYaml } from 'yaml';

/**
 * A Kubernetes API client as small as readiness needs: read the kubeconfig the cluster job stored
 * (server, cluster CA, the user's client certificate or token) and GET `/readyz` over TLS verified
 * against that CA only, presenting those credentials. kops's clusters refuse anonymous requests
 * (`kubeAPIServer.anonymousAuth: false` in its completed cluster spec), so a probe without
 * credentials gets HTTP 401 from a real API server.
 */

/** How the kubeconfig's user proves who it is. */
export type KubeCredentials =
  | { readonly kind: 'client-certificate'; readonly certPem: string; readonly keyPem: string }
  | { readonly kind: 'token'; readonly token: string };

export interface KubeconfigEndpoint {
  readonly serverUrl: string;
  readonly port: number;
  readonly caPem: string;
  /** The current context's user, when it carries inline credentials. */
  readonly credentials?: KubeCredentials;
  /** Why there are no usable credentials (no user, an exec plugin, files instead of data). */
  readonly credentialsProblem?: string;
}

export interface ProbeResult {
  readonly ready: boolean;
  readonly detail: string;
}

interface KubeconfigDocument {
  'current-context'?: string;
  contexts?: { name?: string; context?: { cluster?: string; user?: string } }[];
  clusters?: { name?: string; cluster?: { server?: string; 'certificate-authority-data'?: string } }[];
  users?: { name?: string; user?: Record<string, unknown> }[];
}

const decode = (data: string): string => Buffer.from(data, 'base64').toString('utf8');

function credentialsOf(
  doc: KubeconfigDocument,
  userName: string | undefined,
): Pick<KubeconfigEndpoint, 'credentials' | 'credentialsProblem'> {
  if (userName === undefined) return { credentialsProblem: 'the current context names no user (kops export kubeconfig --admin adds one)' };
  const user = doc.users?.find((u) => u.name === userName)?.user;
  if (user === undefined) return { credentialsProblem: `the kubeconfig has no user "${userName}"` };
  const cert = user['client-certificate-data'];
  const key = user['client-key-data'];
  if (typeof cert === 'string' && typeof key === 'string') {
    return { credentials: { kind: 'client-certificate', certPem: decode(cert), keyPem: decode(key) } };
  }
  if (typeof user.token === 'string' && user.token !== '') return { credentials: { kind: 'token', token: user.token } };
  const offered = Object.keys(user).join(', ') || 'nothing';
  return {
    credentialsProblem: `user "${userName}" carries ${offered}; readiness needs client-certificate-data with client-key-data, or a token`,
  };
}

/** Pure: server URL, CA and credentials of the named context, else the current one (or the only cluster). */
export function parseKubeconfig(text: string, contextName?: string): KubeconfigEndpoint {
  const doc = parseYaml(text) as KubeconfigDocument | null;
  const clusters = doc?.clusters ?? [];
  const wanted = contextName ?? doc?.['current-context'];
  const context = doc?.contexts?.find((c) => c.name === wanted)?.context;
  const entry = clusters.find((c) => c.name === context?.cluster) ?? clusters[0];
  const server = entry?.cluster?.server;
  const caData = entry?.cluster?.['certificate-authority-data'];
  if (!server) throw new Error('kubeconfig has no cluster server URL');
  if (!caData) throw new Error('kubeconfig has no certificate-authority-data');
  const url = new URL(server);
  if (url.protocol !== 'https:') throw new Error(`kubeconfig server ${server} is not https`);
  return {
    serverUrl: server,
    port: url.port === '' ? 443 : Number(url.port),
    caPem: decode(caData),
    ...credentialsOf(doc ?? {}, context?.user),
  };
}

export interface ProbeTarget {
  /** Where to connect: the A record's address (or alias host name). */
  readonly address: string;
  readonly port: number;
  /** SNI and the name the certificate must carry: `api.<cluster>`. */
  readonly hostname: string;
  readonly caPem: string;
  /** Presented to the API server; without them a kops cluster answers 401. */
  readonly credentials?: KubeCredentials;
  readonly timeoutMs?: number;
}

/** An error as one line: its name (unless plain `Error`) and message. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
}

/** Why a 401 happened, in words a user can act on. */
function unauthorizedHint(credentials: KubeCredentials | undefined): string {
  return credentials === undefined
    ? ' (no credentials were presented, and kops clusters refuse anonymous requests)'
    : ` (the API server refused the kubeconfig's ${credentials.kind}: expired, or not issued by the cluster CA)`;
}

/** GET /readyz over TLS verified against the cluster CA only (not the system roots), as the kubeconfig's user. */
export function probeReadyz(target: ProbeTarget): Promise<ProbeResult> {
  const timeoutMs = target.timeoutMs ?? 5000;
  const credentials = target.credentials;
  return new Promise((resolve) => {
    const req = request(
      {
        host: target.address,
        port: target.port,
        path: '/readyz',
        method: 'GET',
        ca: target.caPem,
        servername: target.hostname,
        headers: {
          host: `${target.hostname}:${target.port}`,
          ...(credentials?.kind === 'token' ? { authorization: `Bearer ${credentials.token}` } : {}),
        },
        ...(credentials?.kind === 'client-certificate' ? { cert: credentials.certPem, key: credentials.keyPem } : {}),
        agent: false,
        rejectUnauthorized: true,
        timeout: timeoutMs,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < 4096) body += chunk;
        });
        res.on('end', () => {
          const text = body.trim();
          if (res.statusCode === 200 && text === 'ok') {
            resolve({ ready: true, detail: `https://${target.hostname}:${target.port}/readyz answered ok` });
            return;
          }
          const hint = res.statusCode === 401 ? unauthorizedHint(credentials) : '';
          resolve({ ready: false, detail: `/readyz answered HTTP ${res.statusCode ?? '?'}${hint}: ${text.slice(0, 120) || '(empty)'}` });
        });
        res.on('error', (error) => resolve({ ready: false, detail: `/readyz response failed: ${messageOf(error)}` }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) =>
      resolve({ ready: false, detail: `/readyz at ${target.address}:${target.port} (as ${target.hostname}) failed: ${messageOf(error)}` }),
    );
    req.end();
  });
}
