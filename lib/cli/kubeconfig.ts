import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { FabricRecord } from '../domain/contract';
import { DEFAULT_BUCKET_PREFIX, stateBucketName } from '../domain/naming';
import { DEFAULT_REGION } from '../domain/spec';
import { AwsClients, resolveRegion } from './aws';
import { execCredential, ADMIN_GROUP, mintClientCertificate, parseTtl, requestedExecApiVersion } from './client-credential';
import { readClusterCa } from './cluster-ca';
import type { CliDeps, GlobalOptions } from './commands';
import { CliError, EXIT, ExitCode, printJson, wantsJson } from './io';
import { kubeconfigTarget, mergeKubeconfig, readKubeconfig, writeKubeconfig } from './kubeconfig-file';
import { findLocalAccount } from './local-account';
import { getRecord } from './records';
import { DEFAULT_STACK, findStack } from './remote';

/**
 * `fabricctl kubeconfig <name>`: writes a kubeconfig whose user runs `fabricctl kubeconfig <name>
 * --credential` whenever kubectl needs credentials. That hidden mode reads the cluster CA from the
 * fabric's kops state store, mints a client certificate for the caller's AWS identity (group
 * system:masters) valid for --ttl, and prints it as a client-go ExecCredential. Nothing long-lived
 * is written: what the file holds is how to get a credential, which only state admins can use.
 */
export interface KubeconfigOptions extends GlobalOptions {
  readonly out?: string;
  readonly ttl?: string;
  readonly server?: string;
  readonly bucketPrefix?: string;
  readonly local?: boolean;
  readonly endpoint?: string;
  /** The exec plugin's mode: print an ExecCredential instead of writing a kubeconfig. */
  readonly credential?: boolean;
}

export class FabricNotReady extends CliError {
  constructor(record: FabricRecord) {
    const name = record.name;
    const why: Record<FabricRecord['status'], string> = {
      READY: '',
      FAILED:
        `its last run failed${record.lastError ? ` (${record.lastError.error}: ${record.lastError.cause})` : ''}: ` +
        `fabricctl logs ${name} shows that run; fix it and run fabricctl up again`,
      DESTROYED: `it was destroyed (${record.updatedAt}): there is no cluster to connect to; fabricctl up makes it again`,
      PLANNED: 'it was only planned, never provisioned: fabricctl up provisions it',
      PROVISIONING: `its first provision is still running: wait for it (fabricctl logs ${name}), then try again`,
      AWAITING_APPROVAL: `its first provision waits for approval (fabricctl approve ${name}); the cluster exists once it has run`,
      DESTROYING: `it is being destroyed (${record.lastExecution})`,
    };
    super(EXIT.FAILED, 'FabricNotReady', `fabric ${name} is ${record.status}, not READY: ${why[record.status]}`);
  }
}

export class EmulatorEndpointRequired extends CliError {
  constructor() {
    super(
      EXIT.USAGE,
      'EmulatorEndpointRequired',
      '--local reads the fabric from a running emulator, and a local run stops its own at the end: ' +
        'start a local account (fabricctl local start) and provision in it, ' +
        'or run fabricctl up --local fabric.json --keep-emulator and pass the endpoint it prints with --endpoint',
    );
  }
}

interface Located {
  readonly region: string;
  readonly prefix: string;
  readonly caller: string;
  readonly bucket: string;
  readonly record: FabricRecord;
  readonly s3: Pick<S3Client, 'send'>;
  /** The local account's Kubernetes API stand-in of this cluster, when the fabric is read from one. */
  readonly localApiServer?: string;
}

/** The emulator's clients for --local: its endpoint and its fake credentials, as local runs use them. */
function emulatorClients(region: string, endpoint: string): { s3: Pick<S3Client, 'send'>; sts: Pick<STSClient, 'send'> } {
  const options = { region, endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 2 };
  return { s3: new S3Client({ ...options, forcePathStyle: true }), sts: new STSClient(options) };
}

/**
 * Finds the fabric's record the way `status` does (state bucket of the caller's account and the
 * region), and who the caller is. The credential mode never asks CloudFormation: the kubeconfig
 * passes it the bucket prefix found when it was written.
 */
async function locate(deps: CliDeps, rawName: string, options: KubeconfigOptions): Promise<Located> {
  // --local without --endpoint: the running local account (fabricctl local start), found anew at every call.
  const account = options.local && !options.endpoint ? findLocalAccount(deps) : undefined;
  const endpoint = options.endpoint ?? account?.moto?.endpoint;
  if (options.local && !endpoint) throw new EmulatorEndpointRequired();
  const region =
    options.region ?? account?.region ?? resolveRegion(undefined, deps.io.env) ?? (await deps.configRegion?.()) ?? DEFAULT_REGION;
  const aws: Pick<AwsClients, 's3' | 'sts'> & { cfn?: AwsClients['cfn'] } =
    options.local && endpoint ? emulatorClients(region, endpoint) : deps.clients(region);
  const identity = await aws.sts.send(new GetCallerIdentityCommand({}));
  if (!identity.Account || !identity.Arn) throw new Error('STS GetCallerIdentity returned no account or ARN');
  let prefix = options.bucketPrefix;
  if (prefix === undefined && !options.credential && aws.cfn) {
    try {
      prefix = (await findStack(aws.cfn, options.stack ?? DEFAULT_STACK)).stateBucketPrefix;
    } catch (error) {
      // As status: a fabric's record is found without the stack, under the default prefix.
      if (!(error instanceof CliError)) throw error;
    }
  }
  prefix ??= DEFAULT_BUCKET_PREFIX;
  const bucket = stateBucketName(identity.Account, region, prefix);
  const record = await getRecord(aws.s3, bucket, rawName);
  // A run on a READY fabric (an update, a plan waiting for approval) leaves its cluster reachable.
  const reachable =
    record.status === 'READY' ||
    ((record.status === 'PROVISIONING' || record.status === 'AWAITING_APPROVAL') && record.statusBeforeRun === 'READY');
  if (!reachable) throw new FabricNotReady(record);
  return {
    region,
    prefix,
    caller: identity.Arn,
    bucket,
    record,
    s3: aws.s3,
    localApiServer: account?.apiServers?.[record.clusterName]?.url,
  };
}

/**
 * `fabricctl` when it is on PATH; else this installation's own bin, by absolute path (kubectl needs a
 * command it can run). A `node_modules/.bin` on PATH does not count: npx and npm scripts put it there
 * for the command they run only, and kubectl runs later, without it.
 */
export function pluginCommand(env: NodeJS.ProcessEnv): string {
  const transient = (dir: string) => basename(dir) === '.bin' && basename(dirname(dir)) === 'node_modules';
  for (const dir of (env.PATH ?? '').split(delimiter).filter((d) => d !== '' && !transient(d))) {
    try {
      accessSync(join(dir, 'fabricctl'), constants.X_OK);
      return 'fabricctl';
    } catch {
      // not in this directory
    }
  }
  return resolve(__dirname, '..', '..', 'bin', 'fabricctl.js');
}

/** The exec plugin's arguments: everything that found the fabric, so kubectl's runs find the same one. */
export function pluginArgs(
  name: string,
  located: Pick<Located, 'region' | 'prefix'>,
  options: KubeconfigOptions,
  profile: string | undefined,
): string[] {
  return [
    'kubeconfig',
    name,
    '--credential',
    '--region',
    located.region,
    '--bucket-prefix',
    located.prefix,
    '--ttl',
    options.ttl ?? '1h',
    ...(profile ? ['--profile', profile] : []),
    // --local alone: each call finds the running local account again (its ports change at each start).
    ...(options.local ? ['--local', ...(options.endpoint ? ['--endpoint', options.endpoint] : [])] : []),
  ];
}

/** The API's URL: kops's `https://api.<cluster>` unless --server names another (then TLS still checks the API's name). */
export function serverOf(record: FabricRecord, override: string | undefined): { server: string; tlsServerName?: string } {
  const apiName = record.outputs.apiName ?? `api.${record.clusterName}`;
  if (override === undefined) return { server: `https://${apiName}` };
  let url: URL;
  try {
    url = new URL(override);
  } catch {
    throw new CliError(EXIT.USAGE, 'ServerInvalid', `--server ${JSON.stringify(override)} is not a URL: give https://HOST[:PORT]`);
  }
  if (url.protocol !== 'https:')
    throw new CliError(EXIT.USAGE, 'ServerInvalid', `--server ${override}: the Kubernetes API is served over https only`);
  return { server: override.replace(/\/$/, ''), ...(url.hostname === apiName ? {} : { tlsServerName: apiName }) };
}

async function printCredential(deps: CliDeps, located: Located, ttlMs: number): Promise<ExitCode> {
  const apiVersion = requestedExecApiVersion(deps.io.env.KUBERNETES_EXEC_INFO);
  const ca = await readClusterCa(located.s3, located.bucket, located.record.name, located.record.clusterName, located.caller);
  const minted = mintClientCertificate(ca, { commonName: located.caller, groups: [ADMIN_GROUP] }, ttlMs, deps.io.now());
  // stdout carries the ExecCredential only, as JSON whatever -o says: kubectl parses all of it.
  deps.io.out(`${JSON.stringify(execCredential(minted, apiVersion), null, 2)}\n`);
  return EXIT.OK;
}

export async function kubeconfigCommand(deps: CliDeps, rawName: string, options: KubeconfigOptions): Promise<ExitCode> {
  const ttlMs = parseTtl(options.ttl);
  const located = await locate(deps, rawName, options);
  if (options.credential) return printCredential(deps, located, ttlMs);

  const { record } = located;
  // Read now, not first at kubectl's first call: a caller who may not read the CA hears it here.
  const ca = await readClusterCa(located.s3, located.bucket, record.name, record.clusterName, located.caller);
  const { server, tlsServerName } = serverOf(record, options.server ?? located.localApiServer);
  const command = pluginCommand(deps.io.env);
  const args = pluginArgs(record.name, located, options, deps.io.env.AWS_PROFILE);
  const target =
    options.out === undefined ? kubeconfigTarget(deps.io.env, deps.io.env.HOME ?? homedir()) : resolve(deps.io.cwd, options.out);
  const { realPath, text } = readKubeconfig(target);
  const merged = mergeKubeconfig(
    text,
    {
      name: record.clusterName,
      server,
      caPem: ca.trustedPem,
      tlsServerName,
      exec: {
        command,
        args,
        installHint:
          `fabricctl makes this cluster's credentials: install fabricctl (npm ci in its repository), ` +
          `then run fabricctl kubeconfig ${record.name} again from there`,
      },
    },
    target,
  );
  writeKubeconfig(realPath, merged);
  const summary = {
    path: target,
    context: record.clusterName,
    server,
    ...(tlsServerName ? { tlsServerName } : {}),
    user: located.caller,
    groups: [ADMIN_GROUP],
    ttl: options.ttl ?? '1h',
    command,
    args,
  };
  if (wantsJson(options)) {
    printJson(deps.io, summary);
  } else {
    deps.io.out(
      `wrote context ${record.clusterName} to ${target} (now the current context)\n` +
        `server: ${server}${tlsServerName ? ` (certificate checked for ${tlsServerName})` : ''}\n` +
        `credentials: kubectl runs ${command} ${args.slice(0, 3).join(' ')} ... for a client certificate of the cluster CA, ` +
        `valid ${options.ttl ?? '1h'}, as ${located.caller} in ${ADMIN_GROUP}; nothing long-lived is stored\n` +
        `next: kubectl get nodes\n`,
    );
  }
  return EXIT.OK;
}
