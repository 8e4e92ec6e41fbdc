import type { S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { FabricRecord } from '../domain/contract';
import { DEFAULT_BUCKET_PREFIX, stateBucketName } from '../domain/naming';
import { nameProblem, normaliseName } from '../domain/spec';
import { listFabricRecords, readFabricRecord } from '../../lambdas/shared/state-record';
import { CliError, EXIT, formatAge, table } from './io';

/**
 * `status` and `list` read the fabric records the state machine writes (`fabrics/<name>/fabric.json`
 * in the state bucket of the fabric's account and region), not the executions: the record is what
 * the fabric is, whichever way (CLI, push, console) it was last run.
 */
type Sender<C extends { send: unknown }> = Pick<C, 'send'>;

export async function stateBucketFor(sts: Sender<STSClient>, region: string, prefix: string = DEFAULT_BUCKET_PREFIX): Promise<string> {
  const { Account } = await sts.send(new GetCallerIdentityCommand({}));
  if (!Account) throw new Error('STS GetCallerIdentity returned no account');
  return stateBucketName(Account, region, prefix);
}

export async function getRecord(s3: Sender<S3Client>, bucket: string, rawName: string): Promise<FabricRecord> {
  const fix = nameProblem(rawName);
  if (fix) throw new CliError(EXIT.USAGE, 'FabricSpecInvalid', `fabric name ${JSON.stringify(rawName)}: ${fix}`);
  const name = normaliseName(rawName);
  const record = await readFabricRecord(s3, bucket, name);
  if (!record)
    throw new CliError(
      EXIT.NOT_FOUND,
      'FabricNotFound',
      `no fabric named ${name} in s3://${bucket} (fabricctl list shows the fabrics of this region; --region picks another; ` +
        "--bucket-prefix names the stack's state bucket prefix when the stack, which tells it, is in another region)",
    );
  return record;
}

/** Every fabric recorded in the bucket, by name (lambdas/shared/state-record.ts). */
export const listRecords = listFabricRecords;

function executionName(arn: string): string {
  return arn.split(':').at(-1) ?? arn;
}

export function renderList(records: readonly FabricRecord[], now: Date): string {
  if (records.length === 0) return 'No fabrics in this account and region. Start one with: fabricctl init <name> --domain <domain>\n';
  return table(
    ['NAME', 'STATUS', 'ZONES', 'CLUSTER', 'LAST EXECUTION', 'AGE'],
    records.map((r) => [r.name, r.status, r.zones.join(','), r.clusterName, executionName(r.lastExecution), formatAge(r.createdAt, now)]),
  );
}

export function renderStatus(record: FabricRecord, now: Date): string {
  const rows: [string, string][] = [
    ['Name', record.name],
    ['Status', record.status],
    ['Cluster', record.clusterName],
    ['Region', record.spec.region],
    ['Zones', record.zones.join(', ')],
    ['VPC', record.outputs.vpcId ?? '-'],
    [
      'Subnets',
      record.outputs.subnetIds
        ? Object.entries(record.outputs.subnetIds)
            .map(([z, id]) => `${z}=${id}`)
            .join(', ')
        : '-',
    ],
    ['API', record.outputs.apiName ?? '-'],
    ['Kubeconfig secret', record.outputs.kubeconfigSecretArn ?? '-'],
    ['State bucket', record.outputs.stateBucket],
    ['Last execution', record.lastExecution],
    ['Created', `${record.createdAt} (${formatAge(record.createdAt, now)} ago)`],
    ['Updated', `${record.updatedAt} (${formatAge(record.updatedAt, now)} ago)`],
  ];
  if (record.source)
    rows.push([
      'Source',
      `${record.source.provider} ${record.source.repository} ${record.source.branch}@${record.source.commit.slice(0, 12)}`,
    ]);
  if (record.lastError) rows.push(['Last error', `${record.lastError.error}: ${record.lastError.cause}`]);
  if (record.statusBeforeRun) rows.push(['Before this run', record.statusBeforeRun]);
  if (record.lease) {
    const left = Date.parse(record.lease.expiresAt) - now.getTime();
    rows.push([
      'Expires',
      `${record.lease.expiresAt} (${left > 0 ? `in ${formatAge(now, new Date(record.lease.expiresAt))}` : 'due now'}; ` +
        `lease ${record.lease.expiresAfter}; fabricctl extend ${record.name} 24h)`,
    ]);
  }
  rows.push(['Protected', record.spec.protected ? 'yes (destroy refused until a provision records "protected": false)' : 'no']);
  if (record.pendingPlan)
    rows.push(['Waiting plan', `${record.pendingPlan.lines.join('; ')} (fabricctl approve ${record.name} | reject ${record.name})`]);
  if (record.drift)
    rows.push([
      'Drift',
      `${record.drift.drifted ? `DRIFTED: ${record.drift.summary.lines.join('; ')}` : 'none'} (checked ${record.drift.checkedAt})`,
    ]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v}`).join('\n') + '\n';
}
