import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { handler as Handler } from '../../lambdas/discover-zones/handler';
import { stateKeys } from '../../lib/domain/naming';
import { describeWithMoto, resetMoto, useMoto } from '../support/moto';
import { fabricOf, recordOf } from './fixtures/prepare';

describeWithMoto('DiscoverZones handler against moto', () => {
  const moto = useMoto();
  let handler: typeof Handler;
  beforeAll(async () => {
    // Imported after moto is up: the handler builds a client at module load.
    ({ handler } = await import('../../lambdas/discover-zones/handler'));
  });
  beforeEach(async () => resetMoto(moto.current()));

  test('GIVEN us-east-2 (three zones in moto) and no record WHEN discovered THEN a, b and c are chosen', async () => {
    await expect(handler({ fabric: fabricOf() })).resolves.toEqual({
      zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'],
      zonesCsv: 'us-east-2a,us-east-2b,us-east-2c',
      origin: 'discovered',
    });
  });

  test('GIVEN us-east-1 (six zones in moto) and zoneCount 5 WHEN discovered THEN the first five by name are chosen', async () => {
    expect((await handler({ fabric: fabricOf({ region: 'us-east-1', zoneCount: 5 }) })).zones).toEqual([
      'us-east-1a',
      'us-east-1b',
      'us-east-1c',
      'us-east-1d',
      'us-east-1e',
    ]);
  });

  test('fails with InsufficientZones in us-west-1, which has two zones in moto', async () => {
    await expect(handler({ fabric: fabricOf({ region: 'us-west-1' }) })).rejects.toMatchObject({
      name: 'InsufficientZones',
      message: expect.stringMatching(/us-west-1 has 2 usable availability zone\(s\) \(us-west-1a, us-west-1b\)/),
    });
  });

  test('fails when a pinned zone does not exist in the region', async () => {
    await expect(handler({ fabric: fabricOf({ zones: ['us-east-2a', 'us-east-2b', 'us-east-2d'] }) })).rejects.toMatchObject({
      name: 'FabricSpecInvalid',
      problems: [expect.objectContaining({ field: 'zones' })],
    });
  });

  test('GIVEN pinned zones that exist WHEN discovered THEN they are used', async () => {
    expect((await handler({ fabric: fabricOf({ zones: ['us-east-2b', 'us-east-2c', 'us-east-2a'] }) })).origin).toBe('pinned');
  });

  test('GIVEN a fabric record in the state bucket WHEN discovered THEN its zones are reused', async () => {
    const fabric = fabricOf({ region: 'us-east-1' });
    const s3 = new S3Client({ region: 'us-east-1', forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: fabric.stateBucket }));
    await s3.send(
      new PutObjectCommand({
        Bucket: fabric.stateBucket,
        Key: stateKeys.record('demo'),
        Body: JSON.stringify(recordOf(fabric, ['us-east-1d', 'us-east-1e', 'us-east-1f'])),
      }),
    );
    await expect(handler({ fabric })).resolves.toMatchObject({ zones: ['us-east-1d', 'us-east-1e', 'us-east-1f'], origin: 'recorded' });
  });
});
