import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  ChangeResourceRecordSetsCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { stringify, parse } from 'yaml';
import { clientOptions, s3Options } from '../../../../../lambdas/shared/clients';
import {
  clusterName as resolveClusterName,
  flagBool,
  flagList,
  flagValue,
  KopsError,
  loadReference,
  ParsedCommand,
  parseCommandLine,
  stateStore,
} from './cli';
import { adminCredential, clusterCa, handedOverCa, kubeconfigContext, kubeconfigPath } from './credentials';
import { clusterCaKeyset } from './keystore';
import { readGolden, renderSharedSubnets, SUPPORTED_ZONE_COUNTS, unsupportedZoneCount } from './golden';
import { probeReadyz } from '../../../../../lambdas/shared/kube-api';
import { API_SERVER_AUTH, CLUSTER_CA_KEYSET, KOPS_GOLDEN_DIR, KOPS_REFERENCE_DIR } from '../../contracts';
import { KOPS_PLACEHOLDER_ADDRESS } from '../../../../domain/kops';
import { compareReleases, parseRelease } from '../../../../domain/release';

/**
 * The kops stand-in: kops cannot be installed on these machines, so local mode and the tests run
 * this instead. It accepts exactly the commands and flags of the vendored kops 1.36.2 reference,
 * keeps its cluster registry as real objects in the real state store (`<state>/<cluster>/...`),
 * and emits kops's own golden Terraform output with the fabric's names (see golden.ts).
 */

const KOPS_VERSION = '1.36.2';
const STANDIN_BANNER = 'kops stand-in (kops is not installed)';
/** The file `create cluster` writes so tests can check what the job asked kops for. */
const INVOCATION_FILE = 'standin-invocation.json';
/**
 * The Kubernetes version the control plane runs, which real kops reads from the running cluster:
 * the stand-in has no instances, so `update` records the version it renders the control plane at
 * and a `rolling-update` of the control plane makes that the running one.
 */
const CONTROL_PLANE_FILE = 'standin-control-plane.json';

interface ControlPlaneVersions {
  /** What the last `update cluster` rendered the control plane at. */
  readonly rendered?: string;
  /** What its instances run: the rendered version once rolled (a new cluster starts at it). */
  readonly running?: string;
}

async function controlPlaneVersions(reg: Registry): Promise<ControlPlaneVersions> {
  return (await exists(reg, CONTROL_PLANE_FILE)) ? (JSON.parse(await get(reg, CONTROL_PLANE_FILE)) as ControlPlaneVersions) : {};
}

/** True when release `a` (`1.36.4`) is newer than `b`; false when either is not a release. */
function newerRelease(a: string, b: string): boolean {
  const [x, y] = [parseRelease(a), parseRelease(b)];
  return x !== undefined && y !== undefined && compareReleases(x, y) > 0;
}
/**
 * When set, every invocation appends one JSON line here (`CallRecord`), in order, so tests can
 * check which kops commands a job ran and in what order. Not a kops setting: the stand-in's own.
 */
export const CALL_LOG_ENV = 'KOPS_STANDIN_CALL_LOG';

const GOLDEN_DIR = join(KOPS_GOLDEN_DIR, 'ha');

interface Io {
  out(line: string): void;
  err(line: string): void;
}

export interface Invocation {
  readonly command: string;
  readonly cluster: string;
  readonly argv: readonly string[];
  readonly flags: Readonly<Record<string, readonly string[]>>;
  readonly recordedAt: string;
}

/** One line of the call log: the command line as given, the command it named, and its exit status. */
export interface CallRecord {
  readonly argv: readonly string[];
  /** `set cluster`, `rolling-update cluster`...; `null` when the command line did not parse. */
  readonly command: string | null;
  readonly exitCode: number;
  readonly at: string;
}

interface Registry {
  readonly s3: S3Client;
  readonly bucket: string;
  /** Key prefix of the state store inside the bucket, no trailing slash. */
  readonly prefix: string;
  /** `<prefix>/<cluster>` (or `<cluster>`), no trailing slash. */
  readonly base: string;
  readonly url: string;
}

function registry(parsed: ParsedCommand, cluster: string, region: string | undefined): Registry {
  const store = stateStore(parsed, process.env);
  return {
    s3: new S3Client(s3Options(region)),
    bucket: store.bucket,
    prefix: store.prefix,
    base: store.prefix === '' ? cluster : `${store.prefix}/${cluster}`,
    url: store.url,
  };
}

async function exists(reg: Registry, key: string): Promise<boolean> {
  try {
    await reg.s3.send(new HeadObjectCommand({ Bucket: reg.bucket, Key: `${reg.base}/${key}` }));
    return true;
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404) return false;
    throw error;
  }
}

async function put(reg: Registry, key: string, body: string): Promise<void> {
  await reg.s3.send(new PutObjectCommand({ Bucket: reg.bucket, Key: `${reg.base}/${key}`, Body: body, ServerSideEncryption: 'AES256' }));
}

async function get(reg: Registry, key: string): Promise<string> {
  const response = await reg.s3.send(new GetObjectCommand({ Bucket: reg.bucket, Key: `${reg.base}/${key}` }));
  return (await response.Body?.transformToString()) ?? '';
}

async function requireCluster(reg: Registry, cluster: string): Promise<void> {
  if (!(await exists(reg, 'config'))) {
    throw new KopsError(`cluster "${cluster}" not found in state store ${reg.url}`);
  }
}

function regionOfZone(zone: string): string {
  return zone.replace(/[a-z]$/, '');
}

// sshpk, STS and node-forge (test-pki) are loaded by the few commands that use them: each call of the
// stand-in is a new process (the cluster job's suite makes 35), and one that needs none of the three
// now starts in 0.25 CPU-s instead of 0.30.
async function fingerprintOf(publicKey: string): Promise<string> {
  const { default: sshpk } = await import('sshpk');
  try {
    return sshpk.parseKey(publicKey, 'ssh').fingerprint('md5').toString();
  } catch (error) {
    throw new KopsError(`error parsing SSH public key: ${(error as Error).message}`);
  }
}

/** Reads an SSH public key file as kops does (`~/` is the home directory). */
function readPublicKey(keyPath: string): string {
  const path = keyPath.replace(/^~(?=\/)/, homedir());
  if (!existsSync(path)) throw new KopsError(`error reading SSH key file "${keyPath}": no such file`);
  return readFileSync(path, 'utf8').trim();
}

/** The admin SSH key create stored in the state store, if any. */
async function storedPublicKey(reg: Registry): Promise<string | undefined> {
  const keys = await reg.s3.send(new ListObjectsV2Command({ Bucket: reg.bucket, Prefix: `${reg.base}/pki/ssh/public/admin/` }));
  const key = keys.Contents?.[0]?.Key;
  return key === undefined ? undefined : (await get(reg, key.slice(reg.base.length + 1))).trim();
}

async function findHostedZone(route53: Route53Client, cluster: string, dnsZone: string | undefined): Promise<{ id: string; name: string }> {
  const zones: Array<{ id: string; name: string }> = [];
  let marker: string | undefined;
  do {
    const page = await route53.send(new ListHostedZonesCommand({ Marker: marker }));
    for (const z of page.HostedZones ?? [])
      zones.push({ id: (z.Id ?? '').replace('/hostedzone/', ''), name: (z.Name ?? '').replace(/\.$/, '') });
    marker = page.IsTruncated ? page.NextMarker : undefined;
  } while (marker);
  const wanted = dnsZone?.replace(/\.$/, '');
  // kops: --dns-zone is a zone name or id; otherwise the longest zone the cluster name ends in.
  const match = wanted
    ? zones.find((z) => z.id === wanted.replace('/hostedzone/', '') || z.name === wanted)
    : zones.filter((z) => cluster === z.name || cluster.endsWith(`.${z.name}`)).sort((a, b) => b.name.length - a.name.length)[0];
  if (!match) throw new KopsError(`DNS hosted zone ${JSON.stringify(wanted ?? cluster)} not found in Route 53`);
  return match;
}

/** What the cluster is made of, with kops's defaults: read from create's command line, and by update from the recorded invocation. */
interface ClusterRequest {
  readonly zones: readonly string[];
  readonly controlPlaneZones: readonly string[];
  readonly region: string;
  readonly controlPlaneSize: string;
  readonly nodeSize: string;
  readonly nodeCount: number;
  readonly adminAccess: readonly string[];
  /** True when `--unset=spec.sshAccess` leaves the spec without SSH access (no port 22 rule). */
  readonly sshClosed: boolean;
  readonly sshAccess: readonly string[];
}

function clusterRequest(flag: (name: string) => readonly string[] | undefined): ClusterRequest {
  const zones = flag('zones') ?? [];
  // kops: --admin-access defaults to [0.0.0.0/0,::/0]; without --ssh-access SSH takes the admin access.
  const adminAccess = flag('admin-access') ?? ['0.0.0.0/0', '::/0'];
  const sshClosed = (flag('unset') ?? []).includes('spec.sshAccess');
  return {
    zones,
    controlPlaneZones: flag('control-plane-zones') ?? [zones[0] ?? ''],
    region: regionOfZone(zones[0] ?? ''),
    controlPlaneSize: flag('control-plane-size')?.[0] ?? 't3.medium',
    nodeSize: flag('node-size')?.[0] ?? 't3.medium',
    // kops: "Defaults to one node per zone".
    nodeCount: Number(flag('node-count')?.[0] ?? zones.length),
    adminAccess,
    sshClosed,
    sshAccess: sshClosed ? [] : (flag('ssh-access') ?? adminAccess),
  };
}

function clusterSpec(cluster: string, reg: Registry, parsed: ParsedCommand, request: ClusterRequest): string {
  const spec: Record<string, unknown> = {
    api: { dns: {}, access: request.adminAccess },
    channel: flagValue(parsed, 'channel') ?? 'stable',
    cloudProvider: { aws: {} },
    cloudLabels: Object.fromEntries(
      (flagValue(parsed, 'cloud-labels') ?? '')
        .split(',')
        .filter(Boolean)
        .map((kv) => [kv.split('=')[0], kv.split('=').slice(1).join('=')]),
    ),
    configBase: `${reg.url}/${cluster}`,
    dnsZone: flagValue(parsed, 'dns-zone'),
    etcdClusters: ['main', 'events'].map((name) => ({
      name,
      etcdMembers: request.controlPlaneZones.map((z) => ({ instanceGroup: `master-${z}`, name: z.slice(regionOfZone(z).length) })),
    })),
    kubernetesVersion: flagValue(parsed, 'kubernetes-version'),
    networkCIDR: flagList(parsed, 'network-cidr')[0],
    networkID: flagValue(parsed, 'network-id'),
    networking: { [flagValue(parsed, 'networking') ?? 'cilium']: {} },
    ...(request.sshClosed ? {} : { sshAccess: request.sshAccess }),
    subnets: request.zones.map((zone, i) => ({ id: flagList(parsed, 'subnets')[i], name: zone, type: 'Public', zone })),
    topology: { dns: { type: 'Public' } },
  };
  return stringify({ apiVersion: 'kops.k8s.io/v1alpha2', kind: 'Cluster', metadata: { name: cluster }, spec });
}

function instanceGroup(cluster: string, name: string, role: string, machineType: string, size: number, subnets: readonly string[]): string {
  return stringify({
    apiVersion: 'kops.k8s.io/v1alpha2',
    kind: 'InstanceGroup',
    metadata: { name, labels: { 'kops.k8s.io/cluster': cluster } },
    spec: { machineType, maxSize: size, minSize: size, role, subnets },
  });
}

async function createCluster(parsed: ParsedCommand, argv: readonly string[], io: Io): Promise<void> {
  const cluster = resolveClusterName(parsed, process.env);
  const request = clusterRequest((name) => parsed.flags.get(name));
  const { zones, controlPlaneZones } = request;
  if (zones.length === 0) throw new KopsError('must specify at least one zone for the cluster (use --zones)');
  if (controlPlaneZones.length % 2 === 0) {
    throw new KopsError(
      "there should be an odd number of control-plane-zones, for etcd's quorum.  " +
        'Hint: Use --zones and --control-plane-zones to declare node zones and control-plane zones separately',
    );
  }
  if (!SUPPORTED_ZONE_COUNTS.includes(controlPlaneZones.length))
    throw new KopsError(unsupportedZoneCount(controlPlaneZones.length, controlPlaneZones));
  const cloud = flagValue(parsed, 'cloud') ?? 'aws';
  if (cloud !== 'aws') throw new KopsError(`the stand-in models AWS only, got --cloud=${cloud}`);
  const subnets = flagList(parsed, 'subnets');
  if (!flagValue(parsed, 'network-id') || subnets.length === 0) {
    throw new KopsError('the stand-in has golden output for a cluster in existing subnets only: give --network-id and --subnets');
  }
  if (subnets.length !== zones.length) throw new KopsError(`--subnets lists ${subnets.length} subnets for ${zones.length} zones`);
  const keyPath = flagValue(parsed, 'ssh-public-key');
  const reg = registry(parsed, cluster, request.region);
  const config = clusterSpec(cluster, reg, parsed, request);
  const groups = [
    ...controlPlaneZones.map((z) => ({
      name: `master-${z}`,
      text: instanceGroup(cluster, `master-${z}`, 'Master', request.controlPlaneSize, 1, [z]),
    })),
    { name: 'nodes', text: instanceGroup(cluster, 'nodes', 'Node', request.nodeSize, request.nodeCount, zones) },
  ];

  if (flagBool(parsed, 'dry-run')) {
    const format = flagValue(parsed, 'output') ?? 'yaml';
    const docs = [config, ...groups.map((g) => g.text)];
    io.out(
      format === 'json'
        ? JSON.stringify(
            docs.map((d) => parse(d) as unknown),
            null,
            2,
          )
        : docs.join('---\n'),
    );
    return;
  }
  if (await exists(reg, 'config')) {
    throw new KopsError(`cluster "${cluster}" already exists; use 'kops update cluster' to apply changes`);
  }
  const publicKey = keyPath ? readPublicKey(keyPath) : undefined;
  const invocation: Invocation = {
    command: parsed.command.path,
    cluster,
    argv,
    flags: Object.fromEntries(parsed.flags),
    recordedAt: new Date().toISOString(),
  };
  await put(reg, INVOCATION_FILE, `${JSON.stringify(invocation, null, 2)}\n`);
  for (const group of groups) await put(reg, `instancegroup/${group.name}`, group.text);
  if (publicKey) await put(reg, `pki/ssh/public/admin/${(await fingerprintOf(publicKey)).replace(/:/g, '')}`, `${publicKey}\n`);
  // `config` last: its presence is what marks the cluster as registered.
  await put(reg, 'config', config);
  io.out(`Cluster configuration has been created in ${reg.url}/${cluster}.`);
  if (flagBool(parsed, 'yes')) {
    await update(parsed, cluster, io);
  } else {
    io.out(`Finally configure your cluster with: kops update cluster --name ${cluster} --yes --admin`);
  }
}

async function update(parsed: ParsedCommand, cluster: string, io: Io): Promise<void> {
  const probe = registry(parsed, cluster, undefined);
  await requireCluster(probe, cluster);
  const invocation = JSON.parse(await get(probe, INVOCATION_FILE)) as Invocation;
  const created = (name: string): readonly string[] => invocation.flags[name] ?? [];
  // create accepted it, so it has 3 or 5 control-plane zones (renderSharedSubnets checks again).
  const request = clusterRequest((name) => invocation.flags[name]);
  const { region, controlPlaneZones } = request;
  const reg = registry(parsed, cluster, region);
  const yes = flagBool(parsed, 'yes');
  const target = flagValue(parsed, 'target') ?? 'direct';
  if (target === 'direct') {
    if (yes)
      throw new KopsError('the stand-in cannot create cloud resources itself: use --target=terraform and apply the output with Terraform');
    io.out(
      `Will create or update the resources of ${cluster}: ` +
        `instance groups ${[...controlPlaneZones.map((z) => `master-${z}`), 'nodes'].join(', ')}.`,
    );
    io.out('Must specify --yes to apply changes');
    return;
  }

  const updateKeyPath = flagValue(parsed, 'ssh-public-key');
  const publicKeyText = updateKeyPath ? readPublicKey(updateKeyPath) : await storedPublicKey(reg);
  if (!publicKeyText) throw new KopsError('SSH public key must be specified when running with AWS (create with --ssh-public-key)');

  const route53 = new Route53Client(clientOptions(region));
  const zone = await findHostedZone(route53, cluster, created('dns-zone')[0]);
  const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  const account = await new STSClient(clientOptions(region)).send(new GetCallerIdentityCommand({}));
  // The config, not create's flags: `set cluster` may have changed the version since.
  const kubernetesVersion = readConfig(await get(reg, 'config')).spec.kubernetesVersion;
  const version = typeof kubernetesVersion === 'string' ? kubernetesVersion.replace(/^v/, '') : undefined;
  // kops renders the nodes at the version the control plane runs until it runs the new one (a
  // kubelet may not be newer than its API server), unless --ignore-kubelet-version-skew.
  const running = (await controlPlaneVersions(reg)).running ?? version;
  const nodeVersion =
    version !== undefined && running !== undefined && newerRelease(version, running) && !flagBool(parsed, 'ignore-kubelet-version-skew')
      ? running
      : version;
  if (nodeVersion !== version) {
    io.out(
      `kops stand-in: the control plane runs ${running ?? '?'}: the node instance groups stay at it until the control plane ` +
        `runs ${version ?? '?'} (roll it, then update again; --ignore-kubelet-version-skew moves them now)`,
    );
  }
  const rendered = renderSharedSubnets(readGolden(GOLDEN_DIR), {
    clusterName: cluster,
    region,
    zones: controlPlaneZones,
    vpcId: created('network-id')[0] ?? '',
    subnetIds: created('subnets'),
    stateBucket: reg.bucket,
    statePrefix: reg.prefix,
    accountId: account.Account ?? '',
    hostedZoneId: zone.id,
    sshPublicKey: publicKeyText,
    sshFingerprint: await fingerprintOf(publicKeyText),
    controlPlaneSize: request.controlPlaneSize,
    nodeSize: request.nodeSize,
    nodeCount: request.nodeCount,
    adminAccess: request.adminAccess,
    sshAccess: request.sshAccess,
    ...(version !== undefined ? { kubernetesVersion: version } : {}),
    ...(nodeVersion !== undefined ? { nodeKubernetesVersion: nodeVersion } : {}),
  });
  // Not a dry run from here: kops's apply stores the keypairs its tasks make.
  await ensureClusterCa(reg);
  if (version !== undefined) await put(reg, CONTROL_PLANE_FILE, `${JSON.stringify({ rendered: version, running })}\n`);
  const out = resolve(flagValue(parsed, 'out') ?? 'out/terraform');
  mkdirSync(join(out, 'data'), { recursive: true });
  writeFileSync(join(out, 'kubernetes.tf'), rendered.tf);
  for (const [file, content] of rendered.data) writeFileSync(join(out, 'data', file), content);
  // kops writes formatted HCL; the substitutions changed some alignments.
  spawnSync('terraform', ['fmt', '-list=false', out], { stdio: 'ignore' });
  io.out(`Terraform output is in ${out}`);

  if (yes) {
    // Non-gossip DNS: kops pre-creates the API records with a placeholder until dns-controller runs.
    const names = [`api.${cluster}`, `api.internal.${cluster}`];
    const current = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zone.id }));
    const missing = names.filter(
      (n) => !(current.ResourceRecordSets ?? []).some((r) => r.Type === 'A' && r.Name?.replace(/\.$/, '') === n),
    );
    if (missing.length > 0) {
      await route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zone.id,
          ChangeBatch: {
            Comment: 'kops stand-in: placeholder until dns-controller runs',
            Changes: missing.map((name) => ({
              Action: 'UPSERT',
              ResourceRecordSet: { Name: name, Type: 'A', TTL: 60, ResourceRecords: [{ Value: KOPS_PLACEHOLDER_ADDRESS }] },
            })),
          },
        }),
      );
      io.out(`Pre-created DNS records ${missing.join(', ')} -> ${KOPS_PLACEHOLDER_ADDRESS} in zone ${zone.name}`);
    }
    io.out('Cluster is starting.  It should be ready in a few minutes.');
  }
}

/**
 * kops makes the cluster CA in update's apply, for any target but the dry run, and only when the
 * keystore has none: an existing CA is never replaced. The stand-in stores the CA the API stand-in
 * trusts when local mode hands it over, else a new one.
 */
async function ensureClusterCa(reg: Registry): Promise<void> {
  if (await exists(reg, CLUSTER_CA_KEYSET.path)) return;
  await put(
    reg,
    CLUSTER_CA_KEYSET.path,
    clusterCaKeyset(handedOverCa(process.env) ?? (await import('../../test-pki')).createTestCa(CLUSTER_CA_KEYSET.name)),
  );
}

/** A cluster config document and its `spec`; a config without a spec is not kops's. */
function readConfig(text: string): { readonly doc: Record<string, unknown>; readonly spec: Record<string, unknown> } {
  const doc = parse(text) as Record<string, unknown> | null;
  const spec = doc?.spec;
  if (doc === null || typeof spec !== 'object' || spec === null) throw new KopsError('the cluster config in the state store has no spec');
  return { doc, spec: spec as Record<string, unknown> };
}

/** The field paths `set cluster` takes in the stand-in: the Kubernetes version only (kops takes many more). */
const SETTABLE_CLUSTER_FIELDS: readonly string[] = ['spec.kubernetesVersion'];
const KUBERNETES_RELEASE = /^v?\d+\.\d+\.\d+$/;

/**
 * `set cluster [CLUSTER] field=value...`: as kops, the first argument without `=` names the
 * cluster and every other must be `field=value`; the config in the state store changes, no cloud
 * resource does (the next `update cluster` renders it).
 */
async function setCluster(parsed: ParsedCommand, io: Io): Promise<void> {
  const [first, ...rest] = parsed.positionals;
  const named = first !== undefined && !first.includes('=') ? first : undefined;
  const assignments = named === undefined ? parsed.positionals : rest;
  const cluster = resolveClusterName({ ...parsed, positionals: named === undefined ? [] : [named] }, process.env);
  for (const arg of assignments) if (!arg.includes('=')) throw new KopsError(`unrecognized parameter "${arg}" (missing '=')`);
  if (assignments.length === 0) throw new KopsError('no fields to set: give field=value, e.g. spec.kubernetesVersion=1.36.4');
  const reg = registry(parsed, cluster, undefined);
  await requireCluster(reg, cluster);
  const { doc, spec } = readConfig(await get(reg, 'config'));
  for (const arg of assignments) {
    const field = arg.slice(0, arg.indexOf('='));
    const value = arg.slice(arg.indexOf('=') + 1);
    if (!SETTABLE_CLUSTER_FIELDS.includes(field)) {
      throw new KopsError(`the stand-in sets only ${SETTABLE_CLUSTER_FIELDS.join(', ')} (kops sets more), got ${JSON.stringify(field)}`);
    }
    if (!KUBERNETES_RELEASE.test(value))
      throw new KopsError(`the stand-in takes a Kubernetes release such as 1.36.4 for ${field}, got ${JSON.stringify(value)}`);
    spec.kubernetesVersion = value;
  }
  await put(reg, 'config', stringify(doc));
  io.out(`kops stand-in: set ${assignments.join(' ')} in ${reg.url}/${cluster}/config; kops update cluster applies it`);
}

async function deleteCluster(parsed: ParsedCommand, io: Io): Promise<void> {
  const cluster = resolveClusterName(parsed, process.env);
  const reg = registry(parsed, cluster, undefined);
  await requireCluster(reg, cluster);
  const listed: string[] = [];
  let token: string | undefined;
  do {
    const page = await reg.s3.send(new ListObjectsV2Command({ Bucket: reg.bucket, Prefix: `${reg.base}/`, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) listed.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  let invocation: Invocation | undefined;
  try {
    invocation = JSON.parse(await get(reg, INVOCATION_FILE)) as Invocation;
  } catch {
    invocation = undefined;
  }
  const region = invocation ? regionOfZone(invocation.flags.zones?.[0] ?? '') : undefined;
  const route53 = new Route53Client(clientOptions(region));
  // --unregister leaves the DNS records alone. A zone that is gone leaves none to delete; any other failure is one.
  const zone = flagBool(parsed, 'unregister')
    ? undefined
    : await findHostedZone(route53, cluster, invocation?.flags['dns-zone']?.[0]).catch((error: unknown) => {
        if (error instanceof KopsError) return undefined;
        throw error;
      });
  const apiNames = [`api.${cluster}`, `api.internal.${cluster}`];
  const records: ResourceRecordSet[] =
    zone === undefined
      ? []
      : ((await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zone.id }))).ResourceRecordSets ?? []).filter(
          (r) => r.Type === 'A' && apiNames.includes(r.Name?.replace(/\.$/, '') ?? ''),
        );
  io.out(`${'TYPE'.padEnd(20)}NAME`);
  for (const key of listed) io.out(`${'state-store-object'.padEnd(20)}s3://${reg.bucket}/${key}`);
  for (const r of records) io.out(`${'route53-record'.padEnd(20)}${r.Name ?? ''}`);
  if (!flagBool(parsed, 'yes')) {
    io.out('\nMust specify --yes to delete cluster');
    return;
  }
  if (zone !== undefined && records.length > 0) {
    // DELETE takes the record sets exactly as listed above.
    await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zone.id,
        ChangeBatch: { Changes: records.map((set) => ({ Action: 'DELETE', ResourceRecordSet: set })) },
      }),
    );
  }
  for (let i = 0; i < listed.length; i += 1000) {
    await reg.s3.send(
      new DeleteObjectsCommand({ Bucket: reg.bucket, Delete: { Objects: listed.slice(i, i + 1000).map((Key) => ({ Key })) } }),
    );
  }
  io.out(`\nDeleted cluster: "${cluster}"`);
}

async function exportKubeconfig(parsed: ParsedCommand, io: Io): Promise<void> {
  if (flagBool(parsed, 'all')) throw new KopsError('the stand-in exports one cluster at a time (no --all)');
  const cluster = resolveClusterName(parsed, process.env);
  const reg = registry(parsed, cluster, undefined);
  await requireCluster(reg, cluster);
  const server = flagValue(parsed, 'api-server') ?? process.env.KOPS_STANDIN_API_SERVER;
  if (!server) {
    throw new KopsError(
      `the stand-in has no Kubernetes API for https://api.${cluster}: ` +
        `set KOPS_STANDIN_API_SERVER (local mode starts a TLS test server and sets it)`,
    );
  }
  const ca = clusterCa(process.env);
  // `--admin` alone means kops's default lifetime (the flag's NoOptDefVal in the reference).
  const adminLifetime = flagValue(parsed, 'admin');
  const admin = adminLifetime === undefined ? undefined : await adminCredential(ca, adminLifetime);
  const user = admin ? cluster : flagValue(parsed, 'user');
  if (!user)
    io.err(
      'Warning: Exported kubeconfig with no user authentication; use --admin, --user or --auth-plugin flags with `kops export kubeconfig`',
    );
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: cluster,
        cluster: { server, 'certificate-authority-data': Buffer.from(ca.certPem).toString('base64'), 'tls-server-name': `api.${cluster}` },
      },
    ],
    contexts: [{ name: cluster, context: { cluster, ...(user ? { user } : {}) } }],
    'current-context': cluster,
    users: admin
      ? [
          {
            name: cluster,
            user: {
              'client-certificate-data': Buffer.from(admin.certPem).toString('base64'),
              'client-key-data': Buffer.from(admin.keyPem).toString('base64'),
            },
          },
        ]
      : [],
    preferences: {},
  };
  const file = kubeconfigPath(flagValue(parsed, 'kubeconfig'), process.env);
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, stringify(kubeconfig), { mode: 0o600 });
  io.out(`kOps has set your kubectl context to ${cluster}`);
}

/** The address `api.<cluster>` resolves to, read from its Route 53 record as a resolver would see it. */
async function apiAddress(cluster: string, invocation: Invocation): Promise<string> {
  const route53 = new Route53Client(clientOptions(regionOfZone(invocation.flags.zones?.[0] ?? '')));
  const zone = await findHostedZone(route53, cluster, invocation.flags['dns-zone']?.[0]);
  const name = `api.${cluster}`;
  const records = await route53.send(
    new ListResourceRecordSetsCommand({ HostedZoneId: zone.id, StartRecordName: name, StartRecordType: 'A', MaxItems: 1 }),
  );
  const record = (records.ResourceRecordSets ?? []).find((r) => r.Type === 'A' && r.Name?.replace(/\.$/, '') === name);
  const address = record?.ResourceRecords?.[0]?.Value;
  if (address === undefined) throw new KopsError(`validation failed: ${name} has no A record`);
  if (address === KOPS_PLACEHOLDER_ADDRESS)
    throw new KopsError(
      `validation failed: ${name} still resolves to the placeholder ${KOPS_PLACEHOLDER_ADDRESS} (dns-controller has not run)`,
    );
  return address;
}

/** The `--instance-group-roles` value of each instance group role kops writes (`Master` before `ControlPlane`). */
const ROLLING_UPDATE_ROLE: Readonly<Record<string, string>> = {
  ControlPlane: 'control-plane',
  Master: 'control-plane',
  APIServer: 'apiserver',
  Node: 'node',
  Bastion: 'bastion',
};

/**
 * The instance groups `--instance-group-roles` and `--instance-group` select (all when neither is
 * given), read from the state store. Roles are checked against the list the reference documents.
 */
async function groupsToRoll(
  parsed: ParsedCommand,
  reg: Registry,
): Promise<{ readonly roles: readonly string[]; readonly groups: readonly string[] }> {
  const documented = /--instance-group-roles strings\s.*\(([^)]*)\)/.exec(parsed.command.text)?.[1]?.split(',') ?? [];
  const roles = flagList(parsed, 'instance-group-roles');
  for (const role of roles) {
    if (!documented.includes(role))
      throw new KopsError(`unknown instance group role "${role}" in --instance-group-roles: use ${documented.join(', ')}`);
  }
  const names = flagList(parsed, 'instance-group');
  const listed = await reg.s3.send(new ListObjectsV2Command({ Bucket: reg.bucket, Prefix: `${reg.base}/instancegroup/` }));
  const groups: string[] = [];
  for (const key of (listed.Contents ?? []).map((o) => o.Key ?? '').sort()) {
    const name = key.slice(`${reg.base}/instancegroup/`.length);
    const group = parse(await get(reg, `instancegroup/${name}`)) as { spec?: { role?: string } } | null;
    const role = ROLLING_UPDATE_ROLE[group?.spec?.role ?? ''];
    if ((roles.length === 0 || (role !== undefined && roles.includes(role))) && (names.length === 0 || names.includes(name)))
      groups.push(name);
  }
  return { roles, groups };
}

/**
 * `rolling-update cluster --yes`: kops validates the cluster through its API between instance
 * replacements, so the stand-in does what that needs (credentials the API accepts, the API
 * reachable at api.<cluster>) and fails as kops would without it. It has no nodes to replace; it
 * says which instance groups kops would roll.
 */
async function rollingUpdate(parsed: ParsedCommand, io: Io): Promise<void> {
  const cluster = resolveClusterName(parsed, process.env);
  const reg = registry(parsed, cluster, undefined);
  await requireCluster(reg, cluster);
  const { roles, groups } = await groupsToRoll(parsed, reg);
  io.out(`kops stand-in: instance groups selected (roles ${roles.length === 0 ? 'all' : roles.join(',')}): ${groups.join(', ') || 'none'}`);
  if (!flagBool(parsed, 'yes')) {
    io.out(
      `kops stand-in: ${cluster} has no Kubernetes nodes in the emulator, nothing to roll (dry run: Must specify --yes to rolling-update).`,
    );
    return;
  }
  if (flagBool(parsed, 'cloudonly')) {
    io.out(`kops stand-in: --cloudonly, ${cluster} not validated; it has no Kubernetes nodes in the emulator, nothing to roll.`);
    await controlPlaneRolled(reg, cluster, roles, io);
    return;
  }
  const invocation = JSON.parse(await get(reg, INVOCATION_FILE)) as Invocation;
  // --use-kubeconfig: the endpoint (and CA) of the kubeconfig's context; otherwise inferred from the name.
  const fromKubeconfig = flagBool(parsed, 'use-kubeconfig')
    ? kubeconfigContext(kubeconfigPath(undefined, process.env), cluster)
    : undefined;
  const ca = clusterCa(process.env);
  const server =
    flagValue(parsed, 'api-server') ?? fromKubeconfig?.serverUrl ?? process.env.KOPS_STANDIN_API_SERVER ?? `https://api.${cluster}`;
  const port = new URL(server).port === '' ? 443 : Number(new URL(server).port);
  // kops issues its own admin credential for the validation (--admin, default from the reference).
  const credential = await adminCredential(ca, flagValue(parsed, 'admin') ?? API_SERVER_AUTH.adminLifetime);
  const address = await apiAddress(cluster, invocation);
  const result = await probeReadyz({
    address,
    port,
    hostname: `api.${cluster}`,
    caPem: fromKubeconfig?.caPem ?? ca.certPem,
    credentials: credential,
  });
  if (!result.ready) {
    const message = `cluster "${cluster}" did not validate: ${result.detail}`;
    if (flagValue(parsed, 'fail-on-validate-error') !== 'false') throw new KopsError(message);
    io.err(`W ${message} (continuing: --fail-on-validate-error=false)`);
  } else {
    io.out(
      `kops stand-in: validated ${cluster} at ${server} as ${credential.commonName} (${API_SERVER_AUTH.adminGroup}): ${result.detail}`,
    );
  }
  io.out(`kops stand-in: ${cluster} has no Kubernetes nodes in the emulator, nothing to roll.`);
  await controlPlaneRolled(reg, cluster, roles, io);
}

/** A rolling update of the control plane replaces its instances with what the last update rendered. */
async function controlPlaneRolled(reg: Registry, cluster: string, roles: readonly string[], io: Io): Promise<void> {
  if (roles.length > 0 && !roles.includes('control-plane')) return;
  const versions = await controlPlaneVersions(reg);
  if (versions.rendered === undefined || versions.rendered === versions.running) return;
  await put(reg, CONTROL_PLANE_FILE, `${JSON.stringify({ ...versions, running: versions.rendered })}\n`);
  io.out(`kops stand-in: the control plane of ${cluster} now runs ${versions.rendered}`);
}

async function nothingToDo(parsed: ParsedCommand, what: string, io: Io): Promise<void> {
  const cluster = resolveClusterName(parsed, process.env);
  await requireCluster(registry(parsed, cluster, undefined), cluster);
  io.out(`kops stand-in: ${cluster} has no Kubernetes nodes in the emulator, nothing to ${what}.`);
}

/** Appends the invocation to the call log named by KOPS_STANDIN_CALL_LOG, when it is set. */
function recordCall(argv: readonly string[], command: string | null, exitCode: number): void {
  const file = process.env[CALL_LOG_ENV];
  if (!file) return;
  const record: CallRecord = { argv, command, exitCode, at: new Date().toISOString() };
  appendFileSync(file, `${JSON.stringify(record)}\n`);
}

/** Runs one kops command line, records it in the call log, and returns the exit status. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let command: string | null = null;
  const code = await run(argv, io, (path) => {
    command = path;
  });
  recordCall(argv, command, code);
  return code;
}

async function run(argv: readonly string[], io: Io, named: (command: string) => void): Promise<number> {
  io.err(STANDIN_BANNER);
  try {
    if (argv[0] === 'version') {
      named('version');
      // Not in the vendored reference: kops's own `version [--short]` (install-tools.sh uses --short).
      const extra = argv.slice(1).find((a) => a !== '--short');
      if (extra)
        throw new KopsError(extra.startsWith('-') ? `unknown flag: ${extra.split('=')[0] ?? extra}` : `unexpected argument "${extra}"`);
      io.out(argv.includes('--short') ? KOPS_VERSION : `Client version: ${KOPS_VERSION} (kops stand-in, kops is not installed)`);
      return 0;
    }
    const parsed = parseCommandLine(argv, loadReference(KOPS_REFERENCE_DIR));
    named(parsed.command.path);
    if (flagBool(parsed, 'help')) {
      io.out(parsed.command.text);
      return 0;
    }
    switch (parsed.command.path) {
      case 'create cluster':
        await createCluster(parsed, argv, io);
        break;
      case 'update cluster':
        await update(parsed, resolveClusterName(parsed, process.env), io);
        break;
      case 'set cluster':
        await setCluster(parsed, io);
        break;
      case 'delete cluster':
        await deleteCluster(parsed, io);
        break;
      case 'export kubeconfig':
        await exportKubeconfig(parsed, io);
        break;
      case 'rolling-update cluster':
        await rollingUpdate(parsed, io);
        break;
      case 'validate cluster':
        await nothingToDo(parsed, 'validate', io);
        break;
      default:
        throw new KopsError(`the stand-in does not implement "kops ${parsed.command.path}"`);
    }
    return 0;
  } catch (error) {
    io.err(`Error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) })
    .then((code) => {
      process.exitCode = code;
    })
    .catch((error: unknown) => {
      process.stderr.write(`Error: ${String(error)}\n`);
      process.exitCode = 1;
    });
}
