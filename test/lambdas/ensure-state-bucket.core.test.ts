import { CreateBucketCommand, HeadBucketCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { BucketNameTaken, StateBucketMisconfigured } from '../../lib/domain/errors';
import { createBucketInput, ensureStateBucket, StateReaders, tlsOnlyPolicy } from '../../lambdas/ensure-state-bucket/core';
import { ACCOUNT, asClient, awsError, fabricOf, FakeS3 } from './fixtures/prepare';

const OTHER_ACCOUNT = '999999999999';
const fullyBlocked = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

const BUILD_ROLES = [
  'arn:aws:iam::123456789012:role/FabricOrchestrator-NetworkProjectRole-1',
  'arn:aws:iam::123456789012:role/FabricOrchestrator-ClusterProjectRole-2',
];
const ADMIN = 'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Admin_*';
const READERS: StateReaders = { buildPrincipalArns: BUILD_ROLES, adminPrincipalArns: [ADMIN] };
const BUCKET_ARN = 'arn:aws:s3:::fabricctl-state-123456789012-us-east-2';

function run(s3: FakeS3, fabric = fabricOf(), requireTls = true) {
  return ensureStateBucket(fabric, { s3: asClient(s3), accountId: ACCOUNT, stateReaders: READERS, requireTls });
}

const TLS_STATEMENT = {
  Sid: 'DenyInsecureTransport',
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Resource: [BUCKET_ARN, `${BUCKET_ARN}/*`],
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
};
/** The secret-read denials, exactly: anyone not named gets AccessDenied on these keys. */
const SECRET_STATEMENTS = [
  {
    Sid: 'DenyKopsSecretReadsToOthers',
    Effect: 'Deny',
    Principal: '*',
    Action: ['s3:GetObject', 's3:GetObjectVersion'],
    Resource: [`${BUCKET_ARN}/fabrics/*/kops/*/pki/private/*`, `${BUCKET_ARN}/fabrics/*/kops/*/secrets/*`],
    Condition: { ArnNotLike: { 'aws:PrincipalArn': [...BUILD_ROLES, 'arn:aws:iam::123456789012:role/masters.*', ADMIN] } },
  },
  {
    Sid: 'DenyTerraformStateReadsToOthers',
    Effect: 'Deny',
    Principal: '*',
    Action: ['s3:GetObject', 's3:GetObjectVersion'],
    Resource: [`${BUCKET_ARN}/fabrics/*/*.tfstate`],
    Condition: { ArnNotLike: { 'aws:PrincipalArn': [...BUILD_ROLES, ADMIN] } },
  },
];

describe('ensureStateBucket: creation', () => {
  test('GIVEN no bucket in us-east-2 WHEN ensured THEN it is created with a LocationConstraint and reported created', async () => {
    const s3 = new FakeS3('us-east-2');
    const result = await run(s3);
    expect(result).toEqual({ bucket: 'fabricctl-state-123456789012-us-east-2', region: 'us-east-2', exists: true, created: true });
    const create = s3.sent.find((c) => c instanceof CreateBucketCommand) as CreateBucketCommand;
    expect(create.input.CreateBucketConfiguration).toEqual({ LocationConstraint: 'us-east-2' });
  });

  test('GIVEN no bucket in us-east-1 WHEN ensured THEN it is created WITHOUT a LocationConstraint (defect 2)', async () => {
    const s3 = new FakeS3('us-east-1');
    await run(s3, fabricOf({ region: 'us-east-1' }));
    const create = s3.sent.find((c) => c instanceof CreateBucketCommand) as CreateBucketCommand;
    expect(create.input.CreateBucketConfiguration).toBeUndefined();
    expect(createBucketInput('b', 'us-east-1')).toEqual({ Bucket: 'b', ObjectOwnership: 'BucketOwnerEnforced' });
  });

  test(
    'GIVEN a created bucket WHEN ensured ' +
      'THEN versioning, encryption, public access block, ownership, the TLS policy and the secret-read denials are set',
    async () => {
      const s3 = new FakeS3();
      await run(s3);
      const bucket = s3.buckets.get('fabricctl-state-123456789012-us-east-2');
      expect(bucket).toMatchObject({
        versioning: 'Enabled',
        encryption: 'AES256',
        publicAccessBlock: fullyBlocked,
        ownership: 'BucketOwnerEnforced',
      });
      expect(JSON.parse(bucket?.policy ?? '{}')).toEqual({ Version: '2012-10-17', Statement: [TLS_STATEMENT, ...SECRET_STATEMENTS] });
    },
  );

  test('GIVEN spec tags WHEN the bucket is created THEN it carries them plus fabricctl:managed=true', async () => {
    const s3 = new FakeS3();
    await run(s3, fabricOf({ tags: { team: 'platform', cost: 'k8s' } }));
    expect(s3.buckets.get('fabricctl-state-123456789012-us-east-2')?.tags).toEqual({
      team: 'platform',
      cost: 'k8s',
      'fabricctl:managed': 'true',
    });
  });

  test('GIVEN a China region WHEN the policy is written THEN the ARN uses the aws-cn partition', () => {
    expect(tlsOnlyPolicy('b', 'cn-north-1')).toContain('arn:aws-cn:s3:::b/*');
  });

  test(
    'GIVEN another execution created the bucket meanwhile (BucketAlreadyOwnedByYou) WHEN ensured ' +
      'THEN it is configured and reported not created',
    async () => {
      const s3 = new FakeS3();
      const send = s3.send;
      // The bucket appears between HeadBucket (404) and CreateBucket.
      s3.send = async (command) => {
        if (command instanceof CreateBucketCommand) s3.addBucket(command.input.Bucket ?? '');
        return send(command);
      };
      const result = await run(s3);
      expect(result).toMatchObject({ exists: true, created: false });
      expect(s3.buckets.get('fabricctl-state-123456789012-us-east-2')).toMatchObject({ versioning: 'Enabled', encryption: 'AES256' });
    },
  );
});

describe('ensureStateBucket: plan', () => {
  test('GIVEN no bucket WHEN planning THEN nothing is created and exists is false', async () => {
    const s3 = new FakeS3();
    const result = await run(s3, fabricOf({}, 'plan'));
    expect(result).toEqual({ bucket: 'fabricctl-state-123456789012-us-east-2', region: 'us-east-2', exists: false, created: false });
    expect(s3.writes()).toEqual([]);
    expect(s3.buckets.size).toBe(0);
  });

  test('GIVEN a sound bucket WHEN planning THEN exists is true and nothing is written', async () => {
    const s3 = new FakeS3();
    s3.addBucket('fabricctl-state-123456789012-us-east-2', {
      versioning: 'Enabled',
      encryption: 'AES256',
      publicAccessBlock: fullyBlocked,
    });
    expect(await run(s3, fabricOf({}, 'plan'))).toMatchObject({ exists: true, created: false });
    expect(s3.writes()).toEqual([]);
  });
});

describe('ensureStateBucket: existing bucket', () => {
  test('GIVEN our sound bucket with our current policy WHEN ensured THEN verified with ExpectedBucketOwner, left as it is', async () => {
    const s3 = new FakeS3();
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [TLS_STATEMENT, ...SECRET_STATEMENTS] }, null, 2);
    const bucket = s3.addBucket('fabricctl-state-123456789012-us-east-2', {
      versioning: 'Enabled',
      encryption: 'aws:kms',
      publicAccessBlock: fullyBlocked,
      tags: { mine: 'yes' },
      policy,
    });
    const result = await run(s3, fabricOf({ tags: { team: 'other' } }));
    expect(result).toEqual({ bucket: 'fabricctl-state-123456789012-us-east-2', region: 'us-east-2', exists: true, created: false });
    expect(s3.writes()).toEqual([]);
    expect(bucket.tags).toEqual({ mine: 'yes' });
    expect((s3.sent[0] as HeadBucketCommand).input).toEqual({
      Bucket: 'fabricctl-state-123456789012-us-east-2',
      ExpectedBucketOwner: ACCOUNT,
    });
  });

  test("GIVEN a sound bucket with our older policy and someone else's statement WHEN ensured THEN only ours are replaced", async () => {
    const s3 = new FakeS3();
    const theirs = {
      Sid: 'AllowAuditRead',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::123456789012:role/Audit' },
      Action: 's3:ListBucket',
      Resource: BUCKET_ARN,
    };
    const older = { ...SECRET_STATEMENTS[0], Condition: { ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::123456789012:role/Gone'] } } };
    const bucket = s3.addBucket('fabricctl-state-123456789012-us-east-2', {
      versioning: 'Enabled',
      encryption: 'AES256',
      publicAccessBlock: fullyBlocked,
      tags: { mine: 'yes' },
      policy: JSON.stringify({ Version: '2012-10-17', Statement: [theirs, older] }),
    });
    await run(s3);
    expect(s3.writes().map((c) => (c as object).constructor.name)).toEqual(['PutBucketPolicyCommand']);
    expect((s3.writes()[0] as PutBucketPolicyCommand).input.ExpectedBucketOwner).toBe(ACCOUNT);
    expect(JSON.parse(bucket.policy ?? '{}')).toEqual({ Version: '2012-10-17', Statement: [theirs, TLS_STATEMENT, ...SECRET_STATEMENTS] });
    expect(bucket.tags).toEqual({ mine: 'yes' });
  });

  test('GIVEN a sound bucket without a policy WHEN planning THEN no policy is written', async () => {
    const s3 = new FakeS3();
    s3.addBucket('fabricctl-state-123456789012-us-east-2', {
      versioning: 'Enabled',
      encryption: 'AES256',
      publicAccessBlock: fullyBlocked,
    });
    await run(s3, fabricOf({}, 'plan'));
    expect(s3.writes()).toEqual([]);
  });

  test('GIVEN no TLS WHEN a bucket is created THEN the secret-read denials are still written, without the TLS statement', async () => {
    const s3 = new FakeS3();
    await run(s3, fabricOf(), false);
    expect(JSON.parse(s3.buckets.get('fabricctl-state-123456789012-us-east-2')?.policy ?? '{}')).toEqual({
      Version: '2012-10-17',
      Statement: SECRET_STATEMENTS,
    });
  });

  test(
    'GIVEN local mode (moto applies Deny statements without their conditions) WHEN a bucket is created ' +
      'THEN it gets no policy (neither the TLS statement nor the secret-read denials)',
    async () => {
      const s3 = new FakeS3();
      await ensureStateBucket(fabricOf(), {
        s3: asClient(s3),
        accountId: ACCOUNT,
        stateReaders: READERS,
        requireTls: false,
        restrictSecretReads: false,
      });
      expect(s3.buckets.get('fabricctl-state-123456789012-us-east-2')?.policy).toBeUndefined();
    },
  );

  test('fails on a bucket with versioning suspended, no encryption, no public access block: names each fix, writes nothing', async () => {
    const s3 = new FakeS3();
    s3.addBucket('fabricctl-state-123456789012-us-east-2', { versioning: 'Suspended' });
    const error = await run(s3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateBucketMisconfigured);
    expect((error as Error).name).toBe('StateBucketMisconfigured');
    expect((error as StateBucketMisconfigured).issues).toEqual([
      expect.stringMatching(/versioning is Suspended .*put-bucket-versioning/),
      expect.stringMatching(/default encryption is off .*put-bucket-encryption/),
      expect.stringMatching(/public access is not blocked .*put-public-access-block/),
    ]);
    expect(s3.writes()).toEqual([]);
  });

  test('fails when the existing bucket never had versioning', async () => {
    const s3 = new FakeS3();
    s3.addBucket('fabricctl-state-123456789012-us-east-2', { encryption: 'AES256', publicAccessBlock: fullyBlocked });
    await expect(run(s3)).rejects.toThrow(/versioning is off/);
  });

  test('fails when public access is only partly blocked', async () => {
    const s3 = new FakeS3();
    s3.addBucket('fabricctl-state-123456789012-us-east-2', {
      versioning: 'Enabled',
      encryption: 'AES256',
      publicAccessBlock: { ...fullyBlocked, RestrictPublicBuckets: false },
    });
    await expect(run(s3)).rejects.toThrow(/not fully blocked/);
  });

  // moto ignores ExpectedBucketOwner and lets every account see every bucket, so this rule is tested here only.
  test("fails with BucketNameTaken when HeadBucket with ExpectedBucketOwner gets 403 (another account's name; not in moto)", async () => {
    const s3 = new FakeS3();
    s3.addBucket('fabricctl-state-123456789012-us-east-2', { owner: OTHER_ACCOUNT });
    const error = await run(s3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BucketNameTaken);
    expect((error as Error).name).toBe('BucketNameTaken');
    expect((error as Error).message).toMatch(/STATE_BUCKET_PREFIX/);
    expect(s3.writes()).toEqual([]);
  });

  test('fails with BucketNameTaken when CreateBucket answers BucketAlreadyExists (not emulated by moto)', async () => {
    const s3 = new FakeS3();
    const send = s3.send;
    // Another account takes the name between our HeadBucket (404) and CreateBucket.
    s3.send = async (command) => {
      if (command instanceof CreateBucketCommand) s3.addBucket(command.input.Bucket ?? '', { owner: OTHER_ACCOUNT });
      return send(command);
    };
    await expect(run(s3)).rejects.toThrow(BucketNameTaken);
  });

  test('fails with the SDK error when HeadBucket fails otherwise (throttling is retried by the state machine)', async () => {
    const s3 = new FakeS3();
    s3.failWith = awsError('SlowDown', 503);
    await expect(run(s3)).rejects.toMatchObject({ name: 'SlowDown' });
  });
});
