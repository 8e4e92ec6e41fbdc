import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { ExecutionInput } from '../../lib/domain/contract';
import { EVENT_SOURCE, extendCommand, FABRIC_EXPIRING } from '../../lib/domain/events';
import { leaseActionOf, type SweepTask } from '../../lib/domain/leases';
import { sanitiseExecutionName } from '../../lib/domain/execution-name';
import { stateBucketName } from '../../lib/domain/naming';
import { listFabricRecords, S3Sender } from '../shared/state-record';

/**
 * Scheduled sweeps over every recorded fabric of the account (EventBridge Scheduler invokes them):
 * - `leases`: a fabric whose lease (`expiresAfter`, moved by `fabricctl extend`) has run out is
 *   destroyed; one sweep interval of warning before that, `Fabric Expiring` is put.
 * - `drift`: every READY fabric's recorded spec is planned with `check: drift`; the run records the
 *   outcome and puts `Fabric Drifted` when the plan is not empty.
 * A sweep only starts runs: the runs themselves take the fabric's lock and write its record.
 */

export interface SweepEvent {
  readonly task: SweepTask;
}

export interface RunRequest {
  readonly name: string;
  readonly input: ExecutionInput;
}

export interface SweepDeps {
  readonly s3: Pick<S3Client, 'send'>;
  readonly s3ForRegion: (region: string) => S3Sender;
  readonly events: Pick<EventBridgeClient, 'send'>;
  readonly accountId: string;
  /** The stack's region, which `fabricctl extend --region` names (the fabric's may differ). */
  readonly stackRegion: string;
  readonly bucketPrefix: string;
  /** Starts a named execution; false when that name already ran (a repeated sweep). */
  readonly start: (request: RunRequest) => Promise<boolean>;
  readonly now: Date;
}

export interface SweepAction {
  readonly fabric: string;
  readonly region: string;
  readonly kind: 'destroy' | 'warn' | 'drift-check';
  readonly execution?: string;
  readonly started?: boolean;
}

/** Regions with a state bucket of this account: `<prefix>-<account>-<region>`. */
export async function stateBucketRegions(deps: Pick<SweepDeps, 's3' | 'accountId' | 'bucketPrefix'>): Promise<string[]> {
  const marker = stateBucketName(deps.accountId, 'REGION', deps.bucketPrefix).replace(/region$/, '');
  const regions: string[] = [];
  let token: string | undefined;
  do {
    const page = await deps.s3.send(new ListBucketsCommand({ ContinuationToken: token, Prefix: marker }));
    for (const bucket of page.Buckets ?? []) {
      const region = bucket.Name?.startsWith(marker) ? bucket.Name.slice(marker.length) : undefined;
      if (region && stateBucketName(deps.accountId, region, deps.bucketPrefix) === bucket.Name) regions.push(region);
    }
    token = page.ContinuationToken;
  } while (token);
  return regions;
}

export async function sweepFabrics(event: SweepEvent, deps: SweepDeps): Promise<SweepAction[]> {
  const actions: SweepAction[] = [];
  for (const region of await stateBucketRegions(deps)) {
    const bucket = stateBucketName(deps.accountId, region, deps.bucketPrefix);
    for (const record of await listFabricRecords(deps.s3ForRegion(region), bucket)) {
      if (event.task === 'drift') {
        if (record.status !== 'READY') continue;
        // One check per fabric per minute of the schedule, however often the invocation is retried.
        const execution = sanitiseExecutionName(`drift-${record.name}-${deps.now.toISOString().slice(0, 16)}`);
        const started = await deps.start({ name: execution, input: { action: 'plan', check: 'drift', spec: record.spec } });
        actions.push({ fabric: record.name, region, kind: 'drift-check', execution, started });
        continue;
      }
      const action = leaseActionOf(record, deps.now);
      if (action === 'warn') {
        await deps.events.send(
          new PutEventsCommand({
            Entries: [
              {
                Source: EVENT_SOURCE,
                DetailType: FABRIC_EXPIRING,
                Detail: JSON.stringify({
                  name: record.name,
                  region,
                  expiresAt: record.lease?.expiresAt,
                  extendWith: extendCommand(record.name, '24h', deps.stackRegion, region),
                }),
              },
            ],
          }),
        );
        actions.push({ fabric: record.name, region, kind: 'warn' });
      } else if (action === 'destroy') {
        // Named after the lease's end: a lease extended later is a new name, a repeated sweep is not.
        const execution = sanitiseExecutionName(`expired-${record.name}-${record.lease?.expiresAt.slice(0, 16) ?? ''}`);
        const started = await deps.start({
          name: execution,
          input: { action: 'destroy', name: record.name, region, confirm: record.name },
        });
        actions.push({ fabric: record.name, region, kind: 'destroy', execution, started });
      }
    }
  }
  return actions;
}
