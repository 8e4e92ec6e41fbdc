import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { FabricRecord } from '../../lambdas/shared/contract';
import { DEFAULT_BUCKET_PREFIX, stateBucketName } from '../../lambdas/shared/naming';
import { nameProblem, normaliseName } from '../../lambdas/shared/spec';
import { readFabricRecord } from '../../lambdas/shared/state-record';
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
  if (!record) throw new CliError(EXIT.NOT_FOUND, 'FabricNotFound', `no fabric named ${name} in s3://${bucket} (fabricctl list shows the fabrics of this region; --region picks another)`);
  return record;
}

export async function listRecords(s3: Sender<S3Client>, bucket: string): Promise<FabricRecord[]> {
  const names: string[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'fabrics/', Delimiter: '/', ContinuationToken: token }));
      for (const p of page.CommonPrefixes ?? []) {
        const name = p.Prefix?.slice('fabrics/'.length).replace(/\/$/, '');
        if (name) names.push(name);
      }
      token = page.NextContinuationToken;
    } while (token);
  } catch (error) {
    // No state bucket yet: no fabric was ever provisioned in this account and region.
    if ((error as Error).name === 'NoSuchBucket') return [];
    throw error;
  }
  const records = await Promise.all(names.map((name) => readFabricRecord(s3, bucket, name)));
  return records.filter((r): r is FabricRecord => r !== undefined).sort((a, b) => a.name.localeCompare(b.name));
}

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
    ['Subnets', record.outputs.subnetIds ? Object.entries(record.outputs.subnetIds).map(([z, id]) => `${z}=${id}`).join(', ') : '-'],
    ['API', record.outputs.apiName ?? '-'],
    ['Kubeconfig secret', record.outputs.kubeconfigSecretArn ?? '-'],
    ['State bucket', record.outputs.stateBucket],
    ['Last execution', record.lastExecution],
    ['Created', `${record.createdAt} (${formatAge(record.createdAt, now)} ago)`],
    ['Updated', `${record.updatedAt} (${formatAge(record.updatedAt, now)} ago)`],
  ];
  if (record.source) rows.push(['Source', `${record.source.provider} ${record.source.repository} ${record.source.branch}@${record.source.commit.slice(0, 12)}`]);
  if (record.lastError) rows.push(['Last error', `${record.lastError.error}: ${record.lastError.cause}`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v}`).join('\n') + '\n';
}
