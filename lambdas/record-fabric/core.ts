import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { IN_PROGRESS_STATUSES, type FabricRecord, type FabricStatus, type RecordEvent } from '../../lib/domain/contract';
import { isEmptyPlan, planSummaryOf } from '../../lib/domain/plan-summary';
import { LockNotHeld } from '../../lib/domain/errors';
import { createLogger, Logger } from '../shared/logger';
import { stateKeys } from '../../lib/domain/naming';
import { readFabricRecord } from '../shared/state-record';
import { LOCK_ATTRIBUTE, lockKey } from '../../lib/domain/lock';

/**
 * Writes `fabrics/<name>/fabric.json` at the end of every run, success or failure. The record keeps
 * what earlier runs learnt (creation time, zones, outputs) unless this run replaced it. When the
 * state bucket does not exist (the run failed before creating it) nothing is written and nothing
 * is created: the result says so.
 *
 * Only the run that holds the fabric's lock writes the record: a run that lost the lock (FabricBusy)
 * or never took it fails with `LockNotHeld` and writes nothing, so it cannot overwrite the record of
 * the run that owns the fabric. The check reads the lock item (strongly consistent) before the write.
 * That read-then-write is enough because the lock's only other writers are AcquireLock, which takes
 * a held lock over only after it expired, and the lock expires when the holder's execution times
 * out (LOCK_SECONDS is the state machine's timeout): while the holder runs, nobody else can take it.
 * Records stay in S3 (versioned, next to the state) rather than moving into the lock table.
 */

/** Where the fabric locks live: the stack's lock table (lib/domain/lock.ts). */
export interface LockTable {
  readonly dynamodb: Pick<DynamoDBClient, 'send'>;
  readonly table: string;
}

export interface NotRecorded {
  readonly recorded: false;
  readonly reason: string;
}

export type RecordResult = FabricRecord | NotRecorded;

export interface RecordOptions {
  readonly now?: () => Date;
  readonly logger?: Logger;
}

/** A run that ends this way changed nothing: the fabric keeps the status it had before the run. */
const NOTHING_APPLIED = new Set(['ApprovalRejected', 'ApprovalTimedOut']);

function isInProgress(status: FabricStatus | undefined): boolean {
  return (IN_PROGRESS_STATUSES as readonly string[]).includes(status ?? '');
}

/** The status to write: the event's, the previous one when none is given, the pre-run one after a rejected plan. */
function statusOf(event: RecordEvent, previous: FabricRecord | undefined): FabricStatus {
  const { status, state } = event;
  if (status === 'FAILED' && state.error && NOTHING_APPLIED.has(state.error.Error) && previous?.statusBeforeRun)
    return previous.statusBeforeRun;
  return status ?? previous?.status ?? 'FAILED';
}

/** Pure: the new record from the run's state document and the previous record, if any. */
export function buildRecord(event: RecordEvent, previous: FabricRecord | undefined, now: Date): FabricRecord {
  const { state } = event;
  const status = statusOf(event, previous);
  const { fabric } = state;
  const network = state.jobs?.network?.result;
  const cluster = state.jobs?.cluster?.result;
  const at = now.toISOString();
  // A plan's job results (a plan run, or the plan awaiting approval) describe what would change,
  // not what exists: the recorded outputs stay.
  const appliedNetwork = network?.action === 'plan' ? undefined : network;
  const appliedCluster = cluster?.action === 'plan' ? undefined : cluster;
  // After destroy the network and cluster are gone: only the state bucket remains to point at.
  const outputs: FabricRecord['outputs'] =
    status === 'DESTROYED'
      ? { stateBucket: fabric.stateBucket }
      : {
          ...omitUndefined({
            vpcId: appliedNetwork?.vpcId || previous?.outputs.vpcId,
            subnetIds: appliedNetwork?.subnetIds ?? previous?.outputs.subnetIds,
            apiName: appliedCluster?.apiName || previous?.outputs.apiName,
            kubeconfigSecretArn: appliedCluster?.kubeconfigSecretArn || previous?.outputs.kubeconfigSecretArn,
          }),
          stateBucket: fabric.stateBucket,
        };
  const source = fabric.source ?? previous?.source;
  // The final status before this run, kept while in-progress statuses replace it.
  const statusBeforeRun = isInProgress(status)
    ? isInProgress(previous?.status)
      ? previous?.statusBeforeRun
      : previous?.status
    : undefined;
  // A lease is what this run decided (ValidateSpec); a run that changes no spec keeps the recorded one.
  const lease = fabric.action === 'provision' || fabric.action === 'extend' ? fabric.lease : previous?.lease;
  const drift =
    event.check === 'drift'
      ? (() => {
          const summary = planSummaryOf(state.jobs);
          return { drifted: !isEmptyPlan(summary), checkedAt: at, execution: fabric.execution, summary };
        })()
      : status === 'READY'
        ? undefined // a provision applied the spec: whatever drifted is back in line
        : previous?.drift;
  // The record's spec is what was applied: an extension or a drift check applies nothing, a run in
  // progress has not applied yet, and a rejected or timed-out approval never will.
  const restored = event.status === 'FAILED' && status !== 'FAILED';
  const keepsSpec = event.status === undefined || isInProgress(status) || restored;
  return {
    name: fabric.name,
    clusterName: fabric.clusterName,
    status,
    spec: keepsSpec && previous ? previous.spec : fabric.spec,
    zones: state.prepared?.zones.zones ?? previous?.zones ?? [],
    outputs,
    lastExecution: event.status === undefined && previous ? previous.lastExecution : fabric.execution,
    ...(event.status === 'FAILED' && state.error ? { lastError: { error: state.error.Error, cause: state.error.Cause } } : {}),
    ...(event.status === undefined && previous?.lastError ? { lastError: previous.lastError } : {}),
    ...(statusBeforeRun ? { statusBeforeRun } : {}),
    ...(lease ? { lease } : {}),
    ...(status === 'AWAITING_APPROVAL' ? { pendingPlan: planSummaryOf(state.jobs) } : {}),
    ...(drift ? { drift } : {}),
    createdAt: previous?.createdAt ?? at,
    updatedAt: at,
    ...(source ? { source } : {}),
  };
}

function omitUndefined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** Whether the bucket exists and is ours to write; a reason when it is not. */
async function bucketProblem(s3: S3Client, bucket: string): Promise<string | undefined> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return undefined;
  } catch (error) {
    const status = httpStatus(error);
    const name = (error as Error).name;
    if (status === 404 || name === 'NotFound' || name === 'NoSuchBucket') {
      return `state bucket ${bucket} does not exist (the run ended before it was created); nothing was recorded`;
    }
    if (status === 403) return `state bucket ${bucket} is not accessible to this account (403); nothing was recorded`;
    throw error;
  }
}

/** Throws `LockNotHeld` unless `execution` holds the fabric's lock right now. */
export async function assertLockHeld(lock: LockTable, fabric: string, execution: string): Promise<void> {
  const { Item } = await lock.dynamodb.send(
    new GetItemCommand({
      TableName: lock.table,
      Key: lockKey(fabric),
      ConsistentRead: true,
      ProjectionExpression: LOCK_ATTRIBUTE.holder,
    }),
  );
  const holder = Item?.[LOCK_ATTRIBUTE.holder]?.S;
  if (holder !== execution) throw new LockNotHeld(fabric, execution, holder);
}

export async function recordFabric(event: RecordEvent, s3: S3Client, lock: LockTable, options: RecordOptions = {}): Promise<RecordResult> {
  const { fabric } = event.state;
  const logger = options.logger ?? createLogger({ fabric: fabric.name, execution: fabric.execution });
  await assertLockHeld(lock, fabric.name, fabric.execution);
  const bucket = fabric.stateBucket;
  const reason = await bucketProblem(s3, bucket);
  if (reason !== undefined) {
    logger.warn('fabric not recorded', { status: event.status ?? 'unchanged', reason });
    return { recorded: false, reason };
  }

  let previous: FabricRecord | undefined;
  try {
    previous = await readFabricRecord(s3, bucket, fabric.name);
  } catch (error) {
    // A damaged record must not stop this run's outcome from being written; the bucket is
    // versioned, so the damaged version stays readable.
    if ((error as Error).name !== 'FabricRecordUnreadable') throw error;
    logger.warn('previous fabric record unreadable; writing a fresh one', { error: (error as Error).message });
  }

  const record = buildRecord(event, previous, (options.now ?? (() => new Date()))());
  const key = stateKeys.record(fabric.name);
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: `${JSON.stringify(record, null, 2)}\n`,
      ContentType: 'application/json',
    }),
  );
  logger.info('fabric recorded', { status: record.status, bucket, key });
  return record;
}
