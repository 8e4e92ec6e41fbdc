import { CreateBucketCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { handler as Handler } from '../../lambdas/validate-spec/handler';
import { stateKeys } from '../../lib/domain/naming';
import { describeWithMoto, resetMoto, useMoto } from '../support/moto';
import { fabricOf, recordOf } from './fixtures/prepare';

// moto has no CodeCommit GetFile, so loading fabric.json from a push is tested in the core only.
describeWithMoto('ValidateSpec handler against moto', () => {
  const moto = useMoto();
  let handler: typeof Handler;
  beforeAll(async () => {
    ({ handler } = await import('../../lambdas/validate-spec/handler'));
  });
  beforeEach(async () => resetMoto(moto.current()));

  const event = (input: unknown) => ({
    input,
    execution: 'arn:aws:states:us-east-2:123456789012:execution:FabricProvisioner:run-1',
    startedAt: '2030-01-01T00:00:00.000Z',
  });

  test("GIVEN a minimal spec WHEN validated THEN the state bucket is named from moto's account and nothing is created", async () => {
    const fabric = await handler(event({ spec: { name: 'Demo', domain: 'example.com' } }));
    expect(fabric).toMatchObject({
      action: 'provision',
      name: 'demo',
      clusterName: 'demo.example.com',
      stateBucket: 'fabricctl-state-123456789012-us-east-2',
      lock: { expiresAt: '2030-01-01T03:00:00.000Z' },
    });
    expect((await new S3Client({ forcePathStyle: true }).send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
  });

  test("fails when the region does not exist in EC2's region list", async () => {
    await expect(handler(event({ spec: { name: 'demo', domain: 'example.com', region: 'xx-nowhere-1' } }))).rejects.toMatchObject({
      name: 'FabricSpecInvalid',
      problems: [expect.objectContaining({ field: 'spec.region', received: '"xx-nowhere-1"' })],
    });
  });

  test('GIVEN a recorded fabric WHEN destroy names it THEN its recorded spec is used', async () => {
    const recorded = fabricOf({ region: 'us-east-1', tags: { from: 'record' } });
    const s3 = new S3Client({ region: 'us-east-1', forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'fabricctl-state-123456789012-us-east-1' }));
    await s3.send(
      new PutObjectCommand({
        Bucket: 'fabricctl-state-123456789012-us-east-1',
        Key: stateKeys.record('demo'),
        Body: JSON.stringify(recordOf(recorded, ['us-east-1a', 'us-east-1b', 'us-east-1c'])),
      }),
    );

    const fabric = await handler(event({ action: 'destroy', name: 'demo', region: 'us-east-1', confirm: 'demo' }));
    expect(fabric).toMatchObject({ action: 'destroy', region: 'us-east-1', spec: { tags: { from: 'record' } } });
  });

  test('fails when destroy names a fabric with no record (no state bucket yet)', async () => {
    await expect(handler(event({ action: 'destroy', name: 'ghost', confirm: 'ghost' }))).rejects.toMatchObject({
      name: 'FabricSpecInvalid',
      message: expect.stringMatching(/no fabric ghost is recorded in region us-east-2/),
    });
  });
});
