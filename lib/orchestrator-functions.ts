import { Aws, Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { LOCK_TABLE_ENV } from '../lambdas/shared/config';
import { FabricFunction } from './fabric-function';
import type { FabricFunctions } from './fabric-orchestrator';

/** Terraform's lock objects of the fabrics' states: `fabrics/<name>/<network|cluster>.tfstate.tflock`. */
export const STATE_LOCK_PATTERN = 'fabrics/*/*.tfstate.tflock';

/** What the functions' environments and grants are made from (FabricOrchestrator's props, checked). */
export interface FunctionSettings {
  readonly prefix: string;
  /** `arn:...:s3:::<prefix>-<account>-*`: the run-time state buckets. */
  readonly stateBucketArn: string;
  /** The hosted zones CheckDns and CheckReadiness may read (`hostedzone/*` when none are given). */
  readonly zoneArns: readonly string[];
  /** `hostedZoneIds`, checked; empty: any zone of the account. */
  readonly hostedZoneIds: readonly string[];
  readonly lockTable: dynamodb.ITableV2;
  readonly executionTimeout: Duration;
  readonly approvalTimeout: Duration;
  readonly readinessDeadline: Duration;
  readonly codeCommitRepositoryName?: string;
}

/**
 * The orchestrator's Lambda functions, each with only its own grants. Grants that name the build
 * projects (stale Terraform locks, build logs) are added where the projects are made.
 */
export function createFabricFunctions(scope: Construct, settings: FunctionSettings): Record<keyof FabricFunctions, FabricFunction> {
  const { prefix, stateBucketArn, executionTimeout, approvalTimeout, readinessDeadline } = settings;
  const zoneArns = [...settings.zoneArns];
  // Names from lib/domain/naming.ts; the fabric part is known at run time only. `-??????` is the random
  // suffix of a secret that exists. A secret asked for before it exists (EnsureSshKey's first read) is
  // authorized against its bare name, which only `*` matches too: with `-??????` that read would be
  // AccessDenied instead of ResourceNotFound.
  const secretArn = (kind: 'ssh-key' | 'kubeconfig', readBeforeItExists = false) =>
    `arn:${Aws.PARTITION}:secretsmanager:*:${Aws.ACCOUNT_ID}:secret:fabricctl/*/${kind}${readBeforeItExists ? '*' : '-??????'}`;
  const sharedEnv = { STATE_BUCKET_PREFIX: prefix };
  const fn = (
    id: string,
    entry: string,
    description: string,
    extra: Partial<{ timeout: Duration; memorySize: number; environment: Record<string, string> }> = {},
  ) => new FabricFunction(scope, id, { entry, description, ...extra, environment: { ...sharedEnv, ...extra.environment } });

  const validateSpec = fn('ValidateSpecFunction', 'validate-spec', 'Validates and normalises a fabric spec; creates nothing', {
    environment: { LOCK_SECONDS: String(executionTimeout.toSeconds()), APPROVAL_TIMEOUT_SECONDS: String(approvalTimeout.toSeconds()) },
  });
  validateSpec.addToRolePolicy(new iam.PolicyStatement({ actions: ['ec2:DescribeRegions'], resources: ['*'] }));
  validateSpec.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [`${stateBucketArn}/fabrics/*`] }));
  // Without ListBucket a missing record reads as AccessDenied instead of "no record".
  validateSpec.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [stateBucketArn] }));
  if (settings.codeCommitRepositoryName !== undefined) {
    validateSpec.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['codecommit:GetFile'],
        resources: [`arn:${Aws.PARTITION}:codecommit:${Aws.REGION}:${Aws.ACCOUNT_ID}:${settings.codeCommitRepositoryName}`],
      }),
    );
  }

  const discoverZones = fn('DiscoverZonesFunction', 'discover-zones', 'Chooses the availability zones of a fabric');
  // The region was checked by ValidateSpec: only the zones are read here.
  discoverZones.addToRolePolicy(new iam.PolicyStatement({ actions: ['ec2:DescribeAvailabilityZones'], resources: ['*'] }));
  discoverZones.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [`${stateBucketArn}/fabrics/*`] }));
  discoverZones.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [stateBucketArn] }));

  const ensureStateBucket = fn(
    'EnsureStateBucketFunction',
    'ensure-state-bucket',
    'Creates or verifies the versioned, encrypted state bucket',
    {
      timeout: Duration.seconds(60),
    },
  );
  ensureStateBucket.addToRolePolicy(
    new iam.PolicyStatement({
      actions: [
        's3:CreateBucket',
        's3:ListBucket',
        's3:GetBucketVersioning',
        's3:PutBucketVersioning',
        's3:GetEncryptionConfiguration',
        's3:PutEncryptionConfiguration',
        's3:GetBucketPublicAccessBlock',
        's3:PutBucketPublicAccessBlock',
        's3:GetBucketOwnershipControls',
        's3:PutBucketOwnershipControls',
        's3:GetBucketPolicy',
        's3:PutBucketPolicy',
        's3:GetBucketTagging',
        's3:PutBucketTagging',
      ],
      resources: [stateBucketArn],
    }),
  );

  const checkDns = fn('CheckDnsFunction', 'check-dns', "Checks the domain's public hosted zone and its delegation", {
    // Its GetHostedZone grant names only these zones: another zone of the same name is not asked about.
    ...(settings.hostedZoneIds.length > 0 ? { environment: { HOSTED_ZONE_IDS: settings.hostedZoneIds.join(',') } } : {}),
  });
  checkDns.addToRolePolicy(new iam.PolicyStatement({ actions: ['route53:ListHostedZonesByName'], resources: ['*'] }));
  checkDns.addToRolePolicy(new iam.PolicyStatement({ actions: ['route53:GetHostedZone'], resources: zoneArns }));

  const ensureSshKey = fn(
    'EnsureSshKeyFunction',
    'ensure-ssh-key',
    "Creates the fabric's SSH key once; the private half stays in Secrets Manager",
    {
      timeout: Duration.seconds(60),
      memorySize: 1024, // RSA 4096 generation is CPU-bound; CPU scales with memory.
    },
  );
  ensureSshKey.addToRolePolicy(
    new iam.PolicyStatement({
      actions: [
        'secretsmanager:CreateSecret',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:RestoreSecret',
        'secretsmanager:TagResource',
      ],
      resources: [secretArn('ssh-key', true)],
    }),
  );

  const checkReadiness = fn('CheckReadinessFunction', 'check-readiness', 'Polls instances, API DNS and /readyz of a new cluster', {
    environment: { READINESS_DEADLINE_SECONDS: String(readinessDeadline.toSeconds()) },
  });
  checkReadiness.addToRolePolicy(new iam.PolicyStatement({ actions: ['autoscaling:DescribeAutoScalingGroups'], resources: ['*'] }));
  checkReadiness.addToRolePolicy(new iam.PolicyStatement({ actions: ['route53:ListResourceRecordSets'], resources: zoneArns }));
  checkReadiness.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secretArn('kubeconfig')] }),
  );

  // It writes only while its execution holds the fabric's lock: it reads the lock item first.
  const recordFabric = fn('RecordFabricFunction', 'record-fabric', 'Writes the fabric record to the state bucket', {
    environment: { [LOCK_TABLE_ENV]: settings.lockTable.tableName },
  });
  recordFabric.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [settings.lockTable.tableArn] }));
  recordFabric.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [`${stateBucketArn}/fabrics/*`] }),
  );
  recordFabric.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [stateBucketArn] }));

  const explainFailure = fn('ExplainFailureFunction', 'explain-failure', 'Turns a failed build into a readable cause from its log');

  // It parks the run's task token on the lock item this execution holds, and announces the wait.
  const requestApproval = fn(
    'RequestApprovalFunction',
    'request-approval',
    'Parks a planned run for approval and puts Fabric Awaiting Approval',
    {
      environment: { [LOCK_TABLE_ENV]: settings.lockTable.tableName },
    },
  );
  requestApproval.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [settings.lockTable.tableArn] }));
  requestApproval.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['events:PutEvents'],
      resources: [`arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:event-bus/default`],
    }),
  );

  const sweepFabrics = fn(
    'SweepFabricsFunction',
    'sweep-fabrics',
    'Destroys fabrics whose lease ran out, warns before, starts drift checks',
    {
      timeout: Duration.minutes(5),
    },
  );
  sweepFabrics.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListAllMyBuckets'], resources: ['*'] }));
  sweepFabrics.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [stateBucketArn] }));
  sweepFabrics.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [`${stateBucketArn}/fabrics/*/fabric.json`] }),
  );
  sweepFabrics.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['events:PutEvents'],
      resources: [`arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:event-bus/default`],
    }),
  );

  return {
    validateSpec,
    discoverZones,
    ensureStateBucket,
    checkDns,
    ensureSshKey,
    checkReadiness,
    recordFabric,
    explainFailure,
    requestApproval,
    sweepFabrics,
  };
}
