import { execFile } from 'node:child_process';
import { request } from 'node:https';

/**
 * What kubectl does with a kubeconfig `fabricctl kubeconfig` wrote, for the tests that have no
 * kubectl: run the user's exec plugin as kubectl runs it, and send a request the way kubectl would
 * (the cluster's server, TLS name and CA from the file; the client certificate, when given).
 */

export interface KubeconfigDoc {
  readonly 'current-context': string;
  readonly clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string; 'tls-server-name'?: string } }[];
  readonly users: { name: string; user: { exec?: { command: string; args: string[]; apiVersion: string } } }[];
  readonly contexts: { name: string }[];
}

/** GET `path` (default /readyz) from the cluster `clusterName` of the kubeconfig, with `credential` when given. */
export function kubeGet(
  doc: KubeconfigDoc,
  clusterName: string,
  credential?: { certPem: string; keyPem: string },
  path = '/readyz',
): Promise<{ status: number; body: string }> {
  const cluster = doc.clusters.find((c) => c.name === clusterName)?.cluster;
  if (!cluster) throw new Error(`no cluster entry ${clusterName} in the kubeconfig`);
  const url = new URL(cluster.server);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: Number(url.port),
        path,
        ca: Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8'),
        servername: cluster['tls-server-name'] ?? url.hostname,
        ...(credential ? { cert: credential.certPem, key: credential.keyPem } : {}),
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Runs the exec plugin of the user `clusterName` as kubectl does: its command and args, KUBERNETES_EXEC_INFO set. */
export function runExecPlugin(doc: KubeconfigDoc, clusterName: string): Promise<{ stdout: string; stderr: string }> {
  const exec = doc.users.find((u) => u.name === clusterName)?.user.exec;
  if (!exec) throw new Error(`no exec plugin for user ${clusterName} in the kubeconfig`);
  const execInfo = JSON.stringify({ kind: 'ExecCredential', apiVersion: exec.apiVersion, spec: { interactive: false } });
  return new Promise((resolve, reject) => {
    execFile(
      exec.command,
      exec.args,
      { env: { ...process.env, KUBERNETES_EXEC_INFO: execInfo }, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve({ stdout, stderr });
      },
    );
  });
}
