import { AutoScalingClient, AutoScalingGroup, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ReadinessChecks, ReadinessEvent, ReadinessState } from '../../lib/domain/contract';
import { ClusterNotReady } from '../../lib/domain/errors';
import { KOPS_PLACEHOLDER_ADDRESS } from '../../lib/domain/kops';
import { messageOf, parseKubeconfig, probeReadyz, ProbeTarget } from '../shared/kube-api';
import { createLogger, Logger } from '../shared/logger';

/**
 * One readiness poll of the Wait/Choice loop. Three checks, each with a short human detail:
 * instances (kops's Auto Scaling groups InService, a control plane in every zone), dns
 * (`api.<cluster>` holds a real address, not kops's placeholder), api (`/readyz` says `ok` over TLS
 * verified against the cluster CA, asked with the stored kubeconfig's client certificate or token:
 * kops clusters refuse anonymous requests). Past the deadline a not-ready cluster is `ClusterNotReady`.
 */

export const DEFAULT_DEADLINE_SECONDS = 1200;
const CONTROL_PLANE_PREFIXES = ['control-plane-', 'master-'];

export interface Check {
  readonly ready: boolean;
  readonly detail: string;
}

/** Pure: judges kops's groups. Exported for unit tests. */
export function judgeInstances(groups: readonly AutoScalingGroup[], clusterName: string, zones: readonly string[]): Check {
  if (groups.length === 0) return { ready: false, detail: `no Auto Scaling groups tagged KubernetesCluster=${clusterName} yet` };
  const short: string[] = [];
  let inServiceTotal = 0;
  let desiredTotal = 0;
  for (const group of groups) {
    const desired = group.DesiredCapacity ?? 0;
    const inService = (group.Instances ?? []).filter((i) => i.LifecycleState === 'InService').length;
    inServiceTotal += Math.min(inService, desired);
    desiredTotal += desired;
    if (inService < desired) short.push(`${group.AutoScalingGroupName ?? '?'} ${inService}/${desired}`);
  }
  const controlPlane = groups.filter((g) => CONTROL_PLANE_PREFIXES.some((p) => (g.AutoScalingGroupName ?? '').startsWith(p)));
  const uncovered = zones.filter(
    (zone) => !controlPlane.some((g) => (g.AvailabilityZones ?? []).includes(zone) || (g.AutoScalingGroupName ?? '').includes(zone)),
  );
  const problems: string[] = [];
  if (short.length > 0) problems.push(`InService below desired: ${short.join(', ')}`);
  if (uncovered.length > 0) problems.push(`no control-plane group in ${uncovered.join(', ')}`);
  if (problems.length > 0) return { ready: false, detail: `${inServiceTotal}/${desiredTotal} instances InService; ${problems.join('; ')}` };
  return {
    ready: true,
    detail: `${inServiceTotal}/${desiredTotal} instances InService in ${groups.length} groups, control plane in ${zones.join(', ')}`,
  };
}

export async function listClusterGroups(autoScaling: AutoScalingClient, clusterName: string): Promise<AutoScalingGroup[]> {
  const groups: AutoScalingGroup[] = [];
  let NextToken: string | undefined;
  do {
    const page = await autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: `tag:KubernetesCluster`, Values: [clusterName] }], NextToken }),
    );
    groups.push(...(page.AutoScalingGroups ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return groups;
}

/** The `api.<cluster>` A record: a real address, or why there is none yet. */
export async function checkApiRecord(route53: Route53Client, hostedZoneId: string, apiName: string): Promise<Check & { address?: string }> {
  const wanted = `${apiName}.`;
  const page = await route53.send(
    new ListResourceRecordSetsCommand({ HostedZoneId: hostedZoneId, StartRecordName: wanted, StartRecordType: 'A', MaxItems: 5 }),
  );
  const record = (page.ResourceRecordSets ?? []).find((r) => r.Type === 'A' && r.Name?.toLowerCase() === wanted.toLowerCase());
  if (!record) return { ready: false, detail: `no A record ${apiName} in hosted zone ${hostedZoneId} yet (kops creates it)` };
  // kops fronts the API with a load balancer in some topologies: the alias target is the address then.
  const alias = record.AliasTarget?.DNSName?.replace(/\.$/, '');
  if (alias) return { ready: true, detail: `${apiName} is an alias of ${alias}`, address: alias };
  const addresses = (record.ResourceRecords ?? []).map((r) => r.Value ?? '').filter((v) => v !== '');
  const real = addresses.filter((a) => a !== KOPS_PLACEHOLDER_ADDRESS);
  if (real.length === 0) {
    return {
      ready: false,
      detail:
        `${apiName} still holds kops's placeholder ${KOPS_PLACEHOLDER_ADDRESS} ` +
        `(dns-controller has not run on a control-plane node yet)`,
    };
  }
  return { ready: true, detail: `${apiName} -> ${real.join(', ')}`, address: real[0] };
}

export interface ReadinessClients {
  readonly autoScaling: AutoScalingClient;
  readonly route53: Route53Client;
  readonly secrets: SecretsManagerClient;
}

export interface ReadinessOptions {
  readonly deadlineSeconds?: number;
  readonly now?: () => Date;
  readonly logger?: Logger;
  readonly probe?: (target: ProbeTarget) => Promise<Check>;
}

/** Pure: one line naming what was and was not ready. */
export function describeChecks(checks: ReadinessChecks): string {
  return (['instances', 'dns', 'api'] as const)
    .map((name) => `${name}: ${checks[name].ready ? 'ready' : 'NOT ready'} (${checks[name].detail})`)
    .join('; ');
}

/**
 * Pure: the next loop state, or `ClusterNotReady` once the deadline has passed. The first call
 * (no `startedAt` yet) starts the clock.
 */
export function nextState(previous: ReadinessState, checks: ReadinessChecks, now: Date, deadlineSeconds: number): ReadinessState {
  const ready = checks.instances.ready && checks.dns.ready && checks.api.ready;
  const attempts = previous.attempts + 1;
  const parsed = previous.startedAt === undefined ? Number.NaN : Date.parse(previous.startedAt);
  const startedAt = Number.isNaN(parsed) ? now.toISOString() : (previous.startedAt as string);
  const deadline = Date.parse(startedAt) + deadlineSeconds * 1000;
  if (!ready && now.getTime() > deadline) {
    throw new ClusterNotReady(
      `cluster not ready ${deadlineSeconds} s after ${startedAt} (${attempts} checks): ${describeChecks(checks)}. ` +
        'Re-run the same spec to resume waiting; see the README section on readiness for what each check needs.',
    );
  }
  return { ready, startedAt, attempts, checks };
}

async function safely(what: string, run: () => Promise<Check>): Promise<Check> {
  try {
    return await run();
  } catch (error) {
    return { ready: false, detail: `${what} could not be checked: ${messageOf(error)}` };
  }
}

export async function checkReadiness(
  event: ReadinessEvent,
  clients: ReadinessClients,
  options: ReadinessOptions = {},
): Promise<ReadinessState> {
  const { fabric, prepared, cluster, readiness } = event;
  const logger = options.logger ?? createLogger({ fabric: fabric.name, execution: fabric.execution });
  const apiName = cluster.apiName || `api.${fabric.clusterName}`;

  const instances = await safely('instances', async () =>
    judgeInstances(await listClusterGroups(clients.autoScaling, fabric.clusterName), fabric.clusterName, prepared.zones.zones),
  );
  let address: string | undefined;
  const dns = await safely('dns', async () => {
    const record = await checkApiRecord(clients.route53, prepared.dns.hostedZoneId, apiName);
    address = record.address;
    return { ready: record.ready, detail: record.detail };
  });
  const api = await safely('api', async () => {
    const target = address;
    if (target === undefined) return { ready: false, detail: `waiting for ${apiName} to have a real address` };
    const secret = await clients.secrets.send(new GetSecretValueCommand({ SecretId: cluster.kubeconfigSecretArn }));
    if (secret.SecretString === undefined) return { ready: false, detail: 'the kubeconfig secret has no string value' };
    const endpoint = parseKubeconfig(secret.SecretString);
    if (endpoint.credentials === undefined) {
      return {
        ready: false,
        detail: `the stored kubeconfig has no credentials the API server accepts: ${endpoint.credentialsProblem ?? 'none given'}`,
      };
    }
    return (options.probe ?? probeReadyz)({
      address: target,
      port: endpoint.port,
      hostname: apiName,
      caPem: endpoint.caPem,
      credentials: endpoint.credentials,
    });
  });

  const checks: ReadinessChecks = { instances, dns, api };
  const state = nextState(readiness, checks, (options.now ?? (() => new Date()))(), options.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS);
  logger.info(state.ready ? 'cluster is ready' : 'cluster not ready yet', { attempt: state.attempts, checks: describeChecks(checks) });
  return state;
}
