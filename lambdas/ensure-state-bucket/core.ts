import {
  BucketLocationConstraint,
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
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
import type { StateBucketResult, ValidatedFabric } from '../../lib/domain/contract';
import { BucketNameTaken, StateBucketMisconfigured } from '../../lib/domain/errors';

type S3Sender = Pick<S3Client, 'send'>;

export interface EnsureStateBucketDeps {
  /** S3 in the fabric's region. */
  readonly s3: S3Sender;
  /** This account: the bucket must belong to it (HeadBucket's ExpectedBucketOwner). */
  readonly accountId: string;
  /** Who may read the secret-bearing state (see `secretReadStatements`). */
  readonly stateReaders: StateReaders;
  /**
   * Attach the TLS-only bucket policy. Always true in AWS; local mode turns it off because its
   * emulator speaks plain HTTP and would refuse every request under that policy.
   * @default true
   */
  readonly requireTls?: boolean;
  /**
   * Attach the secret-read denials (`secretReadStatements`). Always true in AWS; local mode turns it
   * off because moto applies a bucket policy's Deny statements without their conditions
   * (`aws:PrincipalArn`), so it would refuse the builds every read of their own state.
   * @default true
   */
  readonly restrictSecretReads?: boolean;
}

function status(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** Principals allowed to read kops's secrets and Terraform state; everyone else is denied. */
export interface StateReaders {
  /** What the build jobs run as: the CodeBuild roles (local mode: the developer or the emulator user). */
  readonly buildPrincipalArns: readonly string[];
  /** The account's chosen admin principals (the stack's `stateAdminPrincipalArns`); wildcards allowed. */
  readonly adminPrincipalArns: readonly string[];
}

/** The statements EnsureStateBucket owns in a state bucket's policy, by Sid; others are left alone. */
export const OWNED_POLICY_SIDS = ['DenyInsecureTransport', 'DenyKopsSecretReadsToOthers', 'DenyTerraformStateReadsToOthers'] as const;

type PolicyStatement = Record<string, unknown> & { Sid?: string };

/** Deny every request not made over TLS. */
export function tlsOnlyStatement(bucket: string, region: string): PolicyStatement {
  const arn = `arn:${partitionOf(region)}:s3:::${bucket}`;
  return {
    Sid: 'DenyInsecureTransport',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: [arn, `${arn}/*`],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  };
}

/** The TLS-only policy alone (kept for callers that want just it). */
export function tlsOnlyPolicy(bucket: string, region: string): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: [tlsOnlyStatement(bucket, region)] });
}

/**
 * Reads of the secret-bearing prefixes are denied to every principal but the named ones, whatever
 * their IAM policies allow (ReadOnlyAccess grants s3:GetObject on every bucket):
 * - kops's state store keeps the cluster CA private key (`pki/private`) and its secrets
 *   (`secrets/`): readable by the builds, the admins, and the control-plane roles kops creates
 *   (`masters.<cluster>`), whose nodes read their keys from the state store at boot;
 * - Terraform state holds secrets in plain text: readable by the builds and the admins only.
 * `aws:PrincipalArn` is the role's ARN for every session of a role, so one entry covers all builds.
 */
export function secretReadStatements(bucket: string, region: string, accountId: string, readers: StateReaders): PolicyStatement[] {
  const partition = partitionOf(region);
  const arn = `arn:${partition}:s3:::${bucket}`;
  const controlPlaneRoles = `arn:${partition}:iam::${accountId}:role/masters.*`;
  const deny = (Sid: string, Resource: string[], allowed: string[]): PolicyStatement => ({
    Sid,
    Effect: 'Deny',
    Principal: '*',
    Action: ['s3:GetObject', 's3:GetObjectVersion'],
    Resource,
    Condition: { ArnNotLike: { 'aws:PrincipalArn': allowed } },
  });
  return [
    deny(
      'DenyKopsSecretReadsToOthers',
      [`${arn}/fabrics/*/kops/*/pki/private/*`, `${arn}/fabrics/*/kops/*/secrets/*`],
      [...readers.buildPrincipalArns, controlPlaneRoles, ...readers.adminPrincipalArns],
    ),
    deny('DenyTerraformStateReadsToOthers', [`${arn}/fabrics/*/*.tfstate`], [...readers.buildPrincipalArns, ...readers.adminPrincipalArns]),
  ];
}

/** The statements this function keeps in the bucket policy. */
export function ownedStatements(
  bucket: string,
  region: string,
  accountId: string,
  readers: StateReaders,
  options: { readonly requireTls: boolean; readonly restrictSecretReads: boolean },
): PolicyStatement[] {
  return [
    ...(options.requireTls ? [tlsOnlyStatement(bucket, region)] : []),
    ...(options.restrictSecretReads ? secretReadStatements(bucket, region, accountId, readers) : []),
  ];
}

/** `current` with our statements replaced by `owned`; statements someone else added stay, first. */
export function mergedPolicy(current: string | undefined, owned: readonly PolicyStatement[]): string {
  const parsed = current ? (JSON.parse(current) as { Version?: string; Statement?: PolicyStatement | PolicyStatement[] }) : {};
  const statements = parsed.Statement === undefined ? [] : Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement];
  const others = statements.filter((s) => !(OWNED_POLICY_SIDS as readonly string[]).includes(s.Sid ?? ''));
  return JSON.stringify({ Version: '2012-10-17', Statement: [...others, ...owned] });
}

/** us-east-1 takes no LocationConstraint: S3 rejects a CreateBucketConfiguration that names it. */
export function createBucketInput(bucket: string, region: string): CreateBucketCommand['input'] {
  return {
    Bucket: bucket,
    ObjectOwnership: 'BucketOwnerEnforced',
    ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
  };
}

/** S3 returns a stored policy re-serialised: compare documents, not text. */
function samePolicy(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
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
    issues.push(
      `versioning is ${versioning.Status ?? 'off'} (state needs old versions to recover from; ` +
        `run aws s3api put-bucket-versioning --bucket ${bucket} --versioning-configuration Status=Enabled)`,
    );
  }
  try {
    const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket, ExpectedBucketOwner: accountId }));
    if ((encryption.ServerSideEncryptionConfiguration?.Rules ?? []).length === 0)
      issues.push(`default encryption has no rule (run aws s3api put-bucket-encryption --bucket ${bucket} ...)`);
  } catch (error) {
    if ((error as Error).name !== 'ServerSideEncryptionConfigurationNotFoundError') throw error;
    issues.push(
      `default encryption is off (run aws s3api put-bucket-encryption --bucket ${bucket} ` +
        `--server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}')`,
    );
  }
  try {
    const block = await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket, ExpectedBucketOwner: accountId }));
    const c = block.PublicAccessBlockConfiguration;
    if (!(c?.BlockPublicAcls && c.IgnorePublicAcls && c.BlockPublicPolicy && c.RestrictPublicBuckets)) {
      issues.push(
        `public access is not fully blocked (run aws s3api put-public-access-block --bucket ${bucket} with all four settings true)`,
      );
    }
  } catch (error) {
    if ((error as Error).name !== 'NoSuchPublicAccessBlockConfiguration') throw error;
    issues.push(`public access is not blocked (run aws s3api put-public-access-block --bucket ${bucket} with all four settings true)`);
  }
  return issues;
}

/** Applies every protection to a bucket this run (or a concurrent one) has just created. */
async function configure(s3: S3Sender, fabric: ValidatedFabric, accountId: string, owned: readonly PolicyStatement[]): Promise<void> {
  const Bucket = fabric.stateBucket;
  const ExpectedBucketOwner = accountId;
  await s3.send(
    new PutPublicAccessBlockCommand({
      Bucket,
      ExpectedBucketOwner,
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      },
    }),
  );
  await s3.send(
    new PutBucketOwnershipControlsCommand({
      Bucket,
      ExpectedBucketOwner,
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    }),
  );
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
  // S3 refuses a policy without statements (local mode owns none).
  if (owned.length > 0) await s3.send(new PutBucketPolicyCommand({ Bucket, ExpectedBucketOwner, Policy: mergedPolicy(undefined, owned) }));
  const tags = { ...fabric.spec.tags, 'fabricctl:managed': 'true' };
  await s3.send(
    new PutBucketTaggingCommand({
      Bucket,
      ExpectedBucketOwner,
      Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
    }),
  );
}

async function currentPolicy(s3: S3Sender, bucket: string, accountId: string): Promise<string | undefined> {
  try {
    return (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket, ExpectedBucketOwner: accountId }))).Policy;
  } catch (error) {
    if ((error as Error).name === 'NoSuchBucketPolicy') return undefined;
    throw error;
  }
}

/**
 * `EnsureStateBucket`: one bucket per account and region. An existing bucket of ours is verified,
 * never reconfigured, with one exception: its policy statements that this function owns (by Sid,
 * OWNED_POLICY_SIDS) are brought up to date, because the principals they name come from the stack
 * and change with it (a redeploy, a new admin); statements added by anyone else are kept. `plan`
 * only looks: it creates nothing and writes no policy. A missing bucket is created with every
 * protection.
 */
export async function ensureStateBucket(fabric: ValidatedFabric, deps: EnsureStateBucketDeps): Promise<StateBucketResult> {
  const { s3, accountId } = deps;
  const bucket = fabric.stateBucket;
  const result = (exists: boolean, created: boolean): StateBucketResult => ({ bucket, region: fabric.region, exists, created });

  const owned = ownedStatements(bucket, fabric.region, accountId, deps.stateReaders, {
    requireTls: deps.requireTls ?? true,
    restrictSecretReads: deps.restrictSecretReads ?? true,
  });

  if ((await probe(s3, bucket, accountId)) === 'ours') {
    const issues = await misconfigurations(s3, bucket, accountId);
    if (issues.length > 0) throw new StateBucketMisconfigured(bucket, issues);
    if (fabric.action !== 'plan') {
      const current = await currentPolicy(s3, bucket, accountId);
      const wanted = mergedPolicy(current, owned);
      if ((current === undefined && owned.length > 0) || (current !== undefined && !samePolicy(current, wanted))) {
        await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, ExpectedBucketOwner: accountId, Policy: wanted }));
      }
    }
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
  await configure(s3, fabric, accountId, owned);
  return result(true, created);
}
