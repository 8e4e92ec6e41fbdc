import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { handler as Handler } from '../../lambdas/record-fabric/handler';
import type { FabricRecord } from '../../lib/domain/contract';
import { describeWithMoto, resetMoto, useMoto } from '../support/moto';
import { testFabric, testPrepared } from './fixtures/late-stages';

describeWithMoto('RecordFabric handler against moto', () => {
  const moto = useMoto();
  let handler: typeof Handler;
  const fabric = testFabric();
  const s3 = () => new S3Client({ region: 'us-east-2', forcePathStyle: true });
  const dynamodb = () => new DynamoDBClient({ region: 'us-east-2' });
  beforeAll(async () => {
    process.env.LOCK_TABLE_NAME = 'locks';
    ({ handler } = await import('../../lambdas/record-fabric/handler'));
  });
  afterAll(() => {
    delete process.env.LOCK_TABLE_NAME;
  });
  beforeEach(async () => {
    await resetMoto(moto.current());
    await dynamodb().send(
      new CreateTableCommand({
        TableName: 'locks',
        KeySchema: [{ AttributeName: 'fabric', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'fabric', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });

  async function lockFor(execution: string): Promise<void> {
    await dynamodb().send(new PutItemCommand({ TableName: 'locks', Item: { fabric: { S: 'demo' }, holder: { S: execution } } }));
  }

  async function createStateBucket(): Promise<void> {
    await s3().send(
      new CreateBucketCommand({ Bucket: fabric.stateBucket, CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }),
    );
    await s3().send(new PutBucketVersioningCommand({ Bucket: fabric.stateBucket, VersioningConfiguration: { Status: 'Enabled' } }));
  }

  async function stored(): Promise<FabricRecord> {
    const object = await s3().send(new GetObjectCommand({ Bucket: fabric.stateBucket, Key: 'fabrics/demo/fabric.json' }));
    return JSON.parse((await object.Body?.transformToString()) ?? '') as FabricRecord;
  }

  test('GIVEN a READY then a FAILED run WHEN recorded THEN the object is FAILED, keeps createdAt, zones; both versions exist', async () => {
    await createStateBucket();
    await lockFor(fabric.execution);
    const first = await handler({ status: 'READY', state: { fabric, prepared: testPrepared() } });
    await lockFor('arn:run-2');
    const second = await handler({
      status: 'FAILED',
      state: { fabric: { ...fabric, execution: 'arn:run-2' }, error: { Error: 'States.TaskFailed', Cause: 'terraform failed' } },
    });

    const record = await stored();
    expect(record).toEqual(second);
    expect(record.status).toBe('FAILED');
    expect(record.lastError).toEqual({ error: 'States.TaskFailed', cause: 'terraform failed' });
    expect(record.createdAt).toBe((first as FabricRecord).createdAt);
    expect(record.zones).toEqual(['us-east-2a', 'us-east-2b', 'us-east-2c']);
    const versions = await s3().send(new ListObjectVersionsCommand({ Bucket: fabric.stateBucket, Prefix: 'fabrics/demo/' }));
    expect(versions.Versions).toHaveLength(2);
  });

  test('GIVEN no state bucket WHEN a failure is recorded THEN recorded is false and no bucket is created', async () => {
    await lockFor(fabric.execution);
    const result = await handler({ status: 'FAILED', state: { fabric, error: { Error: 'FabricSpecInvalid', Cause: 'name: bad' } } });
    expect(result).toEqual({ recorded: false, reason: expect.stringContaining('does not exist') });
    const buckets = await s3().send(new ListBucketsCommand({}));
    expect(buckets.Buckets ?? []).toHaveLength(0);
  });

  test('fails when another execution holds the lock, and the record stays as the holder wrote it', async () => {
    await createStateBucket();
    await lockFor(fabric.execution);
    const written = await handler({ status: 'READY', state: { fabric, prepared: testPrepared() } });
    const loser = { ...fabric, execution: 'arn:run-loser' };
    await expect(
      handler({ status: 'FAILED', state: { fabric: loser, error: { Error: 'FabricBusy', Cause: 'locked' } } }),
    ).rejects.toMatchObject({ name: 'LockNotHeld' });
    expect(await stored()).toEqual(written);
  });
});
