import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { buildRecord, LockTable, recordFabric } from '../../lambdas/record-fabric/core';
import type { FabricRecord, NetworkJobResult, RecordEvent } from '../../lib/domain/contract';
import { testCluster, testFabric, testPrepared } from './fixtures/late-stages';

const fabric = testFabric();
const NOW = new Date('2026-03-01T12:00:00.000Z');
const network: NetworkJobResult = {
  action: 'provision',
  vpcId: 'vpc-123',
  vpcCidr: '10.10.0.0/16',
  zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'],
  subnetIds: { 'us-east-2a': 'subnet-a', 'us-east-2b': 'subnet-b', 'us-east-2c': 'subnet-c' },
  subnetIdsCsv: 'subnet-a,subnet-b,subnet-c',
  securityGroupId: 'sg-1',
  changes: { add: 0, change: 0, destroy: 0 },
  planDigest: '',
};

function previousRecord(overrides: Partial<FabricRecord> = {}): FabricRecord {
  return {
    name: 'demo',
    clusterName: 'demo.example.com',
    status: 'READY',
    spec: fabric.spec,
    zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'],
    outputs: { vpcId: 'vpc-old', apiName: 'api.demo.example.com', kubeconfigSecretArn: 'arn:kc', stateBucket: fabric.stateBucket },
    lastExecution: 'arn:old',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:30:00.000Z',
    ...overrides,
  };
}

describe('buildRecord', () => {
  test('GIVEN a successful first run WHEN built THEN READY with zones, outputs and both times now', () => {
    const event: RecordEvent = {
      status: 'READY',
      state: {
        fabric,
        prepared: testPrepared(),
        jobs: { network: { result: network, buildId: 'b1' }, cluster: { result: testCluster(fabric, 'arn:kc'), buildId: 'b2' } },
      },
    };
    expect(buildRecord(event, undefined, NOW)).toEqual({
      name: 'demo',
      clusterName: 'demo.example.com',
      status: 'READY',
      spec: fabric.spec,
      zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'],
      outputs: {
        vpcId: 'vpc-123',
        subnetIds: network.subnetIds,
        apiName: 'api.demo.example.com',
        kubeconfigSecretArn: 'arn:kc',
        stateBucket: fabric.stateBucket,
      },
      lastExecution: fabric.execution,
      createdAt: NOW.toISOString(),
      updatedAt: NOW.toISOString(),
    });
  });

  test('GIVEN an existing record WHEN a later run is built THEN createdAt is kept and updatedAt moves', () => {
    const record = buildRecord({ status: 'READY', state: { fabric, prepared: testPrepared() } }, previousRecord(), NOW);
    expect(record.createdAt).toBe('2026-01-01T00:00:00.000Z');
    expect(record.updatedAt).toBe(NOW.toISOString());
  });

  test('GIVEN a failure with an error WHEN built THEN FAILED with lastError from the Catch', () => {
    const record = buildRecord(
      { status: 'FAILED', state: { fabric, error: { Error: 'ClusterNotReady', Cause: 'dns: NOT ready' } } },
      undefined,
      NOW,
    );
    expect(record.status).toBe('FAILED');
    expect(record.lastError).toEqual({ error: 'ClusterNotReady', cause: 'dns: NOT ready' });
  });

  test('GIVEN a failed previous run WHEN a success is built THEN the old lastError is gone', () => {
    const record = buildRecord(
      { status: 'READY', state: { fabric } },
      previousRecord({ status: 'FAILED', lastError: { error: 'X', cause: 'y' } }),
      NOW,
    );
    expect(record.lastError).toBeUndefined();
  });

  test('GIVEN a failure before zones were chosen WHEN built THEN the zones and outputs of the previous record are kept', () => {
    const record = buildRecord(
      { status: 'FAILED', state: { fabric, error: { Error: 'FabricBusy', Cause: 'locked' } } },
      previousRecord(),
      NOW,
    );
    expect(record.zones).toEqual(['us-east-2a', 'us-east-2b', 'us-east-2c']);
    expect(record.outputs.vpcId).toBe('vpc-old');
  });

  test('GIVEN a destroy WHEN built THEN DESTROYED keeps only the state bucket as output', () => {
    const record = buildRecord(
      { status: 'DESTROYED', state: { fabric, jobs: { network: { result: network, buildId: 'b' } } } },
      previousRecord(),
      NOW,
    );
    expect(record.status).toBe('DESTROYED');
    expect(record.outputs).toEqual({ stateBucket: fabric.stateBucket });
  });

  test('GIVEN a run started by a git push WHEN built THEN the source is recorded', () => {
    const source = { provider: 'github' as const, repository: 'acme/fabrics', branch: 'fabric/demo', commit: 'abc123' };
    expect(buildRecord({ status: 'READY', state: { fabric: { ...fabric, source } } }, undefined, NOW).source).toEqual(source);
  });
});

/** A lock table whose item for the fabric names `holder` (none: the fabric is not locked). */
function lockHeldBy(holder: string | undefined, reads: GetItemCommand[] = []): LockTable {
  return {
    table: 'locks',
    dynamodb: {
      send: async (c: unknown) => {
        if (!(c instanceof GetItemCommand)) throw new Error('only GetItem expected on the lock table');
        reads.push(c);
        return { Item: holder === undefined ? undefined : { fabric: { S: 'demo' }, holder: { S: holder } } };
      },
    } as unknown as LockTable['dynamodb'],
  };
}
const ours = lockHeldBy(fabric.execution);

function s3Error(name: string, status: number): Error {
  const error = new Error(name) as Error & { $metadata: { httpStatusCode: number } };
  error.name = name;
  error.$metadata = { httpStatusCode: status };
  return error;
}

describe('buildRecord: day 2 (in-progress statuses, approvals, leases, drift)', () => {
  const clusterPlan = (changes: { add: number; change: number; destroy: number }, rolls: string[] = []) => ({
    ...testCluster(fabric, ''),
    action: 'plan' as const,
    changes,
    planDigest: 'c'.repeat(64),
    rolls,
  });
  const networkPlan = { ...network, action: 'plan' as const, changes: { add: 0, change: 1, destroy: 0 }, planDigest: 'n'.repeat(64) };

  test('GIVEN a provision starts on a READY fabric WHEN PROVISIONING is built THEN READY is kept as statusBeforeRun, outputs stay', () => {
    const record = buildRecord({ status: 'PROVISIONING', state: { fabric, prepared: testPrepared() } }, previousRecord(), NOW);
    expect(record).toMatchObject({ status: 'PROVISIONING', statusBeforeRun: 'READY', outputs: { vpcId: 'vpc-old' } });
  });

  test('GIVEN a run waits for approval WHEN built THEN AWAITING_APPROVAL carries the plan summary and the status before the run', () => {
    const inProgress = previousRecord({ status: 'PROVISIONING', statusBeforeRun: 'READY' });
    const state = {
      fabric,
      prepared: testPrepared(),
      jobs: {
        network: { result: networkPlan, buildId: 'p1' },
        cluster: { result: clusterPlan({ add: 0, change: 2, destroy: 0 }, ['nodes']), buildId: 'p2' },
      },
    };
    const record = buildRecord({ status: 'AWAITING_APPROVAL', state }, inProgress, NOW);
    expect(record.statusBeforeRun).toBe('READY');
    expect(record.outputs.vpcId).toBe('vpc-old');
    expect(record.pendingPlan).toEqual({
      network: { add: 0, change: 1, destroy: 0 },
      cluster: { add: 0, change: 2, destroy: 0 },
      rolls: ['nodes'],
      digests: { network: 'n'.repeat(64), cluster: 'c'.repeat(64) },
      lines: [
        'network (Terraform): 0 to add, 1 to change, 0 to destroy',
        'cluster (kops Terraform): 0 to add, 2 to change, 0 to destroy',
        'kops rolls: nodes (control plane first, one instance at a time)',
      ],
    });
  });

  test.each(['ApprovalRejected', 'ApprovalTimedOut'])(
    'GIVEN %s WHEN the failure is built THEN the fabric gets its status before the run back, with the error kept',
    (error) => {
      const waiting = previousRecord({ status: 'AWAITING_APPROVAL', statusBeforeRun: 'READY' });
      const record = buildRecord(
        { status: 'FAILED', state: { fabric, error: { Error: error, Cause: 'nothing was applied' } } },
        waiting,
        NOW,
      );
      expect(record).toMatchObject({ status: 'READY', lastError: { error, cause: 'nothing was applied' } });
      expect(record.statusBeforeRun).toBeUndefined();
      expect(record.pendingPlan).toBeUndefined();
    },
  );

  test("GIVEN a run in progress or a rejected plan WHEN built THEN the record keeps the applied spec (what exists), not the run's", () => {
    const applied = previousRecord();
    const upgrade = { ...fabric, spec: { ...fabric.spec, kubernetes: { ...fabric.spec.kubernetes, version: '1.36.4' } } };
    const waiting = buildRecord(
      { status: 'AWAITING_APPROVAL', state: { fabric: upgrade } },
      buildRecord({ status: 'PROVISIONING', state: { fabric: upgrade } }, applied, NOW),
      NOW,
    );
    expect(waiting.spec).toBe(applied.spec);
    const rejected = buildRecord(
      { status: 'FAILED', state: { fabric: upgrade, error: { Error: 'ApprovalRejected', Cause: 'no' } } },
      waiting,
      NOW,
    );
    expect({ status: rejected.status, version: rejected.spec.kubernetes.version, lastExecution: rejected.lastExecution }).toEqual({
      status: 'READY',
      version: applied.spec.kubernetes.version,
      lastExecution: upgrade.execution,
    });
    expect(buildRecord({ status: 'READY', state: { fabric: upgrade } }, waiting, NOW).spec.kubernetes.version).toBe('1.36.4');
  });

  test('GIVEN a build failure during a provision WHEN built THEN FAILED (something may have been applied)', () => {
    const record = buildRecord(
      { status: 'FAILED', state: { fabric, error: { Error: 'States.TaskFailed', Cause: 'x' } } },
      previousRecord({ status: 'PROVISIONING', statusBeforeRun: 'READY' }),
      NOW,
    );
    expect(record.status).toBe('FAILED');
  });

  test('GIVEN a provision with a lease WHEN built THEN the lease is recorded; a later run without expiresAfter drops it', () => {
    const lease = { expiresAt: '2026-03-04T12:00:00.000Z', expiresAfter: '72h' };
    expect(buildRecord({ status: 'READY', state: { fabric: { ...fabric, lease } } }, previousRecord(), NOW).lease).toEqual(lease);
    expect(buildRecord({ status: 'READY', state: { fabric } }, previousRecord({ lease }), NOW).lease).toBeUndefined();
  });

  test('GIVEN an extend run WHEN built without a status THEN only the lease moves: status, spec, last execution and error stay', () => {
    const lease = { expiresAt: '2026-03-05T12:00:00.000Z', expiresAfter: '72h' };
    const previous = previousRecord({
      status: 'READY',
      lease: { ...lease, expiresAt: '2026-03-04T12:00:00.000Z' },
      lastError: { error: 'ApprovalRejected', cause: 'x' },
    });
    const record = buildRecord({ state: { fabric: { ...fabric, action: 'extend', lease } } }, previous, NOW);
    expect(record).toMatchObject({
      status: 'READY',
      lease,
      lastExecution: 'arn:old',
      lastError: { error: 'ApprovalRejected' },
      spec: previous.spec,
    });
  });

  test(
    'GIVEN a drift check WHEN its plan is not empty ' +
      'THEN drift is recorded with the summary and the status stays; an empty plan records no drift; a provision clears it',
    () => {
      const planFabric = { ...fabric, action: 'plan' as const, check: 'drift' as const };
      const drifted = buildRecord(
        {
          check: 'drift',
          state: {
            fabric: planFabric,
            jobs: {
              network: { result: networkPlan, buildId: 'p1' },
              cluster: { result: clusterPlan({ add: 0, change: 0, destroy: 0 }), buildId: 'p2' },
            },
          },
        },
        previousRecord(),
        NOW,
      );
      expect(drifted).toMatchObject({
        status: 'READY',
        outputs: { vpcId: 'vpc-old' },
        lastExecution: 'arn:old',
        drift: { drifted: true, checkedAt: NOW.toISOString(), execution: fabric.execution, summary: { network: { change: 1 } } },
      });
      const clean = buildRecord(
        {
          check: 'drift',
          state: {
            fabric: planFabric,
            jobs: {
              network: { result: { ...networkPlan, changes: { add: 0, change: 0, destroy: 0 } }, buildId: 'p1' },
              cluster: { result: clusterPlan({ add: 0, change: 0, destroy: 0 }), buildId: 'p2' },
            },
          },
        },
        drifted,
        NOW,
      );
      expect(clean.drift?.drifted).toBe(false);
      expect(buildRecord({ status: 'READY', state: { fabric } }, drifted, NOW).drift).toBeUndefined();
    },
  );
});

describe('recordFabric', () => {
  test('GIVEN no state bucket WHEN recording a failure THEN nothing is written and the reason is returned', async () => {
    const sent: unknown[] = [];
    const s3 = {
      send: async (c: unknown) => {
        sent.push(c);
        if (c instanceof HeadBucketCommand) throw s3Error('NotFound', 404);
        throw new Error('no other call expected');
      },
    } as unknown as S3Client;
    const result = await recordFabric({ status: 'FAILED', state: { fabric, error: { Error: 'FabricSpecInvalid', Cause: 'x' } } }, s3, ours);
    expect(result).toEqual({ recorded: false, reason: expect.stringContaining(`state bucket ${fabric.stateBucket} does not exist`) });
    expect(sent.filter((c) => c instanceof PutObjectCommand)).toHaveLength(0);
  });

  test('GIVEN an unreadable previous record WHEN recording THEN a fresh record is written anyway', async () => {
    const puts: PutObjectCommand[] = [];
    const s3 = {
      send: async (c: unknown) => {
        if (c instanceof HeadBucketCommand) return {};
        if (c instanceof GetObjectCommand) return { Body: { transformToString: async () => 'not json' } };
        if (c instanceof PutObjectCommand) puts.push(c);
        return {};
      },
    } as unknown as S3Client;
    const result = await recordFabric({ status: 'READY', state: { fabric } }, s3, ours, { now: () => NOW });
    expect(puts).toHaveLength(1);
    expect(puts[0]?.input.Key).toBe('fabrics/demo/fabric.json');
    expect(JSON.parse(String(puts[0]?.input.Body))).toEqual(result);
  });

  test('fails when S3 refuses the read for another reason than a missing record', async () => {
    const s3 = {
      send: async (c: unknown) => {
        if (c instanceof HeadBucketCommand) return {};
        throw s3Error('SlowDown', 503);
      },
    } as unknown as S3Client;
    await expect(recordFabric({ status: 'READY', state: { fabric } }, s3, ours)).rejects.toMatchObject({ name: 'SlowDown' });
  });

  test('GIVEN this execution holds the lock WHEN recording THEN the lock is read strongly consistent, by fabric, first', async () => {
    const reads: GetItemCommand[] = [];
    const puts: PutObjectCommand[] = [];
    const s3 = {
      send: async (c: unknown) => {
        if (c instanceof GetObjectCommand) throw s3Error('NoSuchKey', 404);
        if (c instanceof PutObjectCommand) puts.push(c);
        return {};
      },
    } as unknown as S3Client;
    await recordFabric({ status: 'READY', state: { fabric } }, s3, lockHeldBy(fabric.execution, reads), { now: () => NOW });
    expect(reads.map((r) => r.input)).toEqual([
      { TableName: 'locks', Key: { fabric: { S: 'demo' } }, ConsistentRead: true, ProjectionExpression: 'holder' },
    ]);
    expect(puts).toHaveLength(1);
  });

  test('fails when another execution holds the lock, and writes nothing', async () => {
    const sent: unknown[] = [];
    const s3 = {
      send: async (c: unknown) => {
        sent.push(c);
        return {};
      },
    } as unknown as S3Client;
    const loser = { ...fabric, execution: 'arn:aws:states:us-east-2:123456789012:execution:FabricProvisioner:second' };
    await expect(
      recordFabric({ status: 'FAILED', state: { fabric: loser, error: { Error: 'FabricBusy', Cause: 'locked' } } }, s3, ours),
    ).rejects.toMatchObject({
      name: 'LockNotHeld',
      message: expect.stringContaining(`locked by execution ${fabric.execution}, not ${loser.execution}`),
    });
    expect(sent).toEqual([]);
  });

  test('fails when the fabric is not locked at all, and writes nothing', async () => {
    const sent: unknown[] = [];
    const s3 = {
      send: async (c: unknown) => {
        sent.push(c);
        return {};
      },
    } as unknown as S3Client;
    await expect(recordFabric({ status: 'READY', state: { fabric } }, s3, lockHeldBy(undefined))).rejects.toMatchObject({
      name: 'LockNotHeld',
      message: expect.stringContaining('is not locked'),
    });
    expect(sent).toEqual([]);
  });
});
