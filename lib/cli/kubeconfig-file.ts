import { existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { isMap, isSeq, parseDocument } from 'yaml';
import { CliError, EXIT } from './io';
import { writeFileWhole } from '../write-file-whole';

/**
 * The kubeconfig a fabric gets: one cluster, one user and one context, all named after the cluster
 * as kops names them (so `kops` commands find the context too), merged into a kubeconfig file
 * without touching its other entries, its comments or its other settings.
 */

/** The user's credentials come from running a command, each time kubectl needs them (client-go's exec plugin). */
export interface ExecPlugin {
  readonly command: string;
  readonly args: readonly string[];
  /** Shown by kubectl when `command` cannot be found. */
  readonly installHint: string;
}

export interface KubeconfigEntry {
  /** Cluster, user and context name: the cluster's name, as kops names them. */
  readonly name: string;
  readonly server: string;
  /** The cluster CA bundle, PEM. */
  readonly caPem: string;
  /** The name the server's certificate must carry when `server` names another host (an address, a tunnel). */
  readonly tlsServerName?: string;
  readonly exec: ExecPlugin;
}

export class KubeconfigUnreadable extends CliError {
  constructor(path: string, why: string) {
    super(
      EXIT.FAILED,
      'KubeconfigUnreadable',
      `${path} is not a kubeconfig fabricctl can merge into (${why}); it was left as it is. Fix it, or write elsewhere with --out FILE`,
    );
  }
}

/** Where kubectl reads and writes: the first path of $KUBECONFIG, else ~/.kube/config. */
export function kubeconfigTarget(env: NodeJS.ProcessEnv, home: string): string {
  const first = (env.KUBECONFIG ?? '').split(delimiter).find((p) => p !== '');
  return first ?? join(home, '.kube', 'config');
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

function entryNodes(entry: KubeconfigEntry): { clusters: object; users: object; contexts: object } {
  return {
    clusters: {
      name: entry.name,
      cluster: {
        server: entry.server,
        'certificate-authority-data': b64(entry.caPem),
        ...(entry.tlsServerName === undefined ? {} : { 'tls-server-name': entry.tlsServerName }),
      },
    },
    users: {
      name: entry.name,
      user: {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: entry.exec.command,
          args: [...entry.exec.args],
          // The plugin reads nothing from the terminal: kubectl may run it anywhere, even without one.
          interactiveMode: 'Never',
          provideClusterInfo: false,
          installHint: entry.exec.installHint,
        },
      },
    },
    contexts: { name: entry.name, context: { cluster: entry.name, user: entry.name } },
  };
}

/**
 * Pure: `existing` (a kubeconfig's text, or undefined for none) with the fabric's cluster, user and
 * context added or replaced by name, and made the current context. Everything else is kept.
 */
export function mergeKubeconfig(existing: string | undefined, entry: KubeconfigEntry, path = 'the kubeconfig'): string {
  const doc = parseDocument(existing ?? '');
  if (doc.errors.length > 0) throw new KubeconfigUnreadable(path, `not YAML: ${doc.errors[0]?.message.split('\n')[0] ?? ''}`);
  if (doc.contents === null) {
    doc.contents = doc.createNode({ apiVersion: 'v1', kind: 'Config', preferences: {} }) as never;
  } else if (!isMap(doc.contents)) {
    throw new KubeconfigUnreadable(path, 'its top level is not a mapping');
  }
  const nodes = entryNodes(entry);
  for (const list of ['clusters', 'users', 'contexts'] as const) {
    // kubectl writes an empty list as `users: null`.
    if (doc.get(list) === undefined || doc.get(list) === null) doc.set(list, doc.createNode([]));
    const seq = doc.get(list, true);
    if (!isSeq(seq)) throw new KubeconfigUnreadable(path, `${list} is not a list`);
    const node = doc.createNode(nodes[list]);
    const at = seq.items.findIndex((item) => isMap(item) && item.get('name') === entry.name);
    if (at >= 0) seq.items[at] = node;
    else seq.items.push(node);
  }
  doc.set('current-context', entry.name);
  // kubectl's own layout: list items not indented under their key.
  return doc.toString({ indentSeq: false });
}

/** Reads the file at `path` when there is one (following a symbolic link to the real file). */
export function readKubeconfig(path: string): { realPath: string; text?: string } {
  if (!existsSync(path)) return { realPath: path };
  const realPath = realpathSync(path);
  return { realPath, text: readFileSync(realPath, 'utf8') };
}

/**
 * Writes `text` to `path` with mode 0600 (it names how to get cluster-admin credentials), through
 * a temporary file in the same directory and a rename: kubectl never reads half a file.
 */
export function writeKubeconfig(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileWhole(path, text, { mode: 0o600 });
}
