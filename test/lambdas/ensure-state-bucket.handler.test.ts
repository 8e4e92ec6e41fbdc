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
  HeadBucketCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { handler as Handler } from '../../lambdas/ensure-state-bucket/handler';
import { describeWithMoto, resetMoto, useMoto } from '../support/moto';
import { fabricOf } from './fixtures/prepare';

describeWithMoto('EnsureStateBucket handler against moto', () => {
  const moto = useMoto();
  let handler: typeof Handler;
  const BUILD_ROLE = 'arn:aws:iam::123456789012:role/FabricOrchestrator-ClusterProjectRole-1';
  const ADMIN = 'arn:aws:iam::123456789012:role/Admin';
  beforeAll(async () => {
    // As the stack sets them (read once, at load).
    process.env.STATE_BUILD_PRINCIPAL_ARNS = BUILD_ROLE;
    process.env.STATE_ADMIN_PRINCIPAL_ARNS = ADMIN;
    ({ handler } = await import('../../lambdas/ensure-state-bucket/handler'));
  });
  beforeEach(async () => resetMoto(moto.current()));

  const s3 = (region: string) => new S3Client({ region, forcePathStyle: true });

  test('GIVEN no bucket in us-east-2 WHEN ensured THEN it is created in us-east-2 with every protection and the tags', async () => {
    const fabric = fabricOf({ tags: { team: 'platform' } });
    await expect(handler({ fabric })).resolves.toEqual({ bucket: 'fabricctl-state-123456789012-us-east-2', region: 'us-east-2', exists: true, created: true });

    const client = s3('us-east-2');
    const Bucket = fabric.stateBucket;
    expect((await client.send(new GetBucketLocationCommand({ Bucket }))).LocationConstraint).toBe('us-east-2');
    expect((await client.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Enabled');
    expect((await client.send(new GetBucketEncryptionCommand({ Bucket }))).ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
    expect((await client.send(new GetPublicAccessBlockCommand({ Bucket }))).PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    expect((await client.send(new GetBucketOwnershipControlsCommand({ Bucket }))).OwnershipControls?.Rules?.[0]?.ObjectOwnership).toBe('BucketOwnerEnforced');
    const policy = JSON.parse((await client.send(new GetBucketPolicyCommand({ Bucket }))).Policy ?? '{}');
    expect(policy.Statement.map((s: { Sid: string }) => s.Sid)).toEqual(['DenyInsecureTransport', 'DenyKopsSecretReadsToOthers', 'DenyTerraformStateReadsToOthers']);
    expect(policy.Statement[0]).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    const tags = (await client.send(new GetBucketTaggingCommand({ Bucket }))).TagSet ?? [];
    expect(tags).toEqual(expect.arrayContaining([{ Key: 'team', Value: 'platform' }, { Key: 'fabricctl:managed', Value: 'true' }]));
  });

  test('GIVEN no bucket in us-east-1 WHEN ensured THEN it is created (moto, like S3, rejects a LocationConstraint of us-east-1: defect 2)', async () => {
    const fabric = fabricOf({ region: 'us-east-1' });
    await expect(handler({ fabric })).resolves.toMatchObject({ bucket: 'fabricctl-state-123456789012-us-east-1', created: true });
    await expect(s3('us-east-1').send(new HeadBucketCommand({ Bucket: fabric.stateBucket }))).resolves.toBeDefined();
  });

  test('GIVEN the bucket exists from an earlier run WHEN ensured again THEN it is verified and left as it is', async () => {
    await handler({ fabric: fabricOf({ tags: { team: 'first' } }) });
    await expect(handler({ fabric: fabricOf({ tags: { team: 'second' } }) })).resolves.toMatchObject({ exists: true, created: false });
    const tags = (await s3('us-east-2').send(new GetBucketTaggingCommand({ Bucket: 'fabricctl-state-123456789012-us-east-2' }))).TagSet ?? [];
    expect(tags).toEqual(expect.arrayContaining([{ Key: 'team', Value: 'first' }]));
  });

  // moto stores bucket policies but does not evaluate them: the denial itself is tested on the document (core test).
  test('GIVEN the stack\'s build role and admin WHEN a bucket is created THEN S3 keeps the secret-read denials naming exactly them', async () => {
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
    await handler({ fabric: fabricOf() });
    const client = s3('us-east-2');
    await client.send(new DeleteBucketPolicyCommand({ Bucket }));
    await expect(handler({ fabric: fabricOf() })).resolves.toMatchObject({ exists: true, created: false });
    const policy = JSON.parse((await client.send(new GetBucketPolicyCommand({ Bucket }))).Policy ?? '{}');
    expect(policy.Statement.map((s: { Sid: string }) => s.Sid)).toEqual(['DenyInsecureTransport', 'DenyKopsSecretReadsToOthers', 'DenyTerraformStateReadsToOthers']);
  });

  test('GIVEN no bucket WHEN planning THEN nothing is created', async () => {
    await expect(handler({ fabric: fabricOf({}, 'plan') })).resolves.toMatchObject({ exists: false, created: false });
    await expect(s3('us-east-2').send(new HeadBucketCommand({ Bucket: 'fabricctl-state-123456789012-us-east-2' }))).rejects.toMatchObject({ name: 'NotFound' });
  });

  test('fails when the existing bucket has no versioning and no encryption, and leaves it unchanged', async () => {
    const Bucket = 'fabricctl-state-123456789012-us-east-2';
    await s3('us-east-2').send(new CreateBucketCommand({ Bucket, CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }));
    await expect(handler({ fabric: fabricOf() })).rejects.toMatchObject({ name: 'StateBucketMisconfigured', message: expect.stringMatching(/versioning is off.*default encryption is off/) });
    expect((await s3('us-east-2').send(new GetBucketVersioningCommand({ Bucket }))).Status).toBeUndefined();
  });
});
