import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CreateHostedZoneCommand, ListHostedZonesByNameCommand, Route53Client } from '@aws-sdk/client-route-53';
import { DEFAULT_STACK, findStack } from '../cli/remote';
import { PROJECT_ROOT } from '../fabric-function';
import { Moto, startMoto } from './moto';
import { startPublicDnsStandIn, PublicDnsStandIn } from './standins/public-dns';
import { startTestApiServer, TestApiServer } from './standins/api-server';
import { LOCK_ATTRIBUTE } from '../domain/lock';

/** moto's fixed account id. */
export const EMULATOR_ACCOUNT = '123456789012';

/** Where the kops stand-in's executable lives; local mode puts it first on the builds' PATH. */
export const KOPS_STANDIN_BIN = path.join(PROJECT_ROOT, 'lib', 'local', 'standins', 'kops', 'bin');

/**
 * Where the machines this project is tested on keep the Terraform AWS provider as a filesystem
 * mirror (they have no registry access). A machine tool location, like `terraform` on PATH, not
 * project data: TF_PLUGIN_MIRROR comes first, and with neither Terraform uses its registry.
 */
export const DEFAULT_PROVIDER_MIRROR = '/opt/tf-plugins';

/** The Terraform AWS provider as a filesystem mirror: TF_PLUGIN_MIRROR, else DEFAULT_PROVIDER_MIRROR, if it holds one. */
export function findProviderMirror(): string | undefined {
  const candidates = [process.env.TF_PLUGIN_MIRROR, DEFAULT_PROVIDER_MIRROR].filter((c): c is string => Boolean(c));
  return candidates.find((dir) => existsSync(path.join(dir, 'registry.terraform.io')));
}

/**
 * Everything a local run talks to: the AWS emulator (moto), the demo domain's hosted zone, and the
 * stand-ins for what cannot run here (public DNS, the cluster's API server). Each stand-in says so.
 */
export interface LocalEnvironment {
  /** `emulator`: moto and the stand-ins; `aws`: the caller's real account, with a real kops. */
  readonly kind: 'emulator' | 'aws';
  /** The lock table the DynamoDB tasks use. @default the stack's table (its logical id, emulator) */
  readonly lockTableName?: string;
  /** The account runs happen in (the emulator's is 123456789012). */
  readonly accountId: string;
  readonly endpoint: string;
  readonly region: string;
  readonly moto?: Moto;
  /** The public DNS stand-in (emulator only). */
  readonly publicDns?: PublicDnsStandIn;
  /** One test API server per cluster name, started on first use. */
  apiServerFor(clusterName: string): Promise<TestApiServer>;
  /** Creates the hosted zone a real user creates by hand once; returns its id. */
  ensureHostedZone(domain: string): Promise<{ id: string; created: boolean }>;
  ensureLockTable(name: string): Promise<void>;
  /** Environment for local builds: emulator, stand-ins, provider mirror. */
  buildEnvironment(clusterName: string): Promise<Record<string, string>>;
  readonly workDir: string;
  /**
   * Stops the stand-ins and removes the work directory; stops the emulator too unless
   * `keepEmulator`, which leaves it running on its own for later commands (`--keep-emulator`).
   */
  stop(options?: { readonly keepEmulator?: boolean }): Promise<void>;
}

export interface LocalEnvironmentOptions {
  /** An emulator already running (e.g. kept from an earlier `--keep-emulator` run). */
  readonly endpoint?: string;
  readonly region: string;
  /** How long the stand-in API server answers 503 before `ok`, as a booting control plane does. */
  readonly apiReadyAfterMs?: number;
  readonly log?: (line: string) => void;
}

export async function createLocalEnvironment(options: LocalEnvironmentOptions): Promise<LocalEnvironment> {
  const log = options.log ?? (() => undefined);
  const moto = options.endpoint ? undefined : await startMoto();
  const endpoint = options.endpoint ?? moto?.endpoint ?? '';
  if (moto)
    log(
      `AWS emulator: moto_server on ${endpoint} (pid ${moto.pid}); ` +
        `the state bucket gets no TLS-only policy here, as the emulator speaks plain HTTP`,
    );
  // The SDK (handlers in process) and Terraform (builds) both honour AWS_ENDPOINT_URL.
  // Fake credentials always: even a tool that ignored the endpoint could not reach a real account.
  for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN']) delete process.env[name];
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
    // moto_server speaks plain HTTP: a TLS-only bucket policy would refuse every request.
    STATE_BUCKET_REQUIRE_TLS: 'false',
    // moto applies a bucket policy's Deny statements without their conditions (aws:PrincipalArn),
    // so the secret-read denials would refuse the builds their own state: the emulator's bucket gets
    // none. Their document is checked in test/lambdas/ensure-state-bucket.core.test.ts.
    STATE_BUCKET_RESTRICT_SECRET_READS: 'false',
    // The builds run as the emulator's default user, not as CodeBuild roles.
    STATE_BUILD_PRINCIPAL_ARNS: `arn:aws:iam::${EMULATOR_ACCOUNT}:user/moto`,
  });
  const stopMoto = async () => moto?.stop();
  let publicDns: PublicDnsStandIn;
  try {
    publicDns = await startPublicDnsStandIn({ route53Endpoint: endpoint });
  } catch (error) {
    await stopMoto();
    throw error;
  }
  process.env.DNS_RESOLVERS = publicDns.address;
  log(
    `kops stand-in (kops is not installed): ${KOPS_STANDIN_BIN}/kops accepts only kops 1.36.2's documented flags ` +
      `and writes kops's own golden Terraform output`,
  );
  log('CodeBuild stand-in: builds run the real buildspecs and scripts on this machine, with real Terraform against the emulator');
  log(`public DNS stand-in on ${publicDns.address}: answers NS from the emulator's hosted zones (no internet here)`);

  const workDir = mkdtempSync(path.join(tmpdir(), 'fabricctl-local-'));
  const apiServers = new Map<string, Promise<TestApiServer>>();
  const route53 = new Route53Client({});
  const dynamodb = new DynamoDBClient({});

  const env: LocalEnvironment = {
    kind: 'emulator',
    accountId: EMULATOR_ACCOUNT,
    endpoint,
    region: options.region,
    moto,
    publicDns,
    workDir,
    apiServerFor(clusterName) {
      let server = apiServers.get(clusterName);
      if (!server) {
        server = startTestApiServer({ clusterName, readyAfterMs: options.apiReadyAfterMs ?? 0 });
        apiServers.set(clusterName, server);
        void server.then((s) =>
          log(
            `Kubernetes API stand-in for ${clusterName} on 127.0.0.1:${s.port} ` +
              `(a local TLS server with a test cluster CA; anonymous requests get 401, as kops's API servers answer them)`,
          ),
        );
      }
      return server;
    },
    async ensureHostedZone(domain) {
      const existing = await findPublicZone(route53, domain);
      if (existing) return { id: existing, created: false };
      const created = await route53.send(
        new CreateHostedZoneCommand({ Name: `${domain}.`, CallerReference: `fabricctl-local-${Date.now()}` }),
      );
      log(`created the public hosted zone ${domain} in the emulator: the one thing a real user prepares by hand`);
      return { id: created.HostedZone?.Id ?? '', created: true };
    },
    async ensureLockTable(name) {
      await createLockTable(dynamodb, name);
    },
    async buildEnvironment(clusterName) {
      const api = await env.apiServerFor(clusterName);
      // The cluster CA, as real kops keeps it in its state store: the kops stand-in signs admin
      // client certificates with it (contracts.ts).
      const caFile = path.join(workDir, `${clusterName}-ca.pem`);
      const caKeyFile = path.join(workDir, `${clusterName}-ca-key.pem`);
      writeFileSync(caFile, api.ca.certPem);
      writeFileSync(caKeyFile, api.ca.keyPem, { mode: 0o600 });
      const mirror = findProviderMirror();
      return {
        PATH: `${KOPS_STANDIN_BIN}:${process.env.PATH ?? ''}`,
        AWS_ENDPOINT_URL: endpoint,
        AWS_REGION: options.region,
        AWS_DEFAULT_REGION: options.region,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        KOPS_STANDIN_API_SERVER: api.serverUrl,
        KOPS_STANDIN_API_CA_FILE: caFile,
        KOPS_STANDIN_API_CA_KEY_FILE: caKeyFile,
        // As the deployed project sets it: the cluster job puts it on kops's roles (moto checks its form only).
        PERMISSIONS_BOUNDARY_ARN: `arn:aws:iam::${EMULATOR_ACCOUNT}:policy/fabricctl-local-node-role-boundary`,
        ...(mirror ? { TF_PLUGIN_MIRROR: mirror } : {}),
        TF_IN_AUTOMATION: '1',
        // Your own terraform (prerequisites.ts checks its version), not a download per build.
        TERRAFORM_ACCEPT_INSTALLED: 'true',
      };
    },
    async stop(stopOptions) {
      // Every listening stand-in keeps this process alive: all of them stop, kept emulator or not.
      for (const server of apiServers.values()) await (await server).stop();
      await publicDns.stop();
      if (stopOptions?.keepEmulator) moto?.release();
      else await stopMoto();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
  return env;
}

/** The id of the public hosted zone named exactly `domain`, if there is one. */
async function findPublicZone(route53: Route53Client, domain: string): Promise<string | undefined> {
  const fqdn = `${domain}.`;
  const existing = await route53.send(new ListHostedZonesByNameCommand({ DNSName: fqdn, MaxItems: 1 }));
  return existing.HostedZones?.find((z) => z.Name === fqdn && !z.Config?.PrivateZone)?.Id;
}

/** The lock table's shape (the stack's LockTable), created if missing; true when this call made it. */
async function createLockTable(dynamodb: DynamoDBClient, name: string): Promise<boolean> {
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: [{ AttributeName: LOCK_ATTRIBUTE.fabric, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: LOCK_ATTRIBUTE.fabric, AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (error) {
    if (error instanceof ResourceInUseException) return false;
    throw error;
  }
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: 120 }, { TableName: name });
  return true;
}

/** `--local --aws` was asked for, but no real kops is on PATH. */
export class RealKopsRequired extends Error {
  constructor(found: string) {
    super(`--aws runs the jobs on this machine against your AWS account and needs the real kops 1.36 on PATH; found ${found}`);
    this.name = 'RealKopsRequired';
  }
}

/** The kops on PATH, unless it is missing or is our stand-in. */
export function realKopsVersion(env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync('kops', ['version'], { encoding: 'utf8', env });
  if (result.error || result.status !== 0) throw new RealKopsRequired('no kops');
  const text = `${result.stdout}${result.stderr}`;
  if (/stand-in/i.test(text)) throw new RealKopsRequired(`the kops stand-in (${text.trim().split('\n')[0]})`);
  return text.trim().split('\n')[0] ?? '';
}

/**
 * What `aws:PrincipalArn` is for the caller: a role session's ARN names the role without its path,
 * so both the role at the top level and under any path are given; users and root are as they are.
 */
export function principalArnsOf(callerArn: string): string[] {
  const session = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(callerArn);
  if (!session) return [callerArn];
  const [, partition, account, role] = session;
  return [`arn:${partition}:iam::${account}:role/${role}`, `arn:${partition}:iam::${account}:role/*/${role}`];
}

/** Name of the lock table local runs against a real account create where no stack is deployed. */
export const LOCAL_LOCK_TABLE = 'fabricctl-local-locks';

/**
 * Where a local `--aws` run takes the fabric's lock: the deployed stack's table, so that a cloud run
 * and a local run of the same fabric exclude each other. Only where no stack is deployed in the
 * region (then no cloud run exists to exclude) does it use a table of its own.
 */
export async function lockTableForAwsRun(
  cfn: Pick<CloudFormationClient, 'send'>,
  stackName: string,
): Promise<{ readonly table: string; readonly why: string }> {
  try {
    const { lockTableName } = await findStack(cfn, stackName);
    if (lockTableName) return { table: lockTableName, why: `the locks of stack ${stackName}, shared with its cloud runs` };
    return { table: LOCAL_LOCK_TABLE, why: `stack ${stackName} has no LockTableName output (redeploy it to share its locks)` };
  } catch (error) {
    if ((error as Error).name !== 'StackNotFound') throw error;
    return { table: LOCAL_LOCK_TABLE, why: `no stack ${stackName} in this region, so no cloud run to share locks with` };
  }
}

/**
 * The same local interpreter and jobs, against the caller's real AWS account: no emulator, no
 * stand-ins. The real kops runs the cluster job; the real public DNS and the real API answer.
 */
export async function createAwsEnvironment(options: {
  readonly region: string;
  readonly stackName?: string;
  readonly log?: (line: string) => void;
}): Promise<LocalEnvironment> {
  const log = options.log ?? (() => undefined);
  const kops = realKopsVersion();
  for (const name of ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_CODECOMMIT', 'DNS_RESOLVERS']) delete process.env[name];
  Object.assign(process.env, {
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    STATE_BUCKET_REQUIRE_TLS: 'true',
    STATE_BUCKET_RESTRICT_SECRET_READS: 'true',
  });
  const identity = await new STSClient({}).send(new GetCallerIdentityCommand({}));
  // The builds run as the caller here: the state bucket's secret-read exceptions must name them.
  process.env.STATE_BUILD_PRINCIPAL_ARNS = principalArnsOf(identity.Arn ?? '').join(',');
  log(`real AWS: account ${identity.Account ?? '?'} as ${identity.Arn ?? '?'}, region ${options.region}; real kops: ${kops}`);
  const locks = await lockTableForAwsRun(new CloudFormationClient({}), options.stackName ?? DEFAULT_STACK);
  log(`fabric locks: DynamoDB table ${locks.table} (${locks.why})`);
  const workDir = mkdtempSync(path.join(tmpdir(), 'fabricctl-aws-'));
  const route53 = new Route53Client({});
  const dynamodb = new DynamoDBClient({});
  return {
    kind: 'aws',
    accountId: identity.Account ?? '',
    lockTableName: locks.table,
    endpoint: '',
    region: options.region,
    workDir,
    apiServerFor() {
      return Promise.reject(new Error("against real AWS the cluster's own API server answers; there is no stand-in"));
    },
    async ensureHostedZone(domain) {
      // Never created here: in a real account the hosted zone is the user's to make.
      const existing = await findPublicZone(route53, domain);
      if (!existing) throw new Error(`no public hosted zone ${domain} in this account: create it first (README, Deploy)`);
      return { id: existing, created: false };
    },
    async ensureLockTable(name) {
      if (await createLockTable(dynamodb, name)) log(`created DynamoDB table ${name} for the locks of local runs`);
    },
    async buildEnvironment() {
      const mirror = findProviderMirror();
      return {
        AWS_REGION: options.region,
        AWS_DEFAULT_REGION: options.region,
        TF_IN_AUTOMATION: '1',
        TERRAFORM_ACCEPT_INSTALLED: 'true',
        ...(mirror ? { TF_PLUGIN_MIRROR: mirror } : {}),
      };
    },
    async stop() {
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
