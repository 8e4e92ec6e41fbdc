import { ListBucketsCommand, ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3';
import type { FabricRecord } from '../../lib/domain/contract';
import { stateBucketRegions, sweepFabrics, RunRequest } from '../../lambdas/sweep-fabrics/core';
import { leaseActionOf } from '../../lib/domain/leases';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const record = (overrides: Partial<FabricRecord> = {}): FabricRecord => ({
  name: 'dev',
  clusterName: 'dev.example.com',
  status: 'READY',
  spec: { name: 'dev' } as FabricRecord['spec'],
  zones: [],
  outputs: { stateBucket: 'fabricctl-state-123456789012-us-east-2' },
  lastExecution: 'arn:aws:states:us-east-2:123456789012:execution:FabricOrchestrator:x',
  createdAt: NOW.toISOString(),
  updatedAt: NOW.toISOString(),
  ...overrides,
});
const lease = (expiresAt: Date, expiresAfter = '72h') => ({ expiresAt: expiresAt.toISOString(), expiresAfter });
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);

describe('leaseActionOf', () => {
  test('GIVEN no lease, or a fabric already destroyed or being destroyed THEN nothing', () => {
    expect(leaseActionOf(record(), NOW)).toBeUndefined();
    expect(leaseActionOf(record({ status: 'DESTROYED', lease: lease(minutes(-5)) }), NOW)).toBeUndefined();
    expect(leaseActionOf(record({ status: 'DESTROYING', lease: lease(minutes(-5)) }), NOW)).toBeUndefined();
  });

  test('GIVEN an expired lease THEN destroy, whatever the status (a FAILED fabric may hold resources)', () => {
    expect(leaseActionOf(record({ lease: lease(NOW) }), NOW)).toBe('destroy');
    expect(leaseActionOf(record({ status: 'FAILED', lease: lease(minutes(-1)) }), NOW)).toBe('destroy');
  });

  test('GIVEN a 14d lease THEN the warning falls 24h before its end, in one 15-minute sweep window only', () => {
    expect(leaseActionOf(record({ lease: lease(minutes(24 * 60), '14d') }), NOW)).toBe('warn');
    expect(leaseActionOf(record({ lease: lease(minutes(24 * 60 - 14), '14d') }), NOW)).toBe('warn');
    expect(leaseActionOf(record({ lease: lease(minutes(24 * 60 - 15), '14d') }), NOW)).toBeUndefined();
    expect(leaseActionOf(record({ lease: lease(minutes(24 * 60 + 1), '14d') }), NOW)).toBeUndefined();
  });

  test('GIVEN a 2h lease THEN the warning comes a quarter of it (30 minutes) before the end', () => {
    expect(leaseActionOf(record({ lease: lease(minutes(30), '2h') }), NOW)).toBe('warn');
    expect(leaseActionOf(record({ lease: lease(minutes(45), '2h') }), NOW)).toBeUndefined();
  });
});

/** S3 with the given buckets, each holding records by name. */
function fakeS3(buckets: Record<string, FabricRecord[]>) {
  return {
    send: async (command: unknown) => {
      if (command instanceof ListBucketsCommand) return { Buckets: Object.keys(buckets).map((Name) => ({ Name })) };
      if (command instanceof ListObjectsV2Command) {
        return { CommonPrefixes: (buckets[command.input.Bucket ?? ''] ?? []).map((r) => ({ Prefix: `fabrics/${r.name}/` })) };
      }
      if (command instanceof GetObjectCommand) {
        const name = command.input.Key?.split('/')[1];
        const found = (buckets[command.input.Bucket ?? ''] ?? []).find((r) => r.name === name);
        if (!found) throw Object.assign(new Error('missing'), { name: 'NoSuchKey' });
        return { Body: { transformToString: async () => JSON.stringify(found) } };
      }
      throw new Error(`unexpected ${String(command)}`);
    },
  };
}

describe('sweepFabrics', () => {
  const buckets = {
    'fabricctl-state-123456789012-us-east-2': [
      record({ name: 'old', lease: lease(minutes(-1)) }),
      record({ name: 'soon', lease: lease(minutes(24 * 60), '14d') }),
      record({ name: 'kept' }),
      record({ name: 'broken', status: 'FAILED' }),
    ],
    'fabricctl-state-123456789012-eu-west-1': [record({ name: 'far' })],
    // Another account's or another prefix's buckets are not ours.
    'fabricctl-state-999999999999-us-east-2': [record({ name: 'foreign', lease: lease(minutes(-1)) })],
    'other-123456789012-us-east-2': [record({ name: 'stranger', lease: lease(minutes(-1)) })],
  };
  const deps = (started: RunRequest[], put: unknown[]) => {
    const s3 = fakeS3(buckets);
    return {
      s3,
      s3ForRegion: () => s3,
      events: {
        send: async (command: { input: unknown }) => {
          put.push(command.input);
          return {};
        },
      },
      accountId: '123456789012',
      // The stack in eu-west-1; fabric soon lives in us-east-2.
      stackRegion: 'eu-west-1',
      bucketPrefix: 'fabricctl-state',
      now: NOW,
      start: async (request: RunRequest) => {
        started.push(request);
        return true;
      },
    } as never;
  };

  test("GIVEN the account's buckets THEN only this account's state buckets are swept, by region", async () => {
    expect(await stateBucketRegions(deps([], []))).toEqual(['us-east-2', 'eu-west-1']);
  });

  test(
    'GIVEN the lease sweep ' +
      'THEN an expired fabric is destroyed by name with its confirm, a fabric 24h from its end is warned about, others are left',
    async () => {
      const started: RunRequest[] = [];
      const put: Array<{ Entries: Array<{ DetailType: string; Detail: string }> }> = [];
      const actions = await sweepFabrics({ task: 'leases' }, deps(started, put));
      expect(actions.map((a) => `${a.fabric} ${a.kind}`)).toEqual(['old destroy', 'soon warn']);
      expect(started).toEqual([
        { name: 'expired-old-2026-12-01T11-59', input: { action: 'destroy', name: 'old', region: 'us-east-2', confirm: 'old' } },
      ]);
      expect(put.map((p) => p.Entries[0]?.DetailType)).toEqual(['Fabric Expiring']);
      expect(JSON.parse(put[0]?.Entries[0]?.Detail ?? '{}')).toEqual({
        name: 'soon',
        region: 'us-east-2',
        expiresAt: minutes(24 * 60).toISOString(),
        extendWith: 'fabricctl extend soon 24h --region eu-west-1 --fabric-region us-east-2',
      });
    },
  );

  test('GIVEN a drift sweep THEN each READY fabric in all regions: a drift-check plan of its recorded spec, named per minute', async () => {
    const started: RunRequest[] = [];
    await sweepFabrics({ task: 'drift' }, deps(started, []));
    expect(started.map((s) => s.name)).toEqual([
      'drift-kept-2026-12-01T12-00',
      'drift-old-2026-12-01T12-00',
      'drift-soon-2026-12-01T12-00',
      'drift-far-2026-12-01T12-00',
    ]);
    expect(started[0]?.input).toEqual({ action: 'plan', check: 'drift', spec: { name: 'dev' } });
  });
});
