import {
  BucketLocationConstraint,
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { StateBucketResult, ValidatedFabric } from '../shared/contract';
import { BucketNameTaken, StateBucketMisconfigured } from '../shared/errors';

type S3Sender = Pick<S3Client, 'send'>;

export interface EnsureStateBucketDeps {
  /** S3 in the fabric's region. */
  readonly s3: S3Sender;
  /** This account: the bucket must belong to it (HeadBucket's ExpectedBucketOwner). */
  readonly accountId: string;
  /**
   * Attach the TLS-only bucket policy. Always true in AWS; local mode turns it off because its
   * emulator speaks plain HTTP and would refuse every request under that policy.
   * @default true
   */
  readonly requireTls?: boolean;
}

function status(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** Deny every request not made over TLS. */
export function tlsOnlyPolicy(bucket: string, region: string): string {
  const arn = `arn:${partitionOf(region)}:s3:::${bucket}`;
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [arn, `${arn}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  });
}

/** us-east-1 takes no LocationConstraint (S3 rejects one naming it: defect 2 of the original). */
export function createBucketInput(bucket: string, region: string): CreateBucketCommand['input'] {
  return {
    Bucket: bucket,
    ObjectOwnership: 'BucketOwnerEnforced',
    ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
  };
}

type Existence = 'ours' | 'missing';

async function probe(s3: S3Sender, bucket: string, accountId: string): Promise<Existence> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket, ExpectedBucketOwner: accountId }));
    return 'ours';
  } catch (error) {
    const code = status(error);
    if (code === 404) return 'missing';
    // With ExpectedBucketOwner, S3 answers 403 when the bucket exists in another account.
    if (code === 403) throw new BucketNameTaken(bucket);
    throw error;
  }
}

/** Reads the protections an existing bucket must have; lists what is missing. Writes nothing. */
async function misconfigurations(s3: S3Sender, bucket: string, accountId: string): Promise<string[]> {
  const issues: string[] = [];
  const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket, ExpectedBucketOwner: accountId }));
  if (versioning.Status !== 'Enabled') {
    issues.push(`versioning is ${versioning.Status ?? 'off'} (state needs old versions to recover from; run aws s3api put-bucket-versioning --bucket ${bucket} --versioning-configuration Status=Enabled)`);
  }
  try {
    const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket, ExpectedBucketOwner: accountId }));
    if ((encryption.ServerSideEncryptionConfiguration?.Rules ?? []).length === 0) issues.push(`default encryption has no rule (run aws s3api put-bucket-encryption --bucket ${bucket} ...)`);
  } catch (error) {
    if ((error as Error).name !== 'ServerSideEncryptionConfigurationNotFoundError') throw error;
    issues.push(`default encryption is off (run aws s3api put-bucket-encryption --bucket ${bucket} --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}')`);
  }
  try {
    const block = await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket, ExpectedBucketOwner: accountId }));
    const c = block.PublicAccessBlockConfiguration;
    if (!(c?.BlockPublicAcls && c.IgnorePublicAcls && c.BlockPublicPolicy && c.RestrictPublicBuckets)) {
      issues.push(`public access is not fully blocked (run aws s3api put-public-access-block --bucket ${bucket} with all four settings true)`);
    }
  } catch (error) {
    if ((error as Error).name !== 'NoSuchPublicAccessBlockConfiguration') throw error;
    issues.push(`public access is not blocked (run aws s3api put-public-access-block --bucket ${bucket} with all four settings true)`);
  }
  return issues;
}

/** Applies every protection to a bucket this run (or a concurrent one) has just created. */
async function configure(s3: S3Sender, fabric: ValidatedFabric, accountId: string, requireTls: boolean): Promise<void> {
  const Bucket = fabric.stateBucket;
  const ExpectedBucketOwner = accountId;
  await s3.send(
    new PutPublicAccessBlockCommand({
      Bucket,
      ExpectedBucketOwner,
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
    }),
  );
  await s3.send(new PutBucketOwnershipControlsCommand({ Bucket, ExpectedBucketOwner, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
  await s3.send(new PutBucketVersioningCommand({ Bucket, ExpectedBucketOwner, VersioningConfiguration: { Status: 'Enabled' } }));
  // SSE-S3: encrypted at rest with no KMS key to create, pay for per request, or grant to the
  // build roles that Terraform and kops run under; access stays governed by IAM and the policy.
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket,
      ExpectedBucketOwner,
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    }),
  );
  if (requireTls) await s3.send(new PutBucketPolicyCommand({ Bucket, ExpectedBucketOwner, Policy: tlsOnlyPolicy(Bucket, fabric.region) }));
  const tags = { ...fabric.spec.tags, 'fabricctl:managed': 'true' };
  await s3.send(new PutBucketTaggingCommand({ Bucket, ExpectedBucketOwner, Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } }));
}

/**
 * `EnsureStateBucket`: one bucket per account and region. An existing bucket of ours is verified and
 * left as it is; a missing one is created with every protection, except in `plan`, which only looks.
 */
export async function ensureStateBucket(fabric: ValidatedFabric, deps: EnsureStateBucketDeps): Promise<StateBucketResult> {
  const { s3, accountId } = deps;
  const bucket = fabric.stateBucket;
  const result = (exists: boolean, created: boolean): StateBucketResult => ({ bucket, region: fabric.region, exists, created });

  if ((await probe(s3, bucket, accountId)) === 'ours') {
    const issues = await misconfigurations(s3, bucket, accountId);
    if (issues.length > 0) throw new StateBucketMisconfigured(bucket, issues);
    return result(true, false);
  }
  if (fabric.action === 'plan') return result(false, false);

  let created = true;
  try {
    await s3.send(new CreateBucketCommand(createBucketInput(bucket, fabric.region)));
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'BucketAlreadyExists') throw new BucketNameTaken(bucket);
    // Another execution created it between our HeadBucket and CreateBucket: configure it the same way.
    if (name !== 'BucketAlreadyOwnedByYou') throw error;
    created = false;
  }
  await configure(s3, fabric, accountId, deps.requireTls ?? true);
  return result(true, created);
}
