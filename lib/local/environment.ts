import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateHostedZoneCommand, ListHostedZonesByNameCommand, Route53Client } from '@aws-sdk/client-route-53';
import { PROJECT_ROOT } from '../fabric-function';
import { Moto, startMoto } from './moto';
import { startPublicDnsStandIn, PublicDnsStandIn } from './standins/public-dns';
import { startTestApiServer, TestApiServer } from './standins/api-server';

/** Where the kops stand-in's executable lives; local mode puts it first on the builds' PATH. */
export const KOPS_STANDIN_BIN = path.join(PROJECT_ROOT, 'lib', 'local', 'standins', 'kops', 'bin');

/** The Terraform AWS provider as a filesystem mirror (these machines have no registry access). */
export function findProviderMirror(): string | undefined {
  const candidates = [process.env.TF_PLUGIN_MIRROR, '/opt/tf-plugins'].filter((c): c is string => Boolean(c));
  return candidates.find((dir) => existsSync(path.join(dir, 'registry.terraform.io')));
}

/**
 * Everything a local run talks to: the AWS emulator (moto), the demo domain's hosted zone, and the
 * stand-ins for what cannot run here (public DNS, the cluster's API server). Each stand-in says so.
 */
export interface LocalEnvironment {
  readonly endpoint: string;
  readonly region: string;
  readonly moto?: Moto;
  readonly publicDns: PublicDnsStandIn;
  /** One test API server per cluster name, started on first use. */
  apiServerFor(clusterName: string): Promise<TestApiServer>;
  /** Creates the hosted zone a real user creates by hand once; returns its id. */
  ensureHostedZone(domain: string): Promise<{ id: string; created: boolean }>;
  ensureLockTable(name: string): Promise<void>;
  /** Environment for local builds: emulator, stand-ins, provider mirror. */
  buildEnvironment(clusterName: string): Promise<Record<string, string>>;
  readonly workDir: string;
  stop(): Promise<void>;
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
  if (moto) log(`AWS emulator: moto_server on ${endpoint} (pid ${moto.pid}); the state bucket gets no TLS-only policy here, as the emulator speaks plain HTTP`);
  // The SDK (handlers in process) and Terraform (builds) both honour AWS_ENDPOINT_URL.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
    // moto_server speaks plain HTTP: a TLS-only bucket policy would refuse every request.
    STATE_BUCKET_REQUIRE_TLS: 'false',
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
  log(`kops stand-in (kops is not installed): ${KOPS_STANDIN_BIN}/kops accepts only kops 1.36.2's documented flags and writes kops's own golden Terraform output`);
  log('CodeBuild stand-in: builds run the real buildspecs and scripts on this machine, with real Terraform against the emulator');
  log(`public DNS stand-in on ${publicDns.address}: answers NS from the emulator's hosted zones (no internet here)`);

  const workDir = mkdtempSync(path.join(tmpdir(), 'fabricctl-local-'));
  const apiServers = new Map<string, Promise<TestApiServer>>();
  const route53 = new Route53Client({});
  const dynamodb = new DynamoDBClient({});

  const env: LocalEnvironment = {
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
        void server.then((s) => log(`Kubernetes API stand-in for ${clusterName} on 127.0.0.1:${s.port} (a local TLS server with a test CA)`));
      }
      return server;
    },
    async ensureHostedZone(domain) {
      const fqdn = `${domain}.`;
      const existing = await route53.send(new ListHostedZonesByNameCommand({ DNSName: fqdn, MaxItems: 1 }));
      const zone = existing.HostedZones?.find((z) => z.Name === fqdn && !z.Config?.PrivateZone);
      if (zone?.Id) return { id: zone.Id, created: false };
      const created = await route53.send(new CreateHostedZoneCommand({ Name: fqdn, CallerReference: `fabricctl-local-${Date.now()}` }));
      log(`created the public hosted zone ${domain} in the emulator: the one thing a real user prepares by hand`);
      return { id: created.HostedZone?.Id ?? '', created: true };
    },
    async ensureLockTable(name) {
      try {
        await dynamodb.send(new CreateTableCommand({
          TableName: name,
          KeySchema: [{ AttributeName: 'fabric', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'fabric', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }));
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
      }
    },
    async buildEnvironment(clusterName) {
      const api = await env.apiServerFor(clusterName);
      const caFile = path.join(workDir, `${clusterName}-ca.pem`);
      writeFileSync(caFile, api.caPem);
      const mirror = findProviderMirror();
      return {
        PATH: `${KOPS_STANDIN_BIN}:${process.env.PATH ?? ''}`,
        AWS_ENDPOINT_URL: endpoint,
        AWS_REGION: options.region,
        AWS_DEFAULT_REGION: options.region,
        AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
        AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
        KOPS_STANDIN_API_SERVER: api.serverUrl,
        KOPS_STANDIN_API_CA_FILE: caFile,
        ...(mirror ? { TF_PLUGIN_MIRROR: mirror } : {}),
        TF_IN_AUTOMATION: '1',
      };
    },
    async stop() {
      for (const server of apiServers.values()) await (await server).stop();
      await publicDns.stop();
      await stopMoto();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
  return env;
}

/** Writes a file into the environment's work dir and returns its path. */
export function writeWorkFile(env: LocalEnvironment, name: string, content: string): string {
  const file = path.join(env.workDir, name);
  writeFileSync(file, content);
  return file;
}
