import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { handler as Handler } from '../../lambdas/ensure-state-bucket/handler';
import { describeWithMoto, resetMoto, useMoto } from '../support/moto';
import { fabricOf } from './fixtures/prepare';

describeWithMoto('EnsureStateBucket handler against moto', () => {
  const moto = useMoto();
  let handler: typeof Handler;
  /**
   * The handler as local mode runs it (STATE_BUCKET_REQUIRE_TLS=false): moto speaks plain HTTP and,
   * like S3, refuses object reads under the TLS-only policy, so tests that read objects of an
   * existing bucket (its Terraform locks) use this one.
   */
  let plainHttpHandler: typeof Handler;
  const BUILD_ROLE = 'arn:aws:iam::123456789012:role/FabricOrchestrator-ClusterProjectRole-1';
  const ADMIN = 'arn:aws:iam::123456789012:role/Admin';
  beforeAll(async () => {
    // As the stack sets them (read once, at load).
    process.env.STATE_BUILD_PRINCIPAL_ARNS = BUILD_ROLE;
    process.env.STATE_ADMIN_PRINCIPAL_ARNS = ADMIN;
    process.env.BUILD_PROJECT_NAMES = 'NetworkProject,NetworkLambdaProject,ClusterProject,ClusterLambdaProject';
    ({ handler } = await import('../../lambdas/ensure-state-bucket/handler'));
    process.env.STATE_BUCKET_REQUIRE_TLS = 'false';
    jest.isolateModules(() => {
      // A second copy of the handler, loaded after the environment changes: it reads it at load.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      ({ handler: plainHttpHandler } = require('../../lambdas/ensure-state-bucket/handler') as { handler: typeof Handler });
    });
    delete process.env.STATE_BUCKET_REQUIRE_TLS;
  });
  beforeEach(async () => resetMoto(moto.current()));

  const s3 = (region: string) => new S3Client({ region, forcePathStyle: true });

  test('GIVEN no bucket in us-east-2 WHEN ensured THEN it is created in us-east-2 with every protection and the tags', async () => {
    const fabric = fabricOf({ tags: { team: 'platform' } });
    await expect(handler({ fabric })).resolves.toEqual({
      bucket: 'fabricctl-state-123456789012-us-east-2',
      region: 'us-east-2',
      exists: true,
      created: true,
    });

    const client = s3('us-east-2');
    const Bucket = fabric.stateBucket;
    expect((await client.send(new GetBucketLocationCommand({ Bucket }))).LocationConstraint).toBe('us-east-2');
    expect((await client.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Enabled');
    expect(
      (await client.send(new GetBucketEncryptionCommand({ Bucket }))).ServerSideEncryptionConfiguration?.Rules?.[0]
        ?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm,
    ).toBe('AES256');
    expect((await client.send(new GetPublicAccessBlockCommand({ Bucket }))).PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    expect((await client.send(new GetBucketOwnershipControlsCommand({ Bucket }))).OwnershipControls?.Rules?.[0]?.ObjectOwnership).toBe(
      'BucketOwnerEnforced',
    );
    const policy = JSON.parse((await client.send(new GetBucketPolicyCommand({ Bucket }))).Policy ?? '{}');
    expect(policy.Statement.map((s: { Sid: string }) => s.Sid)).toEqual([
      'DenyInsecureTransport',
      'DenyKopsSecretReadsToOthers',
      'DenyTerraformStateReadsToOthers',
    ]);
    expect(policy.Statement[0]).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    const tags = (await client.send(new GetBucketTaggingCommand({ Bucket }))).TagSet ?? [];
    expect(tags).toEqual(
      expect.arrayContaining([
        { Key: 'team', Value: 'platform' },
        { Key: 'fabricctl:managed', Value: 'true' },
      ]),
    );
  });

  test('GIVEN no bucket in us-east-1 WHEN ensured THEN created (moto, as S3, rejects LocationConstraint us-east-1: defect 2)', async () => {
    const fabric = fabricOf({ region: 'us-east-1' });
    await expect(handler({ fabric })).resolves.toMatchObject({ bucket: 'fabricctl-state-123456789012-us-east-1', created: true });
    await expect(s3('us-east-1').send(new HeadBucketCommand({ Bucket: fabric.stateBucket }))).resolves.toBeDefined();
  });

  test('GIVEN the bucket exists from an earlier run WHEN ensured again THEN it is verified and left as it is', async () => {
    await plainHttpHandler({ fabric: fabricOf({ tags: { team: 'first' } }) });
    await expect(plainHttpHandler({ fabric: fabricOf({ tags: { team: 'second' } }) })).resolves.toMatchObject({
      exists: true,
      created: false,
    });
    const tags =
      (await s3('us-east-2').send(new GetBucketTaggingCommand({ Bucket: 'fabricctl-state-123456789012-us-east-2' }))).TagSet ?? [];
    expect(tags).toEqual(expect.arrayContaining([{ Key: 'team', Value: 'first' }]));
  });

  // moto evaluates ArnNotLike on aws:PrincipalArn only partly: the denial itself is tested on the document (core test).
  test("GIVEN the stack's build role and admin WHEN a bucket is created THEN S3 keeps secret-read denials naming just them", async () => {
    const fabric = fabricOf();
    await handler({ fabric });
    const policy = JSON.parse((await s3('us-east-2').send(new GetBucketPolicyCommand({ Bucket: fabric.stateBucket }))).Policy ?? '{}');
    const arn = `arn:aws:s3:::${fabric.stateBucket}`;
    expect(policy.Statement.slice(1)).toEqual([
      {
        Sid: 'DenyKopsSecretReadsToOthers',
        Effect: 'Deny',
        Principal: '*',
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: [`${arn}/fabrics/*/kops/*/pki/private/*`, `${arn}/fabrics/*/kops/*/secrets/*`],
        Condition: { ArnNotLike: { 'aws:PrincipalArn': [BUILD_ROLE, 'arn:aws:iam::123456789012:role/masters.*', ADMIN] } },
      },
      {
        Sid: 'DenyTerraformStateReadsToOthers',
        Effect: 'Deny',
        Principal: '*',
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: [`${arn}/fabrics/*/*.tfstate`],
        Condition: { ArnNotLike: { 'aws:PrincipalArn': [BUILD_ROLE, ADMIN] } },
      },
    ]);
  });

  test('GIVEN an existing bucket without our policy WHEN ensured THEN the policy gains our statements again', async () => {
    const Bucket = 'fabricctl-state-123456789012-us-east-2';
    await plainHttpHandler({ fabric: fabricOf() });
    const client = s3('us-east-2');
    await client.send(new DeleteBucketPolicyCommand({ Bucket }));
    await expect(plainHttpHandler({ fabric: fabricOf() })).resolves.toMatchObject({ exists: true, created: false });
    const policy = JSON.parse((await client.send(new GetBucketPolicyCommand({ Bucket }))).Policy ?? '{}');
    expect(policy.Statement.map((s: { Sid: string }) => s.Sid)).toEqual(['DenyKopsSecretReadsToOthers', 'DenyTerraformStateReadsToOthers']);
  });

  test('GIVEN no bucket WHEN planning THEN nothing is created', async () => {
    await expect(handler({ fabric: fabricOf({}, 'plan') })).resolves.toMatchObject({ exists: false, created: false });
    await expect(s3('us-east-2').send(new HeadBucketCommand({ Bucket: 'fabricctl-state-123456789012-us-east-2' }))).rejects.toMatchObject({
      name: 'NotFound',
    });
  });

  test('fails when the existing bucket has no versioning and no encryption, and leaves it unchanged', async () => {
    const Bucket = 'fabricctl-state-123456789012-us-east-2';
    await s3('us-east-2').send(new CreateBucketCommand({ Bucket, CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }));
    await expect(handler({ fabric: fabricOf() })).rejects.toMatchObject({
      name: 'StateBucketMisconfigured',
      message: expect.stringMatching(/versioning is off.*default encryption is off/),
    });
    expect((await s3('us-east-2').send(new GetBucketVersioningCommand({ Bucket }))).Status).toBeUndefined();
  });

  describe('stale Terraform locks', () => {
    // What Terraform 1.11's S3 backend writes to <state key>.tflock (use_lockfile).
    const lockInfo = {
      ID: '5d1a6c1e-0b7e-7a4f-1c2d-3e4f5a6b7c8d',
      Operation: 'OperationTypeApply',
      Info: '',
      Who: 'root@ip-10-0-1-2',
      Version: '1.11.4',
      Created: '2026-11-30T22:14:03.123456Z',
      Path: 'fabricctl-state-123456789012-us-east-2/fabrics/demo/cluster.tfstate',
    };
    const lockKey = 'fabrics/demo/cluster.tfstate.tflock';

    async function leaveLock(fabric: ReturnType<typeof fabricOf>): Promise<void> {
      await plainHttpHandler({ fabric });
      await s3('us-east-2').send(new PutObjectCommand({ Bucket: fabric.stateBucket, Key: lockKey, Body: JSON.stringify(lockInfo) }));
    }

    test(
      'GIVEN a lock a stopped build left and no build of the fabric running WHEN ensured ' +
        'THEN the lock is released, reported, and kept as an old version',
      async () => {
        const fabric = fabricOf();
        await leaveLock(fabric);
        const result = await plainHttpHandler({ fabric });
        expect(result.releasedLocks).toEqual([
          { key: lockKey, id: lockInfo.ID, operation: 'OperationTypeApply', who: 'root@ip-10-0-1-2', created: lockInfo.Created },
        ]);
        const client = s3('us-east-2');
        await expect(client.send(new GetObjectCommand({ Bucket: fabric.stateBucket, Key: lockKey }))).rejects.toMatchObject({
          name: 'NoSuchKey',
        });
        const versions = await client.send(new ListObjectVersionsCommand({ Bucket: fabric.stateBucket, Prefix: lockKey }));
        expect(versions.Versions?.length).toBe(1);
        expect(versions.DeleteMarkers?.length).toBe(1);
      },
    );

    test('GIVEN a lock WHEN planning THEN it is left alone (plan takes no lock and writes nothing)', async () => {
      const fabric = fabricOf();
      await leaveLock(fabric);
      const result = await plainHttpHandler({ fabric: { ...fabric, action: 'plan' } });
      expect(result.releasedLocks).toBeUndefined();
      await expect(s3('us-east-2').send(new GetObjectCommand({ Bucket: fabric.stateBucket, Key: lockKey }))).resolves.toBeDefined();
    });

    test('GIVEN no lock WHEN ensured THEN nothing is released', async () => {
      const fabric = fabricOf();
      await plainHttpHandler({ fabric });
      await expect(plainHttpHandler({ fabric })).resolves.toEqual({
        bucket: fabric.stateBucket,
        region: 'us-east-2',
        exists: true,
        created: false,
      });
    });
  });
});
